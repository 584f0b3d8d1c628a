"""Student submissions (harness/grading/submission.py, archive.py, checks.py): the happy path from a
folder and a zip, and every containment case graded invalid with a short reason while the batch goes on."""

from __future__ import annotations

import copy
import os
import stat
import warnings
import zipfile
from pathlib import Path

import pytest
import yaml

from harness.errors import HarnessInputError
from harness.grading.assignment import load_assignment
from harness.grading.submission import (Invalid, Submission, discover, load_class, load_submission, open_one,
                                        overrides, write_prompt_dir)

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "pipelines" / "llmops" / "prompts"
CLASSIFY = {"id": "classify", "version": 3, "description": "shorter",
            "system": "You classify documents. Answer with JSON only.",
            "user": "Labels: $labels\nDocument:\n$document\nReply as JSON: {\"label\": \"<label>\"}"}
SETTINGS = {"chunking": {"chunk_size": 400}, "retrieval": {"top_k": 6},
            "llm": {"temperature": 0, "max_tokens": {"extract": 300}}}


@pytest.fixture
def assignment(tmp_path):
    path = tmp_path / "assignment" / "assignment.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump({
        "name": "a1", "golden": str(ROOT / "golden_sets" / "techcorp"), "tasks": ["classify", "extract"],
        "settings": {"chunking.chunk_size": {"min": 200, "max": 800}, "retrieval.top_k": {"min": 1, "max": 8},
                     "llm.temperature": {"min": 0, "max": 1}, "llm.max_tokens.extract": {"min": 100, "max": 600}},
        "rubric": {"metrics": [{"name": "cls", "metric": "classification.macro_f1", "points": 10, "from": 0.0,
                                "to": 1.0}]},
        "limits": {"max_file_bytes": 4096, "max_files": 6, "max_archive_bytes": 100_000,
                   "max_archive_entries": 40}}))
    return load_assignment(path)


def student(root: Path, sid: str = "alice", files: dict | None = None) -> Path:
    folder = root / sid
    folder.mkdir(parents=True)
    files = {"classify.yaml": CLASSIFY, "settings.yaml": SETTINGS} if files is None else files
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content)
        else:
            path.write_text(yaml.safe_dump(content, sort_keys=False))
    return folder


