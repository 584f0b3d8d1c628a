"""Maturity level from evidence (``harness maturity``): the case study's section 3, judged from what a results
directory holds, never from a questionnaire.

The entries and what counts as evidence for each live in ``maturity.yaml`` (:class:`MaturityFile`; each entry
cites section 3). Every entry gets one status: ``met``, ``not met`` or ``no evidence``, with the evidence named
(runs, comparisons, figures). What each evidence kind reads is :data:`EVIDENCE`:

* dated runs through :func:`harness.store.load_runs` (prompt versions and their hashes, usage, cost, guardrail
  evaluations, ``gates.json``, the golden set);
* paired comparisons of two runs that differ in a prompt (or model) version, through :func:`harness.compare.compare`;
* trends (hallucination rate, cost per document) over dated runs and over the shadow database's weeks
  (:func:`harness.shadow.dashboard.weekly`): an OLS slope per week and its t interval (``scipy.stats``);
* reproducibility: a sample of recorded calls from the call cache made again with the run's recorded settings,
  the cache bypassed, and the replies compared (a real model call each: the sample is small, ``--reproduce N``);
* the audit chain of the directory (:mod:`harness.governance.audit`).

A side's level is the highest level whose required entries, and those of every level below it, are all met; an
entry without evidence is never met, so a directory without evidence is Level 0 with "no evidence" everywhere.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence

from pydantic import Field, model_validator

from harness.config import StrictModel
from harness.errors import HarnessInputError
from harness.files import read_yaml_mapping_doc, validate

DEFAULT_MATURITY = Path(__file__).with_name("maturity.yaml")
MET, NOT_MET, NO_EVIDENCE = "met", "not met", "no evidence"
SIDES = ("llmops", "mlops")
DEFAULT_REPRODUCE = 2  # recorded calls made again (a real model call each)

EvidenceKind = Literal["prompt_versions", "token_usage", "reproduce", "guardrail_catch", "ab_compare", "trend",
                       "audit_chain", "guardrail_config", "golden_runs", "cost_sections", "human_review", "io_logging",
                       "gates", "go_no_go", "measured", "call_cache", "model_versions", "config_hashes",
                       "drift_monitoring", "none"]


# ---------------------------------------------------------------------------------------------- the file
class LevelSpec(StrictModel):
    """One maturity level as section 3 names it."""
    level: int = Field(ge=0, le=10, description="the level's number (0: manual/ad hoc)")
    title: str = Field(min_length=1, max_length=200, description="the level's name in the case study")
    cites: str = Field(min_length=1, max_length=500, description="where the case study defines it")


class SettingsSpec(StrictModel):
    """The harness's own thresholds where section 3 gives no figure."""
    min_trend_points: int = Field(3, ge=3, le=1000, description="dated runs or shadow weeks a trend needs (3 or "
                                  "more: a slope's t interval needs at least one degree of freedom)")
    confidence: float = Field(0.95, gt=0.5, lt=1, description="confidence of the slope and comparison intervals")
    min_catch_rate: float = Field(0.9, ge=0, le=1, description="'catch obvious violations': every evaluated "
                                  "guardrail policy's catch rate on the red-team set at least this")


class EntrySpec(StrictModel):
    """One indicator, characteristic or criterion of section 3 and the evidence kind that judges it."""
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="identifier (lower case, digits, underscores)")
    side: Literal["llmops", "mlops"] = Field(description="which system it is judged on")
    level: int = Field(ge=1, le=10, description="the level it belongs to")
    required: bool = Field(description="true: the level needs it met (section 3's indicators and the MLOps "
                           "criteria); false: reported beside them (characteristics)")
    title: str = Field(min_length=1, max_length=300, description="what the case study says, shortened")
    cites: str = Field(min_length=1, max_length=500, description="where in section 3 it comes from")
    evidence: EvidenceKind = Field(description="the evidence kind that judges it (harness/governance/maturity.py, "
                                   "EVIDENCE); 'none': the harness holds no evidence of this")
    metric: str | None = Field(None, max_length=200, description="trend, measured: the metric (harness metrics)")
    shadow: Literal["hallucination_rate", "cost_per_doc", "error_rate", "latency_p95"] | None = Field(
        None, description="trend: the shadow database's weekly LLMOps figure of the same quantity")
    vary: Literal["prompts", "model"] | None = Field(None, description="ab_compare: what differs between the two "
                                                     "runs compared (prompt versions or model versions)")

    @model_validator(mode="after")
    def _keys_of_kind(self):
        if self.evidence in ("trend", "measured") and not self.metric:
            raise ValueError(f"evidence {self.evidence!r} needs a metric")
        if self.evidence == "ab_compare" and not self.vary:
            raise ValueError("evidence 'ab_compare' needs vary: prompts or model")
        return self


class MaturityFile(StrictModel):
    """``maturity.yaml``: levels, the harness's thresholds and the entries of section 3."""
    name: str = Field(min_length=1, max_length=100, description="name of this assessment")
    version: int | str = Field(1, description="bumped when the entries change")
    levels: list[LevelSpec] = Field(min_length=1, max_length=11, description="the levels, lowest first")
    settings: SettingsSpec = Field(SettingsSpec(), description="thresholds the case study does not state")
    entries: list[EntrySpec] = Field(min_length=1, max_length=500, description="what is judged")


