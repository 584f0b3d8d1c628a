"""pytest plugin: a run's gates as tests (registered through the ``pytest11`` entry point).

    pytest --harness-run results/llmops --harness-baseline results/mlops [--harness-criteria FILE]
           [--harness-only] [--harness-criterion ID ...] [--harness-ratings CSV]
           [--harness-go-no-go [--harness-audit YAML] [--harness-incidents YAML] [--harness-history DIR ...]]

Collects one test per pilot criterion (a must-have that fails or is not measurable fails the test; the user
satisfaction criterion reads ``--harness-ratings``) and one per regression check (no metric worse than the
baseline by more than its tolerance, as listed under ``regression.tolerance`` in the criteria file). With
``--harness-go-no-go``, one more test passes only on a GO verdict (its audit, incident and weekly conditions read
``--harness-audit``, ``--harness-incidents`` and ``--harness-history``, as ``harness gates`` does). Failure messages show observed vs threshold and the
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
    group.addoption("--harness-ratings", help="user ratings CSV (column 'rating', 1-5): the user satisfaction "
                    "criterion and the go/no-go's feedback condition")
    group.addoption("--harness-go-no-go", action="store_true",
                    help="add a test that passes only when the go/no-go verdict is GO")
    group.addoption("--harness-audit", help="audit checklist YAML (items: [{id, satisfied}]) for the go/no-go test")
    group.addoption("--harness-incidents", help="incident log YAML (incidents: [{type, severity, date}]) for the "
                    "go/no-go test")
    group.addoption("--harness-history", action="append", default=[],
                    help="a folder of dated runs for the go/no-go's weekly conditions (repeatable)")


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


def _go_no_go_check(verdict):
    def check() -> None:
        if verdict.verdict != "GO":
            lines = [f"  GO condition {c.id}: {c.detail}" for c in verdict.go] + \
                    [f"  NO-GO condition {c.id}: {c.detail}" for c in verdict.no_go]
            raise GateFailure(f"go/no-go: {verdict.verdict}\n" + "\n".join(lines))
    return check


def _inputs(config) -> dict:
    """The files ``harness gates`` also reads, from their options (a file the go/no-go test would read is a usage
    error without ``--harness-go-no-go``)."""
    from harness import gates

    if not config.getoption("harness_go_no_go"):
        for name in ("audit", "incidents", "history"):
            if config.getoption(f"harness_{name}"):
                raise pytest.UsageError(f"--harness-{name} is read by the go/no-go test: add --harness-go-no-go")
    ratings, audit, incidents = (config.getoption(f"harness_{n}") for n in ("ratings", "audit", "incidents"))
    return {"ratings": gates.read_ratings(ratings) if ratings else None,
            "audit": gates.read_audit(audit) if audit else None,
            "incidents": gates.read_incidents(incidents) if incidents else None,
            "history": [r for d in config.getoption("harness_history") for r in gates.load_runs(d)]}


def pytest_collection_modifyitems(session, config, items) -> None:
    run_path = config.getoption("harness_run")
    if not run_path:
        return
    from harness import gates

    if config.getoption("harness_only"):
        config.hook.pytest_deselected(items=list(items))
        items[:] = []
    from harness.errors import HarnessInputError

    try:
        _collect(session, config, items, run_path)
    except HarnessInputError as exc:  # a file the gates read: one line, as `harness gates` says it
        raise pytest.UsageError(f"error: {exc}") from None


def _collect(session, config, items, run_path) -> None:
    from harness import gates

    run = gates.load_run(run_path)
    criteria = gates.load_criteria(config.getoption("harness_criteria"))
    only = config.getoption("harness_criterion") or None
    unknown = sorted(set(only or ()) - {c.id for c in criteria.criteria})
    if unknown:  # a typo must not make the gate disappear (as `harness gates --only` refuses it)
        raise pytest.UsageError(f"--harness-criterion: unknown criterion id(s): {', '.join(unknown)} (known: "
                                f"{', '.join(c.id for c in criteria.criteria)})")
    given = _inputs(config)
    parent = session
    for result in gates.evaluate_criteria(criteria, run, given["ratings"], only=only):
        items.append(GateItem.from_parent(parent, name=f"criterion::{result.id}", check=_criterion_check(result)))
    base_path = config.getoption("harness_baseline")
    baseline = gates.load_run(base_path) if base_path else None
    if baseline is not None:
        for name, check in regression_checks(run, baseline, criteria.regression.get("tolerance", {})):
            items.append(GateItem.from_parent(parent, name=name, check=check))
    if config.getoption("harness_go_no_go"):
        verdict = gates.evaluate_go_no_go(criteria, run, baseline, given["history"], given["ratings"],
                                          given["audit"], given["incidents"])
        items.append(GateItem.from_parent(parent, name="go-no-go", check=_go_no_go_check(verdict)))


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
def harness_gate_results(pytestconfig, harness_run, harness_criteria):
    from harness import gates

    ratings = _inputs(pytestconfig)["ratings"]
    return {r.id: r for r in gates.evaluate_criteria(harness_criteria, harness_run, ratings)}
