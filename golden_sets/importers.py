"""Turn public labelled samples into golden sets in this project's format (for checking the harness on
documents nobody here wrote). The output goes wherever the user says; it is never committed.

``harness golden import sroie --src ../shared/realdata/sroie --out /tmp/sroie``
``harness golden import cuad --src ../shared/realdata/cuad --out /tmp/cuad``
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import yaml

from harness.errors import HarnessInputError
from harness.golden import write_checksums
from metrics.normalize import normalize_date, parse_money


def _write(out: Path, name: str, description: str, labels: list[str], fields: dict, docs: list[dict]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "documents.jsonl", "w", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    (out / "qa.jsonl").write_text("", encoding="utf-8")
    manifest = {"name": name, "version": "1.0.0", "description": description, "labels": labels, "fields": fields,
                "splits": sorted({d["split"] for d in docs}, key=["train", "test"].index), "files": {}}
    (out / "manifest.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True),
                                       encoding="utf-8")
    write_checksums(out)
    return out


def import_sroie(src: str | Path, out: str | Path, train_share: float = 0.7) -> Path:
    """SROIE receipts: one class, fields company / date / address / total."""
    src = Path(src)
    if not (src / "box").is_dir() or not (src / "key").is_dir():
        raise HarnessInputError("not an SROIE sample (expects box/ and key/)", path=src)
    ids = sorted(p.stem for p in (src / "key").glob("*.json") if (src / "box" / f"{p.stem}.csv").is_file())
    n_train = int(len(ids) * train_share)
    docs = []
    for i, stem in enumerate(ids):
        lines = []
        with open(src / "box" / f"{stem}.csv", encoding="utf-8", errors="replace") as fh:
            for row in fh:
                parts = row.rstrip("\n").split(",", 8)
                if len(parts) == 9:
                    lines.append(parts[8])
        key = json.loads((src / "key" / f"{stem}.json").read_text(encoding="utf-8"))
        date = normalize_date(key.get("date"), "dmy") if key.get("date") else None
        total = parse_money(key.get("total")) if key.get("total") else None
        docs.append({"id": f"sroie-{stem}", "split": "train" if i < n_train else "test", "text": "\n".join(lines),
                     "label": "receipt",
                     "fields": {"company": key.get("company") or None,
                                "date": date if date and len(date) == 10 and date[4] == "-" else None,
                                "address": key.get("address") or None,
                                "total": f"{total:.2f}" if total is not None else None}})
    fields = {"company": {"type": "string", "description": "merchant"},
              "date": {"type": "date", "description": "receipt date", "date_order": "dmy"},
              "address": {"type": "string", "description": "merchant address"},
              "total": {"type": "money", "description": "amount paid"}}
    return _write(Path(out), "sroie-sample", "ICDAR 2019 SROIE receipts (sample), imported", ["receipt"], fields,
                  docs)


def import_cuad(src: str | Path, out: str | Path) -> Path:
    """CUAD contracts: contract type classification, governing law field. Every third contract of a type is
    in the test split."""
    src = Path(src)
    types_csv = src / "contract_types.csv"
    if not types_csv.is_file():
        raise HarnessInputError("not a CUAD sample (expects contract_types.csv)", path=src)
    law = {}
    clauses = src / "master_clauses_sample.csv"
    if clauses.is_file():
        with open(clauses, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                law[Path(row["Filename"]).stem] = (row.get("Governing Law-Answer") or "").strip() or None
    with open(types_csv, encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: r["txt_file"])
    seen: dict[str, int] = {}
    docs = []
    for i, row in enumerate(rows):
        path = src / "full_contract_txt" / row["txt_file"]
        if not path.is_file():
            continue
        label = row["contract_type_normalised"]
        seen[label] = seen.get(label, 0) + 1
        docs.append({"id": f"cuad-{i:03d}", "split": "test" if seen[label] % 3 == 0 else "train",
                     "text": path.read_text(encoding="utf-8", errors="replace"), "label": label,
                     "fields": {"governing_law": law.get(Path(row["txt_file"]).stem)}})
    labels = sorted({d["label"] for d in docs})
    fields = {"governing_law": {"type": "string", "description": "governing law (as annotated)"}}
    return _write(Path(out), "cuad-sample", "CUAD v1 contracts (sample), imported", labels, fields, docs)


IMPORTERS = {"sroie": import_sroie, "cuad": import_cuad}