@dataclass(frozen=True)
class Maturity:
    """A checked maturity file."""
    path: str
    spec: MaturityFile


def load_maturity(path: str | Path | None = None) -> Maturity:
    """Read and check a maturity file (default: the shipped one, section 3); exit 2 naming file, line, field."""
    from metrics import registry

    path = Path(path) if path else DEFAULT_MATURITY
    doc = read_yaml_mapping_doc(path, "maturity file")
    spec = validate(MaturityFile, doc.data, doc=doc)
    seen: set[str] = set()
    for i, e in enumerate(spec.entries):
        if e.id in seen:
            raise HarnessInputError(f"duplicate id {e.id!r}", path=path, line=doc.line(("entries", i, "id")),
                                    field=f"entries[{i}].id")
        seen.add(e.id)
        if e.metric:
            try:
                registry.lookup(e.metric)
            except registry.UnknownMetric as exc:
                raise HarnessInputError(f"{exc} (harness metrics lists them)", path=path,
                                        line=doc.line(("entries", i, "metric")), field=f"entries[{i}].metric") from None
    levels = [lv.level for lv in spec.levels]
    if levels != sorted(set(levels)) or levels[0] != 0:
        raise HarnessInputError("levels must start at 0 and rise", path=path, line=doc.line(("levels",)),
                                field="levels")
    for i, e in enumerate(spec.entries):
        if e.level not in levels:
            raise HarnessInputError(f"level {e.level} is not one of the file's levels ({levels})", path=path,
                                    line=doc.line(("entries", i, "level")), field=f"entries[{i}].level")
    return Maturity(str(path), spec)


# ---------------------------------------------------------------------------------------------- evidence
@dataclass
class Evidence:
    """What a results directory (and a shadow database) holds, read once; every evidence kind reads this."""
    results_dir: Path
    runs: Sequence[Any]  # harness.store.Run
    settings: SettingsSpec
    shadow_path: Path | None = None
    shadow_rows: Sequence[Any] = ()  # harness.shadow.dashboard.Row
    shadow_events: Sequence[Mapping[str, Any]] = ()
    reproduce: int = DEFAULT_REPRODUCE
    progress: Callable[[str], None] = lambda _: None
    _cache: dict = field(default_factory=dict)

    def side(self, side: str) -> list:
        """The side's runs, oldest first (by evaluation date, then name)."""
        return sorted((r for r in self.runs if r.pipeline == side), key=lambda r: (_day(r), r.id))

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked (a kind several entries share: one comparison, one replay)."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]


def _day(run) -> date:
    try:
        return run.evaluated_on
    except HarnessInputError:
        return date.min


def _names(runs: Sequence[Any], at_most: int = 4) -> str:
    ids = [r.id for r in runs]
    return ", ".join(ids[:at_most]) + (f" and {len(ids) - at_most} more" if len(ids) > at_most else "")


@dataclass(frozen=True)
class Finding:
    """What one evidence kind found: the status, the sentence that says why, the sources it read (run ids,
    files) and its figures."""
    status: str
    evidence: str
    sources: tuple[str, ...] = ()
    figures: Mapping[str, Any] = field(default_factory=dict)


def _no_runs(side: str, ev: Evidence) -> Finding:
    return Finding(NO_EVIDENCE, f"no {side} run in {ev.results_dir}")


# -- prompt versions (rollback) -----------------------------------------------------------------------------
def _prompt_file_sha(path: str) -> str | None:
    """The recorded-prompt hash (:func:`harness.records.prompt_sha256`) of the template file at ``path`` today;
    None when the file is gone or unreadable."""
    from harness.records import prompt_sha256

    p = Path(path)
    if not p.is_file():
        return None
    try:
        data = read_yaml_mapping_doc(p, "prompt file").data
        return prompt_sha256(data["id"], data["version"], data.get("system", ""), data["user"])
    except (HarnessInputError, KeyError, TypeError):
        return None


def _version_changes(runs: Sequence[Any]) -> list[tuple[str, str, str, Any, Any]]:
    """(task, earlier ref, later ref, earlier run, later run) for each prompt that changed between dated runs."""
    out, last = [], {}
    for run in runs:
        for task, ref in run.prompts.items():
            cur = ref.get("ref") if isinstance(ref, Mapping) else None
            if not cur:
                continue
            if task in last and last[task][0] != cur:
                out.append((task, last[task][0], cur, last[task][1], run))
            last[task] = (cur, run)
    return out


def _shadow_versions(ev: Evidence) -> str:
    """The shadow stream's prompt-version changes, as a sentence to add (the database holds no prompt file, so
    they show a change was recorded, not that it can be undone)."""
    changes = [f"{e['week']} to {e['detail'].get('prompt_version')}" for e in ev.shadow_events
               if e.get("kind") == "version_change" and isinstance(e.get("detail"), Mapping)
               and e["detail"].get("prompt_version")]
    return f"; the shadow stream records prompt version changes ({', '.join(changes)})" if changes else ""


def prompt_versions(entry: EntrySpec, ev: Evidence) -> Finding:
    found = _prompt_versions(ev)
    extra = _shadow_versions(ev)
    return Finding(found.status, found.evidence + extra, found.sources, found.figures) if extra else found


