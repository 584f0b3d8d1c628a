"""A first run a newcomer trusts (issue 26): progress off a terminal, subset options that shrink only what they
name, figures that explain themselves, one word for each status."""

from __future__ import annotations

import io
import re
import time

import pytest

from conftest import write_golden, tiny_docs


# ---------------------------------------------------------------------------------------------- progress
def test_progress_off_a_terminal_prints_lines_at_a_steady_pace_even_while_one_item_is_slow():
    """Item 1: not a terminal (CI log, make, a pipe): a line at the start, one every interval while the work
    runs (a single slow item included), one at the end; each says what runs, n of N, elapsed, what is left."""
    from harness.progress import progress

    out = io.StringIO()
    with progress(3, "llmops:test", "item", stream=out, interval=0.1) as p:
        p.update(1)
        time.sleep(0.55)  # one slow item: the lines go on
        p.update(2)
    lines = out.getvalue().splitlines()
    assert lines[0] == "llmops:test: 0/3 items, starting"
    beats = [ln for ln in lines if "elapsed" in ln]
    assert len(beats) >= 3  # every 0.1 s through the slow item
    assert re.fullmatch(r"llmops:test: 1/3 items \(33%\), \d+ s elapsed, about \d+ s left", beats[0])
    assert re.fullmatch(r"llmops:test: 3/3 items done in \d+ s", lines[-1])


def test_progress_is_silent_when_turned_off_and_a_bar_on_a_terminal():
    from harness.progress import progress

    out = io.StringIO()
    with progress(2, "x", enabled=False, stream=out, interval=0.01) as p:
        p.update(2)
    assert out.getvalue() == ""

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    with progress(2, "scoring", stream=tty) as p:
        p.update(2)
    assert "scoring: 100%" in tty.getvalue() and "starting" not in tty.getvalue()  # tqdm's bar, not lines


def test_a_run_off_a_terminal_shows_progress_lines(tiny_golden, tmp_path, monkeypatch, capsys):
    """The runner's progress, not a terminal (pytest captures stderr): lines, not nothing."""
    from harness.golden import load_golden_set
    from harness.runner import execute
    from keyword_predictor import KeywordPredictor

    execute(KeywordPredictor(), load_golden_set(tiny_golden), "test", tmp_path / "r", config={}, config_hash="k")
    err = capsys.readouterr().err
    assert re.search(r"^keyword:test: 0/\d+ items, starting$", err, re.M)
    assert re.search(r"^keyword:test: (\d+)/\1 items done in \d+ s$", err, re.M)


# ---------------------------------------------------------------------------------------------- subset
def test_each_subset_option_shrinks_only_what_it_names(tiny_golden):
    """Item 2: --subset-limit cuts documents only; --subset-qa alone sets the QA items."""
    from harness.golden import load_golden_set
    from harness.selection import select_items

    items = load_golden_set(tiny_golden).items("test")
    chosen = select_items(items, per_class=1, doc_limit=2, qa_limit=1)
    assert [it.kind for it in chosen].count("document") == 2 and [it.kind for it in chosen].count("qa") == 1


def test_the_demo_plan_counts_what_the_subset_runs(tiny_golden):
    """Item 1: the demo says what it will do and how long, from a measurement of this machine."""
    from harness.cli.run import DEMO_REFERENCE, demo_plan
    from harness.golden import load_golden_set

    golden = load_golden_set(tiny_golden)
    lines = demo_plan(golden, {"per_class": 1, "qa_limit": 1, "doc_limit": 2}, False,
                      probe_s=DEMO_REFERENCE["probe_s"] * 2)
    text = "\n".join(lines)
    assert "on the subset (2 documents)" in text
    assert "on the same subset: 2 documents and 1 questions" in text
    assert "measured 2.0x the reference" in text and re.search(r"estimate here: about \d+ (s|min)", text)
    slower = demo_plan(golden, {"per_class": 1, "qa_limit": 1}, False, probe_s=DEMO_REFERENCE["probe_s"] * 4)
    minutes = [re.search(r"about ([\d a-z]+) from", t).group(1) for t in (text, "\n".join(slower))]
    assert minutes[0] != minutes[1]  # a slower machine, a longer estimate


