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

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence


from harness.governance.maturity_spec import (DEFAULT_REPRODUCE, MET, NOT_MET, SIDES, EntrySpec, LevelSpec,
                                               Maturity, load_maturity)
from harness.governance.evidence import (Evidence, Finding, audit_chain, call_cache, config_hashes, cost_sections,
                                         drift_monitoring, gates, go_no_go, golden_runs, guardrail_catch, guardrail_config,
                                         human_review, io_logging, measured, model_versions, nothing, prompt_versions,
                                         token_usage)
from harness.governance.evidence_stats import ab_compare, trend
from harness.governance.reproduce import reproduce

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
