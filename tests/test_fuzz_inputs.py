"""Fuzz suite (issue 14): Hypothesis throws generated malformed and hostile variants at every file the harness
reads (golden manifest and data, predictions, criteria, config, prompts, run directories, cache entries,
student submissions and class zips) and asserts the input contract: exit 0 or exit 2 with one line, never a
traceback, never a hang (each case runs under an alarm), nothing written outside the directories it was given."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import tiny_docs, write_golden

ROOT = Path(__file__).resolve().parents[1]
CASE_TIMEOUT_S = 20
FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# JSON/YAML values: scalars of every kind (huge, negative, empty, hostile strings), nested a little
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
                    st.sampled_from(["../../x", "=HYPERLINK(\"http://e\")", "<script>", "NaN", "1e999", "",
                                     "a|b", "\x00", "9" * 400]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)


def _paths(obj, prefix=()):
    """Every key path in a nested dict/list (the places a mutation can hit)."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


@st.composite
def mutated(draw, base):
    """``base`` with one to three places replaced by a generated value, deleted, or given an extra key."""
    data = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for k in path[:-1]:
            parent = parent[k]
        action = draw(st.sampled_from(["replace", "replace", "delete", "extra"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "extra" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(VALUES)
        else:
            parent[path[-1]] = draw(VALUES)
    return data


RAW = st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                st.sampled_from([b"[" * 5000, b"{" * 5000, b"a: &a [1]\nb: *a\n" * 50, b"- " * 3000,
                                 b"\xff\xfe\x00", b"key: !!python/object:os.system [ls]\n", b"{\"a\": NaN}"]))


def _entries(dirs) -> set[Path]:
    return {p for d in dirs for p in d.iterdir()}


def check_contract(args, given_dirs, watched):
    """Run the CLI in-process under an alarm; exit 0/1/2 (2 with exactly one 'error:' line), no traceback,
    nothing new in the ``watched`` directories (the work directory's parent, the working directory) except
    inside ``given_dirs``."""
    from harness.cli import main

    before = _entries(watched)
    out, err = io.StringIO(), io.StringIO()

    def alarm(*_):
        raise TimeoutError(f"harness {' '.join(map(str, args))} did not finish in {CASE_TIMEOUT_S} s")

    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(CASE_TIMEOUT_S)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
    finally:
        signal.alarm(0)
    errors = [x for x in err.getvalue().splitlines() if x.startswith("error:")]
    assert code in (0, 1, 2), (code, err.getvalue())
    if code == 2:
        assert len(errors) == 1, err.getvalue()
    assert "Traceback" not in err.getvalue()
    new = {p for p in _entries(watched) - before if not any(p == d or d in p.parents for d in given_dirs)}
    assert not new, f"written outside the given directories: {new}"
    return code


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A valid golden set, predictions and scored run directory to mutate."""
    from harness.cli import main

    root = tmp_path_factory.mktemp("fuzzbase")
    golden = write_golden(root / "tiny")
    docs = [d for d in tiny_docs() if d["split"] == "test"]
    preds = [{"id": d["id"], "label": d["label"], "fields": d["fields"],
              "tasks": {"classify": {"latency_s": 0.01, "usage": {"input_tokens": 5, "output_tokens": 1}}}}
             for d in docs]
    (root / "p.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    assert main(["score", "--golden", str(golden), "--split", "test", "--predictions", str(root / "p.jsonl"),
                 "--out", str(root / "runs" / "r1")]) == 0
    return {"root": root, "golden": golden, "preds": preds, "run": root / "runs" / "r1"}


def _work(base) -> Path:
    return Path(tempfile.mkdtemp(dir=base["root"]))


def _watched(base) -> list[Path]:
    return [base["root"], Path.cwd()]


@FUZZ
@given(data=st.data())
def test_fuzz_golden_manifest(base, data):
    import shutil

    work = _work(base)
    g = work / "g"
    shutil.copytree(base["golden"], g)
    manifest = yaml.safe_load((g / "manifest.yaml").read_text())
    if data.draw(st.booleans()):
        (g / "manifest.yaml").write_bytes(data.draw(RAW))
    else:
        (g / "manifest.yaml").write_text(yaml.safe_dump(data.draw(mutated(manifest))))
    check_contract(["golden", "verify", g], [work], _watched(base))


@FUZZ
@given(data=st.data())
def test_fuzz_golden_documents(base, data):
    work = _work(base)
    docs = tiny_docs()
    i = data.draw(st.integers(0, len(docs) - 1))
    if data.draw(st.booleans()):
        raw = b"".join(json.dumps(d).encode() + b"\n" for d in docs[:i]) + data.draw(RAW) + b"\n"
        g = write_golden(work / "g", raw_docs=raw)
    else:
        docs[i] = data.draw(mutated(docs[i]))
        g = write_golden(work / "g", docs=docs)
    check_contract(["golden", "verify", g], [work], _watched(base))


@FUZZ
@given(data=st.data())
def test_fuzz_predictions(base, data):
    work = _work(base)
    preds = list(base["preds"])
    i = data.draw(st.integers(0, len(preds) - 1))
    path = work / "p.jsonl"
    if data.draw(st.booleans()):
        body = "".join(json.dumps(p) + "\n" for p in preds[:i]).encode() + data.draw(RAW) + b"\n"
        path.write_bytes(body)
    else:
        preds[i] = data.draw(mutated(preds[i]))
        path.write_text("".join(json.dumps(p) + "\n" for p in preds))
    check_contract(["score", "--golden", base["golden"], "--split", "test", "--predictions", path,
                    "--out", work / "out"], [work], _watched(base))


@FUZZ
@given(data=st.data())
def test_fuzz_criteria(base, data):
    work = _work(base)
    crit = yaml.safe_load((ROOT / "harness" / "criteria" / "techcorp.yaml").read_text())
    path = work / "criteria.yaml"
    if data.draw(st.booleans()):
        path.write_bytes(data.draw(RAW))
    else:
        path.write_text(yaml.safe_dump(data.draw(mutated(crit))))
    check_contract(["gates", base["run"], "--criteria", path], [work], _watched(base))
    mon = work / "monitoring.jsonl"
    mon.write_text(json.dumps({"timestamp": "2026-11-01T00:00:00", "accuracy": 0.9, "baseline_accuracy": 0.9,
                               "available": True, "hallucination_rate": 0.0}) + "\n")
    check_contract(["rollback", mon, "--criteria", path], [work], _watched(base))


@FUZZ
@given(data=st.data())
def test_fuzz_run_directory(base, data):
    import shutil

    work = _work(base)
    run = work / "runs" / "r"
    shutil.copytree(base["run"], run)
    name = data.draw(st.sampled_from(["run.json", "metrics.json", "predictions.jsonl"]))
    if data.draw(st.booleans()) or name == "predictions.jsonl":
        (run / name).write_bytes(data.draw(RAW))
    else:
        (run / name).write_text(json.dumps(data.draw(mutated(json.loads((run / name).read_text())))))
    for args in (["report", run], ["gates", run], ["leaderboard", run.parent], ["compare", run, base["run"]],
                 ["diff", run, base["run"]], ["cost", "--run", run]):
        check_contract(args, [work], _watched(base))


@FUZZ
@given(data=st.data())
def test_fuzz_pipeline_config_and_prompts(base, data):
    """Config files and prompt files, through the same loaders ``harness run`` uses (no model is run)."""
    import shutil

    from harness.config import load_config
    from harness.errors import HarnessInputError
    from pipelines.llmops import config as llmops_config
    from pipelines.llmops.prompts import load_registry

    work = _work(base)
    default = Path(llmops_config.__file__).with_name("config.yaml")
    cfg = work / "config.yaml"
    raw = data.draw(st.booleans())
    cfg.write_bytes(data.draw(RAW)) if raw else cfg.write_text(
        yaml.safe_dump(data.draw(mutated(yaml.safe_load(default.read_text())))))
    prompts = work / "prompts"
    shutil.copytree(ROOT / "pipelines" / "llmops" / "prompts", prompts)
    target = prompts / "classify.yaml"
    target.write_bytes(data.draw(RAW)) if raw else target.write_text(
        yaml.safe_dump(data.draw(mutated(yaml.safe_load(target.read_text())))))
    for load in (lambda: load_config(llmops_config.LLMOpsConfig, default, cfg),
                 lambda: load_registry(prompts)):
        signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("hang")))
        signal.alarm(CASE_TIMEOUT_S)
        try:
            load()
        except HarnessInputError as exc:
            assert "\n" not in str(exc)
        finally:
            signal.alarm(0)


@FUZZ
@given(entry=st.one_of(VALUES, mutated({"text": "ok", "input_tokens": 3, "output_tokens": 1, "latency_s": 0.5})),
       raw=st.one_of(st.none(), RAW))
def test_fuzz_cache_entries(base, entry, raw):
    """A cache entry is a hit of the right shape or a miss; it never raises and never reaches scoring."""
    from harness.models.cache import CacheEntry, CallCache

    work = _work(base)
    cache = CallCache(work / "cache")
    key = "ab" + "1" * 62
    path = work / "cache" / "ab" / f"{key}.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(raw if raw is not None else json.dumps(entry).encode())
    with contextlib.redirect_stderr(io.StringIO()):
        hit = cache.get(key)
    assert hit is None or CacheEntry.model_validate(hit)


GRADED_PROMPT = {"id": "classify", "version": 2, "description": "mine", "system": "Answer with JSON only.",
                 "user": "Labels: $labels\nDocument:\n$document\nReply as JSON: {\"label\": \"<label>\"}"}
GRADED_SETTINGS = {"chunking": {"chunk_size": 400}, "retrieval": {"top_k": 6}, "llm": {"temperature": 0.2}}


@pytest.fixture(scope="module")
def grading_assignment(base):
    from harness.grading.assignment import load_assignment

    path = base["root"] / "assignment.yaml"
    path.write_text(yaml.safe_dump({
        "name": "fuzz", "golden": str(base["golden"]), "tasks": ["classify", "extract"],
        "settings": {"chunking.chunk_size": {"min": 100, "max": 900}, "retrieval.top_k": {"min": 1, "max": 8},
                     "llm.temperature": {"min": 0, "max": 1}},
        "rubric": {"metrics": [{"name": "cls", "metric": "classification.macro_f1", "points": 10, "from": 0.0,
                                "to": 1.0}]}}))
    return load_assignment(path)


def _alarmed(fn):
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("hang")))
    signal.alarm(CASE_TIMEOUT_S)
    try:
        return fn()
    finally:
        signal.alarm(0)


@FUZZ
@given(data=st.data())
def test_fuzz_student_submission(base, grading_assignment, data):
    """A student's prompt and settings files, mutated or random bytes, plus stray files: ``load_submission``
    returns a Submission (whose prompts write and load back) or an Invalid with one short line; never raises."""
    from harness.grading.submission import Invalid, Submission, load_submission, overrides, write_prompt_dir
    from pipelines.llmops.prompts import DEFAULT_DIR, load_registry

    work = _work(base)
    folder = work / "alice"
    folder.mkdir()
    for name, content in (("classify.yaml", GRADED_PROMPT), ("extract.yaml", {**GRADED_PROMPT, "id": "extract"}),
                          ("settings.yaml", GRADED_SETTINGS)):
        how = data.draw(st.sampled_from(["keep", "raw", "mutate", "absent"]))
        if how == "raw":
            (folder / name).write_bytes(data.draw(RAW))
        elif how != "absent":
            (folder / name).write_text(yaml.safe_dump(data.draw(mutated(content)) if how == "mutate" else content))
    for name in data.draw(st.lists(st.sampled_from(["README.md", "x.py", ".DS_Store", "summarize.yaml",
                                                    "notes.txt"]), max_size=2, unique=True)):
        (folder / name).write_bytes(data.draw(RAW))
    result = _alarmed(lambda: load_submission("alice", folder, grading_assignment))
    assert isinstance(result, (Submission, Invalid))
    if isinstance(result, Invalid):
        assert "\n" not in result.reason and len(result.reason) <= 200, result.reason
        return
    assert all(isinstance(v, (int, float)) for v in result.settings.values()) and overrides(result) is not None
    refs = write_prompt_dir(result, DEFAULT_DIR, work / "prompts", ["classify", "extract"])
    assert sorted(load_registry(work / "prompts")) == sorted(refs.values())


@FUZZ
@given(data=st.data())
def test_fuzz_class_zip(base, grading_assignment, data):
    """A class zip with bytes flipped or cut: staged per student or refused with one named error; nothing is
    written outside the staging folder."""
    import zipfile

    from harness.errors import HarnessInputError
    from harness.grading.submission import discover

    work = _work(base)
    with zipfile.ZipFile(work / "class.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("export/alice/classify.yaml", yaml.safe_dump(GRADED_PROMPT))
        zf.writestr("export/bob/settings.yaml", yaml.safe_dump(GRADED_SETTINGS))
    raw = bytearray((work / "class.zip").read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[:data.draw(st.integers(0, len(raw)))]
    (work / "class.zip").write_bytes(bytes(raw))
    before = _entries([work])
    try:
        folders, problems, invalid = _alarmed(lambda: discover(work / "class.zip", work / "staging",
                                                               grading_assignment.spec.limits))
    except HarnessInputError as exc:
        assert "\n" not in str(exc)
        return
    assert all(p.parent == work / "staging" for p in folders.values())
    assert all("\n" not in r and len(r) <= 200 for r in [*invalid.values(), *problems])
    assert _entries([work]) - before <= {work / "staging"}


# ---------------------------------------------------------------------------------------------- grading files
GRADING_ASSIGNMENT = {
    "name": "fuzz", "title": "Fuzz", "dev_split": "train", "grading_split": "test", "tasks": ["classify", "extract"],
    "settings": {"retrieval.top_k": {"min": 1, "max": 8}, "llm.temperature": {"min": 0.0, "max": 1.0}},
    "pipeline": {"config": None, "set": []}, "reference": {"prompts": None},
    "budget": {"tokens": 120000, "calls": 200, "wall_s": None},
    "rubric": {"metrics": [{"name": "cls", "metric": "classification.macro_f1", "points": 10, "from": 0.0, "to": 1.0},
                           {"name": "ext", "metric": "extraction.accuracy", "points": 10,
                            "steps": [[0.5, 5], [0.9, 10]]}],
               "criteria": {"name": "pilot", "points_each": 2, "ids": ["classification_accuracy"]},
               "penalties": {"invalid_output": {"per_item": 0.25, "max": 5}, "errors": {"per_item": 0.5, "max": 5},
                             "over_budget": 10},
               "max_grade": 30},
    "limits": {"max_file_bytes": 65536, "max_files": 20, "max_archive_bytes": 1000000, "max_archive_entries": 100},
    "feedback_examples": 2,
}
GRADING_ROSTER = [["student_id", "name", "email", "section", "sis_login_id"], ["alice", "Alice", "a@x", "A", "al1"],
                  ["bob", "Bob", "b@x", "B", ""]]
ROSTER_CELLS = st.one_of(st.text(max_size=20), st.sampled_from(
    ["reference", "ALICE", "alice", "=cmd()", "<img src=x>", "a\u2028b", "\"", "\"\"", "x" * 131_073, "y" * 300,
     "\x00", "\r", "../x", ""]))


def _grading_class(work: Path, assignment: bytes, roster: bytes) -> list:
    """A class to grade with --dry-run (no model is called): alice's valid prompt, bob's folder empty."""
    (work / "subs" / "alice").mkdir(parents=True)
    (work / "subs" / "bob").mkdir()
    (work / "subs" / "alice" / "classify.yaml").write_text(yaml.safe_dump(GRADED_PROMPT))
    (work / "assignment.yaml").write_bytes(assignment)
    (work / "roster.csv").write_bytes(roster)
    return ["grade", "run", "--assignment", work / "assignment.yaml", "--submissions", work / "subs", "--roster",
            work / "roster.csv", "--out", work / "out", "--dry-run"]


def _roster_bytes(rows) -> bytes:
    import csv

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8", "surrogatepass")


# hostile regular expressions: catastrophic backtracking, syntax only Python reads, broken, huge, matching nothing
HOSTILE_REGEXES = st.sampled_from(["(a+)+$", "(", "[", "a(?i)b", "\\g<5>", "(?<=x)(a|aa)+$", "((a{1000}){1000}){1000}",
                                   "a{1001}", "(\\w)\\1", "x*", "", "\\", "(?R)", "(?P<n>a)(?P=n)", "^(\\w+\\s?)*$",
                                   "x" * 501, "[\\d-\\w]", "(?#", "\\p{L}+", "(?i)"])
GUARDRAIL = {"name": "fuzz", "sensitiveInformationPolicyConfig": {
                 "piiEntitiesConfig": [{"type": "EMAIL", "action": "ANONYMIZE"}],
                 "regexesConfig": [{"name": "r1", "pattern": "[0-9]{3}", "action": "BLOCK"},
                                   {"name": "r2", "pattern": "a+b", "action": "ANONYMIZE"}]},
             "wordPolicyConfig": {"wordsConfig": [{"text": "wire fraud"}, {"text": "c++"}]},
             "harnessPolicies": {"promptInjection": {"enabled": False}, "hallucinationCheck": {"enabled": False}}}


EDGE_NUMBERS = st.sampled_from([0, 1, 2, 7, 0.5, 1e-300, 3600, 86_400, 86_400.5, 10_000, 10**7, 10**7 + 1, 1e308,
                                 10**23, -1, 2**63])
EDGE_TIMES = st.sampled_from(["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-11-30T23:59:59Z",
                              "9999-12-27T09:00:00Z", "9999-12-31T23:59:59-12:00", "2027-01-04T09:00:00+23:59"])
EDGE_DAYS = st.sampled_from(["0001-01-01", "9999-11-22", "9999-11-29", "9999-12-27", "2027-01-04"])


@st.composite
def edged(draw, base, times=(), days=()):
    """``base`` with one or two of its numbers (and its times or days, by key) replaced by an edge value: zero,
    tiny, at a bound or just past it, too large for a float or SQLite, the first or last days of the calendar.
    Unlike :func:`mutated`, the file usually stays well-typed, so the run gets past validation."""
    data = json.loads(json.dumps(base))
    places = [p for p in _paths(data) if p and (p[-1] in times or p[-1] in days or (
        isinstance(_at(data, p), (int, float)) and not isinstance(_at(data, p), bool)))]
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(places))
        parent = _at(data, path[:-1])
        parent[path[-1]] = draw(EDGE_TIMES if path[-1] in times else EDGE_DAYS if path[-1] in days else EDGE_NUMBERS)
    return data


def _at(data, path):
    for k in path:
        data = data[k]
    return data


SHADOW_LOG = [
    {"doc_id": "a1", "pipeline": "mlops", "role": "production", "received_at": "2027-01-04T09:30:00Z",
     "latency_s": 2.4, "label": "invoice", "fields": {"vendor": "Acme", "total": "12.50"}, "cost_usd": 0.084,
     "model_version": "mlops", "gold_label": "invoice", "gold_fields": {"vendor": "Acme", "total": "12.50"}},
    {"doc_id": "a1", "pipeline": "llmops", "role": "shadow", "received_at": "2027-01-04T10:30:00+01:00",
     "latency_s": 3.5, "label": "invoice", "fields": {"vendor": "ACME", "total": None}, "input_tokens": 1800,
     "output_tokens": 220, "cost_usd": 0.25, "model_version": "haiku", "prompt_version": "classify@1",
     "hallucinated": False, "guardrail_events": [{"policy": "pii", "action": "anonymized", "exposed": False}],
     "gold_label": "invoice", "gold_fields": {"vendor": "Acme", "total": "12.50"}},
    {"doc_id": "a2", "pipeline": "mlops", "role": "production", "received_at": "2027-01-11T15:00:00-05:00",
     "latency_s": 2.1, "label": "receipt", "error": None, "gold_label": "contract"},
    {"doc_id": "a2", "pipeline": "llmops", "role": "shadow", "received_at": "2027-01-11T20:00:00Z",
     "latency_s": 0.0, "available": False, "error": "unavailable (outage)", "gold_label": "contract"},
]


@FUZZ
@given(data=st.data())
def test_fuzz_assignment_file(base, data):
    """``assignment.yaml`` mutated (numbers huge, negative, NaN-like strings; keys gone or extra) or random
    bytes: ``grade run --dry-run`` plans or exits 2 with one line, never a traceback."""
    work = _work(base)
    doc = {**GRADING_ASSIGNMENT, "golden": str(base["golden"])}
    raw = data.draw(RAW) if data.draw(st.integers(0, 4)) == 0 else yaml.safe_dump(data.draw(mutated(doc))).encode()
    check_contract(_grading_class(work, raw, _roster_bytes(GRADING_ROSTER)), [work], _watched(base))


@FUZZ
@given(data=st.data())
def test_fuzz_roster_file(base, data):
    """``roster.csv`` with rows of generated and hostile cells (over the csv field limit, U+2028, NUL, quotes,
    reserved and case-clashing ids) or random bytes: planned or exit 2 with one line."""
    work = _work(base)
    doc = yaml.safe_dump({**GRADING_ASSIGNMENT, "golden": str(base["golden"])}).encode()
    if data.draw(st.integers(0, 3)) == 0:
        roster = data.draw(RAW)
    else:
        rows = [list(r) for r in GRADING_ROSTER]
        for _ in range(data.draw(st.integers(1, 3))):
            i = data.draw(st.integers(0, len(rows)))
            row = data.draw(st.lists(ROSTER_CELLS, max_size=6))
            if i < len(rows) and row and data.draw(st.booleans()):
                rows[i][data.draw(st.integers(0, len(rows[i]) - 1))] = row[0]
            else:
                rows.insert(i, row)
        roster = _roster_bytes(rows)
    check_contract(_grading_class(work, doc, roster), [work], _watched(base))


@FUZZ
@given(data=st.data())
def test_fuzz_guardrail_config(base, data):
    """A guardrail JSON mutated (hostile patterns, words and values in any place), or random bytes, checked against
    hostile texts: exit 0, 1 (blocked) or 2 with one line, within the alarm, never a traceback."""
    work = _work(base)
    path = work / "guardrail.json"
    how = data.draw(st.sampled_from(["raw", "mutate", "regexes", "words"]))
    if how == "raw":
        path.write_bytes(data.draw(RAW))
    else:
        cfg = json.loads(json.dumps(GUARDRAIL))
        if how == "regexes":
            cfg["sensitiveInformationPolicyConfig"]["regexesConfig"] = [
                {"name": data.draw(st.one_of(st.text(max_size=8), st.sampled_from(["\\g<5>", "\\1", "{x}"]))),
                 "pattern": data.draw(st.one_of(HOSTILE_REGEXES, st.text(max_size=12))),
                 "action": data.draw(st.sampled_from(["BLOCK", "ANONYMIZE"]))}
                for _ in range(data.draw(st.integers(1, 12)))]
        elif how == "words":
            cfg["wordPolicyConfig"]["wordsConfig"] = [{"text": t} for t in data.draw(st.lists(
                st.one_of(st.text(max_size=6), st.sampled_from(["", " ", ".", "a" * 101, "\\b", "(a+)+$"])),
                max_size=20))]
        path.write_text(json.dumps(data.draw(mutated(cfg)) if how == "mutate" else cfg))
    text = data.draw(st.one_of(st.sampled_from(["a" * 40 + "!", "x" + "a" * 60 + "!", "wire fraud 123 aab",
                                                "ap@example.com " * 50]), st.text(max_size=60)))
    check_contract(["guardrails", "check", "--config", path, "--where", data.draw(st.sampled_from(["input", "output"])),
                    "--", text], [work], _watched(base))


@FUZZ
@given(data=st.data())
def test_fuzz_shadow_ingest_log(base, data):
    """A result log with one line mutated, given edge numbers and times, or cut into random bytes: ``shadow
    ingest`` writes the lines before it or refuses in one line; whatever it wrote, the dashboard (table and
    page), decide and cutover read."""
    work = _work(base)
    records = json.loads(json.dumps(SHADOW_LOG))
    i = data.draw(st.integers(0, len(records) - 1))
    log = work / "log.jsonl"
    how = data.draw(st.sampled_from(["raw", "mutate", "edge", "edge"]))
    if how == "raw":
        log.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records[:i]) + data.draw(RAW) + b"\n")
    else:
        records[i] = data.draw(mutated(records[i]) if how == "mutate" else edged(records[i], times=("received_at",)))
        log.write_text("".join(json.dumps(r) + "\n" for r in records))
    db = work / "c.db"
    check_contract(["shadow", "ingest", log, "--db", db], [work], _watched(base))
    if db.exists():
        for args in (["dashboard", db], ["dashboard", db, "--period", "day", "--format", "html", "--out",
                                         work / "d.html"], ["decide", db], ["cutover", db, "--start", "2027-01-04"]):
            check_contract(["shadow", *args], [work], _watched(base))


SCENARIO = {"name": "fuzz", "description": "every kind of event", "seed": 3, "start": "2027-01-04", "weeks": 1,
            "docs_per_day": 2, "feedback": 4.3, "audit": True,
            "shadow": {"accuracy": 0.9, "field_accuracy": 0.9, "hallucination_rate": 0.1, "latency_s": 3.5,
                       "latency_spread": 0.2, "input_tokens": 1800, "output_tokens": 220, "cost_per_doc": 0.25,
                       "error_rate": 0.1, "model_version": "m1", "prompt_version": "p1"},
            "production": {"cost_per_doc": 0.084, "overhead_s": 2.3, "overhead_sd": 0.3},
            "events": [{"kind": "new_template_family", "day": 1, "share": 0.5},
                       {"kind": "price_change", "day": 2, "factor": 1.5},
                       {"kind": "outage", "day": 3, "hours": 9, "pipeline": "llmops"},
                       {"kind": "latency_degradation", "day": 4, "days": 2, "factor": 3, "pipeline": "mlops"},
                       {"kind": "pii_burst", "day": 5, "days": 2, "share": 0.5, "exposed_share": 0.5},
                       {"kind": "version_change", "week": 1, "accuracy": 0.5, "prompt_version": "p2"}],
            "expect": {"decision": "HOLD"}}


@settings(FUZZ, max_examples=20)
@given(data=st.data())
def test_fuzz_shadow_scenario(base, trained, data):
    """A scenario mutated, given edge numbers and days, or replaced by random bytes: loaded, or refused in one
    line naming the file; a loaded one is simulated (shrunk to a week of two documents a day when it asks for
    more) and read back, exit 0 or 2 with one line, never a traceback or a runaway."""
    from harness.errors import HarnessInputError
    from harness.shadow.scenario import load_scenario

    work = _work(base)
    path = work / "scenario.yaml"
    how = data.draw(st.sampled_from(["raw", "mutate", "mutate", "edge", "edge"]))
    if how == "raw":
        path.write_bytes(data.draw(RAW))
    else:
        path.write_text(yaml.safe_dump(data.draw(mutated(SCENARIO) if how == "mutate" else
                                                 edged(SCENARIO, days=("start",)))))
    try:
        spec = _alarmed(lambda: load_scenario(path)).spec
    except HarnessInputError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        spec = None
    db = work / "s.db"
    args = ["shadow", "simulate", "--scenario", path, "--out", db, "--no-progress"]
    if spec is None or spec.weeks * 7 * spec.docs_per_day > 14:
        args += ["--weeks", "1", "--docs-per-day", "2"]
    if check_contract(args, [work], _watched(base)) == 0:
        for more in (["dashboard", db, "--format", "html", "--out", work / "d.html"], ["decide", db],
                     ["cutover", db, "--start", "2027-01-04"]):
            check_contract(["shadow", *more], [work], _watched(base))
