"""What-if and break-even from a run's measured usage (``harness cost --run RUN --what-if KEY=VALUE``).

The month is the run's cost per document x the monthly volume (``cost.monthly_projection``), recomputed from
the run's own predictions and the current price files. The case study's optimisation levers (section 5,
"Cost Optimization Strategies for LLMOps") act on the model-token part:

* ``prompt_cache_hit_rate=R``: a share R of model calls served from a cache (no tokens billed);
* ``route_share=S`` (with ``route_model=claude-3-haiku``): a share S of the tokens priced at a cheaper model;
* ``output_cap=N``: every call's output tokens capped at N;
* ``context_cut=F``: input tokens cut by a share F (smaller chunks, fewer passages);
* ``batch_discount=D``: token prices discounted by a share D (batch inference off-peak);
* ``price_as=MODEL``: the run's tokens priced as another model's (e.g. the local model's run as Claude 3
  Sonnet, the case study's model), before the levers above.

Each lever is shown alone (saving in money and percent of the month) and all together (applied in the order
above). The break-even scenarios (section 5, "Break-Even Analysis") compare the month with the human-review
and support-ticket savings, against the MLOps month (``--baseline RUN``, or the case study's MLOps table).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Mapping, Sequence

from harness.cost.money import MAX_PRICE, MAX_QUANTITY, exact
from harness.errors import HarnessInputError
from harness.records import MAX_TOKENS

LEVERS = {"prompt_cache_hit_rate": "share of calls served from a cache", "route_share": "share of tokens routed to "
          "route_model", "route_model": "the cheaper model (a key of runs.yaml models, or a short Bedrock name)",
          "output_cap": "output tokens per call at most", "context_cut": "share of input tokens cut",
          "batch_discount": "discount on token prices", "price_as": "price the run's tokens as this model", "review_rate_now": "break-even: review rate today",
          "review_rate_llmops": "break-even: review rate with LLMOps", "reviewer_usd_per_hour": "break-even",
          "minutes_per_document": "break-even", "tickets_avoided": "break-even", "usd_per_ticket": "break-even"}
SHARES = ("prompt_cache_hit_rate", "route_share", "context_cut", "batch_discount", "review_rate_now",
          "review_rate_llmops")
# the bound of each number a lever takes: a share 0..1, a token count, a price, a quantity
BOUNDS = {**{k: Decimal(1) for k in SHARES}, "output_cap": Decimal(MAX_TOKENS), "reviewer_usd_per_hour": MAX_PRICE,
          "usd_per_ticket": MAX_PRICE, "minutes_per_document": MAX_QUANTITY, "tickets_avoided": MAX_QUANTITY}


def parse_what_if(assignments: Sequence[str]) -> dict[str, object]:
    """``KEY=VALUE`` pairs; unknown keys, non-numbers and numbers past their bound (:data:`BOUNDS`: shares 0..1)
    exit 2 naming the key and the bound."""
    out: dict[str, object] = {}
    for a in assignments:
        if "=" not in a:
            raise HarnessInputError(f"expected KEY=VALUE, got {a!r}", field="--what-if")
        key, raw = (x.strip() for x in a.split("=", 1))
        if key not in LEVERS:
            raise HarnessInputError(f"unknown lever {key!r} (known: {', '.join(LEVERS)})", field=f"--what-if {key}")
        if key in ("route_model", "price_as"):
            out[key] = raw
            continue
        value = exact(raw, BOUNDS[key])
        if isinstance(value, str):
            raise HarnessInputError(value + (" (a share 0..1)" if key in SHARES else ""), field=f"--what-if {key}")
        out[key] = value
    return out


@dataclass(frozen=True)
class Calls:
    """Per model call of a run: input and output tokens."""
    tokens: tuple[tuple[int, int], ...]

    def totals(self, cap: Decimal | None = None, cut: Decimal = Decimal(0)) -> tuple[Decimal, Decimal]:
        tin = sum(Decimal(i) for i, _ in self.tokens) * (1 - cut)
        tout = sum((min(Decimal(o), cap) if cap is not None else Decimal(o)) for _, o in self.tokens)
        return tin, tout


def run_calls(run_dir: str | Path) -> Calls:
    """The run's model calls; their tokens in all within :data:`harness.records.MAX_TOKENS` (each line is
    bounded where it is read; so is the whole run, as ``metrics.json``'s ``usage`` is)."""
    from harness.store import RunStore

    store = RunStore(run_dir)
    calls = Calls(tuple((r.usage.input_tokens, r.usage.output_tokens) for p in store.predictions()
                        for r in p.tasks.values() if r.usage))
    for i, name in enumerate(("input_tokens", "output_tokens")):
        total = sum(t[i] for t in calls.tokens)
        if total > MAX_TOKENS:
            raise HarnessInputError(f"the run's calls record {total:,} {name.replace('_', ' ')} in all, over the "
                                    f"bound of {MAX_TOKENS:,}", path=store.predictions_path, field=f"usage.{name}")
    return calls


