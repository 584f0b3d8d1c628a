"""A governance record of one run (``harness audit RUN``), chained per system in its results directory, and the
check of the chain (``harness audit --verify RESULTS_DIR``).

The record follows the case study's section 4 and the record-keeping of the EU AI Act, Article 12 (logs that
allow "the automatic recording of events" over the system's lifetime, for traceability "appropriate to the
intended purpose": 12(1)-(2); the period of each use, start and end: 12(3)(a)) and Article 19 (logs kept "at
least six months"). It holds the system and its intended purpose (``governance.yaml``), the risk class and
why (section 4's conditions checked against the run's guardrail configuration), when the run started and ended,
what ran (model, prompt versions, settings hash, golden set and its hash), the figures with their intervals,
the criteria and the verdict, the guardrail results, the incidents of an incident log, the human-oversight
rules in force, the retention date and the sha256 of every file it cites.

Records of one system live in ``RESULTS_DIR/audit/<system>.jsonl``, one JSON object a line; each names the hash
of the previous one (``previous``) and carries its own (``hash``: sha256 of the record without it, canonical
JSON), so an edited, removed or reordered record breaks the chain, and an edited cited file breaks its hash.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Mapping, Sequence


from harness.errors import HarnessInputError

from harness.governance.risk import GovernanceFile, classify, run_guardrail

AUDIT_DIR = "audit"
SCHEMA = 1
LEGAL_BASIS = (
    "EU AI Act (Regulation (EU) 2024/1689) Art. 12(1): high-risk systems allow the automatic recording of events "
    "(logs) over their lifetime",
    "Art. 12(2): logging enables traceability appropriate to the intended purpose (risks, post-market "
    "monitoring, monitoring of operation)",
    "Art. 12(3)(a): the period of each use (start and end date and time)",
    "Art. 19(1) and 26(6): logs kept for a period appropriate to the intended purpose, at least six months",
)


# ---------------------------------------------------------------------------------------------- the record
def _sha(path: Path) -> str:
    from harness.golden import file_sha256

    return file_sha256(path)


def _cited(path: Path, root: Path, role: str) -> dict:
    """A cited file: its path (relative to the results directory when inside it) and its sha256."""
    path = path.resolve()
    try:
        shown = str(path.relative_to(root.resolve()))
    except ValueError:
        shown = str(path)
    return {"role": role, "path": shown, "sha256": _sha(path)}


def _resolve_cited(entry: Mapping[str, Any], root: Path) -> Path:
    p = Path(str(entry.get("path")))
    return p if p.is_absolute() else root / p


def _metric_rows(run) -> list[dict]:
    from metrics import registry

    ci = run.metrics.get("ci") if isinstance(run.metrics.get("ci"), Mapping) else {}
    out = []
    for name in registry.headline_names():
        v = run.value(name)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        interval = ci.get(name)
        low = high = None
        if isinstance(interval, Mapping):
            low, high = interval.get("low"), interval.get("high")
        elif isinstance(interval, (list, tuple)) and len(interval) == 2:
            low, high = interval
        out.append({"metric": name, "title": registry.lookup(name).title_for(name), "unit": registry.lookup(name).unit,
                    "value": v, "ci_low": low, "ci_high": high})
    return out


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes a record's hash covers: canonical JSON of everything but ``hash``."""
    return json.dumps({k: v for k, v in record.items() if k != "hash"}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str).encode("utf-8")


def record_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def chain_path(results_dir: Path, system: str) -> Path:
    from harness.paths import safe_name

    return results_dir / AUDIT_DIR / f"{safe_name(system, field='system')}.jsonl"