def _prompt_versions(ev: Evidence) -> Finding:
    runs = ev.side("llmops")
    if not runs:
        return _no_runs("llmops", ev)
    recorded = [r for r in runs if r.prompts]
    if not recorded:
        return Finding(NOT_MET, f"{len(runs)} llmops run(s) ({_names(runs)}) record no prompt versions",
                       tuple(r.id for r in runs))
    changes = _version_changes(recorded)
    if not changes:
        refs = sorted({str(v.get("ref")) for r in recorded for v in r.prompts.values() if isinstance(v, Mapping)})
        return Finding(NO_EVIDENCE, f"prompt versions recorded ({', '.join(refs)}) but none changed between "
                       f"{len(recorded)} dated run(s): no earlier version to roll back to", tuple(r.id for r in recorded))
    ok, broken = [], []
    for task, old, new, a, b in changes:
        rec = a.prompts[task]
        sha, path = rec.get("sha256"), rec.get("path")
        now_sha = _prompt_file_sha(path) if path else None
        line = f"{task}: {old} ({a.id}, {_day(a)}) -> {new} ({b.id}, {_day(b)})"
        if sha and now_sha == sha:
            ok.append(f"{line}; {old} is still at {path} with its recorded sha256 {sha[:12]}")
        else:
            broken.append(f"{line}; {old} " + ("is no longer at " + str(path) if now_sha is None else
                                                f"at {path} has changed (sha256 {now_sha[:12]}, recorded "
                                                f"{str(sha)[:12]})"))
    sources = tuple(dict.fromkeys(x for _, _, _, a, b in changes for x in (a.id, b.id)))
    if broken:
        return Finding(NOT_MET, "; ".join(broken), sources, {"changes": len(changes)})
    return Finding(MET, "; ".join(ok) + " (a rollback is --set prompts.TASK=the earlier version)", sources,
                   {"changes": len(changes)})


# -- token usage --------------------------------------------------------------------------------------------
def token_usage(entry: EntrySpec, ev: Evidence) -> Finding:
    runs = ev.side("llmops")
    if not runs:
        return _no_runs("llmops", ev)
    with_usage = [r for r in runs if isinstance(r.metrics.get("usage"), Mapping)]
    without = [r for r in runs if r not in with_usage]
    if not with_usage:
        return Finding(NOT_MET, f"no token usage recorded in {_names(runs)}", tuple(r.id for r in runs))
    last = with_usage[-1]
    u = last.metrics["usage"]
    docs = last.metrics.get("counts", {}).get("predicted") if isinstance(last.metrics.get("counts"), Mapping) else None
    text = (f"{len(with_usage)} of {len(runs)} llmops run(s) record tokens per run; latest {last.id}: "
            f"{u.get('input_tokens', 0):,} input + {u.get('output_tokens', 0):,} output tokens"
            + (f" over {docs} items" if isinstance(docs, int) else ""))
    if without:
        return Finding(NOT_MET, text + f"; none in {_names(without)}", tuple(r.id for r in runs))
    return Finding(MET, text + " (per application: per pipeline run; per user is not recorded)",
                   tuple(r.id for r in with_usage), {"input_tokens": u.get("input_tokens"),
                                                     "output_tokens": u.get("output_tokens")})


# -- reproducibility ----------------------------------------------------------------------------------------
def _cache_dir(run, ev: Evidence) -> Path | None:
    conf = run.run.get("predictor", {}).get("config", {})
    cache = conf.get("cache") if isinstance(conf, Mapping) else None
    if not isinstance(cache, Mapping) or not isinstance(cache.get("dir"), str):
        return None
    raw = Path(cache["dir"])
    for cand in ([raw] if raw.is_absolute() else [Path.cwd() / raw, ev.results_dir.parent / raw]):
        if cand.is_dir():
            return cand
    return None


def recorded_calls(cache_dir: Path, provider: str, model_id: str) -> list[tuple[Path, dict]]:
    """The cache entries of ``provider``/``model_id`` that record their request (older entries do not), in file
    name order (deterministic)."""
    from harness.files import read_json

    out = []
    for path in sorted(cache_dir.glob("??/*.json")):
        try:
            entry = read_json(path, "cache entry")
        except HarnessInputError:
            continue
        req = entry.get("request") if isinstance(entry, dict) else None
        if (isinstance(req, dict) and entry.get("provider") == provider and entry.get("model_id") == model_id
                and isinstance(entry.get("text"), str) and isinstance(req.get("system"), str)
                and isinstance(req.get("user"), str) and isinstance(req.get("max_tokens"), int)
                and isinstance(req.get("params"), dict)):
            out.append((path, entry))
    return out


def replay(run, entry: Mapping[str, Any]) -> str:
    """Make a recorded call again with the run's recorded model settings, the cache bypassed: the reply's text."""
    from harness.models import build_llm, client_config

    llm = run.run["predictor"]["config"]["llm"]
    req = entry["request"]
    client = build_llm(llm["provider"], model_id=llm.get("model_id"), model_path=llm.get("model_path"),
                       region=llm.get("region", "us-east-1"), endpoint_url=llm.get("endpoint_url"),
                       temperature=float(req["params"].get("temperature", llm.get("temperature", 0.0))),
                       max_tokens=req["max_tokens"], n_ctx=int(llm.get("n_ctx", 2048)),
                       n_threads=llm.get("n_threads"), seed=req["params"].get("seed", llm.get("seed")),
                       botocore_config=client_config(int(llm.get("max_retries", 8)), float(llm.get("timeout_s", 60)), 1),
                       cache_dir=str(Path.cwd()), cache_enabled=False, cache_params=req["params"],
                       progress=lambda _: None)
    try:
        return client.client.complete(req["system"], req["user"], req.get("schema"), req["max_tokens"]).text
    finally:
        client.close()


