"""The parallel run end to end (issue 18): the shipped scenarios simulated into a comparison database through
the CLI, with the real MLOps pipeline as production, give their expected outcomes (GO in a named week and a
completed ramp; NO-GO; a rollback at a named ramp step); a simulation resumes; the dashboard page in a browser."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timezone

import pytest

from harness.shadow.cutover import RAMP, served
from harness.shadow.scenario import load_scenario

SCENARIOS = ("clean-go", "no-go", "rollback")


@pytest.fixture(scope="module")
def streams(tmp_path_factory, mlops_artifacts):
    """Each shipped scenario simulated once into its own database (``harness shadow simulate``), in a folder
    that sees the MLOps model trained once."""
    import os

    from harness.cli import main

    out, cwd = tmp_path_factory.mktemp("shadow"), os.getcwd()
    (out / "artifacts").symlink_to(mlops_artifacts, target_is_directory=True)
    dbs = {}
    os.chdir(out)
    try:
        for name in SCENARIOS:
            db = out / f"{name}.db"
            assert main(["shadow", "simulate", "--scenario", name, "--out", str(db), "--no-progress"]) == 0
            dbs[name] = db
    finally:
        os.chdir(cwd)
    return dbs


@pytest.mark.parametrize("name", SCENARIOS)
def test_shipped_scenario_gives_its_expected_outcome(streams, cli, name):
    expect = load_scenario(name).spec.expect
    code, out, err = cli("shadow", "decide", streams[name])
    assert code == 0, err
    assert f"Decision: {expect['decision']} " in out, out
    if "cutover" not in expect:
        assert expect["decision"].startswith("NO-GO")
        code, _, err = cli("shadow", "cutover", streams[name])
        assert code == 2 and "no GO decision" in err  # the ramp starts only after a GO
        return
    code, out, err = cli("shadow", "cutover", streams[name])
    want = expect["cutover"]
    assert ("Cutover completed" if want == "completed" else "Rolled back: ") in out, out
    code, out, err = cli("shadow", "cutover", streams[name], "--format", "json")
    ramp = json.loads(out)
    outcomes = [(s["day"], s["outcome"]) for s in ramp["steps"]]
    if want == "completed":
        assert code == 0 and ramp["status"] == "completed"
        assert outcomes == [(d, "advanced") for d, _ in RAMP] + [(20, "completed")]  # after a week at 100 %
    else:
        day, trigger = re.fullmatch(r"rolled back at day (\d+) \((\w+)\)", want).groups()
        assert code == 1 and ramp["status"] == "rolled back" and ramp["trigger"] == trigger
        assert outcomes[-1] == (int(day), "rolled back")
        assert all(o == "advanced" for _, o in outcomes[:-1])
        assert ramp["window"][0] >= ramp["start"]  # the exposure happened during the ramp, not before it


def test_no_go_is_held_by_the_week_the_prompt_changed(streams):
    """The NO-GO names the conditions that stopped it, from the figures of that week."""
    from harness.gates import load_criteria
    from harness.shadow.db import open_db
    from harness.shadow.decide import decide

    conn = open_db(streams["no-go"], create=False)
    try:
        d = decide(conn, load_criteria())
    finally:
        conn.close()
    week = next(w for w in d.weeks if w.week == d.week)
    fired = {c.id for c in week.no_go if c.holds}
    assert d.status == "NO-GO" and d.week == "2027-W03" and d.date == "2027-01-24"
    assert fired and fired <= {"accuracy_below_baseline", "hallucination_above_5pct"}, fired
    assert [w.status for w in d.weeks[: 2]] == ["HOLD", "HOLD"]  # fewer than 4 weeks: no GO yet, nothing wrong


def test_the_dashboard_shows_the_drift(streams, cli):
    """clean-go: new templates from week 2 cut MLOps's classification match; LLMOps's holds (gold-measured)."""
    code, out, err = cli("shadow", "dashboard", streams["clean-go"], "--format", "json")
    assert code == 0, err
    rows = {r["period"]: r for r in json.loads(out)["rows"]}
    w1, w3 = rows["2027-W01"], rows["2027-W03"]
    assert w1["mlops"]["classification_match"] > 0.97
    assert w3["mlops"]["classification_match"] < w1["mlops"]["classification_match"] - 0.05
    assert w3["llmops"]["classification_match"] > 0.98
    assert w1["mlops"]["n"] == w1["llmops"]["n"] == 7 * 120


def test_simulate_resumes_and_refuses_another_scenario(tmp_path, cli, trained):
    scenario = tmp_path / "resume.yaml"
    scenario.write_text("name: resume\nseed: 2\nweeks: 1\ndocs_per_day: 20\n"
                        "events:\n  - {kind: price_change, day: 7, factor: 1.5}\n")
    db = tmp_path / "s.db"
    code, _, err = cli("shadow", "simulate", "--scenario", scenario, "--out", db, "--no-progress")
    assert code == 0, err

    def content():
        with sqlite3.connect(db) as c:
            return (c.execute("SELECT doc_id, pipeline, label, label_correct, hallucinated, cost_usd FROM results "
                              "ORDER BY doc_id, pipeline").fetchall(),
                    c.execute("SELECT ts, kind, detail FROM events ORDER BY id").fetchall())

    before = content()
    assert len(before[0]) == 2 * 7 * 20 and [k for _, k, _ in before[1]] == ["price_change"]
    with sqlite3.connect(db) as c:  # as if the run had stopped during its last day, the day of the event
        c.execute("DELETE FROM results WHERE day = (SELECT MAX(day) FROM results) AND doc_id IN "
                  "(SELECT doc_id FROM results WHERE day = (SELECT MAX(day) FROM results) LIMIT 5)")
    code, _, err = cli("shadow", "simulate", "--scenario", scenario, "--out", db, "--no-progress")
    assert code == 0 and "140 new documents" not in err and "20 new documents" in err, err
    assert content() == before  # the same documents and outcomes (deterministic by seed), the event once
    code, _, err = cli("shadow", "simulate", "--scenario", "no-go", "--out", db, "--no-progress")
    assert code == 2 and "another scenario" in err
    code, _, err = cli("shadow", "simulate", "--scenario", "no-go", "--weeks", "2", "--out", tmp_path / "n.db")
    assert code == 2 and "events[0]" in err and "(--weeks 2)" in err  # its week-3 event is not dropped silently
    code, out, err = cli("shadow", "simulate", "--scenario", scenario, "--docs-per-day", "2",
                         "--out", tmp_path / "run", "--no-progress")  # a folder: the database is shadow.db in it
    assert code == 0 and (tmp_path / "run" / "shadow.db").is_file() and "run/shadow.db" in out, err


def test_a_broken_scenario_names_its_line(tmp_path, cli):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nseed: 1\nstart: 2027-01-04\nweeks: 2\ndocs_per_day: 10\nevents:\n"
                   "  - {kind: meteor_strike, week: 1}\n")
    code, _, err = cli("shadow", "simulate", "--scenario", bad, "--out", tmp_path / "x.db")
    assert code == 2 and "bad.yaml:7" in err and "kind" in err, err
    assert not (tmp_path / "x.db").exists()


def test_cutover_from_a_given_start_and_bad_dates(streams, cli):
    """no-go's prompt change lands on ramp day 14 when the ramp starts on its second day: the week at 100 %
    catches the accuracy drop (over 24 h below the MLOps baseline) and rolls back."""
    code, out, err = cli("shadow", "cutover", streams["no-go"], "--start", "2027-01-05", "--format", "json")
    ramp = json.loads(out)
    assert code == 1 and ramp["trigger"] == "accuracy_below_baseline_24h", ramp
    assert [s["outcome"] for s in ramp["steps"]] == ["advanced"] * 5 + ["rolled back"]
    assert ramp["window"][0].startswith("2027-01-18")  # the Monday of week 3, when the new prompt arrived
    code, _, err = cli("shadow", "cutover", streams["no-go"], "--start", "05/01/2027")
    assert code == 2 and "--start" in err
    code, _, err = cli("shadow", "cutover", streams["no-go"], "--start", "2026-12-01")
    assert code == 2 and "within the stream" in err


def test_a_short_outage_does_not_roll_back_and_completion_needs_a_week_at_full(tmp_path, cli, trained):
    """Half an hour down is not "unavailable for over 1 h" (timed on all of LLMOps's traffic, not only the
    documents it served); a stream that ends before a week at 100 % leaves the ramp incomplete, not completed;
    triggers without enough data are named, not passed."""
    scenario = tmp_path / "short.yaml"
    scenario.write_text("name: short\nseed: 4\nweeks: 3\ndocs_per_day: 120\nshadow: {accuracy: 0.998}\n"
                        "events:\n  - {kind: outage, day: 2, hours: 0.5, pipeline: llmops}\n")
    db = tmp_path / "s.db"
    assert cli("shadow", "simulate", "--scenario", scenario, "--out", db, "--no-progress")[0] == 0
    code, out, err = cli("shadow", "cutover", db, "--start", "2027-01-04", "--format", "json")
    ramp = json.loads(out)
    assert code == 0 and ramp["status"] == "completed", ramp
    assert "not measurable: " in ramp["steps"][1]["detail"]  # 10 % of 120 a day: too few for a 4-hour rate
    code, out, err = cli("shadow", "cutover", db, "--start", "2027-01-06", "--format", "json")
    ramp = json.loads(out)
    assert code == 0 and ramp["status"] == "incomplete" and ramp["steps"][-1]["outcome"] == "not reached"


def test_the_ramp_only_grows():
    """A document LLMOps serves at one step it serves at every later step (no flapping between pipelines)."""
    ids = [f"doc-{i:05d}" for i in range(4000)]
    shares = [s for _, s in RAMP]
    for lo, hi in zip(shares, shares[1:]):
        assert {d for d in ids if served(d, lo)} <= {d for d in ids if served(d, hi)}
    for s in shares:
        assert abs(sum(served(d, s) for d in ids) / len(ids) - s) < 0.03
    assert [d for d, _ in RAMP] == [1, 3, 7, 10, 14]  # section 6, Phase 3: days 1, 3, 7, 10, 14


def test_window_mean_needs_its_minimum_of_records():
    from harness.gates.rollback import evaluate_rollback

    trigger = {"id": "h", "kind": "window_mean", "field": "hallucination_rate", "op": ">", "value": 0.10,
               "hours": 4, "min_records": 20}
    def records(rates):
        return [{"_ts": datetime(2027, 1, 4, 10, m, tzinfo=timezone.utc), "hallucination_rate": v}
                for m, v in enumerate(rates)]

    one = records([1.0])
    assert not evaluate_rollback([trigger], one)[0].fired  # one hallucinated answer is not a 4-hour rate
    many = evaluate_rollback([trigger], records([float(m % 4 == 0) for m in range(30)]))[0]
    assert many.fired and "over 20 records" in many.detail  # fires as soon as 20 records make a rate: 5 of 20


def test_the_dashboard_page_in_a_browser(streams, cli, browser, tmp_path):
    from test_pages_browser import SHOTS, Watched

    page = tmp_path / "dashboard.html"
    code, out, err = cli("shadow", "dashboard", streams["rollback"], "--format", "html", "--out", page)
    assert code == 0, err
    w = Watched(browser, page)
    w.check_clean()
    for sid in ("trends", "periods", "detail", "decision", "cutover", "events"):
        assert w.page.locator(f"section#{sid}").count() == 1, sid
    plot = w.page.locator("#trends figure svg[role=img]")
    assert plot.count() == 1 and "Classification match" in plot.get_attribute("aria-label")
    assert w.page.locator("#periods tbody tr").count() == 8  # eight weeks
    assert "GO in 2027-W05" in w.page.locator("#decision").inner_text()
    ramp = w.page.locator("#cutover").inner_text()
    assert "Rolled back: pii_exposure" in ramp and ramp.count("advanced") == 2
    events = w.page.locator("#events").inner_text()
    assert "new template family" in events and "pii burst" in events
    w.page.locator("#periods th", has_text="Cost per doc").click()  # sortable
    assert w.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.page.screenshot(path=str(SHOTS / "shadow-dashboard.png"), full_page=True)
    w.page.close()


def test_the_real_llmops_pipeline_as_the_shadow(tmp_path, cli, aws_env, trained):
    """--shadow pipeline: the LLMOps pipeline itself (langchain-aws against the loopback Bedrock stand-in, the
    case study's guardrails on) writes the shadow's results: its answers, tokens, model version and the PII its
    guardrail blocked in a burst of PII-bearing documents (blocked: no exposure)."""
    from bedrock_standin import BedrockStandIn
    from test_grading import HAIKU, Responder

    from harness.golden import default_golden, load_golden_set

    labels = load_golden_set(default_golden()).manifest.labels
    scenario = tmp_path / "pii.yaml"
    scenario.write_text("name: pii\nseed: 5\nweeks: 1\ndocs_per_day: 3\n"
                        "events:\n  - {kind: pii_burst, day: 1, days: 7, share: 0.5}\n")
    db = tmp_path / "p.db"
    with BedrockStandIn(responder=Responder(labels)) as server:
        code, _, err = cli("shadow", "simulate", "--scenario", scenario, "--shadow", "pipeline", "--out", db,
                           "--no-progress", "--set", "llm.provider=bedrock", "--set", f"llm.model_id={HAIKU}",
                           "--set", f"llm.endpoint_url={server.url}", "--set", "embeddings.provider=bedrock",
                           "--set", f"cache.dir={tmp_path / 'cache'}", "--set", f"index_dir={tmp_path / 'index'}",
                           "--set", "guardrails.config=techcorp")
    assert code == 0, err
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT model_version, input_tokens, output_tokens, label IS NOT NULL, error, "
                         "guardrail_events, pii_exposed FROM results WHERE pipeline = 'llmops'").fetchall()
        meta = dict(c.execute("SELECT key, value FROM meta"))
    assert len(rows) == 21 and meta["shadow"] == "pipeline"
    answered = [r for r in rows if r[4] is None]
    blocked = [r for r in rows if r[4] is not None]
    assert answered and all(m.endswith(HAIKU) and i > 0 and o > 0 and has_label for m, i, o, has_label, *_ in answered)
    # the case study's configuration BLOCKs social security numbers: those documents never reach the model
    assert blocked and all(e == "blocked by input guardrail: document: pii" and not has_label and events > 0
                           for _, _, _, has_label, e, events, _ in blocked), blocked
    assert sum(r[6] for r in rows) == 0  # masked or blocked: no exposure
    code, out, err = cli("shadow", "dashboard", db, "--format", "json")
    week = json.loads(out)["rows"][0]
    assert week["llmops"]["n_classification"] == 21 and week["llmops"]["classification_match"] is not None
    assert week["llmops"]["guardrail_events"] >= len(blocked) and week["llmops"]["pii_exposures"] == 0
    assert week["llmops"]["error_rate"] == pytest.approx(len(blocked) / 21)  # a blocked document is an error


def test_guardrail_records_become_events():
    """A PII entity the guardrail only detected (action NONE) reached the model unmasked: an exposure."""
    from types import SimpleNamespace

    from harness.shadow.simulate import guardrail_events

    out = SimpleNamespace(meta={"guardrails": {"input": [
        {"action": "GUARDRAIL_INTERVENED", "blocked": False, "fired": ["pii", "injection"],
         "pii": [{"type": "EMAIL", "action": "ANONYMIZED"}, {"type": "US_SOCIAL_SECURITY_NUMBER", "action": "NONE"}]}],
        "output": []}})
    events = guardrail_events([out, SimpleNamespace(meta={})])
    assert [(e.policy, e.action, e.exposed) for e in events] == [
        ("pii:EMAIL", "anonymized", False), ("pii:US_SOCIAL_SECURITY_NUMBER", "none", True),
        ("injection", "intervened", False)]


def test_outage_price_and_latency_events(tmp_path, cli, trained):
    """The events the shipped scenarios do not use, each seen where it should be: an LLMOps outage (its error
    rate that day, and the unavailability trigger during a ramp), a price change (cost per doc from its week),
    a latency degradation (P95 on its day)."""
    scenario = tmp_path / "events.yaml"
    scenario.write_text("""name: events
seed: 3
start: 2027-01-04
weeks: 2
docs_per_day: 200
events:
  - {kind: outage, day: 2, hours: 3, pipeline: llmops}
  - {kind: price_change, week: 2, factor: 2.0}
  - {kind: latency_degradation, day: 9, days: 1, factor: 3.0, pipeline: llmops}
""")
    db = tmp_path / "e.db"
    code, _, err = cli("shadow", "simulate", "--scenario", scenario, "--out", db, "--no-progress")
    assert code == 0, err
    code, out, _ = cli("shadow", "dashboard", db, "--period", "day", "--format", "json")
    days = {r["period"]: r for r in json.loads(out)["rows"]}
    down = days["2027-01-05"]["llmops"]
    assert 0.2 < down["error_rate"] < 0.4 and down["n_processed"] == down["n"] - round(down["error_rate"] * down["n"])
    assert days["2027-01-05"]["mlops"]["error_rate"] == 0.0
    assert days["2027-01-12"]["llmops"]["latency_p95"] > 2.5 * days["2027-01-11"]["llmops"]["latency_p95"]
    code, out, _ = cli("shadow", "dashboard", db, "--format", "json")
    weeks = json.loads(out)["rows"]
    assert weeks[1]["llmops"]["cost_per_doc"] == pytest.approx(2 * weeks[0]["llmops"]["cost_per_doc"])
    assert weeks[1]["mlops"]["cost_per_doc"] == pytest.approx(weeks[0]["mlops"]["cost_per_doc"])
    code, out, _ = cli("shadow", "cutover", db, "--start", "2027-01-04", "--format", "json")
    ramp = json.loads(out)
    assert code == 1 and ramp["trigger"] == "unavailable_over_1h", ramp
    assert ramp["steps"][-1]["day"] == 3  # checked before the 25 % step
    assert "2027-01-05T09:00" <= ramp["window"][0] < ramp["window"][1] <= "2027-01-05T14"  # the outage 09-12, to the next served
    with sqlite3.connect(db) as c:
        assert [k for (k,) in c.execute("SELECT kind FROM events ORDER BY ts")] == \
            ["outage", "price_change", "latency_degradation"]