def build_record(run, governance: GovernanceFile, *, criteria_path: str | Path | None = None,
                 incidents_path: str | Path | None = None, previous: str | None = None, seq: int = 1) -> dict:
    """The governance record of ``run`` (see the module docstring), chained after ``previous``."""
    from harness import gates
    from harness.records import model_label
    from harness.store import now

    system = governance.systems.get(run.pipeline)
    if system is None:
        raise HarnessInputError(f"no system for pipeline {run.pipeline!r} (systems: "
                                f"{', '.join(governance.systems)})", path=governance.path, field="systems")
    root = run.path.parent
    criteria = gates.load_criteria(criteria_path)
    results = gates.evaluate_criteria(criteria, run)
    incidents = gates.read_incidents(incidents_path) if incidents_path else None
    gates_file = run.path / "gates.json"
    gates_json = None
    if gates_file.is_file():
        try:
            gates_json = json.loads(gates_file.read_text(encoding="utf-8"))
        except ValueError:
            gates_json = None
    verdict = (gates_json or {}).get("go_no_go") if isinstance(gates_json, dict) else None
    cfg, _ = run_guardrail(run)
    ended = run.run.get("ended_at") or run.run.get("scored_at")
    end_day = date.fromisoformat(str(ended)[:10]) if ended else date.today()
    golden = dict(run.metrics.get("golden") or {})
    files = [_cited(run.path / n, root, n) for n in ("run.json", "metrics.json", "predictions.jsonl",
                                                      "judgments.jsonl", "gates.json") if (run.path / n).is_file()]
    files.append(_cited(Path(governance.path), root, "governance"))
    files.append(_cited(Path(criteria.path), root, "criteria"))
    if cfg is not None:
        files.append(_cited(Path(cfg.path), root, "guardrail configuration"))
    if incidents_path:
        files.append(_cited(Path(incidents_path), root, "incident log"))
    manifest = Path(str(golden.get("path", ""))) / "manifest.yaml" if golden.get("path") else None
    if manifest is not None and manifest.is_file():
        files.append(_cited(manifest, root, "golden set manifest"))
    for f in files:
        f["run"] = run.id if f["role"] in ("run.json", "metrics.json", "predictions.jsonl", "judgments.jsonl",
                                           "gates.json") else None
    oversight = list(system.human_oversight)
    if cfg is not None:
        h = cfg.harnessPolicies.hallucinationCheck
        oversight.append(f"in force in this run: {Path(cfg.path).name} hallucinationCheck "
                         f"{h.action if h.enabled else 'off'}" + (f" below faithfulness {h.min_faithfulness:g}"
                                                                  if h.enabled else ""))
    else:
        oversight.append("in force in this run: no guardrail, so no answer was flagged for human review")
    record = {
        "schema": SCHEMA, "seq": seq, "previous": previous, "written_at": now(),
        "system": run.pipeline, "organisation": governance.organisation,
        "system_name": system.name, "intended_purpose": system.intended_purpose,
        "risk": classify(system, run, governance.path),
        "run": {"id": run.id, "started_at": run.run.get("started_at"), "ended_at": ended,
                "evaluated_on": run.run.get("evaluated_on")},
        "what_ran": {"pipeline": run.pipeline, "model": model_label(dict(run.run)),
                     "prompts": {t: {"ref": v.get("ref"), "sha256": v.get("sha256")}
                                 for t, v in run.prompts.items() if isinstance(v, Mapping)},
                     "config_hash": run.run.get("predictor", {}).get("config_hash"),
                     "golden": {k: golden.get(k) for k in ("name", "version", "sha256")}, "split": run.split,
                     "n_items": run.run.get("n_items"), "item_ids_sha256": run.run.get("item_ids_sha256")},
        "metrics": _metric_rows(run),
        "criteria": {"file": criteria.path, "results": [{"id": r.id, "title": r.title, "observed": r.observed,
                                                         "bound": r.bound, "status": r.status} for r in results],
                     "status": gates.gate_status(results),
                     "go_no_go": verdict.get("verdict") if isinstance(verdict, Mapping) else None},
        "guardrails": run.metrics.get("guardrails") if isinstance(run.metrics.get("guardrails"), Mapping) else None,
        "incidents": incidents,
        "human_oversight": oversight,
        "retention_until": (end_day + timedelta(days=governance.retention_days)).isoformat(),
        "legal_basis": list(LEGAL_BASIS),
        "files": files,
    }
    record["hash"] = record_hash(record)
    return record


def chain_lines(path: Path) -> list[dict | str]:
    """Each line of a chain file, in order: the record, or why the line is not one (an edit that broke it is a
    broken chain, which ``--verify`` names, not bad input)."""
    from harness.files import loads_json

    if not path.is_file():
        return []
    out: list[dict | str] = []
    for n, line in enumerate(path.read_bytes().splitlines(), 1):
        try:
            rec = loads_json(line, path=path, line=n)
        except HarnessInputError as exc:
            out.append(f"not a record ({exc.problem})")
            continue
        out.append(rec if isinstance(rec, dict) else "not a record (not a JSON object)")
    return out


