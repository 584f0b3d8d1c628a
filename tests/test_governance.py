"""Maturity from evidence and chained governance records (issue 31; case study sections 3 and 4).

One results directory is built with the evidence of each level: five dated LLMOps runs (a scripted system whose
classify calls go through the real Bedrock client and call cache to the loopback stand-in) with two prompt
versions, a falling hallucination rate and a falling cost per document, a guardrail evaluation, the cost
sections the scoring writes, an MLOps run (gated), a shadow database simulated from
the shipped clean-go scenario, and an audit record of every LLMOps run. ``harness maturity`` must read Level 2
for LLMOps and Level 1 for MLOps, each entry with its evidence; an empty directory reads Level 0 with "no
evidence" everywhere; ``harness audit --verify`` passes untouched and names the record after a one-byte change.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from pathlib import Path

import pytest
import yaml

pytest.importorskip("langchain_aws")

from bedrock_standin import BedrockStandIn, user_text  # noqa: E402
from conftest import ROOT, TECHCORP  # noqa: E402
from harness.predictor import Output, Predictor, TokenUsage  # noqa: E402

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
GUARDRAIL = ROOT / "harness" / "guardrails" / "techcorp.json"
# (date, classify prompt version, answers that invent a fact out of 4, document characters sent to the model)
RUNS = [("2026-11-02", 1, 4, 1000), ("2026-11-09", 1, 3, 800), ("2026-11-16", 2, 2, 600),
        ("2026-11-23", 2, 1, 400), ("2026-11-30", 2, 0, 200)]

AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}


def _labels():
    from harness.golden import load_golden_set

    g = load_golden_set(TECHCORP)
    docs = g.items("test", kinds=("document",))
    return sorted({d.label for d in docs}), {d.text: d.label for d in docs}


class Responder:
    """The stand-in's model: the gold label of the document it is shown; with the version 1 prompt, a wrong one
    for about half of the documents (deterministic: a CRC of the text), so version 2 measurably improves."""

    def __init__(self):
        self.labels, self.by_text = _labels()

    def __call__(self, model_id, body):
        text = user_text(body)
        label = next((lab for t, lab in self.by_text.items() if t.startswith(text)), self.labels[0])
        system = "".join(p.get("text", "") for p in body.get("system", []))
        if "version 1" in system and zlib.crc32(text.encode()) % 2:
            label = next(x for x in self.labels if x != label)
        return json.dumps({"label": label})


class Scripted(Predictor):
    """A scripted LLMOps system: classify through the real cached Bedrock client (the prompt version's system
    message, the first ``chars`` characters of the document), answers that invent a fact for the first
    ``invent`` questions, the case study's guardrail named in its description."""

    name = "llmops"
    capabilities = frozenset({"classify", "answer"})

    def __init__(self, url, cache, prompt, chars, invent):
        from harness.models import build_llm, client_config

        self.url, self.cache, self.prompt, self.chars, self.invent = url, cache, prompt, chars, invent
        self.llm = build_llm("bedrock", model_id=HAIKU, model_path=None, region="us-east-1", endpoint_url=url,
                             temperature=0.0, max_tokens=16, n_ctx=2048, n_threads=None, seed=None,
                             botocore_config=client_config(0, 10, 1), cache_dir=str(cache), cache_enabled=True,
                             cache_params={"temperature": 0.0, "seed": None}, progress=lambda _: None)
        self.seen = 0

    def config(self):
        return {"llm": {"provider": "bedrock", "model_id": HAIKU, "endpoint_url": self.url, "region": "us-east-1",
                        "temperature": 0.0, "max_retries": 0, "timeout_s": 10},
                "cache": {"dir": str(self.cache), "enabled": True}, "prompts": {"classify": self.prompt["ref"]},
                "document_chars": self.chars}

    def describe(self):
        return {"llm": {"provider": "bedrock", "model_id": HAIKU},
                "prompts": {"classify": {k: self.prompt[k] for k in ("ref", "sha256", "path")}},
                "guardrails": {"config": str(GUARDRAIL), "name": "TechCorp", "provider": "offline"}}

    def predict(self, items, task, upstream=None):
        outs = []
        for it in items:
            if task == "classify":
                r = self.llm.complete(self.prompt["system"], it.text[:self.chars], None, 16)
                outs.append(Output(value=json.loads(r.text)["label"], usage=TokenUsage(r.input_tokens, r.output_tokens)))
            else:
                self.seen += 1
                answer = ("The total is 987,654.32 ZWL, approved by Bartholomew Quince on 31 February 1999."
                          if self.seen <= self.invent else " ".join(it.reference_contexts[:1]))  # copied
                outs.append(Output(value=answer, contexts=tuple(it.reference_contexts or ())))
        return outs