def write_zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    encrypted = {e.filename.encode() for e, _ in entries if isinstance(e, zipfile.ZipInfo) and e.flag_bits & 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names on purpose
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in entries:
                zf.writestr(copy.copy(name), data)  # zipfile changes the ZipInfo it is given
    if encrypted:  # zipfile clears the flag when writing: set it in the local and central headers
        raw = bytearray(path.read_bytes())
        for sig, flags, name_len, name_at in ((b"PK\x03\x04", 6, 26, 30), (b"PK\x01\x02", 8, 28, 46)):
            at = raw.find(sig)
            while at >= 0:
                n = int.from_bytes(raw[at + name_len:at + name_len + 2], "little")
                if bytes(raw[at + name_at:at + name_at + n]) in encrypted:
                    raw[at + flags] |= 1
                at = raw.find(sig, at + 4)
        path.write_bytes(bytes(raw))
    return path


def ydump(data) -> bytes:
    return yaml.safe_dump(data, sort_keys=False).encode()


def invalid(result, *words) -> str:
    assert isinstance(result, Invalid), result
    assert "\n" not in result.reason and len(result.reason) <= 200, result.reason
    for w in words:
        assert w in result.reason, result.reason
    return result.reason


def test_folder_submission_with_one_prompt_and_settings(assignment, tmp_path):
    from pipelines.llmops.prompts import load_registry

    folder = student(tmp_path / "class", files={"classify.yaml": CLASSIFY, "settings.yaml": SETTINGS,
                                                "README.md": "my notes", ".DS_Store": b"\x00\x01",
                                                "summarize.yaml": {**CLASSIFY, "id": "summarize"}})
    sub = load_submission("alice", folder, assignment)
    assert isinstance(sub, Submission)
    assert list(sub.prompts) == ["classify"] and sub.prompts["classify"].version == 3
    assert sub.settings == {"chunking.chunk_size": 400, "llm.max_tokens.extract": 300, "llm.temperature": 0.0,
                            "retrieval.top_k": 6}
    assert overrides(sub) == ["chunking.chunk_size=400", "llm.max_tokens.extract=300", "llm.temperature=0.0",
                              "retrieval.top_k=6"]
    assert any("README.md" in n for n in sub.notes) and any("does not grade summarize" in n for n in sub.notes)
    again = load_submission("alice", folder, assignment)
    assert again.sha256 == sub.sha256
    (folder / "README.md").write_text("other notes")  # not used: identity unchanged
    assert load_submission("alice", folder, assignment).sha256 == sub.sha256

    refs = write_prompt_dir(sub, REF, tmp_path / "work" / "prompts", ["classify", "extract"])
    assert refs == {"classify": "classify@3", "extract": "extract@1"}
    registry = load_registry(tmp_path / "work" / "prompts")
    assert sorted(registry) == ["classify@3", "extract@1"]
    assert registry["classify@3"].user == CLASSIFY["user"]
    assert registry["extract@1"].user == load_registry(REF)["extract@1"].user  # fell back to the reference
    assert write_prompt_dir(sub, REF, tmp_path / "work" / "prompts", ["classify"]) == {"classify": "classify@3"}
    assert sorted(load_registry(tmp_path / "work" / "prompts")) == ["classify@3"]


def test_written_prompts_read_back_exactly(assignment, tmp_path):
    from pipelines.llmops.prompts import load_registry

    user = "Labels: $labels \u2028 caf\u00e9 \U0001f600 \"quoted\" 'single' # not a comment\n  $document  \n\n"
    folder = student(tmp_path, files={"classify.yaml": ydump({**CLASSIFY, "user": user, "system": "a\x00b\tc: d"})})
    sub = load_submission("alice", folder, assignment)
    assert isinstance(sub, Submission), sub
    write_prompt_dir(sub, REF, tmp_path / "p", ["classify"])
    t = load_registry(tmp_path / "p")["classify@3"]
    assert (t.user, t.system) == (user, "a\x00b\tc: d")


def test_class_zip_under_a_common_top_folder_matches_the_folder(assignment, tmp_path):
    folder = student(tmp_path / "class")
    from_folder = load_submission("alice", folder, assignment)
    z = write_zip(tmp_path / "class.zip", [
        ("submissions/alice/classify.yaml", ydump(CLASSIFY)), ("submissions/alice/settings.yaml", ydump(SETTINGS)),
        ("submissions/bob/extract.yaml", ydump({**CLASSIFY, "id": "extract", "user": "$fields $document"})),
        ("__MACOSX/submissions/alice/._classify.yaml", b"\x00junk"), ("submissions/.DS_Store", b"\x00"),
        ("submissions/carol/", b"")])
    folders, problems, bad = discover(z, tmp_path / "staging", assignment.spec.limits)
    assert list(folders) == ["alice", "bob", "carol"] and not bad and not problems
    assert folders["alice"] == tmp_path / "staging" / "alice"
    sub = load_submission("alice", folders["alice"], assignment)
    assert sub.sha256 == from_folder.sha256 and sub.settings == from_folder.settings
    assert list(load_submission("bob", folders["bob"], assignment).prompts) == ["extract"]
    assert load_submission("carol", folders["carol"], assignment).prompts == {}
    assert not (tmp_path / "staging" / "__MACOSX").exists()


def test_order_does_not_depend_on_the_roster_or_entry_order(assignment, tmp_path):
    entries = [(f"{s}/classify.yaml", ydump({**CLASSIFY, "version": i + 1})) for i, s in enumerate(
        ["zed", "Bob", "alice", "m-1"])] + [("bob2/notes.exe", b"x")]
    a = discover(write_zip(tmp_path / "a.zip", entries), tmp_path / "sa", assignment.spec.limits)
    b = discover(write_zip(tmp_path / "b.zip", entries[::-1]), tmp_path / "sb", assignment.spec.limits)
    assert list(a[0]) == list(b[0]) == sorted(["zed", "Bob", "alice", "m-1", "bob2"])
    subs_a = [load_submission(s, p, assignment) for s, p in a[0].items()]
    subs_b = [load_submission(s, p, assignment) for s, p in b[0].items()]
    assert [getattr(x, "sha256", x) for x in subs_a] == [getattr(x, "sha256", x) for x in subs_b]
    for d in ("zed", "alice", "Bob", "m-1"):
        student(tmp_path / "cls", d, files={"classify.yaml": CLASSIFY})
    results, problems = load_class(tmp_path / "cls", tmp_path / "sc", assignment)
    assert [r.student_id for r in results] == sorted(["zed", "alice", "Bob", "m-1"]) and not problems


def test_open_one_folder_and_zips(assignment, tmp_path):
    limits = assignment.spec.limits
    folder = student(tmp_path, "mine")
    assert open_one(folder, tmp_path / "st", limits) == folder
    flat = write_zip(tmp_path / "flat.zip", [("classify.yaml", ydump(CLASSIFY)), ("settings.yaml", ydump(SETTINGS))])
    staged = open_one(flat, tmp_path / "st", limits)
    assert staged == tmp_path / "st" / "self"
    assert load_submission("self", staged, assignment).sha256 == load_submission("mine", folder, assignment).sha256
    nested = write_zip(tmp_path / "n.zip", [("mine/classify.yaml", ydump(CLASSIFY)), ("mine/settings.yaml",
                                                                                       ydump(SETTINGS))])
    staged = open_one(nested, tmp_path / "st", limits, "alice")
    assert isinstance(load_submission("alice", staged, assignment), Submission)
    invalid(open_one(write_zip(tmp_path / "e.zip", [("../x.yaml", b"a: 1")]), tmp_path / "st", limits), "'..'")
    with pytest.raises(HarnessInputError):
        open_one(tmp_path / "missing", tmp_path / "st", limits)
    with pytest.raises(HarnessInputError):
        open_one(folder, tmp_path / "st", limits, "../x")


@pytest.mark.parametrize("text,words", [
    ("Classify $doc", ["unknown placeholder $doc", "$document, $labels"]),
    ("Costs $5 for $document", ["invalid placeholder", "$$"]),
    ("$document.__class__", ["attribute or index access"]),
    ("${document}[0]", ["attribute or index access"]),
    ("$document[0]", ["attribute or index access"]),
    ("{document.attr}", ["format-style", "$document"]),
    ("{document[0]}", ["format-style"]),
    ("Labels {labels}: {document}", ["format-style placeholder '{labels}'", "use $labels"]),
    ("${document.__class__}", ["invalid placeholder"]),
])
@pytest.mark.parametrize("field", ["system", "user"])
def test_prompt_placeholders_are_contained(assignment, tmp_path, text, words, field):
    folder = student(tmp_path, files={"classify.yaml": {**CLASSIFY, field: text}})
    reason = invalid(load_submission("alice", folder, assignment), "classify.yaml", f": {field}: ", *words)
    assert reason.startswith("classify.yaml:")


@pytest.mark.parametrize("content,words", [
    ({**CLASSIFY, "id": "extract"}, ["id", "must be 'classify'"]),
    ({**CLASSIFY, "version": "three"}, ["version"]),
    ({**CLASSIFY, "shell": "rm -rf /"}, ["shell", "unknown key"]),
    (b"id: classify\nuser: !!python/object/apply:os.system [ls]\n", ["classify.yaml", "constructor"]),
    (b"a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + b"".join(b"k%d: &k%d [*%s, *%s, *%s, *%s, *%s]\n" % (
        i, i, *([b"a" if i == 0 else b"k%d" % (i - 1)] * 5)) for i in range(12)), ["classify.yaml", "aliases"]),
    (b"\xff\xfeid: classify\n", ["classify.yaml", "not UTF-8"]),
    (b"- a list\n", ["classify.yaml", "mapping"]),
    (b"id: [unclosed\n", ["classify.yaml", "invalid YAML"]),
    (b"id: classify\nversion: 0x" + b"f" * 3500 + b"\nuser: x\n", ["classify.yaml:2: version:", "too large"]),
    (b"id: classify\nversion: 1\nuser: x\ndescription: 2020-02-30\n", ["classify.yaml", "invalid YAML"]),
])
def test_bad_prompt_files(assignment, tmp_path, content, words):
    folder = student(tmp_path, files={"classify.yaml": content})
    invalid(load_submission("alice", folder, assignment), *words)


