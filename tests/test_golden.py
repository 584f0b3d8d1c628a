"""Golden set: reproducible generation, the TechCorp set's promised shape, and every malformed-input case."""

from __future__ import annotations

import collections
import json

import pytest

from conftest import TECHCORP, TINY_FIELDS, tiny_docs, write_golden
from golden_sets import generate
from golden_sets import techcorp_spec as S
from harness.golden import load_golden_set


COURSE = TECHCORP.parent / "course"


def test_techcorp_regenerates_byte_for_byte(tmp_path):
    generate.generate(tmp_path / "tc")
    for name in ("manifest.yaml", "documents.jsonl", "qa.jsonl"):
        assert (tmp_path / "tc" / name).read_bytes() == (TECHCORP / name).read_bytes(), name


def test_course_regenerates_byte_for_byte(tmp_path):
    manifest = generate.generate(tmp_path / "co", profile="course")
    for name in ("manifest.yaml", "documents.jsonl", "qa.jsonl"):
        assert (tmp_path / "co" / name).read_bytes() == (COURSE / name).read_bytes(), name
    assert manifest["name"] == "techcorp-course" and manifest["splits"] == ["dev", "grading"]


def test_generate_command_profiles(tmp_path, cli):
    code, out, _ = cli("golden", "generate", "--profile", "course", "--out", tmp_path / "co")
    assert code == 0 and "wrote" in out
    assert (tmp_path / "co" / "qa.jsonl").read_bytes() == (COURSE / "qa.jsonl").read_bytes()
    code, out, _ = cli("golden", "verify", tmp_path / "co")
    assert code == 0 and "techcorp-course" in out and "'dev': 18, 'grading': 32" in out


def test_course_splits_are_disjoint():
    """dev (shown to students) and grading (hidden) share no document, no text, and no QA item crosses over."""
    g = load_golden_set(COURSE)
    assert g.name == "techcorp-course" and g.manifest.splits == ("dev", "grading")
    docs = [json.loads(line) for line in (COURSE / "documents.jsonl").open()]
    by_split = {s: [d for d in docs if d["split"] == s] for s in ("dev", "grading")}
    assert len(by_split["dev"]) == len(S.CLASSES) and len(by_split["grading"]) == 2 * len(S.CLASSES)
    assert len(docs) == len(by_split["dev"]) + len(by_split["grading"])
    ids = {s: {d["id"] for d in rows} for s, rows in by_split.items()}
    texts = {s: {d["text"] for d in rows} for s, rows in by_split.items()}
    assert not ids["dev"] & ids["grading"] and not texts["dev"] & texts["grading"]
    assert not any(a in b or b in a for a in ids["dev"] for b in ids["grading"])
    for s, rows in by_split.items():
        assert {d["template_family"] for d in rows} == set(S.IN_DISTRIBUTION_FAMILIES), s
        summarised = [d["label"] for d in rows if d["summary"]]
        assert sorted(summarised) == sorted(S.CLASSES), s  # one reference summary per class
    qa = [json.loads(line) for line in (COURSE / "qa.jsonl").open()]
    assert collections.Counter(q["split"] for q in qa) == {"dev": 6, "grading": 8}
    assert [q["id"] for q in qa] == [f"qa-{i:04d}" for i in range(1, len(qa) + 1)]
    text_of = {d["id"]: d["text"] for d in docs}
    for q in qa:
        assert q["doc_ids"] and set(q["doc_ids"]) <= ids[q["split"]], q["id"]
        assert all(c in text_of[q["doc_ids"][0]] for c in q["reference_contexts"]), q["id"]


def test_techcorp_shape():
    g = load_golden_set(TECHCORP)
    assert len(g.manifest.labels) == 12 and len(g.manifest.fields) == 15
    types = {f.type for f in g.manifest.fields.values()}
    assert types == {"string", "date", "money", "enum", "list"}
    docs = [json.loads(line) for line in (TECHCORP / "documents.jsonl").open()]
    per = collections.Counter((d["split"], d["label"]) for d in docs)
    for label in g.manifest.labels:
        assert per[("train", label)] >= 200 and per[("test", label)] >= 50 and per[("shift", label)] >= 20
    fams = collections.defaultdict(set)
    for d in docs:
        fams[(d["split"], d["label"])].add(d["template_family"])
    for label in g.manifest.labels:
        assert len(fams[("train", label)]) >= 4
        # shift is built only from families never seen in training
        assert fams[("shift", label)] and not fams[("shift", label)] & fams[("train", label)]
    qa = g.items("test", kinds=("qa",))
    assert len(qa) >= 120 and all(q.reference_contexts and q.reference_answer for q in qa)
    test_ids = {d["id"] for d in docs if d["split"] == "test"}
    assert all(set(q.doc_ids) <= test_ids for q in qa)
    # every gold supporting passage is really in its document
    by_id = {d["id"]: d["text"] for d in docs}
    assert all(c in by_id[q.doc_ids[0]] for q in qa for c in q.reference_contexts)
    assert sum(1 for d in docs if d["summary"]) >= 40
    # not every field applies to every class
    nulls = collections.Counter(k for d in docs for k, v in d["fields"].items() if v is None)
    assert all(nulls[f] > 0 for f in S.FIELDS if f != "issuer_name")


