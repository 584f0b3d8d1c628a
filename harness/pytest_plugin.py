"""pytest plugin: a run's gates as tests (registered through the ``pytest11`` entry point).

    pytest --harness-run results/llmops --harness-baseline results/mlops [--harness-criteria FILE]
           [--harness-only] [--harness-criterion ID ...]

Collects one test per pilot criterion (a must-have that fails or is not measurable fails the test) and one
per regression check (no metric worse than the baseline by more than its tolerance, as listed under
``regression.tolerance`` in the criteria file). Failure messages show observed vs threshold and the
documents that flipped. Fixtures ``harness_run``, ``harness_baseline``, ``harness_criteria`` and
``harness_gate_results`` serve users' own tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_addoption(parser) -> None:
    group = parser.getgroup("harness", "document-intelligence harness gates")
    group.addoption("--harness-run", help="run directory whose gates become tests")
    group.addoption("--harness-baseline", help="baseline run directory for regression checks")
    group.addoption("--harness-criteria", help="criteria YAML (default: the TechCorp pilot's)")
    group.addoption("--harness-criterion", action="append", default=[],
                    help="only this criterion (repeatable); regression checks still run")
    group.addoption("--harness-only", action="store_true", help="run only the harness gate tests")


class GateFailure(Exception):
    pass


class GateItem(pytest.Item):
    def __init__(self, *, check, **kw) -> None:
        super().__init__(**kw)
        self.check = check  # callable returning None or raising GateFailure

    def runtest(self) -> None:
        self.check()

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, GateFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"harness gate: {self.name}"


def _criterion_check(result):
    def check() -> None:
        from harness.gates import FAILED, NOT_MEASURABLE

        if result.status in (FAILED, NOT_MEASURABLE):
            raise GateFailure(f"{result.title}: {result.status}\n  observed: {result.observed}\n"
                              f"  threshold (target / must-have): {result.bound}\n  evidence: {result.evidence}")
    return check


def _flipped(run, baseline, metric: str) -> str:
    from harness.compare import diff

    try:
        d = diff(baseline, run)
    except Exception as exc:  # noqa: BLE001 - the flip listing is a help, the check itself stands
        return f"  (could not list flipped documents: {exc})"
    if metric.startswith("classification"):
        broken = [f for f in d["label_flips"] if f["change"] == "broken"]
        lines = [f"  {f['id']}: {f['a']} -> {f['b']} (gold {f['gold']})" for f in broken[:15]]
        return f"  documents that flipped from right to wrong: {len(broken)}\n" + "\n".join(lines)
    if metric.startswith("extraction"):
        worse = [(doc["id"], c) for doc in d["field_changes"] for c in doc["changes"]
                 if c["a_outcome"] in ("correct", "empty") and c["b_outcome"] in ("wrong", "spurious")]
        lines = [f"  {i}.{c['field']}: {c['a']!r} -> {c['b']!r} (gold {c['gold']!r})" for i, c in worse[:15]]
        return f"  fields that got worse: {len(worse)}\n" + "\n".join(lines)
    return ""


def regression_checks(run, baseline, tolerances: dict):
    """(name, check) for every metric with a tolerance."""
    from metrics import higher_is_better

    checks = []
    for metric, tol in tolerances.items():
        def check(metric=metric, tol=tol) -> None:
            now, before = run.value(metric), baseline.value(metric)
            if not isinstance(before, (int, float)):
                return  # nothing to regress from
            if not isinstance(now, (int, float)):
                raise GateFailure(f"{metric}: measured on the baseline ({before:.4g}) but not on {run.id}")
            higher = higher_is_better(metric)
            if isinstance(tol, dict):
                allowed = before * (1 - tol["relative"]) if higher else before * (1 + tol["relative"])
                tol_text = f"{tol['relative']:.0%} relative"
            else:
                allowed = before - tol if higher else before + tol
                tol_text = f"{tol:g} absolute"
            worse = now < allowed if higher else now > allowed
            if worse:
                raise GateFailure(f"{metric} regressed: {now:.4g} on {run.id} vs {before:.4g} on {baseline.id} "
                                  f"(allowed {'>=' if higher else '<='} {allowed:.4g}, tolerance {tol_text})\n"
                                  + _flipped(run, baseline, metric))
        checks.append((f"regression::{metric}", check))
    return checks


def pytest_collection_modifyitems(session, config, items) -> None:
    run_path = config.getoption("harness_run")
    if not run_path:
        return
    from harness import gates

    if config.getoption("harness_only"):
        config.hook.pytest_deselected(items=list(items))
        items[:] = []
    run = gates.load_run(run_path)
    criteria = gates.load_criteria(config.getoption("harness_criteria"))
    only = config.getoption("harness_criterion") or None
    parent = session
    for result in gates.evaluate_criteria(criteria, run, only=only):
        items.append(GateItem.from_parent(parent, name=f"criterion::{result.id}", check=_criterion_check(result)))
    base_path = config.getoption("harness_baseline")
    if base_path:
        baseline = gates.load_run(base_path)
        for name, check in regression_checks(run, baseline, criteria.regression.get("tolerance", {})):
            items.append(GateItem.from_parent(parent, name=name, check=check))


def _run_option(pytestconfig, option: str, flag: str):
    from harness import gates

    path = pytestconfig.getoption(option)
    if not path:
        pytest.skip(f"no {flag} given")
    return gates.load_run(Path(path))


@pytest.fixture(scope="session")
def harness_run(pytestconfig):
    return _run_option(pytestconfig, "harness_run", "--harness-run")


@pytest.fixture(scope="session")
def harness_baseline(pytestconfig):
    return _run_option(pytestconfig, "harness_baseline", "--harness-baseline")


@pytest.fixture(scope="session")
def harness_criteria(pytestconfig):
    from harness import gates

    return gates.load_criteria(pytestconfig.getoption("harness_criteria"))


@pytest.fixture(scope="session")
def harness_gate_results(harness_run, harness_criteria):
    from harness import gates

    return {r.id: r for r in gates.evaluate_criteria(harness_criteria, harness_run)}