@pytest.mark.parametrize("settings,words", [
    ({"llm": {"seed": 3}}, ["settings.yaml:", "llm.seed", "not a setting you may change"]),
    ({"chunking": {"chunk_overlap": 10}}, ["chunking.chunk_overlap", "does not let you change it"]),
    ({"retrieval": {"top_k": 50}}, ["retrieval.top_k", "outside the allowed range 1 to 8"]),
    ({"retrieval": {"top_k": True}}, ["retrieval.top_k", "must be a number"]),
    ({"retrieval": {"top_k": "6"}}, ["must be a number"]),
    ({"retrieval": {"top_k": 6.5}}, ["must be a whole number"]),
    ({"llm": {"temperature": float("nan")}}, ["llm.temperature", "outside"]),
    ({"llm": {"temperature": -0.1}}, ["outside"]),
    ({"chunking": {"chunk_size": [400]}}, ["must be a number"]),
    ({"retrieval": {"top_k": 2}, "retrieval.top_k": 3}, ["given twice"]),
    ({"llm": 5}, ["not a setting"]),
    ("retrieval: {top_k: 0x" + "f" * 4000 + "}\n", ["retrieval.top_k", "too large"]),
    ({1: 2}, ["setting names must be text"]),
    ([1, 2], ["must be a mapping"]),
])
def test_bad_settings(assignment, tmp_path, settings, words):
    folder = student(tmp_path, files={"settings.yaml": settings})
    invalid(load_submission("alice", folder, assignment), *words)