def _prompt(folder: Path, version: int) -> dict:
    from harness.records import prompt_sha256

    system = f"You classify business documents (prompt version {version}). Reply as JSON."
    user = "$text"
    path = folder / f"classify-v{version}.yaml"
    path.write_text(yaml.safe_dump({"id": "classify", "version": version, "system": system, "user": user}))
    return {"ref": f"classify@{version}", "sha256": prompt_sha256("classify", version, system, user),
            "path": str(path), "system": system}


@pytest.fixture(scope="module")
def evidence(tmp_path_factory, mlops_artifacts):
    """The results directory with the evidence of each level (see the module docstring); the stand-in stays up
    for the module, so recorded calls can be made again."""
    from harness.cli import main
    from harness.golden import load_golden_set
    from harness.runner import run
    from harness.store import RunStore

    root = tmp_path_factory.mktemp("governance")
    (root / "artifacts").symlink_to(mlops_artifacts, target_is_directory=True)
    prompts = root / "prompts"
    prompts.mkdir()
    versions = {v: _prompt(prompts, v) for v in (1, 2)}
    golden = load_golden_set(TECHCORP)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with BedrockStandIn(responder=Responder()) as server, pytest.MonkeyPatch.context() as env:
            for k, v in AWS.items():  # dummy SigV4 keys for the module (conftest's aws_env is per test)
                env.setenv(k, v)
            env.delenv("AWS_PROFILE", raising=False)
            for day, version, invent, chars in RUNS:
                pred = Scripted(server.url, root / "cache", versions[version], chars, invent)
                conf = pred.config()
                run(pred, golden, "test", root / "results" / f"llmops-{day}", config=conf,
                    config_hash=hashlib.sha256(json.dumps(conf, sort_keys=True).encode()).hexdigest(),
                    per_class=1, qa_limit=4, progress=False, extra={"evaluated_on": day})
            latest = root / "results" / f"llmops-{RUNS[-1][0]}"
            # what `harness guardrails eval --run` writes (its shape), without the local extra's MiniLM topics
            RunStore(latest).write_metrics({"guardrails": {"evaluation": {
                "config": str(GUARDRAIL), "items": "golden_sets/redteam/redteam.jsonl", "split": "test", "n_items": 120,
                "critical": ["pii", "injection"],
                "policies": {"pii": {"status": "evaluated", "catch_rate": 0.97, "false_positive_rate": 0.02},
                             "injection": {"status": "evaluated", "catch_rate": 0.93, "false_positive_rate": 0.03},
                             "topic:Legal Advice": {"status": "evaluated", "catch_rate": 0.91,
                                                    "false_positive_rate": 0.05}},
                "missed_critical": []}, "critical_failures": 0}})
            assert main(["run", "--pipeline", "mlops", "--split", "test", "--per-class", "1", "--out",
                         "results/mlops-test", "--eval-date", "2026-11-02", "--no-progress"]) == 0
            main(["gates", "results/mlops-test"])  # writes gates.json (exit 1: no ratings file)
            assert main(["shadow", "simulate", "--scenario", "clean-go", "--weeks", "3", "--docs-per-day", "4",
                         "--out", "shadow.db", "--no-progress"]) == 0
            for day, *_ in RUNS:
                assert main(["audit", f"results/llmops-{day}", "--out", f"audit-{day}.md"]) == 0
            yield root, server
    finally:
        os.chdir(cwd)


def _assess(cli, root, *extra):
    code, out, err = cli("maturity", root / "results", "--format", "json", *extra)
    assert code == 0, err
    data = json.loads(out)
    return data, {e["id"]: e for e in data["entries"]}, {s["side"]: s for s in data["sides"]}


