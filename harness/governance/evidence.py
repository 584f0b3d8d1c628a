"""The evidence kinds of ``harness maturity`` that read what a results directory holds as it is (prompt versions,
usage, guardrails, the audit chain, runs and their files): :class:`Evidence` read once, each kind a function
``(entry, evidence) -> Finding``. The kinds that compute (an A/B comparison, a trend) are in
:mod:`harness.governance.evidence_stats`, the reproduction of recorded calls in :mod:`harness.governance.reproduce`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence


from harness.errors import HarnessInputError
from harness.files import read_yaml_mapping_doc
from harness.governance.maturity_spec import (DEFAULT_REPRODUCE, MET, NO_EVIDENCE, NOT_MET, EntrySpec, SettingsSpec)


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
    from harness.governance.risk import run_guardrail

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