def token_cost(calls: Calls, prices: tuple[Decimal, Decimal], levers: Mapping[str, object],
               cheaper: tuple[Decimal, Decimal] | None) -> Decimal:
    """The run's model-token cost with ``levers`` applied."""
    tin, tout = calls.totals(levers.get("output_cap"), levers.get("context_cut", Decimal(0)))
    share = levers.get("route_share", Decimal(0)) if cheaper else Decimal(0)
    pin = prices[0] * (1 - share) + (cheaper[0] * share if cheaper else 0)
    pout = prices[1] * (1 - share) + (cheaper[1] * share if cheaper else 0)
    cost = tin / 1000 * pin + tout / 1000 * pout
    return cost * (1 - levers.get("prompt_cache_hit_rate", Decimal(0))) * (1 - levers.get("batch_discount", Decimal(0)))


@dataclass(frozen=True)
class Lever:
    name: str
    value: object
    monthly: Decimal
    saving: Decimal
    saving_share: Decimal


def what_if(month_fixed: Decimal, month_tokens, levers: Mapping[str, object]) -> list[Lever]:
    """Each token lever alone, then all together. ``month_tokens(levers)`` is the monthly token cost."""
    base = month_fixed + month_tokens({})
    names = [k for k in ("prompt_cache_hit_rate", "route_share", "output_cap", "context_cut", "batch_discount")
             if k in levers]
    out = []
    for name in names + (["all together"] if len(names) > 1 else []):
        chosen = {k: levers[k] for k in names} if name == "all together" else {name: levers[name]}
        if "route_model" in levers:
            chosen["route_model"] = levers["route_model"]
        monthly = month_fixed + month_tokens(chosen)
        out.append(Lever(name, levers.get(name, "-"), monthly, base - monthly,
                         (base - monthly) / base if base else Decimal(0)))
    return out


def break_even(month: Decimal, baseline_month: Decimal, documents: Decimal, conf: Mapping,
               levers: Mapping[str, object]) -> list[tuple[str, Decimal, str]]:
    """(scenario, monthly saving, verdict against the LLMOps premium) for the two scenarios."""
    hr, st = conf.get("human_review") or {}, conf.get("support_tickets") or {}
    get = lambda d, k: Decimal(str(levers.get(k, d.get(k, 0))))  # noqa: E731
    per_review = get(hr, "reviewer_usd_per_hour") * get(hr, "minutes_per_document") / 60
    review = documents * (get(hr, "review_rate_now") - get(hr, "review_rate_llmops")) * per_review
    tickets = get(st, "tickets_avoided") * get(st, "usd_per_ticket")
    premium = month - baseline_month
    out = []
    for name, saving in (("reduced human review", review), ("support tickets avoided", tickets)):
        verdict = ("no premium to cover: LLMOps costs no more than MLOps" if premium <= 0 else
                   f"covers the premium {saving / premium:.2f}x" if saving >= premium else
                   f"covers {saving / premium:.0%} of the premium")
        out.append((name, saving, verdict))
    return out
