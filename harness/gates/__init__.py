"""Gates: pilot success criteria (:mod:`~harness.gates.criteria`), the go/no-go verdict over dated runs
(:mod:`~harness.gates.go_no_go`), rollback triggers over monitoring records (:mod:`~harness.gates.rollback`)
and their other inputs (:mod:`~harness.gates.inputs`). Runs are read through :mod:`harness.store`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Sequence

from harness.files import dumps_json
from harness.gates.criteria import (DEFAULT_CRITERIA, FAILED, MUST_MET, NOT_MEASURABLE, OPS, TARGET_MET, Criteria,
                                    Criterion, CriterionResult, evaluate_criteria, gate_status, load_criteria,
                                    meets, must_haves_hold)
from harness.gates.go_no_go import Condition, Verdict, evaluate_go_no_go, weekly_ledger
from harness.gates.inputs import read_audit, read_incidents, read_ratings
from harness.gates.rollback import Trigger, evaluate_rollback, read_monitoring
from harness.store import Run, load_run, load_runs


def results_json(results: Sequence[CriterionResult], verdict: Verdict | None) -> dict:
    return {"criteria": [asdict(r) for r in results], "must_haves_hold": must_haves_hold(results),
            "status": gate_status(results),
            "go_no_go": verdict.to_dict() if verdict else None}


def dumps(data: Any) -> str:
    return dumps_json(data, indent=2, default=str)


__all__ = ["DEFAULT_CRITERIA", "FAILED", "MUST_MET", "NOT_MEASURABLE", "OPS", "TARGET_MET", "Condition", "Criteria",
           "Criterion", "CriterionResult", "Run", "Trigger", "Verdict", "dumps", "evaluate_criteria",
           "evaluate_go_no_go", "evaluate_rollback", "gate_status", "load_criteria", "load_run", "load_runs", "meets",
           "must_haves_hold", "read_audit", "read_incidents", "read_monitoring", "read_ratings", "results_json",
           "weekly_ledger"]