def test_settings_line_is_named(assignment, tmp_path):
    folder = student(tmp_path, files={"settings.yaml": "chunking:\n  chunk_size: 400\nretrieval:\n  top_k: 99\n"})
    assert invalid(load_submission("alice", folder, assignment)).startswith("settings.yaml:4: retrieval.top_k:")


def test_symlinks_devices_and_subdirectories_are_refused(assignment, tmp_path):
    folder = student(tmp_path / "a", files={"classify.yaml": CLASSIFY, "notes.txt": "x"})
    os.symlink(folder / "notes.txt", folder / "settings.yaml")  # even to a file inside the folder
    invalid(load_submission("alice", folder, assignment), "settings.yaml", "symlink")
    folder = student(tmp_path / "b", files={"classify.yaml": CLASSIFY})
    os.symlink("/etc", folder / ".hidden")
    invalid(load_submission("alice", folder, assignment), "symlink")
    folder = student(tmp_path / "c", files={"classify.yaml": CLASSIFY})
    os.mkfifo(folder / "extract.yaml")
    invalid(load_submission("alice", folder, assignment), "not a regular file")
    folder = student(tmp_path / "d", files={"sub/classify.yaml": CLASSIFY})
    invalid(load_submission("alice", folder, assignment), "sub/classify.yaml", "sub-directory")
    link = tmp_path / "e" / "alice"
    link.parent.mkdir()
    os.symlink(student(tmp_path / "f"), link)
    invalid(load_submission("alice", link, assignment), "symlink")
    folders, _, bad = discover(link.parent, tmp_path / "st", assignment.spec.limits)
    assert not folders and "symlink" in bad["alice"]


def test_unexpected_hidden_and_noted_files(assignment, tmp_path):
    folder = student(tmp_path / "a", files={"classify.yaml": CLASSIFY, "run.py": "import os"})
    invalid(load_submission("alice", folder, assignment), "unexpected file 'run.py'", "settings.yaml")
    folder = student(tmp_path / "b", files={"classify.yaml": CLASSIFY, ".DS_Store": b"\x00",
                                            ".git/config": "x", "README": "hi", "docs/why.txt": "x"})
    sub = load_submission("alice", folder, assignment)
    assert isinstance(sub, Submission) and len(sub.notes) == 2 and not any(".DS_Store" in n for n in sub.notes)