def read_chain(path: Path) -> list[dict]:
    """The records of one chain file, in order (lines that are not records left out: ``verify_chain`` names them)."""
    return [r for r in chain_lines(path) if isinstance(r, dict)]


def chain_records(results_dir: str | Path) -> list[dict]:
    """Every record of every system's chain in ``results_dir``."""
    d = Path(results_dir) / AUDIT_DIR
    return [r for p in sorted(d.glob("*.jsonl")) for r in read_chain(p)] if d.is_dir() else []


def append_record(run, governance: GovernanceFile, **kwargs: Any) -> dict:
    """Build the run's record after the last one of its system and append it to the chain (one writer at a time)."""
    from harness.locks import hold_directory

    root = run.path.parent
    path = chain_path(root, run.pipeline)
    with hold_directory(root / AUDIT_DIR, "harness audit", noun="audit directory"):
        chain = read_chain(path)
        last = chain[-1] if chain else None
        record = build_record(run, governance, previous=last.get("hash") if last else None,
                              seq=last["seq"] + 1 if last and isinstance(last.get("seq"), int) else len(chain) + 1,
                              **kwargs)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            fh.flush()
    return record


def verify_chain(results_dir: str | Path) -> list[str]:
    """Every chain of ``results_dir`` checked: each record's hash, its link to the previous one, and every
    cited file's sha256. The problems, the first record that does not match first in each chain (empty: all
    verify)."""
    results_dir = Path(results_dir)
    problems = []
    d = results_dir / AUDIT_DIR
    for path in sorted(d.glob("*.jsonl")) if d.is_dir() else []:
        previous = None
        for n, rec in enumerate(chain_lines(path), 1):
            if isinstance(rec, str):
                problems.append(f"{path.relative_to(results_dir)}:{n}: {rec}")
                break
            run = rec.get("run") if isinstance(rec.get("run"), dict) else {}
            name = f"{path.relative_to(results_dir)}:{n}: record {rec.get('seq', n)} (run {run.get('id', '?')})"
            problem = None
            if rec.get("hash") != record_hash(rec):
                problem = "the record was changed after it was written (its hash does not match)"
            elif rec.get("previous") != previous:
                problem = "it does not follow the previous record (a record was removed, added or reordered)"
            else:
                for f in rec.get("files") or []:
                    if not isinstance(f, dict):
                        problem = "a cited file is not named with its path and sha256"
                        break
                    p = _resolve_cited(f, results_dir)
                    if not p.is_file():
                        problem = f"cited file {f.get('path')} is missing"
                        break
                    if _sha(p) != f.get("sha256"):
                        problem = f"cited file {f.get('path')} changed (sha256 {_sha(p)[:12]}, recorded {str(f.get('sha256'))[:12]})"
                        break
            if problem:
                problems.append(f"{name}: {problem}")
                break
            previous = rec.get("hash")
    return problems


def verify_text(results_dir: str | Path, problems: Sequence[str]) -> str:
    records = chain_records(results_dir)
    if not records:
        return f"no audit records in {results_dir} (harness audit RUN writes them)"
    if problems:
        return "audit chain does NOT verify; first record that does not match:\n" + "\n".join(f"  {p}" for p in problems)
    return (f"audit chain verifies: {len(records)} record(s), every hash, link and cited file's sha256 "
            f"({sum(len(r.get('files') or []) for r in records)} files) matches")


# ---------------------------------------------------------------------------------------------- rendering
def _pct(v: Any) -> str:
    return "-" if not isinstance(v, (int, float)) else f"{v:.4g}"


def metric_cells(m: Mapping[str, Any]) -> list[str]:
    """A record's figure as the tables show it: title, value and interval in the metric's unit."""
    from metrics.registry import format_value

    unit = m.get("unit")
    value = format_value(m["value"], unit) if unit else _pct(m["value"])
    interval = "-" if m.get("ci_low") is None else \
        f"[{format_value(m['ci_low'], unit) if unit else _pct(m['ci_low'])}, " \
        f"{format_value(m['ci_high'], unit) if unit else _pct(m['ci_high'])}]"
    return [m["title"], value, interval]


