"""The governance pages: the maturity assessment (``harness maturity --format html``), one governance record
(``harness audit RUN --format html``) and the report page's short maturity-and-governance part. Every figure
comes from :mod:`harness.governance`; this module only lays them out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.pages import render

STATUS_KIND = {"met": "pass", "not met": "fail", "no evidence": "na"}
RISK_KIND = {"high risk": "fail", "possibly high risk": "warn"}


def _entries(assessment, side: str) -> list[dict]:
    return [{"id": j.id, "level": f"L{j.level}" + ("" if j.required else " (c)"), "title": j.title,
             "status": j.status, "kind": STATUS_KIND.get(j.status, "na"), "evidence": j.evidence, "cites": j.cites}
            for j in assessment.entries if j.side == side]


def maturity_page(assessment, *, command: str = "harness maturity") -> str:
    """The assessment: per side, the level, what the next level is missing, and every entry with its evidence."""
    sides = [{"side": s.side, "level": s.level, "title": s.title, "next": s.next_level, "missing": list(s.missing),
              "entries": _entries(assessment, s.side)} for s in assessment.sides]
    return render("maturity.html.j2", title=f"Maturity from evidence: {Path(assessment.results_dir).name}",
                  command=command, contents=[(s["side"], s["side"].upper()) for s in sides],
                  source=assessment.results_dir, sides=sides, maturity_file=assessment.maturity_file,
                  shadow=assessment.shadow)


def audit_page(record: Mapping[str, Any], *, command: str = "harness audit") -> str:
    """One governance record: the risk class at the top, what ran, oversight, the cited files."""
    from harness.governance.audit import metric_cells

    risk = record["risk"]
    return render("audit.html.j2", title=f"Governance record {record['seq']}: {record['run']['id']}",
                  command=command, rec=record, risk_kind=RISK_KIND.get(risk["class"], "pass"),
                  metrics=[metric_cells(m) for m in record["metrics"]],
                  criteria=[[c["title"], "-" if c["observed"] is None else f"{c['observed']:.4g}", c["bound"],
                             c["status"]] for c in record["criteria"]["results"]],
                  files=[[f["role"], f["path"], f["sha256"][:16]] for f in record["files"]],  # whole: the JSON
                  conditions=[[c["text"], {True: "holds", False: "does not hold", None: "not ruled out"}[c["holds"]],
                               c["evidence"]] for c in risk["conditions"]])


def report_part(run_paths: Sequence[Path]) -> dict | None:
    """The report page's maturity-and-governance part for runs whose results directory holds audit records:
    each run's latest record, whether the chain verifies, and the maturity level of each side (recorded calls
    are not made again here: ``harness maturity`` does that). None when no such evidence exists."""
    from harness.governance.audit import chain_records, verify_chain
    from harness.governance.maturity import assess

    dirs = list(dict.fromkeys(Path(p).parent for p in run_paths))
    with_records = [(d, chain_records(d)) for d in dirs]
    with_records = [(d, recs) for d, recs in with_records if recs]
    if not with_records:
        return None
    ids = {Path(p).name for p in run_paths}
    rows, chains, levels = [], [], []
    for d, recs in with_records:
        latest = {}
        for r in recs:
            latest[r.get("run", {}).get("id")] = r
        for rid in sorted(ids & set(latest)):
            r = latest[rid]
            rows.append([rid, r.get("system"), r.get("risk", {}).get("class"), r.get("risk", {}).get("reason"),
                         r.get("retention_until"), str(r.get("hash"))[:16]])
        problems = verify_chain(d)
        chains.append({"dir": str(d), "ok": not problems, "text": problems[0] if problems else
                       f"{len(recs)} record(s): every hash, link and cited file matches"})
        a = assess(d, reproduce=0)
        levels += [[str(d.name), s.side, f"Level {s.level} ({s.title})",
                    "; ".join(s.missing[:3]) + (" ..." if len(s.missing) > 3 else "") or "-"] for s in a.sides]
    return {"records": rows, "chains": chains, "levels": levels}
