"""Golden sets: load a directory, validate it against its manifest, hand out items.

A golden set is a directory with ``manifest.yaml``, ``documents.jsonl`` and ``qa.jsonl`` (see the README,
"Golden set format"). Every problem is raised as :class:`~harness.errors.HarnessInputError` naming the file,
the line and the field, so the CLI can stop with exit code 2 and one line of explanation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping

import yaml

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.bulk import gc_paused
from harness.errors import HarnessInputError
from harness.files import read_yaml_mapping_doc, validate
# the manifest's types live beside the record checks that read them; harness.golden is where callers find them
from harness.golden_records import DOC_KEYS, QA_KEYS, FieldSpec, Manifest, read_documents, read_qa  # noqa: F401
from harness.paths import safe_name

FIELD_TYPES = ("string", "date", "money", "enum", "list")
DOC_COLUMNS = (*DOC_KEYS, "summary")


@dataclass(frozen=True)
class Item:
    """One unit of work from a golden split: a document or a QA item."""
    id: str
    kind: Literal["document", "qa"]
    split: str
    text: str = ""
    label: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    summary: str | None = None
    question: str | None = None
    doc_ids: tuple[str, ...] = ()
    reference_answer: str | None = None
    reference_contexts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Records:
    """A golden set's validated records, column by column (one list per key, in file order).

    ``len``, iteration (a dict per record), :meth:`rows` of a split, :meth:`to_dict` (the columns, as fresh
    lists and dicts) and :meth:`select_columns`. Until 0.2.0 these were ``datasets.Dataset`` objects (pyarrow and pandas in every
    install, for a container); ``datasets.Dataset.from_dict(records.to_dict())`` builds one again.

    >>> r = Records.from_rows([{"id": "a", "fields": {"n": ["1"]}}, {"id": "b", "fields": {"n": None}}], ("id", "fields"))
    >>> len(r), r.to_dict()["id"], [row["fields"]["n"] for row in r]
    (2, ['a', 'b'], [['1'], None])
    """
    columns: Mapping[str, list]

    @classmethod
    def from_rows(cls, rows: list[dict], keys: tuple[str, ...]) -> "Records":
        return cls({k: [r[k] for r in rows] for k in keys})

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), ()))

    def __iter__(self) -> Iterator[dict]:
        return iter(self.rows())

    def to_dict(self) -> dict[str, list]:
        """The columns, copied down to their lists and dicts (a caller may change what it gets)."""
        return {k: [_copied(v) for v in col] for k, col in self.columns.items()}

    def select_columns(self, names: list[str]) -> "Records":
        return Records({k: self.columns[k] for k in names})

    def rows(self, split: str | None = None) -> list[dict]:
        """The records (of one split), in file order, as fresh dicts."""
        names = list(self.columns)
        at = names.index("split") if split is not None else 0
        return [dict(zip(names, map(_copied, values))) for values in zip(*self.columns.values())
                if split is None or values[at] == split]


def _copied(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


@dataclass(frozen=True)
class GoldenSet:
    root: Path
    manifest: Manifest
    documents: Records
    qa: Records

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def hash(self) -> str:
        return self.manifest.sha256

    def describe(self) -> dict:
        return {"name": self.manifest.name, "version": self.manifest.version, "sha256": self.manifest.sha256,
                "path": str(self.root.resolve())}

    def check_split(self, split: str) -> None:
        """Exit 2 (:class:`~harness.errors.HarnessInputError`, naming the manifest) unless ``split`` is one of the
        golden set's splits."""
        if split not in self.manifest.splits:
            raise HarnessInputError(f"unknown split {split!r}; this golden set has {', '.join(self.manifest.splits)}",
                                    path=self.root / "manifest.yaml", field="splits")

    def size(self, split: str) -> int:
        """How many items :meth:`items` gives for ``split`` (documents and QA items), counted without building
        them."""
        self.check_split(split)
        return sum(records.columns.get("split", []).count(split) for records in (self.documents, self.qa))

    def items(self, split: str, kinds: tuple[str, ...] = ("document", "qa"), *, copy: bool = True) -> list[Item]:
        """Items of one split, documents first then QA items, in file order. Each item's ``fields`` is a copy of
        the golden set's, so what a caller does to it stays with the caller; ``copy=False`` shares them, for a
        caller that only reads them (scoring)."""
        self.check_split(split)
        with gc_paused(kept=True):  # tens of thousands of small objects, no cycles (see harness.bulk)
            return self._items(split, kinds, copy)

    def _items(self, split: str, kinds: tuple[str, ...], copy: bool) -> list[Item]:
        out: list[Item] = []
        if "document" in kinds:
            cols = self.documents.columns  # column-wise: far faster than row by row; read, never changed
            out = [Item(id=i, kind="document", split=split, text=text, label=label,
                        fields=_copied(fields) if copy else fields, summary=summary)
                   for i, text, label, fields, summary, s in
                   zip(cols["id"], cols["text"], cols["label"], cols["fields"], cols["summary"], cols["split"])
                   if s == split]
        if "qa" in kinds:
            by_id = {}
            for row in self.qa.rows(split):
                if not by_id:
                    by_id = dict(zip(self.documents.columns["id"], self.documents.columns["text"]))
                out.append(Item(id=row["id"], kind="qa", split=split, question=row["question"],
                                doc_ids=tuple(row["doc_ids"]), reference_answer=row["reference_answer"],
                                reference_contexts=tuple(row["reference_contexts"]),
                                text="\n\n".join(by_id[d] for d in row["doc_ids"])))
        return out

    def documents_by_id(self) -> dict[str, dict]:
        return {row["id"]: row for row in self.documents}


