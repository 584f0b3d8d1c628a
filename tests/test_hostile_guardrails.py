"""Hostile guardrail files (issue 25, items 3, 4, 5 and 10): a configured regular expression cannot hang a check
(RE2, or Python's engine under a time budget that fails closed), Bedrock's limits hold at load, a large but legal
word list is quick and a word check has a bound, a bad pattern or word is one ``error:`` line with exit 2, and
red-team files and JSON files refuse what would be silently misread."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.errors import HarnessInputError
from harness.guardrails.config import load_guardrail_config
from harness.guardrails.engine import OfflineGuardrail
from harness.guardrails.evaluate import read_items

ROOT = Path(__file__).resolve().parents[1]
LIGHT = {"promptInjection": {"enabled": False}, "hallucinationCheck": {"enabled": False}}  # no model is loaded


def _config(tmp_path, regexes=(), words=(), name="hostile") -> Path:
    path = tmp_path / "guardrail.json"
    data = {"name": name, "harnessPolicies": LIGHT}
    if regexes:
        data["sensitiveInformationPolicyConfig"] = {"regexesConfig": list(regexes)}
    if words:
        data["wordPolicyConfig"] = {"wordsConfig": [{"text": w} for w in words]}
    path.write_text(json.dumps(data))
    return path


def _engine(path) -> OfflineGuardrail:
    return OfflineGuardrail(load_guardrail_config(path), calibration={})


def _within(seconds, fn):
    """``fn()``, or a failure when it runs past ``seconds`` (the old engine ran past 60 s on these)."""
    def alarm(*_):
        raise TimeoutError(f"still running after {seconds} s")

    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        return fn()
    finally:
        signal.alarm(0)


def _one_error(code, err, *needles):
    lines = [x for x in err.splitlines() if x.startswith("error:")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# ---------------------------------------------------------------------------------------------- item 3: regexes
def test_catastrophic_pattern_runs_in_linear_time_on_re2(tmp_path, cli):
    path = _config(tmp_path, [{"name": "as", "pattern": "(a+)+$", "action": "BLOCK"}])
    engine = _engine(path)
    t0 = time.perf_counter()
    a = _within(20, lambda: engine.apply("a" * 40 + "!", "INPUT"))
    assert not a.blocked and time.perf_counter() - t0 < 2
    assert _within(20, lambda: engine.apply("a" * 5000 + "!", "INPUT")).blocked is False
    assert engine.apply("aaaa", "INPUT").blocked and "regex:as" in engine.apply("aaaa", "INPUT").fired()
    code, out, err = cli("guardrails", "check", "a" * 40 + "!", "--config", path)
    assert code == 0 and json.loads(out)["action"] == "NONE" and not err


def test_pattern_only_python_reads_is_said_at_load_and_fails_closed_past_its_budget(tmp_path, cli):
    pattern = "(?<=x)(a|aa)+$"  # look-behind: RE2 lacks it; exponential on Python's engine
    path = _config(tmp_path, [{"name": "after-x", "pattern": pattern, "action": "ANONYMIZE"}])
    cfg = load_guardrail_config(path)
    notes = [n for n in cfg.notes if "after-x" in n]
    assert len(notes) == 1 and pattern in notes[0] and "RE2" in notes[0] and "budget" in notes[0]
    engine = _engine(path)
    assert engine.apply("xaa", "INPUT").text == "x{after-x}"  # the pattern works within its budget
    t0 = time.perf_counter()
    a = _within(20, lambda: engine.apply("x" + "a" * 60 + "!", "INPUT"))
    assert time.perf_counter() - t0 < 5
    assert a.blocked and "regex:after-x" in a.fired()  # fails closed: ANONYMIZE cannot mask what it never found
    assert any(pattern in w and "fails closed" in w for w in a.warnings), a.warnings
    code, out, err = cli("guardrails", "check", "x" + "a" * 60 + "!", "--config", path)
    assert code == 1 and json.loads(out)["action"] == "GUARDRAIL_INTERVENED"
    said = [x for x in err.splitlines() if x.strip()]
    assert len(said) == 1 and pattern in said[0] and said[0].startswith("note:"), err


@pytest.mark.parametrize("entry, field, needle", [
    ({"name": "r", "pattern": "x" * 501, "action": "BLOCK"}, "regexesConfig[0].pattern", "500"),
    ({"name": "n" * 101, "pattern": "x", "action": "BLOCK"}, "regexesConfig[0].name", "100"),
    ({"name": "r", "pattern": "", "action": "BLOCK"}, "regexesConfig[0].pattern", "1"),
    ({"name": "r", "pattern": "x", "action": "BLOCK", "description": "d" * 1001}, "regexesConfig[0].description",
     "1000"),
])
def test_bedrock_regex_limits_hold_at_load(tmp_path, cli, entry, field, needle):
    path = _config(tmp_path, [entry])
    code, _, err = cli("guardrails", "check", "hello", "--config", path)
    _one_error(code, err, str(path), field, needle)


def test_bedrock_count_limits_hold_at_load(tmp_path, cli):
    path = _config(tmp_path, [{"name": f"r{i}", "pattern": "x", "action": "BLOCK"} for i in range(11)])
    code, _, err = cli("guardrails", "check", "hello", "--config", path)
    _one_error(code, err, "regexesConfig", "11 regexes", "at most 10")
    path = _config(tmp_path, words=[f"w{i}" for i in range(100_000)])
    t0 = time.perf_counter()
    code, _, err = cli("guardrails", "check", "hello", "--config", path)
    _one_error(code, err, "wordsConfig", "100,000 words", "at most 10,000")
    assert time.perf_counter() - t0 < 10
    path = _config(tmp_path, words=["w" * 101])
    code, _, err = cli("guardrails", "check", "hello", "--config", path)
    _one_error(code, err, "wordsConfig[0].text", "100")


# ---------------------------------------------------------------------------------------------- item 5: regex parts
@pytest.mark.parametrize("pattern, needle", [
    ("(", "missing )"),
    ("\\g<5>", "bad escape"),
    ("[", "unterminated"),
    ("((a{1000}){1000}){1000}", "100,000"),  # Python's regex engine takes minutes to compile it
    ("(?<=x)((a{1000}){1000}){1000}", "100,000"),
])
def test_bad_pattern_is_one_error_line_naming_file_and_field(tmp_path, cli, pattern, needle):
    path = _config(tmp_path, [{"name": "r", "pattern": pattern, "action": "BLOCK"}])
    t0 = time.perf_counter()
    code, _, err = _within(20, lambda: cli("guardrails", "check", "hello", "--config", path))
    line = _one_error(code, err, str(path), "regexesConfig[0].pattern", needle)
    assert "Value error" not in line and time.perf_counter() - t0 < 5


def test_a_bad_pattern_writes_nothing_else_to_stderr(tmp_path):
    """RE2 logs its parse errors to the process's stderr unless told not to: one line is all the user sees."""
    path = _config(tmp_path, [{"name": "r", "pattern": "(", "action": "BLOCK"}])
    run = "import sys; from harness.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", run, "guardrails", "check", "hello", "--config", str(path)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and proc.stderr.startswith("error:"), proc.stderr