def test_each_level_from_its_evidence(evidence, cli):
    root, _ = evidence
    data, entries, sides = _assess(cli, root, "--shadow", root / "shadow.db")
    assert sides["llmops"]["level"] == 2, sides
    assert sides["mlops"]["level"] == 1  # the case study's own conclusion for TechCorp; auto-retraining has no evidence
    assert sides["mlops"]["next_level"] == 2
    assert any(m.startswith("auto_retraining (no evidence)") for m in sides["mlops"]["missing"])
    for name in ("prompt_rollback", "token_usage", "reproduce", "guardrails_catch", "prompt_ab_test",
                 "hallucination_trend", "cost_trend", "explain_to_auditors", "basic_guardrails", "human_in_the_loop",
                 "cost_monitoring", "pipeline_automation", "monitoring", "ci_cd"):
        assert entries[name]["status"] == "met", (name, entries[name])
    for name in ("rag_index_updates", "continuous_rag", "adaptive_guardrails", "auto_retraining"):
        assert entries[name]["status"] == "no evidence"
    assert entries["formal_audit"]["status"] == "not met"  # no audit record of the MLOps runs
    # the evidence is named: runs, versions, comparison, figures
    rollback = entries["prompt_rollback"]
    assert "classify: classify@1 (llmops-2026-11-09, 2026-11-09) -> classify@2 (llmops-2026-11-16" in rollback["evidence"]
    assert "still at" in rollback["evidence"]
    ab = entries["prompt_ab_test"]
    assert "classification.accuracy" in ab["evidence"] and "95% CI" in ab["evidence"]
    comp = ab["figures"]["comparisons"][0]
    assert comp["difference"] > 0 and comp["ci"][0] > 0 and comp["n"] == 12
    hal = entries["hallucination_trend"]
    runs_trend = next(t for t in hal["figures"]["trends"] if t["source"] == "dated runs")
    assert runs_trend["slope"] == pytest.approx(-0.25) and runs_trend["high"] < 0  # 4/4 .. 0/4 answers, a week apart
    assert list(runs_trend["labels"]) == [f"llmops-{d}" for d, *_ in RUNS]
    assert any(t["source"].startswith("shadow weeks") for t in hal["figures"]["trends"])
    cost = next(t for t in entries["cost_trend"]["figures"]["trends"] if t["source"] == "dated runs")
    assert cost["slope"] < 0 and cost["high"] < 0
    rep = entries["reproduce"]
    assert rep["figures"] == {"sampled": 2, "same": 2, "different": 0, "failed": 0}
    assert entries["guardrails_catch"]["evidence"].startswith(f"llmops-{RUNS[-1][0]}: red-team catch rates")
    assert entries["monitoring"]["evidence"].startswith("3 monitored week(s) of mlops in the shadow database")
    assert entries["explain_to_auditors"]["figures"] == {} and "5 chained audit record(s) verify" in \
        entries["explain_to_auditors"]["evidence"]


def test_what_breaks_an_indicator_is_named(evidence, cli, tmp_path):
    """Reproduction turned off, and no shadow database: the entries that lose their evidence say why, and the
    levels fall with them."""
    root, _ = evidence
    data, entries, sides = _assess(cli, root, "--reproduce", "0")
    assert entries["reproduce"]["status"] == "no evidence" and "--reproduce 0" in entries["reproduce"]["evidence"]
    assert sides["llmops"]["level"] == 0
    assert sides["llmops"]["missing"] == ["reproduce (no evidence): Can reproduce any past interaction"]
    # without the shadow database, one MLOps run on the test split shows no drift monitoring
    assert entries["monitoring"]["status"] == "not met" and "no run on a drift split" in entries["monitoring"]["evidence"]
    assert sides["mlops"]["level"] == 0