# ---------------------------------------------------------------------------------------------- figures
def test_macro_f1_of_a_subset_counts_only_the_classes_it_holds():
    """Item 10: three classes of twelve, all right: macro F1 100 %, not 25 %; its interval agrees."""
    from metrics.classification import classification_scores
    from metrics.statistics import classification_bootstrap

    labels = [f"c{i}" for i in range(12)]
    y = ["c0", "c1", "c2"]
    assert classification_scores(y, y, labels=labels).macro_f1 == 1.0
    ci = classification_bootstrap(y, y, labels, n_resamples=200)["macro_f1"]
    assert (ci.estimate, ci.low, ci.high) == (1.0, 1.0, 1.0)
    wrong = ["c0", "c1", "c5"]  # c5 predicted but never gold: counted (F1 0), c2 missed
    r = classification_scores(y, wrong, labels=labels)
    assert r.macro_f1 == pytest.approx((1 + 1 + 0 + 0) / 4)
    assert classification_bootstrap(y, wrong, labels, n_resamples=50)["macro_f1"].estimate == pytest.approx(0.5)


def test_metrics_match_takes_a_plain_word(cli):
    """Item 10: `metrics --match extraction` lists the extraction metrics; a pattern matching nothing says so."""
    code, out, _ = cli("metrics", "--match", "extraction")
    assert code == 0 and "extraction.accuracy" in out and "classification.accuracy" not in out
    code, _, err = cli("metrics", "--match", "no-such-metric")
    assert code == 2 and "no metric matches 'no-such-metric'" in err


def test_the_report_page_names_the_llm():
    """Item 7: an LLMOps run names its model (provider/model id), not '-'."""
    from harness.records import model_label

    assert model_label({"predictor": {"name": "llmops", "llm": {"provider": "local",
                                                                "model_id": "SmolLM2-135M-Instruct"}}}) \
        == "local/SmolLM2-135M-Instruct"
    assert model_label({"predictor": {"name": "x"}}) == "-"


# ---------------------------------------------------------------------------------------------- one status word
def test_the_gates_status_is_the_status_everywhere(tiny_golden, tmp_path, cli):
    """Item 5: a run that `harness gates` fails (exit 1: criteria not measurable) reads "fail" on the leaderboard
    in every format, never a green "pass (2 not measurable)"."""
    import json

    from test_gates import make_run

    run = make_run(tiny_golden, tmp_path / "results" / "kw")
    code, out, _ = cli("gates", run)
    assert code == 1
    status = json.loads((run / "gates.json").read_text())["status"]
    assert status.startswith("fail (") and "not measurable: " in status and "cost_per_document" in status
    assert f"gates for kw: {status}" in out
    for fmt in ("md", "csv", "html"):
        code, out, _ = cli("leaderboard", tmp_path / "results", "--format", fmt)
        assert code == 0 and "pass (" not in out, fmt
        assert status in out.replace("&#39;", "'"), fmt
    code, out, _ = cli("leaderboard", tmp_path / "results", "--format", "html")
    assert 'class="status status-fail"' in out


def test_go_no_go_lines_say_the_observation_and_the_condition_apart(tiny_golden, tmp_path, cli):
    """Item 6: 'observed; needs <condition> (its reference); met / not met', never 'x < y' that reads false."""
    from test_gates import make_run

    run = make_run(tiny_golden, tmp_path / "r")
    base = make_run(tiny_golden, tmp_path / "b", fail_ids={"d012"})
    _, out, _ = cli("gates", run, "--baseline", base)
    line = next(ln for ln in out.splitlines() if "p95_below_2x_baseline" in ln)
    assert re.search(r"latency\.document\.p95 [\d.]+ ms; needs < [\d.]+ ms \(2 x b's [\d.]+ ms\); (met|not met)$",
                     line), line
    line = next(ln for ln in out.splitlines() if "accuracy_below_baseline" in ln)
    assert line.endswith("classification.accuracy 100.0%; NO-GO when < 83.3% (b's 83.3%); does not hold"), line


def test_a_mistyped_leaderboard_split_names_the_splits_there(tiny_golden, tmp_path, cli):
    """Item 10: not "no run directories found"."""
    from test_gates import make_run

    make_run(tiny_golden, tmp_path / "results" / "kw")
    code, _, err = cli("leaderboard", tmp_path / "results", "--split", "tset")
    assert code == 2 and "--split: no run of" in err and "has 'tset' (there: test)" in err


def test_the_default_prompts_hold_no_reply_placeholder():
    """Item 9: the embedded model copied '<short answer>' literally; no default prompt shows a placeholder for
    the model to fill (the reply format is said in words; the output grammar enforces the JSON)."""
    from harness.pipelines import config_model, prompt_registry

    cfg = config_model("llmops")()
    registry = prompt_registry().load_registry(prompt_registry().DEFAULT_DIR)
    for task in ("classify", "extract", "answer", "summarize"):
        template = registry[getattr(cfg.prompts, task)]
        if task in ("answer", "summarize"):  # the tasks whose reply is free text
            assert not re.search(r"<[a-z ]+>", template.system + template.user), template.ref
    assert cfg.prompts.answer == "answer@2" and cfg.prompts.summarize == "summarize@2"