def test_mid_pattern_flag_and_a_backslash_name_work(tmp_path):
    """``a(?i)b`` is RE2 syntax (case-insensitive from there on); a name is taken literally in the mask."""
    engine = _engine(_config(tmp_path, [{"name": "ab", "pattern": "a(?i)b", "action": "BLOCK"},
                                        {"name": "\\g<5>", "pattern": "[0-9]{3}", "action": "ANONYMIZE"}]))
    assert engine.apply("xaBx", "INPUT").blocked and not engine.apply("xAbx", "INPUT").blocked
    a = engine.apply("code 123 here", "INPUT")
    assert a.text == "code {\\g<5>} here" and not a.blocked


def test_a_match_of_nothing_is_not_a_finding(tmp_path):
    engine = _engine(_config(tmp_path, [{"name": "xs", "pattern": "x*", "action": "BLOCK"}]))
    assert not engine.apply("hello", "INPUT").blocked
    assert engine.apply("a xx b", "INPUT").blocked


# ---------------------------------------------------------------------------------------------- item 4: words
def _text(n_chars: int) -> tuple[str, list[str]]:
    import random

    rng = random.Random(4)
    vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 12)))
             for _ in range(20_000)]
    return " ".join(rng.choice(vocab[:15_000]) for _ in range(n_chars // 5))[:n_chars], vocab


def test_a_legal_large_word_list_is_quick_and_exact(tmp_path):
    import re

    text, vocab = _text(108_000)
    words = vocab[5_000:15_000] + ["Multi word", "c++"]  # 10,002 would be over: keep Bedrock's 10,000
    words = words[:10_000]
    engine = _engine(_config(tmp_path, words=words))
    t0 = time.perf_counter()
    a = _within(60, lambda: engine.apply(text, "INPUT"))
    elapsed = time.perf_counter() - t0
    found = [h["match"] for h in a.policies["wordPolicy"]["customWords"]]
    sample = words[:300]
    expected = [w for w in sample if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.IGNORECASE)]
    assert [w for w in found if w in set(sample)] == expected and expected
    assert elapsed < 3, elapsed


def test_words_match_whole_in_any_case_with_punctuation_edges(tmp_path):
    engine = _engine(_config(tmp_path, words=["wire fraud", "C++", "ok"]))
    a = engine.apply("Commit WIRE   FRAUD? No: wire fraud in c++!", "INPUT")
    assert [h["match"] for h in a.policies["wordPolicy"]["customWords"]] == ["wire fraud", "C++"]
    assert not engine.apply("okay, token", "INPUT").blocked


def test_a_word_check_past_its_bound_blocks_and_says_the_bound(tmp_path):
    from harness.guardrails.words import MAX_LOOKUPS

    engine = _engine(_config(tmp_path, words=["a" + "b" * n for n in range(1, 100)]))
    text = "a " * 110_000  # 110,000 places a word can start x 99 word lengths: past the bound
    a = _within(30, lambda: engine.apply(text, "INPUT"))
    assert a.blocked and "word" in a.fired()
    assert any(f"{MAX_LOOKUPS:,}" in w and "fails closed" in w for w in a.warnings), a.warnings
    assert not engine.apply("a " * 1000, "INPUT").blocked


# ---------------------------------------------------------------------------------------------- item 5: --out
def test_calibrate_out_naming_a_directory_is_exit_2_before_any_work(tmp_path, cli):
    code, _, err = cli("guardrails", "calibrate", "--out", tmp_path, "--items", tmp_path / "missing.jsonl",
                       "--no-progress")
    _one_error(code, err, "--out", "is a directory")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------- item 10
@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_an_empty_or_blank_word_is_refused(tmp_path, cli, text):
    path = _config(tmp_path, words=["fine", text])
    code, _, err = cli("guardrails", "check", "Hello.", "--config", path)
    _one_error(code, err, str(path), "wordsConfig[1].text")


ITEM = {"id": "x1", "text": "hello", "where": "input", "category": "c", "expect": []}


@pytest.mark.parametrize("change, field", [
    ({"split": "train"}, "split"),
    ({"expect": ["injection"], "where": "output"}, "expect"),
    ({"expect": ["grounding"], "where": "output"}, "expect"),
    ({"expect": ["pii", "pii"], "pii": ["hello"]}, "expect"),
    ({"passages": ["p"]}, "passages"),
])
def test_red_team_items_the_evaluation_cannot_measure_are_refused(tmp_path, change, field):
    path = tmp_path / "rt.jsonl"
    path.write_text(json.dumps({"id": "ok", **{k: v for k, v in ITEM.items() if k != "id"}}) + "\n"
                    + json.dumps({**ITEM, **change}) + "\n")
    with pytest.raises(HarnessInputError) as exc:
        read_items(path, None)
    assert (exc.value.path, exc.value.line, exc.value.field) == (str(path), 2, field), str(exc.value)


def test_red_team_split_option_takes_only_real_splits(tmp_path, cli):
    with pytest.raises(SystemExit) as exc:
        cli("guardrails", "eval", "--split", "train")
    assert exc.value.code == 2


def test_duplicate_keys_are_refused_naming_key_and_line(tmp_path, cli):
    path = tmp_path / "g.json"
    path.write_text('{\n  "name": "first",\n  "harnessPolicies": {"promptInjection": {"enabled": false}},\n'
                    '  "name": "second"\n}\n')
    code, _, err = cli("guardrails", "check", "hello", "--config", path)
    _one_error(code, err, f"{path}:4", "'name'", "twice")
    items = tmp_path / "rt.jsonl"
    items.write_text(json.dumps(ITEM) + "\n" + '{"id": "x2", "text": "a", "where": "input", "category": "c", '
                     '"expect": [], "expect": ["pii"]}\n')
    with pytest.raises(HarnessInputError) as exc:
        read_items(items, None)
    assert exc.value.line == 2 and "'expect'" in str(exc.value)