# ---------------------------------------------------------------------------------------------- manifest
class _FieldFile(BaseModel):
    """One field of ``manifest.yaml``'s ``fields`` (see README, "Golden set format")."""
    model_config = ConfigDict(extra="forbid")
    type: Literal["string", "date", "money", "enum", "list"]
    description: str = ""
    values: list[str] = []
    aliases: dict[str, list[str]] = {}
    date_order: Literal["mdy", "dmy"] = "mdy"


class _FileEntry(BaseModel):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class _ManifestFile(BaseModel):
    """``manifest.yaml`` as a typed record: every golden set is checked against it when loaded."""
    model_config = ConfigDict(extra="allow")  # e.g. the generator's own notes
    name: str
    version: str
    description: str = ""
    labels: list[str] = Field(min_length=1)
    fields: dict[str, _FieldFile]
    splits: list[str] = Field(min_length=1)
    files: dict[Literal["documents.jsonl", "qa.jsonl"], _FileEntry]

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


def _load_manifest(root: Path) -> Manifest:
    path = root / "manifest.yaml"
    if not root.is_dir():
        raise HarnessInputError("golden set directory not found", path=root)
    if not path.is_file():
        raise HarnessInputError("missing manifest.yaml", path=root)
    doc = read_yaml_mapping_doc(path, "manifest")
    m = validate(_ManifestFile, doc.data, doc=doc)
    safe_name(m.name, path=path, field="name")
    if len(set(m.labels)) != len(m.labels):
        raise HarnessInputError("duplicate label", path=path, line=doc.line(("labels",)), field="labels")
    fields = {}
    for name, spec in m.fields.items():
        where = f"fields.{name}"
        line = doc.line(("fields", name))
        if spec.type == "enum" and not spec.values:
            raise HarnessInputError("an enum field needs 'values'", path=path, line=line, field=where)
        for canon in spec.aliases:
            if canon not in spec.values:
                raise HarnessInputError(f"alias target {canon!r} is not one of the values", path=path, line=line,
                                        field=where)
        fields[name] = FieldSpec(name=name, type=spec.type, description=spec.description, values=tuple(spec.values),
                                 aliases={k: tuple(v) for k, v in spec.aliases.items()}, date_order=spec.date_order)
    if "documents.jsonl" not in m.files:
        raise HarnessInputError("documents.jsonl is not listed", path=path, line=doc.line(("files",)), field="files")
    return Manifest(name=m.name, version=m.version, description=m.description, labels=tuple(m.labels),
                    fields=fields, splits=tuple(m.splits), files={k: v.sha256 for k, v in m.files.items()},
                    sha256=hashlib.sha256(doc.raw).hexdigest())


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _manifest_with_files(root: Path) -> Manifest:
    """The manifest, its data files listed and present."""
    manifest = _load_manifest(root)
    for name in manifest.files:
        if name not in ("documents.jsonl", "qa.jsonl"):
            raise HarnessInputError(f"unexpected data file {name!r}", path=root / "manifest.yaml", field="files")
        if not (root / name).is_file():
            raise HarnessInputError("listed in the manifest but missing", path=root / name)
    return manifest


def _verify_checksums(root: Path, manifest: Manifest) -> None:
    for name, expected in manifest.files.items():
        actual = file_sha256(root / name)
        if actual != expected:
            raise HarnessInputError(f"checksum mismatch: manifest says {expected[:12]}..., file is "
                                    f"{actual[:12]}... (run 'harness golden checksum {root}' after an "
                                    "intended edit)", path=root / name)


def golden_manifest(root: str | Path) -> Manifest:
    """The manifest of the golden set at ``root``, its data files checked against their checksums, without
    reading the records: what identifies the set (``Manifest.sha256``, which a run records as
    ``golden_sha256``) when nothing else of it is needed. A set that was loaded whole once under that hash has
    the same records now."""
    root = Path(root)
    manifest = _manifest_with_files(root)
    _verify_checksums(root, manifest)
    return manifest


def load_golden_set(root: str | Path, verify_checksums: bool = True) -> GoldenSet:
    """Load and validate a golden set directory.

    Records are checked line by line first (so a broken line is reported with its number), then each data
    file's sha256 is compared with the manifest. The validated records are held column by column
    (:class:`Records`); every document carries every field of the manifest's schema (None where absent).
    """
    root = Path(root)
    manifest = _manifest_with_files(root)
    seen: dict[str, str] = {}
    doc_rows = read_documents(root / "documents.jsonl", manifest, seen)
    qa_rows = (read_qa(root / "qa.jsonl", manifest, seen, {r["id"] for r in doc_rows})
               if "qa.jsonl" in manifest.files else [])
    if verify_checksums:
        _verify_checksums(root, manifest)
    return GoldenSet(root=root, manifest=manifest, documents=Records.from_rows(doc_rows, DOC_COLUMNS),
                     qa=Records.from_rows(qa_rows, QA_KEYS))


def write_checksums(root: str | Path) -> dict[str, str]:
    """Recompute the sha256 of each data file and rewrite the manifest's ``files`` section."""
    root = Path(root)
    path = root / "manifest.yaml"
    data = read_yaml_mapping_doc(path, "manifest").data
    names = [n for n in ("documents.jsonl", "qa.jsonl") if (root / n).is_file()]
    data["files"] = {n: {"sha256": file_sha256(root / n)} for n in names}
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return {n: v["sha256"] for n, v in data["files"].items()}


def default_golden() -> str:
    """The TechCorp golden set: the checkout's ``golden_sets/techcorp`` when run from one, else the installed one."""
    local = Path("golden_sets/techcorp")
    if (local / "manifest.yaml").is_file():
        return str(local)
    import golden_sets

    return str(Path(golden_sets.__file__).parent / "techcorp")