def test_an_empty_directory_is_level_0_with_no_evidence_anywhere(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    code, out, err = cli("maturity", tmp_path / "empty", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert {e["status"] for e in data["entries"]} == {"no evidence"}
    assert [(s["side"], s["level"]) for s in data["sides"]] == [("llmops", 0), ("mlops", 0)]
    code, out, err = cli("maturity", tmp_path / "empty")
    assert "llmops: Level 0 (Manual/Ad-hoc)" in out and " met " not in out


def test_the_audit_record_checks_section_4_against_the_run(evidence):
    root, _ = evidence
    from harness.governance.audit import read_chain

    chain = read_chain(root / "results" / "audit" / "llmops.jsonl")
    assert [r["seq"] for r in chain] == [1, 2, 3, 4, 5]
    assert [r["previous"] for r in chain[1:]] == [r["hash"] for r in chain[:-1]] and chain[0]["previous"] is None
    rec = chain[2]
    assert rec["run"]["id"] == "llmops-2026-11-16" and rec["what_ran"]["prompts"]["classify"]["ref"] == "classify@2"
    conds = {c["id"]: c for c in rec["risk"]["conditions"]}
    assert conds["legal_advice"]["holds"] is False and "'Legal Advice'" in conds["legal_advice"]["evidence"]
    assert conds["no_human_review"]["holds"] is False and conds["contract_decisions"]["holds"] is False
    assert rec["risk"]["class"] == "limited risk"
    from datetime import date, timedelta

    ended = date.fromisoformat(rec["run"]["ended_at"][:10])  # Art. 19: at least six months after the use
    assert rec["retention_until"] == (ended + timedelta(days=183)).isoformat() and rec["what_ran"]["golden"]["sha256"]
    roles = {f["role"] for f in rec["files"]}
    assert {"run.json", "metrics.json", "predictions.jsonl", "governance", "criteria", "guardrail configuration",
            "golden set manifest"} <= roles
    assert any(m["metric"] == "classification.accuracy" and m["ci_low"] is not None for m in rec["metrics"])
    assert "# Governance record 5: llmops-2026-11-30 (llmops)" in (root / "audit-2026-11-30.md").read_text()


def test_verify_passes_untouched_and_names_the_record_after_a_one_byte_change(evidence, cli, tmp_path):
    import shutil

    root, _ = evidence
    code, out, err = cli("audit", "--verify", root / "results")
    assert code == 0 and "audit chain verifies: 5 record(s)" in out, out + err
    copy = tmp_path / "results"
    shutil.copytree(root / "results", copy)
    # the chain cites files inside the results directory by relative path: a copy verifies as well
    assert cli("audit", "--verify", copy)[0] == 0
    metrics = copy / "llmops-2026-11-16" / "metrics.json"
    data = bytearray(metrics.read_bytes())
    data[data.index(b"{") + 1:data.index(b"{") + 2] = b" " if data[1:2] != b" " else b"\n"
    metrics.write_bytes(bytes(data))
    code, out, err = cli("audit", "--verify", copy)
    assert code == 1
    assert "audit/llmops.jsonl:3: record 3 (run llmops-2026-11-16): cited file llmops-2026-11-16/metrics.json changed" in out
    chain = copy / "audit" / "llmops.jsonl"  # a line cut short is a broken chain too, named, not bad input
    lines = chain.read_bytes().splitlines(keepends=True)
    chain.write_bytes(lines[0] + lines[1][:40] + b"\n" + b"".join(lines[2:]))
    code, out, err = cli("audit", "--verify", copy)
    assert code == 1 and "audit/llmops.jsonl:2: not a record (broken JSON" in out, out + err


def test_audit_without_a_run_or_with_both_is_one_line(cli, tmp_path):
    code, out, err = cli("audit")
    assert code == 2 and err.startswith("error: ") and "--verify" in err


def test_the_report_page_has_a_governance_part_only_where_records_exist(evidence, cli, tmp_path):
    import shutil

    root, _ = evidence
    page = tmp_path / "report.html"
    code, out, err = cli("report", root / "results" / "llmops-2026-11-30", "--format", "html", "--out", page)
    assert code == 0, err
    text = page.read_text()
    assert '<section id="governance">' in text and "verifies" in text and "limited risk" in text
    assert "Level 0 (Manual/Ad-hoc)" in text and "reproduce (no evidence)" in text  # no recorded call made here
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copytree(root / "results" / "llmops-2026-11-30", alone / "llmops-2026-11-30")
    code, out, err = cli("report", alone / "llmops-2026-11-30", "--format", "html", "--out", tmp_path / "r2.html")
    assert code == 0, err
    assert '<section id="governance">' not in (tmp_path / "r2.html").read_text()


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """A run scored from predictions on the tiny golden set (no model): what a fuzzed governance file audits."""
    from conftest import tiny_docs, write_golden
    from harness.cli import main

    root = tmp_path_factory.mktemp("fuzzgov")
    golden = write_golden(root / "tiny")
    preds = [{"id": d["id"], "label": d["label"], "fields": d["fields"]} for d in tiny_docs() if d["split"] == "test"]
    (root / "p.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    assert main(["score", "--golden", str(golden), "--split", "test", "--predictions", str(root / "p.jsonl"),
                 "--out", str(root / "runs" / "mlops")]) == 0
    return root


def test_fuzz_maturity_and_governance_files(scored):
    """The input contract on both new files (tests/test_fuzz_inputs.py's harness): exit 0, 1 or 2 with one line,
    never a traceback, nothing written outside the directory given."""
    import tempfile

    from hypothesis import given, settings
    from hypothesis import strategies as st
    from test_fuzz_inputs import FUZZ, RAW, check_contract, mutated

    maturity = yaml.safe_load((ROOT / "harness" / "governance" / "maturity.yaml").read_text())
    governance = yaml.safe_load((ROOT / "harness" / "governance" / "governance.yaml").read_text())
    governance["systems"]["external"] = governance["systems"]["mlops"]  # `harness score` records 'external'
    (scored / "empty").mkdir(exist_ok=True)

    @settings(FUZZ, max_examples=10)  # two files a case: the suite's time budget
    @given(data=st.data())
    def case(data):
        work = Path(tempfile.mkdtemp(dir=scored))
        for name, doc, argv in (("maturity.yaml", maturity, ["maturity", scored / "empty", "--maturity"]),
                                ("governance.yaml", governance, ["audit", scored / "runs" / "mlops", "--out",
                                                                 work / "a.md", "--governance"])):
            path = work / name
            if data.draw(st.booleans()):
                path.write_bytes(data.draw(RAW))
            else:
                path.write_text(yaml.safe_dump(data.draw(mutated(doc))))
            check_contract([*argv, path], [work, scored / "runs"], [scored])

    case()


def test_a_recorded_call_that_no_longer_reproduces_is_not_met(evidence, cli, tmp_path):
    """The same sample of recorded calls, their stored replies edited: the reproduction names them, not met."""
    import shutil

    root, _ = evidence
    results, cache = tmp_path / "results", tmp_path / "cache"
    shutil.copytree(root / "results", results)
    shutil.copytree(root / "cache", cache)
    for run_json in results.glob("llmops-*/run.json"):
        data = json.loads(run_json.read_text())
        data["predictor"]["config"]["cache"]["dir"] = str(cache)
        run_json.write_text(json.dumps(data))
    for entry in sorted(cache.glob("??/*.json"))[:2]:
        data = json.loads(entry.read_text())
        data["text"] = data["text"].replace('"label"', '"label" ')
        entry.write_text(json.dumps(data))
    code, out, err = cli("maturity", results, "--format", "json", "--reproduce", "2")
    assert code == 0, err
    rep = next(e for e in json.loads(out)["entries"] if e["id"] == "reproduce")
    assert rep["status"] == "not met" and rep["figures"]["different"] == 2
    assert sorted(cache.glob("??/*.json"))[0].stem[:12] in rep["evidence"]


def test_the_maturity_and_audit_pages_in_a_browser(evidence, cli, browser, tmp_path):
    """Both pages open clean (no console error, no request, no table wider than the page); screenshots for a
    person to look at."""
    from test_pages_browser import SHOTS, Watched

    import shutil

    root, _ = evidence
    shutil.copytree(root / "results", tmp_path / "results")  # an audit appends a record: not to the shared chain
    pages = {"maturity": tmp_path / "maturity.html", "audit": tmp_path / "audit.html"}
    assert cli("maturity", root / "results", "--reproduce", "0", "--shadow", root / "shadow.db", "--format", "html",
               "--out", pages["maturity"])[0] == 0
    assert cli("audit", tmp_path / "results" / "llmops-2026-11-30", "--format", "html", "--out", pages["audit"])[0] == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, page in pages.items():
        w = Watched(browser, page)
        w.check_clean()
        assert w.page.locator("section").count() >= 2
        w.page.screenshot(path=str(SHOTS / f"governance-{name}.png"), full_page=True)
        w.page.close()


def test_a_run_without_a_guardrail_is_possibly_high_risk(evidence, cli, tmp_path):
    """Section 4's conditions cannot be ruled out without a guardrail: possibly high risk, with the high-risk
    requirements, and the oversight rules say no answer was flagged."""
    import shutil

    root, _ = evidence
    run = tmp_path / "results" / "llmops-2026-11-30"
    shutil.copytree(root / "results" / "llmops-2026-11-30", run)
    data = json.loads((run / "run.json").read_text())
    del data["predictor"]["guardrails"]
    (run / "run.json").write_text(json.dumps(data))
    log = tmp_path / "incidents.yaml"
    log.write_text("incidents:\n  - {type: data_exposure, severity: critical, date: 2026-11-30}\n")
    code, out, err = cli("audit", run, "--format", "json", "--incidents", log)
    assert code == 0, err
    rec = json.loads(out)
    assert rec["incidents"] == [{"type": "data_exposure", "severity": "critical", "date": "2026-11-30"}]
    assert any(f["role"] == "incident log" for f in rec["files"])
    assert rec["risk"]["class"] == "possibly high risk" and rec["seq"] == 1 and rec["previous"] is None
    assert rec["risk"]["reason"] == ("not ruled out: Provides legal or compliance advice; Outputs directly influence "
                                     "business decisions without human review")
    assert "Human oversight" in rec["risk"]["requirements"] and "Record-keeping" in rec["risk"]["requirements"]
    assert rec["human_oversight"][-1].endswith("no guardrail, so no answer was flagged for human review")