def _reproduce(ev: Evidence) -> Finding:
    from harness.models import call_key, request_parts

    runs = [r for r in ev.side("llmops") if isinstance(r.run.get("predictor", {}).get("llm"), Mapping)]
    if not ev.side("llmops"):
        return _no_runs("llmops", ev)
    if ev.reproduce <= 0:
        return Finding(NO_EVIDENCE, "not checked (--reproduce 0)")
    sample: list[tuple[Any, Path, dict]] = []
    seen: set[Path] = set()
    for run in reversed(runs):  # the latest run first
        cache = _cache_dir(run, ev)
        llm = run.run["predictor"]["llm"]
        if cache is None or not isinstance(run.run.get("predictor", {}).get("config", {}).get("llm"), Mapping):
            continue
        for path, entry in recorded_calls(cache, str(llm.get("provider")), str(llm.get("model_id"))):
            if path not in seen and len(sample) < ev.reproduce:
                seen.add(path)
                sample.append((run, path, entry))
    if not sample:
        return Finding(NO_EVIDENCE, "no recorded call with its request in the llmops runs' call caches "
                       "(entries written before the cache recorded requests cannot be made again)")
    same, differ, failed = [], [], []
    for run, path, entry in sample:
        req = entry["request"]
        if call_key(entry["provider"], entry["model_id"], *request_parts(req["params"], req["system"], req["user"],
                                                                          req.get("schema"), req["max_tokens"])) != path.stem:
            differ.append(f"{path.name[:12]} (its request does not hash to its key)")
            continue
        ev.progress(f"maturity: making recorded call {path.stem[:12]} of {run.id} again")
        try:
            text = replay(run, entry)
        except HarnessInputError as exc:  # a missing extra, an unreachable endpoint: said, not a pass
            failed.append(f"{path.stem[:12]} ({exc})")
            continue
        except Exception as exc:  # noqa: BLE001 - a model client's own failure is evidence, not a crash
            failed.append(f"{path.stem[:12]} ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        (same if text == entry["text"] else differ).append(path.stem[:12])
    sources = tuple(dict.fromkeys(r.id for r, _, _ in sample))
    figures = {"sampled": len(sample), "same": len(same), "different": len(differ), "failed": len(failed)}
    where = f"{len(sample)} recorded call(s) of {_names([r for r, _, _ in sample])} made again with the recorded settings"
    if differ:
        return Finding(NOT_MET, f"{where}: {len(differ)} gave a different reply ({', '.join(differ)})", sources, figures)
    if failed and not same:
        return Finding(NO_EVIDENCE, f"{where}: none could be made ({'; '.join(failed)})", sources, figures)
    extra = f"; {len(failed)} could not be made ({'; '.join(failed)})" if failed else ""
    return Finding(MET, f"{where}: {len(same)} gave the same reply, byte for byte{extra}", sources, figures)


def reproduce(entry: EntrySpec, ev: Evidence) -> Finding:
    return ev.once("reproduce", lambda: _reproduce(ev))


# -- guardrails -----------------------------------------------------------------------------------------------
def guardrail_catch(entry: EntrySpec, ev: Evidence) -> Finding:
    runs = ev.side("llmops")
    if not runs:
        return _no_runs("llmops", ev)
    evaluated = [r for r in runs if isinstance((r.metrics.get("guardrails") or {}).get("evaluation"), Mapping)]
    if not evaluated:
        return Finding(NO_EVIDENCE, f"no guardrail evaluation recorded in {_names(runs)} (harness guardrails eval "
                       "--run RUN writes one)", tuple(r.id for r in runs))
    run = evaluated[-1]
    g = run.metrics["guardrails"]
    policies = g["evaluation"].get("policies") or {}
    rates = {k: v.get("catch_rate") for k, v in policies.items()
             if isinstance(v, Mapping) and v.get("status") == "evaluated" and isinstance(v.get("catch_rate"), (int, float))}
    if not rates:
        return Finding(NO_EVIDENCE, f"{run.id}: the guardrail evaluation has no catch rate", (run.id,))
    low = {k: v for k, v in rates.items() if v < ev.settings.min_catch_rate}
    critical = g.get("critical_failures")
    text = (f"{run.id}: red-team catch rates " + ", ".join(f"{k} {100 * v:.0f}%" for k, v in sorted(rates.items()))
            + f"; critical failures {critical if critical is not None else 'not recorded'}")
    figures = {"catch_rates": rates, "critical_failures": critical}
    if low or (isinstance(critical, int) and critical > 0):
        why = ([f"below {100 * ev.settings.min_catch_rate:.0f}%: {', '.join(sorted(low))}"] if low else []) + (
            [f"{critical} critical failure(s)"] if isinstance(critical, int) and critical > 0 else [])
        return Finding(NOT_MET, f"{text} ({'; '.join(why)})", (run.id,), figures)
    return Finding(MET, f"{text} (every policy at least {100 * ev.settings.min_catch_rate:.0f}%)", (run.id,), figures)


def _latest_guardrail(ev: Evidence, unguarded: str) -> Finding | tuple[Any, Any]:
    """(run, guardrail configuration) of the latest LLMOps run that ran a guardrail, or the finding when none
    did (``unguarded`` says what that means)."""
    from harness.governance.audit import run_guardrail

    runs = ev.side("llmops")
    if not runs:
        return _no_runs("llmops", ev)
    for run in reversed(runs):
        cfg, _ = run_guardrail(run)
        if cfg is not None:
            return run, cfg
    return Finding(NOT_MET, f"{_names(runs)} ran without a guardrail{unguarded}", tuple(r.id for r in runs))


def guardrail_config(entry: EntrySpec, ev: Evidence) -> Finding:
    found = _latest_guardrail(ev, "")
    if isinstance(found, Finding):
        return found
    run, cfg = found
    pii = [e.type for e in cfg.sensitiveInformationPolicyConfig.piiEntitiesConfig]
    content = [f.type for f in cfg.contentPolicyConfig.filtersConfig]
    text = f"{run.id} ran {Path(cfg.path).name}: PII {', '.join(pii) or 'none'}; content filters {', '.join(content) or 'none'}"
    return Finding(MET if pii and content else NOT_MET, text, (run.id, cfg.path))


def human_review(entry: EntrySpec, ev: Evidence) -> Finding:
    found = _latest_guardrail(ev, ": no answer is flagged for human review")
    if isinstance(found, Finding):
        return found
    run, cfg = found
    h = cfg.harnessPolicies.hallucinationCheck
    if h.enabled and h.action in ("WARN", "BLOCK"):
        return Finding(MET, f"{run.id}: hallucinationCheck {h.action} below faithfulness {h.min_faithfulness:g} "
                       "(confidence warning, human review requested: section 4's output guardrail)", (run.id, cfg.path))
    return Finding(NOT_MET, f"{run.id}: the guardrail's hallucinationCheck is off", (run.id, cfg.path))


# -- A/B comparison -----------------------------------------------------------------------------------------
def _version_of(run, vary: str) -> str | None:
    if vary == "prompts":
        refs = {t: v.get("ref") for t, v in run.prompts.items() if isinstance(v, Mapping)}
        return ", ".join(f"{r}" for _, r in sorted(refs.items())) or None
    from harness.records import model_label

    label = model_label(dict(run.run))
    return None if label == "-" else label


def _ab(side: str, vary: str, ev: Evidence) -> Finding:
    from harness.compare import compare

    runs = ev.side(side)
    if not runs:
        return _no_runs(side, ev)
    pairs = []
    for i, a in enumerate(runs):
        for b in runs[i + 1:]:
            va, vb = _version_of(a, vary), _version_of(b, vary)
            if va and vb and va != vb and a.golden_sha == b.golden_sha and a.split == b.split:
                pairs.append((a, b))
    if not pairs:
        return Finding(NO_EVIDENCE, f"no two {side} runs on the same golden split with different "
                       f"{'prompt' if vary == 'prompts' else 'model'} versions", tuple(r.id for r in runs))
    found, flat, problems = [], [], []
    for a, b in pairs[-10:]:  # the latest ten pairs at most
        ev.progress(f"maturity: comparing {a.id} with {b.id}")
        try:
            rows = compare(a, b)
        except HarnessInputError as exc:
            problems.append(f"{a.id} vs {b.id}: {exc}")
            continue
        for row in rows:
            if row.metric not in ("classification.accuracy", "extraction.accuracy") or row.ci_low is None:
                continue
            what = (f"{_version_of(a, vary)} ({a.id}) -> {_version_of(b, vary)} ({b.id}): {row.metric} "
                    f"{100 * row.difference:+.1f} points, 95% CI [{100 * row.ci_low:+.1f}, {100 * row.ci_high:+.1f}],"
                    f" n={row.n}")
            (found if row.ci_low > 0 or row.ci_high < 0 else flat).append(
                (what, a.id, b.id, {"metric": row.metric, "difference": row.difference, "ci": [row.ci_low, row.ci_high],
                                    "n": row.n, "a": a.id, "b": b.id}))
    if found:
        return Finding(MET, "paired comparison: " + "; ".join(w for w, *_ in found[:3]),
                       tuple(dict.fromkeys(x for _, a, b, _ in found for x in (a, b))), {"comparisons": [f for *_, f in found]})
    if flat:
        return Finding(NOT_MET, "paired comparison, no significant difference: " + "; ".join(w for w, *_ in flat[:3]),
                       tuple(dict.fromkeys(x for _, a, b, _ in flat for x in (a, b))), {"comparisons": [f for *_, f in flat]})
    return Finding(NO_EVIDENCE, "no comparison could be made: " + "; ".join(problems[:3]),
                   tuple(dict.fromkeys(x.id for p in pairs for x in p)))


def ab_compare(entry: EntrySpec, ev: Evidence) -> Finding:
    return ev.once(f"ab:{entry.side}:{entry.vary}", lambda: _ab(entry.side, entry.vary or "prompts", ev))


# -- trends --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trend:
    """An OLS line through (weeks, value) points: its slope per week and the slope's t interval."""
    source: str
    points: tuple[tuple[float, float], ...]
    labels: tuple[str, ...]
    slope: float
    low: float
    high: float


def ols_trend(source: str, points: Sequence[tuple[float, float]], labels: Sequence[str], confidence: float) -> Trend:
    """The least-squares slope of ``points`` and its ``confidence`` t interval (n - 2 degrees of freedom).

    >>> t = ols_trend("runs", [(0, 0.3), (1, 0.2), (2, 0.1)], ["a", "b", "c"], 0.95)
    >>> round(t.slope, 6), round(t.high, 6)
    (-0.1, -0.1)
    """
    import numpy as np
    from scipy import stats

    x = np.asarray([p[0] for p in points], dtype=float)
    y = np.asarray([p[1] for p in points], dtype=float)
    sxx = float(((x - x.mean()) ** 2).sum())  # > 0: one point per date or week
    slope = float(((x - x.mean()) * (y - y.mean())).sum()) / sxx
    resid = y - (y.mean() + slope * (x - x.mean()))
    se = (float((resid ** 2).sum()) / (len(x) - 2) / sxx) ** 0.5  # 0 on a straight line (scipy's would be nan)
    half = float(stats.t.ppf((1 + confidence) / 2, len(x) - 2)) * se
    return Trend(source, tuple((float(a), float(b)) for a, b in points), tuple(labels), slope, slope - half,
                 slope + half)


def _run_series(runs: Sequence[Any], metric: str) -> tuple[list, list]:
    """The longest series of dated runs of one golden split and item set with ``metric`` measured: (points in
    weeks since the first, run ids); one point per date (the latest run of the day)."""
    groups: dict[tuple, dict[date, Any]] = {}
    for r in runs:
        v = r.value(metric)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and _day(r) != date.min:
            key = (r.golden_sha, r.split, r.run.get("item_ids_sha256"))
            groups.setdefault(key, {})[_day(r)] = r
    if not groups:
        return [], []
    best = max(groups.values(), key=len)
    days = sorted(best)
    first = days[0]
    return ([((d - first).days / 7, float(best[d].value(metric))) for d in days], [best[d].id for d in days])


def _fmt_slope(metric: str, v: float) -> str:
    from metrics import registry

    unit = registry.lookup(metric).unit
    if unit == "fraction":
        return f"{100 * v:+.2f} points"
    if unit == "usd":
        return f"{'+' if v >= 0 else '-'}${abs(v):.3g}"
    return f"{v:+.4g}"


def trend(entry: EntrySpec, ev: Evidence) -> Finding:
    metric = entry.metric or ""
    n_min, conf = ev.settings.min_trend_points, ev.settings.confidence
    trends, short = [], []
    points, ids = _run_series(ev.side(entry.side), metric)
    if len(points) >= n_min:
        trends.append(ols_trend("dated runs", points, ids, conf))
    elif points:
        short.append(f"{len(points)} dated run(s) measure {metric} (a trend needs {n_min})")
    if entry.shadow and ev.shadow_rows:
        wk = [(r.period, getattr(getattr(r, entry.side), entry.shadow)) for r in ev.shadow_rows if getattr(r, entry.side)]
        wk = [(p, v) for p, v in wk if isinstance(v, (int, float))]
        if len(wk) >= n_min:
            trends.append(ols_trend(f"shadow weeks ({ev.shadow_path.name if ev.shadow_path else 'shadow'})",
                                    [(float(i), float(v)) for i, (_, v) in enumerate(wk)], [p for p, _ in wk], conf))
        elif wk:
            short.append(f"{len(wk)} shadow week(s) (a trend needs {n_min})")
    if not trends:
        return Finding(NO_EVIDENCE, "; ".join(short) or f"{metric} is not measured by any dated {entry.side} run"
                       + (" or shadow week" if entry.shadow else ""))
    texts, down, up = [], False, False
    for t in trends:
        texts.append(f"{metric} over {len(t.points)} {t.source} ({t.labels[0]} .. {t.labels[-1]}): slope "
                     f"{_fmt_slope(metric, t.slope)}/week, {100 * conf:.0f}% CI [{_fmt_slope(metric, t.low)}, "
                     f"{_fmt_slope(metric, t.high)}]")
        down |= t.high < 0
        up |= t.low > 0
    sources = tuple(x for t in trends for x in (t.labels if t.source == "dated runs" else (t.source,)))
    figures = {"trends": [asdict(t) for t in trends]}
    status = MET if down and not up else NOT_MET
    verdict = ("trending down (the interval is below 0)" if status == MET else
               "rising" if up else "not significantly down (the interval includes 0)")
    return Finding(status, "; ".join(texts) + f": {verdict}", sources, figures)


# -- audit chain ---------------------------------------------------------------------------------------------
def audit_chain(entry: EntrySpec, ev: Evidence) -> Finding:
    from harness.governance.audit import chain_records, verify_chain

    runs = ev.side(entry.side)
    records = [r for r in chain_records(ev.results_dir) if r.get("system") == entry.side]
    if not runs and not records:
        return _no_runs(entry.side, ev)
    problems = ev.once("verify", lambda: verify_chain(ev.results_dir))
    if problems:
        return Finding(NOT_MET, f"the audit chain does not verify: {problems[0]}", ("audit",))
    covered = {r.get("run", {}).get("id") for r in records}
    missing = [r for r in runs if r.id not in covered]
    if not records:
        return Finding(NOT_MET, f"no audit record of {_names(runs)} (harness audit RUN writes one)",
                       tuple(r.id for r in runs))
    text = f"{len(records)} chained audit record(s) verify (every cited file's sha256 matches)"
    if missing:
        return Finding(NOT_MET, f"{text}; no record of {_names(missing)}", tuple(r.id for r in runs))
    return Finding(MET, f"{text}; every {entry.side} run has one: what ran, its figures, criteria, risk class",
                   tuple(covered - {None}))


# -- simple presence checks ----------------------------------------------------------------------------------
def _presence(side: str, ev: Evidence, has: Callable[[Any], str | None], what: str, missing: str) -> Finding:
    runs = ev.side(side)
    if not runs:
        return _no_runs(side, ev)
    found = [(r, has(r)) for r in runs]
    yes = [(r, t) for r, t in found if t]
    if not yes:
        return Finding(NOT_MET, f"{missing} in {_names(runs)}", tuple(r.id for r in runs))
    last_run, last_text = yes[-1]
    return Finding(MET, f"{len(yes)} of {len(runs)} {side} run(s) {what}; latest {last_run.id}: {last_text}",
                   tuple(r.id for r, _ in yes))


def golden_runs(entry: EntrySpec, ev: Evidence) -> Finding:
    def has(r):
        g = r.metrics.get("golden") or {}
        return f"{g.get('name', '?')} {g.get('version', '')} sha256 {str(r.golden_sha)[:12]}, split {r.split}" \
            if r.golden_sha else None
    return _presence(entry.side, ev, has, "are scored on a checksummed golden set", "no golden set recorded")


def cost_sections(entry: EntrySpec, ev: Evidence) -> Finding:
    def has(r):
        v = r.value("cost.per_document")
        return f"${v:.4f} per document" if isinstance(v, (int, float)) else None
    return _presence(entry.side, ev, has, "have a cost section", "no cost section")


def io_logging(entry: EntrySpec, ev: Evidence) -> Finding:
    def has(r):
        p = r.path / "predictions.jsonl"
        return f"{p.name}, {p.stat().st_size:,} bytes" if p.is_file() and p.stat().st_size else None
    return _presence(entry.side, ev, has, "keep every item's outputs, timings and errors", "no predictions.jsonl")


def gates(entry: EntrySpec, ev: Evidence) -> Finding:
    def has(r):
        p = r.path / "gates.json"
        if not p.is_file():
            return None
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return f"gates status {data.get('status', '?')}" if isinstance(data, dict) else None
    return _presence(entry.side, ev, has, "were gated (harness gates: criteria checked automatically)", "no gates.json")


def go_no_go(entry: EntrySpec, ev: Evidence) -> Finding:
    def has(r):
        p = r.path / "gates.json"
        try:
            data = json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None
        except (OSError, ValueError):
            return None
        verdict = (data or {}).get("go_no_go") if isinstance(data, dict) else None
        return f"go/no-go {verdict.get('verdict')}" if isinstance(verdict, dict) and verdict.get("verdict") else None
    return _presence(entry.side, ev, has, "carry a go/no-go decision before deployment", "no go/no-go verdict recorded")


def measured(entry: EntrySpec, ev: Evidence) -> Finding:
    metric = entry.metric or ""

    def has(r):
        v = r.value(metric)
        return f"{metric} = {v:.4g}" if isinstance(v, (int, float)) else None
    return _presence(entry.side, ev, has, f"measure {metric}", f"{metric} not measured")


def call_cache(entry: EntrySpec, ev: Evidence) -> Finding:
    def has(r):
        d = _cache_dir(r, ev)
        n = sum(1 for _ in d.glob("??/*.json")) if d else 0
        return f"{n:,} cached call(s) in {d}: an unchanged call is served without a new one" if n else None
    return _presence(entry.side, ev, has, "used the call cache", "no call cache found")


def model_versions(entry: EntrySpec, ev: Evidence) -> Finding:
    from harness.records import model_label

    def has(r):
        label = model_label(dict(r.run))
        return f"model {label}" if label != "-" else None
    return _presence(entry.side, ev, has, "record the model version they ran", "no model version recorded")


def config_hashes(entry: EntrySpec, ev: Evidence) -> Finding:
    def has(r):
        h = r.run.get("predictor", {}).get("config_hash")
        return f"config sha256 {str(h)[:12]}" if h else None
    return _presence(entry.side, ev, has, "record their settings and the settings' hash", "no config hash recorded")


def drift_monitoring(entry: EntrySpec, ev: Evidence) -> Finding:
    runs = ev.side(entry.side)
    weeks = [r for r in ev.shadow_rows if getattr(r, entry.side, None) is not None]
    if weeks:
        return Finding(MET, f"{len(weeks)} monitored week(s) of {entry.side} in the shadow database "
                       f"({weeks[0].period} .. {weeks[-1].period})", (str(ev.shadow_path),))
    if not runs:
        return _no_runs(entry.side, ev)
    splits = sorted({str(r.split) for r in runs})
    shifted = [r for r in runs if r.split not in ("train", "test", "validation")]
    if shifted:
        return Finding(MET, f"runs on a drift split ({', '.join(sorted({str(r.split) for r in shifted}))}: "
                       f"{_names(shifted)}) beside {', '.join(splits)}", tuple(r.id for r in shifted))
    return Finding(NOT_MET, f"no run on a drift split and no shadow weeks (splits: {', '.join(splits)})",
                   tuple(r.id for r in runs))


def nothing(entry: EntrySpec, ev: Evidence) -> Finding:
    return Finding(NO_EVIDENCE, "the harness holds no evidence of this (outside what a results directory records)")


# evidence kind -> how it is judged: a new kind is one function here and one name in EvidenceKind
EVIDENCE: Mapping[str, Callable[[EntrySpec, Evidence], Finding]] = {
    "prompt_versions": prompt_versions, "token_usage": token_usage, "reproduce": reproduce,
    "guardrail_catch": guardrail_catch, "ab_compare": ab_compare, "trend": trend, "audit_chain": audit_chain,
    "guardrail_config": guardrail_config, "golden_runs": golden_runs, "cost_sections": cost_sections,
    "human_review": human_review, "io_logging": io_logging, "gates": gates, "go_no_go": go_no_go,
    "measured": measured, "call_cache": call_cache, "model_versions": model_versions,
    "config_hashes": config_hashes, "drift_monitoring": drift_monitoring, "none": nothing,
}


# ---------------------------------------------------------------------------------------------- judging
@dataclass(frozen=True)
class Judged:
    """One entry judged."""
    id: str
    side: str
    level: int
    required: bool
    title: str
    cites: str
    status: str
    evidence: str
    sources: tuple[str, ...]
    figures: Mapping[str, Any]


@dataclass(frozen=True)
class SideLevel:
    """A side's level and what its next level is missing, ranked (not met before no evidence, file order)."""
    side: str
    level: int
    title: str
    next_level: int | None
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Assessment:
    results_dir: str
    shadow: str | None
    maturity_file: str
    entries: tuple[Judged, ...]
    sides: tuple[SideLevel, ...]

    def to_dict(self) -> dict:
        return asdict(self)


def _level(side: str, judged: Sequence[Judged], levels: Sequence[LevelSpec]) -> SideLevel:
    reached = 0
    titles = {lv.level: lv.title for lv in levels}
    for lv in sorted(titles):
        if lv == 0:
            continue
        req = [j for j in judged if j.side == side and j.required and j.level == lv]
        if req and all(j.status == MET for j in req):
            reached = lv
        else:
            break
    nxt = next((lv for lv in sorted(titles) if lv > reached), None)
    missing: tuple[str, ...] = ()
    if nxt is not None:
        req = [j for j in judged if j.side == side and j.required and j.level == nxt and j.status != MET]
        req.sort(key=lambda j: 0 if j.status == NOT_MET else 1)  # stable: file order within each status
        missing = tuple(f"{j.id} ({j.status}): {j.title}" for j in req)
    return SideLevel(side, reached, titles[reached], nxt, missing)


def read_shadow(path: str | Path) -> tuple[list, list]:
    """The shadow database's weekly rows and its events (:mod:`harness.shadow`)."""
    from harness.shadow.dashboard import weekly
    from harness.shadow.db import database, events

    with database(path, create=False) as conn:
        return weekly(conn, "week"), events(conn)


def assess(results_dir: str | Path, *, shadow: str | Path | None = None, maturity: Maturity | None = None,
           reproduce: int = DEFAULT_REPRODUCE, progress: Callable[[str], None] = lambda _: None) -> Assessment:
    """Judge every entry of ``maturity`` (default: the shipped file) on what ``results_dir`` (and the shadow
    database) holds; ``reproduce`` recorded calls are made again (0: not checked)."""
    from harness.store import load_runs

    maturity = maturity or load_maturity()
    results_dir = Path(results_dir)
    runs = load_runs(results_dir)
    rows, events = read_shadow(shadow) if shadow else ([], [])
    ev = Evidence(results_dir, runs, maturity.spec.settings, Path(shadow) if shadow else None, rows, events,
                  reproduce, progress)
    judged = []
    for e in maturity.spec.entries:
        f = EVIDENCE[e.evidence](e, ev)
        judged.append(Judged(e.id, e.side, e.level, e.required, e.title, e.cites, f.status, f.evidence,
                             tuple(f.sources), dict(f.figures)))
    sides = tuple(_level(s, judged, maturity.spec.levels) for s in SIDES)
    return Assessment(str(results_dir), str(shadow) if shadow else None, maturity.path, tuple(judged), sides)


# ---------------------------------------------------------------------------------------------- rendering
def assessment_text(a: Assessment, fmt: str = "table") -> str:
    """The assessment as text: per side, the level and what is missing, then every entry (``fmt``: table or md)."""
    from harness.render import md_text, table

    parts = []
    for s in a.sides:
        head = f"{s.side}: Level {s.level} ({s.title})"
        lines = [f"## {md_text(head)}" if fmt == "md" else head]
        if s.next_level is not None:
            lines.append(f"missing for Level {s.next_level}, most actionable first:" if s.missing else
                         f"Level {s.next_level} has no required entry")
            lines += [f"{i}. {md_text(m) if fmt == 'md' else m}" for i, m in enumerate(s.missing, 1)]
        parts.append("\n".join(lines))
        rows = [[j.id, f"L{j.level}" + ("" if j.required else " (c)"), j.status, j.evidence]
                for j in a.entries if j.side == s.side]
        parts.append(table(["entry", "level", "status", "evidence"], rows, fmt, right_align_from=4))
    note = (f"entries and evidence kinds: {a.maturity_file} (case study section 3); (c): a characteristic, "
            "reported, not required for the level")
    return "\n\n".join(parts + [note])