def test_sizes_and_counts(assignment, tmp_path):
    folder = student(tmp_path / "a", files={"classify.yaml": {**CLASSIFY, "description": "x" * 5000}})
    invalid(load_submission("alice", folder, assignment), "classify.yaml", "4,096-byte limit")
    folder = student(tmp_path / "b", files={f"n{i}.md": "x" for i in range(7)})
    invalid(load_submission("alice", folder, assignment), "more than 6 files")


def test_unsafe_student_folder_names_are_problems_not_graded(assignment, tmp_path):
    student(tmp_path / "cls", "ok-1")
    student(tmp_path / "cls", "bad name")
    student(tmp_path / "cls", "-x")
    (tmp_path / "cls" / "roster.csv").write_text("x")
    folders, problems, bad = discover(tmp_path / "cls", tmp_path / "st", assignment.spec.limits)
    assert list(folders) == ["ok-1"] and not bad
    assert len(problems) == 3 and any("'bad name'" in p for p in problems)
    with pytest.raises(HarnessInputError):
        load_submission("../evil", tmp_path / "cls" / "ok-1", assignment)


def _info(name: str, *, mode: int = 0, flags: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    info.flag_bits |= flags
    return info


@pytest.mark.parametrize("entry,words", [
    ("alice/../../etc/passwd", ["'..'"]),
    ("alice/sub/../../../x", ["'..'"]),
    ("alice\\..\\..\\x.yaml", ["backslashes"]),
    (_info("alice/settings.yaml", mode=stat.S_IFLNK | 0o777), ["symlink"]),
    (_info("alice/extract.yaml", mode=stat.S_IFIFO | 0o644), ["not a regular file"]),
    (_info("alice/extract.yaml", flags=0x1), ["encrypted"]),
    ("alice/run.sh", ["unexpected file"]),  # staged, then refused like any folder
])
def test_unsafe_zip_entries_make_only_that_student_invalid(assignment, tmp_path, entry, words):
    z = write_zip(tmp_path / "c.zip", [("alice/classify.yaml", ydump(CLASSIFY)), (entry, b"id: x\n"),
                                        ("bob/classify.yaml", ydump(CLASSIFY))])
    folders, problems, bad = discover(z, tmp_path / "st", assignment.spec.limits)
    assert "bob" in folders and isinstance(load_submission("bob", folders["bob"], assignment), Submission)
    result = Invalid("alice", bad["alice"]) if "alice" in bad else load_submission("alice", folders["alice"],
                                                                                   assignment)
    invalid(result, *words)
    assert not (tmp_path / "etc").exists() and not (tmp_path / "x.yaml").exists()
    assert {p.name for p in (tmp_path / "st").iterdir()} <= {"alice", "bob"}


def test_zip_entries_outside_any_student_and_duplicates(assignment, tmp_path):
    z = write_zip(tmp_path / "c.zip", [("/etc/evil", b"x"), ("C:/evil", b"x"), ("../evil", b"x"),
                                        ("bad name/classify.yaml", ydump(CLASSIFY)), ("top.md", b"x"),
                                        ("alice/classify.yaml", ydump(CLASSIFY)),
                                        ("alice/classify.yaml", ydump({**CLASSIFY, "version": 9}))])
    folders, problems, bad = discover(z, tmp_path / "st", assignment.spec.limits)
    assert not folders and "more than once" in bad["alice"]
    assert len(problems) == 5 and all(len(p) <= 200 for p in problems)
    assert not (tmp_path / "st").exists()


def test_zip_bombs_and_archive_limits(assignment, tmp_path, monkeypatch):
    from harness.grading import archive

    limits = assignment.spec.limits
    bomb = write_zip(tmp_path / "b.zip", [("alice/classify.yaml", b"a" * 50_000),
                                          ("bob/classify.yaml", ydump(CLASSIFY))])
    folders, _, bad = discover(bomb, tmp_path / "st", limits)
    assert list(folders) == ["bob"] and "4,096-byte limit" in bad["alice"]
    # a header that lies about the size: never more than it declares is written, and the entry is refused
    lying = bytearray((tmp_path / "b.zip").read_bytes())
    cd = lying.index(b"PK\x01\x02")  # the central directory's first entry: alice's
    lying[cd + 24:cd + 28] = (100).to_bytes(4, "little")  # its uncompressed size
    (tmp_path / "lie.zip").write_bytes(bytes(lying))
    folders, _, bad = discover(tmp_path / "lie.zip", tmp_path / "st2", limits)
    assert "cannot be read" in bad["alice"] and "bob" in folders
    assert not (tmp_path / "st2" / "alice").exists()
    many = write_zip(tmp_path / "m.zip", [(f"s{i}/README.md", b"x") for i in range(41)])
    with pytest.raises(HarnessInputError, match="m.zip.*41 entries.*whole archive is refused"):
        discover(many, tmp_path / "st3", limits)
    big = write_zip(tmp_path / "g.zip", [(f"s{i}/README.md", b"y" * 4000) for i in range(26)])
    with pytest.raises(HarnessInputError, match="g.zip: declares .* whole archive"):
        discover(big, tmp_path / "st4", limits)
    real = archive._open_zip  # headers that understate: the bytes read are counted all the same
    monkeypatch.setattr(archive, "_open_zip", lambda p, lim: real(p, lim.model_copy(update={
        "max_archive_bytes": 10**12})))
    with pytest.raises(HarnessInputError, match="g.zip: more than 100,000 bytes once decompressed"):
        discover(big, tmp_path / "st4", limits)
    assert not any((tmp_path / "st4").iterdir())  # what was staged before the cap was passed is removed
    monkeypatch.undo()
    files = write_zip(tmp_path / "f.zip", [(f"alice/n{i}.md", b"x") for i in range(7)])
    assert "7 files" in discover(files, tmp_path / "st5", limits)[2]["alice"]
    (tmp_path / "junk.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(HarnessInputError, match="junk.zip"):
        discover(tmp_path / "junk.zip", tmp_path / "st6", limits)


def test_a_top_folder_that_is_a_student_is_not_stripped(assignment, tmp_path):
    z = write_zip(tmp_path / "c.zip", [("alice/classify.yaml", ydump(CLASSIFY)), ("alice/notes/a.md", b"x")])
    folders, problems, bad = discover(z, tmp_path / "st", assignment.spec.limits)
    assert list(folders) == ["alice"] and not bad and not problems
    assert isinstance(load_submission("alice", folders["alice"], assignment), Submission)


def test_staging_is_recreated_and_never_followed(assignment, tmp_path):
    staging = tmp_path / "st"
    (staging / "alice").mkdir(parents=True)
    (staging / "alice" / "stale.yaml").write_text("x")
    z = write_zip(tmp_path / "c.zip", [("alice/classify.yaml", ydump(CLASSIFY))])
    folders, _, _ = discover(z, staging, assignment.spec.limits)
    assert sorted(p.name for p in folders["alice"].iterdir()) == ["classify.yaml"]


def test_no_reason_echoes_long_content(assignment, tmp_path):
    junk = "Q" * 500
    cases = [{"classify.yaml": {**CLASSIFY, "version": junk}}, {"classify.yaml": {**CLASSIFY, junk: 1}},
             {"classify.yaml": {**CLASSIFY, "user": f"${junk}"}}, {"classify.yaml": {**CLASSIFY, "id": junk}},
             {"classify.yaml": {**CLASSIFY, "user": "{document." + "q" * 300 + "}"}},
             {"classify.yaml": f"id: !!python/object:{junk} x\n"}, {"settings.yaml": {junk: 1}},
             {"settings.yaml": {"retrieval": {"top_k": junk}}}, {f"{'Q' * 200}.bin": "x"},
             {"classify.yaml": {**CLASSIFY, "user": f"$document{'.' + 'Q' * 300}"}}]
    for i, files in enumerate(cases):
        reason = invalid(load_submission("alice", student(tmp_path / str(i), files=files), assignment))
        assert "Q" * 61 not in reason and "q" * 61 not in reason, reason