def record_markdown(rec: Mapping[str, Any]) -> str:
    """The record as Markdown (every value from a file escaped with :func:`harness.render.md_text`)."""
    from harness.render import md_cell, md_text, table

    risk, ran, crit = rec["risk"], rec["what_ran"], rec["criteria"]
    lines = [f"# Governance record {rec['seq']}: {md_text(rec['run']['id'])} ({md_text(rec['system'])})", "",
             f"- system: {md_text(rec['system_name'])} ({md_text(rec['organisation'])})",
             f"- intended purpose: {md_text(rec['intended_purpose'])}",
             f"- risk class: **{md_text(risk['class'])}**: {md_text(risk['reason'])}",
             f"- period of use: {md_text(rec['run']['started_at'])} to {md_text(rec['run']['ended_at'])}",
             f"- model: {md_text(ran['model'])}; prompts: "
             + (", ".join(f"{md_text(t)} {md_text(v['ref'])} ({md_text(str(v['sha256'])[:12])})"
                          for t, v in sorted(ran["prompts"].items())) or "none"),
             f"- settings hash: {md_text(ran['config_hash'])}; golden set: {md_text(ran['golden'].get('name'))} "
             f"{md_text(ran['golden'].get('version'))} sha256 {md_text(ran['golden'].get('sha256'))}, split "
             f"{md_text(ran['split'])}, {md_text(ran['n_items'])} items",
             f"- criteria ({md_text(crit['file'])}): {md_text(crit['status'])}; go/no-go: "
             f"{md_text(crit['go_no_go'] or 'not recorded (harness gates)')}",
             f"- retention until: {md_text(rec['retention_until'])}",
             f"- record hash: {md_text(rec['hash'])}; previous: {md_text(rec['previous'] or 'none (first record)')}", ""]
    lines += ["## Conditions of a high risk (case study section 4)", ""]
    lines += [f"- {md_text(c['text'])}: " + {True: "holds", False: "does not hold", None: "not ruled out"}[c["holds"]]
              + f" ({md_text(c['evidence'])})" for c in risk["conditions"]] or ["- none stated for this system"]
    lines += ["", "Requirements: " + md_text("; ".join(risk["requirements"]) or "none"), "", "## Figures", ""]
    lines.append(table(["metric", "value", "95% interval"],
                       [metric_cells(m) for m in rec["metrics"]], "md"))
    lines += ["", "## Criteria", ""]
    lines.append(table(["criterion", "observed", "target / must-have", "status"],
                       [[c["title"], _pct(c["observed"]), c["bound"], c["status"]] for c in crit["results"]], "md"))
    g = rec.get("guardrails")
    lines += ["", "## Guardrails", ""]
    if g:
        evalu = g.get("evaluation") if isinstance(g.get("evaluation"), Mapping) else None
        if "calls" in g:
            lines.append(f"- in the run: {md_text(g.get('calls'))} calls checked, {md_text(g.get('interventions'))} "
                         f"interventions, {md_text(g.get('blocked_calls'))} blocked")
        if evalu:
            rates = ", ".join(f"{md_text(k)} {_pct(v.get('catch_rate'))}" for k, v in (evalu.get("policies") or {}).items()
                              if isinstance(v, Mapping) and v.get("catch_rate") is not None)
            lines.append(f"- red-team evaluation: catch rates {rates or 'none'}; critical failures "
                         f"{md_text(g.get('critical_failures'))}")
    else:
        lines.append("- no guardrail results in this run")
    lines += ["", "## Incidents", ""]
    if rec["incidents"] is None:
        lines.append("- no incident log given (--incidents)")
    else:
        lines += [f"- {md_text(i.get('type'))} {md_text(i.get('severity', ''))} {md_text(i.get('date', ''))}"
                  for i in rec["incidents"]] or ["- none in the incident log"]
    lines += ["", "## Human oversight", ""] + [f"- {md_text(r)}" for r in rec["human_oversight"]]
    lines += ["", "## Cited files (sha256)", ""]
    lines.append(table(["role", "path", "sha256"], [[f["role"], f["path"], f["sha256"]] for f in rec["files"]], "md"))
    lines += ["", "## Legal basis", ""] + [f"- {md_cell(b)}" for b in rec["legal_basis"]]
    return "\n".join(lines)