def test_gold_values_appear_in_text():
    """Every non-null string gold value is printed in its document (noise never touches values)."""
    for line in (TECHCORP / "documents.jsonl").open():
        d = json.loads(line)
        for name in ("document_number", "issuer_name", "recipient_name", "po_reference"):
            if d["fields"][name]:
                assert d["fields"][name] in d["text"], (d["id"], name)


def _problem(tmp_path, cli, mutate_docs=None, raw=None, qa=None, after=None):
    docs = tiny_docs()
    if mutate_docs:
        mutate_docs(docs)
    root = write_golden(tmp_path / "g", docs=docs, raw_docs=raw, qa=qa)
    if after:
        after(root)
    code, out, err = cli("golden", "verify", root)
    assert code == 2, (out, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    return err.strip()


def test_broken_json_line(tmp_path, cli):
    lines = [json.dumps(d) for d in tiny_docs()]
    lines[4] = lines[4][:-5]
    err = _problem(tmp_path, cli, raw=("\n".join(lines) + "\n").encode())
    assert "documents.jsonl:5:" in err and "broken JSON" in err


def test_missing_key(tmp_path, cli):
    err = _problem(tmp_path, cli, mutate_docs=lambda d: d[2].pop("label"))
    assert "documents.jsonl:3: label: missing key" in err


def test_unknown_label(tmp_path, cli):
    err = _problem(tmp_path, cli, mutate_docs=lambda d: d[6].update(label="memo"))
    assert "documents.jsonl:7: label: unknown label 'memo'" in err


def test_field_not_in_schema(tmp_path, cli):
    err = _problem(tmp_path, cli, mutate_docs=lambda d: d[0]["fields"].update(colour="red"))
    assert "documents.jsonl:1: fields.colour: field not in the manifest's schema" in err


@pytest.mark.parametrize("field,value,expect", [
    ("date", "13/45/2024", "expected an ISO date"),
    ("date", "2024-02-30", "not a calendar date"),
    ("total", "ten", "expected a decimal amount"),
    ("currency", "JPY", "'JPY' is not one of USD, EUR"),
    ("codes", "AB-1", "expected a list of strings"),
    ("number", 12, "expected a string"),
])
def test_wrong_type(tmp_path, cli, field, value, expect):
    err = _problem(tmp_path, cli, mutate_docs=lambda d: d[1]["fields"].update({field: value}))
    assert f"documents.jsonl:2: fields.{field}: {expect}" in err


def test_duplicate_id(tmp_path, cli):
    err = _problem(tmp_path, cli, mutate_docs=lambda d: d[9].update(id=d[3]["id"]))
    assert "documents.jsonl:10: id: duplicate id 'd003' (first seen at documents.jsonl:4)" in err


def test_duplicate_id_across_files(tmp_path, cli):
    qa = [{"id": "d000", "split": "test", "doc_ids": ["d012"], "question": "q", "reference_answer": "a",
           "reference_contexts": []}]
    err = _problem(tmp_path, cli, qa=qa)
    assert "qa.jsonl:1: id: duplicate id 'd000'" in err


def test_checksum_mismatch(tmp_path, cli):
    def edit(root):
        data = (root / "documents.jsonl").read_text().replace("N-005", "N-555")
        (root / "documents.jsonl").write_text(data)

    err = _problem(tmp_path, cli, after=edit)
    assert "documents.jsonl: checksum mismatch" in err and "harness golden checksum" in err


def test_checksum_command_repairs(tmp_path, cli):
    root = write_golden(tmp_path / "g")
    (root / "documents.jsonl").write_text((root / "documents.jsonl").read_text().replace("N-005", "N-555"))
    assert cli("golden", "verify", root)[0] == 2
    assert cli("golden", "checksum", root)[0] == 0
    code, out, _ = cli("golden", "verify", root)
    assert code == 0 and "ok: tiny" in out


def test_non_utf8(tmp_path, cli):
    raw = "".join(json.dumps(d) + "\n" for d in tiny_docs()).encode()
    lines = raw.split(b"\n")
    lines[7] = lines[7].replace(b"Receipt", b"Re\xffceipt", 1)
    err = _problem(tmp_path, cli, raw=b"\n".join(lines))
    assert "documents.jsonl:8: not valid UTF-8" in err


def test_qa_unknown_document(tmp_path, cli):
    qa = [{"id": "q1", "split": "test", "doc_ids": ["nope"], "question": "q", "reference_answer": "a",
           "reference_contexts": []}]
    err = _problem(tmp_path, cli, qa=qa)
    assert "qa.jsonl:1: doc_ids: unknown document id 'nope'" in err


def test_bad_manifest_yaml(tmp_path, cli):
    def edit(root):
        (root / "manifest.yaml").write_text("name: x\nlabels: [a, b\n")

    err = _problem(tmp_path, cli, after=edit)
    assert "manifest.yaml:" in err and "invalid YAML" in err


def test_missing_directory(tmp_path, cli):
    code, _, err = cli("golden", "verify", tmp_path / "nope")
    assert code == 2 and "golden set directory not found" in err


def test_items_are_typed_and_ordered(tiny_golden):
    g = load_golden_set(tiny_golden)
    items = g.items("test")
    assert [i.kind for i in items] == ["document"] * 6 + ["qa"]
    assert items[0].fields["codes"] == ["AB-112"] and items[0].fields["total"] == "125.50"
    assert "Total: EUR 125.50" in items[-1].text  # a QA item carries its documents' text
    contract = next(i for i in items if i.label == "contract")
    assert contract.fields["codes"] is None and set(contract.fields) == set(TINY_FIELDS)  # every schema field
