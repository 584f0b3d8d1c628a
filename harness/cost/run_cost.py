"""A run's cost from what it measured: the ``cost`` section of ``metrics.json``.

* LLMOps: the recorded input and output tokens x the configured model's prices (``prices/*.yaml``, one file
  per provider/model; a local model costs 0, stated as such); where the run embedded, the embedding tokens
  (the index's tokens per indexed document x the run's documents, plus the questions' query tokens) x the
  embedding model's price.
* MLOps: the measured compute seconds of classify + extract x the instance price per hour.
* Both: the case study's monthly rows that no run measures (``runs.yaml`` names them) spread over the
  monthly volume, marked as fixed estimates.

``cost.per_document`` = measured cost / documents in the run + fixed rows / monthly volume;
``cost.total`` = the run's measured cost + its documents' share of the fixed rows;
``cost.monthly_projection`` = per document x the monthly volume. The judge's cost stays apart.
Money is Decimal inside and written as numbers rounded to 8 decimals. ``runs.yaml`` is typed
(:class:`SettingsFile`) and every price within its bound (:mod:`harness.cost.money`); the run's own figures are
bounded where the run store reads them (:mod:`harness.records`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Mapping

from pydantic import Field

from harness.config import StrictModel
from harness.cost.money import MAX_PRICE, MAX_QUANTITY, Where, money, rounded
from harness.errors import HarnessInputError
from harness.files import YamlDoc, read_yaml_mapping_doc, validate

DEFAULT_SETTINGS = Path(__file__).with_name("runs.yaml")


@dataclass(frozen=True)
class Price:
    usd: Decimal
    note: str


def _price(doc: YamlDoc, key: str) -> Price:
    entry = doc.data.get(key)
    where = Where(doc)
    if not isinstance(entry, dict) or "usd" not in entry:
        raise where.error(f"needs {key}: {{usd: ..., as_of: ..., source: ...}}", (key,), key)
    return Price(money(entry["usd"], where, (key, "usd"), f"{key}.usd", MAX_PRICE),
                 f"{entry.get('source', '?')} (as of {entry.get('as_of', '?')})")


class VolumeSpec(StrictModel):
    documents_per_month: int | float | str = Field(description="the monthly volume the fixed rows are spread over "
                                                   "and the month is projected to (an exact number, 1 .. 10^12, as "
                                                   "in the pricing file)")


class FixedSpec(StrictModel):
    table: str = Field(description="the pricing file's table whose rows stand in for what a run cannot measure")
    rows: list[str] = Field([], description="row ids of that table, spread over the volume")
    measured_replaces: dict[str, str] = Field({}, description="measured row title -> the table row it replaces "
                                              "when the run measured it")


class SettingsFile(StrictModel):
    """``runs.yaml``: how a run's measured usage becomes money."""
    volume: VolumeSpec = Field(description="the monthly volume")
    pricing: str = Field("techcorp.yaml", description="the pricing file of the fixed rows (relative to this file)")
    models: dict[str, str] = Field({}, description="'<provider>/<model id>' pattern -> price file")
    embeddings: dict[str, str] = Field({}, description="embedding model pattern -> price file (input_per_1k)")
    compute: str | None = Field(None, description="the MLOps compute price file (per_hour)")
    fixed: dict[str, FixedSpec] = Field({}, description="per pipeline: the table rows spread over the volume")


@dataclass(frozen=True)
class CostSettings:
    path: Path
    documents_per_month: Decimal
    models: Mapping[str, str]
    embeddings: Mapping[str, str]
    compute: str | None
    fixed: Mapping[str, FixedSpec]
    pricing: str

    def file(self, rel: str) -> Path:
        return (self.path.parent / rel).resolve()


def load_settings(path: str | Path | None = None) -> CostSettings:
    """Read and check ``runs.yaml`` (default: the shipped one); exit 2 naming the file, line and key."""
    path = Path(path) if path else DEFAULT_SETTINGS
    doc = read_yaml_mapping_doc(path, "cost settings")
    spec = validate(SettingsFile, doc.data, doc=doc)
    keys, field = ("volume", "documents_per_month"), "volume.documents_per_month"
    docs = money(spec.volume.documents_per_month, Where(doc), keys, field, MAX_QUANTITY)
    if docs < 1:
        raise Where(doc).error("must be at least 1", keys, field)
    return CostSettings(path=path, documents_per_month=docs, models=spec.models,
                        embeddings=spec.embeddings, compute=spec.compute, fixed=spec.fixed, pricing=spec.pricing)


def _price_file(table: Mapping[str, str], settings: CostSettings, key: str) -> tuple[YamlDoc, Path] | None:
    rel = next((f for pattern, f in table.items() if fnmatchcase(key, pattern)), None)
    if rel is None:
        return None
    path = settings.file(rel)
    return read_yaml_mapping_doc(path, "price file"), path


def model_prices(settings: CostSettings, key: str) -> tuple[Price, Price, Path] | None:
    """(input per 1K, output per 1K, price file) of the model ``provider/model id``; None when unpriced."""
    found = _price_file(settings.models, settings, key)
    if found is None:
        return None
    doc, path = found
    return _price(doc, "input_per_1k"), _price(doc, "output_per_1k"), path


def _embedding_row(record: Mapping, usage: Mapping, n_docs: int, settings: CostSettings,
                   files: dict) -> dict | None:
    """The measured embedding row, or None when the run embedded nothing (its table row then stands in)."""
    predictor = record.get("predictor") or {}
    name, index = predictor.get("embeddings"), predictor.get("index") or {}
    if not name or index.get("embedding_tokens") is None or not index.get("n_documents"):
        return None
    found = _price_file(settings.embeddings, settings, str(name))
    if found is None:
        return None
    doc, path = found
    price = _price(doc, "input_per_1k")
    files[path.name] = _sha(path)
    per_doc = Decimal(index["embedding_tokens"]) / Decimal(index["n_documents"])
    queries = Decimal(usage.get("embedding_tokens", 0))
    tokens = per_doc * n_docs + queries
    return {"row": "embedding tokens", "kind": "measured", "usd": tokens / 1000 * price.usd,
            "basis": f"{per_doc:.1f} tokens per indexed document ({index['embedding_tokens']} over "
                     f"{index['n_documents']}) x {n_docs} documents + {queries} query tokens x ${price.usd}/1K "
                     f"({name}; {price.note})"}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _num(d: Decimal | None) -> float | None:
    return None if d is None else float(rounded(d, "1E-8", ROUND_HALF_EVEN))


def _measured(record: Mapping, metrics: Mapping, settings: CostSettings,
              n_docs: int) -> tuple[list[dict], dict, str | None]:
    """(measured breakdown rows, price files used, reason when nothing can be measured)."""
    pipeline = str((record.get("predictor") or {}).get("name"))
    files: dict[str, str] = {}
    if pipeline == "mlops":
        if not settings.compute:
            return [], files, "no compute price configured (runs.yaml: compute)"
        path = settings.file(settings.compute)
        doc = read_yaml_mapping_doc(path, "price file")
        data = doc.data
        price = _price(doc, "per_hour")
        files[str(path.name)] = _sha(path)
        latency = metrics.get("latency") or {}
        seconds = sum(Decimal(str(latency[t]["mean"])) * latency[t]["n"] for t in ("classify", "extract")
                      if t in latency and latency[t].get("mean") is not None)
        usd = seconds / 3600 * price.usd
        return [{"row": "compute", "kind": "measured", "usd": usd, "basis":
                 f"{seconds:.3f} s of classify + extract x ${price.usd}/hour ({data.get('model')}; {price.note})"}], \
            files, None
    llm = (record.get("predictor") or {}).get("llm") or {}
    usage = metrics.get("usage")
    if not llm or usage is None:
        return [], files, "the run recorded no model usage to price"
    key = f"{llm.get('provider')}/{llm.get('model_id')}"
    found = model_prices(settings, key)
    if found is None:
        return [], files, f"no price file for model {key} (runs.yaml: models)"
    pin, pout, path = found
    files[str(path.name)] = _sha(path)
    tin, tout = Decimal(usage.get("input_tokens", 0)), Decimal(usage.get("output_tokens", 0))
    rows = [{"row": "model input tokens", "kind": "measured", "usd": tin / 1000 * pin.usd,
             "basis": f"{tin} tokens x ${pin.usd}/1K ({key}; {pin.note})"},
            {"row": "model output tokens", "kind": "measured", "usd": tout / 1000 * pout.usd,
             "basis": f"{tout} tokens x ${pout.usd}/1K ({key}; {pout.note})"}]
    embedding = _embedding_row(record, usage, n_docs, settings, files)
    return rows + ([embedding] if embedding else []), files, None


def cost_section(record: Mapping, metrics: Mapping, settings: CostSettings | None = None) -> dict:
    """The ``cost`` section for a run (``per_document`` None with a reason when it cannot be measured)."""
    from harness.cost.answer_key import compute_table
    from harness.cost.pricing import load_pricing

    settings = settings or load_settings()
    pipeline = str((record.get("predictor") or {}).get("name"))
    by_task = (metrics.get("counts") or {}).get("by_task") or {}
    n_docs = max((by_task.get(t, {}).get("expected", 0) for t in ("classify", "extract")), default=0)
    measured, files, reason = _measured(record, metrics, settings, n_docs)
    base = {"currency": "USD", "documents": n_docs, "volume_per_month": int(settings.documents_per_month),
            "settings": str(settings.path.name), "price_files": files}
    if reason or not n_docs:
        return {**base, "per_document": None, "total": None, "monthly_projection": None,
                "note": reason or "no documents in the run: cost per document is not measurable", "breakdown": []}
    fixed_conf = settings.fixed.get(pipeline)
    fixed_rows = []
    if fixed_conf:
        pricing_path = settings.file(settings.pricing)
        pricing = load_pricing(pricing_path)
        files[pricing_path.name] = pricing.sha256
        if fixed_conf.table not in pricing.tables:
            raise HarnessInputError(f"no table {fixed_conf.table!r} in {pricing_path}", path=settings.path,
                                    field=f"fixed.{pipeline}.table")
        table = compute_table(pricing.tables[fixed_conf.table], pricing.documents_per_month)
        amounts, titles = table.amounts, {r.row.id: r.row.title for r in table.rows}
        unknown = [r for r in fixed_conf.rows if r not in amounts]
        if unknown:
            raise HarnessInputError(f"no row {unknown[0]!r} in table {fixed_conf.table!r} of {pricing_path}",
                                    path=settings.path, field=f"fixed.{pipeline}.rows")
        replaced = {rid for row, rid in fixed_conf.measured_replaces.items() if any(m["row"] == row for m in measured)}
        for rid in [r for r in fixed_conf.rows if r not in replaced]:
            monthly = amounts[rid]
            fixed_rows.append({"row": titles[rid], "kind": "fixed estimate", "monthly_usd": monthly,
                               "usd": monthly / settings.documents_per_month * n_docs,
                               "basis": f"case study table {fixed_conf.table}, row {rid}: ${monthly:.2f}/month "
                                        f"/ {settings.documents_per_month} documents"})
    n = Decimal(n_docs)
    total = sum((r["usd"] for r in measured + fixed_rows), Decimal(0))
    per_doc = total / n
    breakdown = [{**r, "usd": _num(r["usd"]), "per_document": _num(r["usd"] / n),
                  **({"monthly_usd": _num(r["monthly_usd"])} if "monthly_usd" in r else {})}
                 for r in measured + fixed_rows]
    return {**base, "per_document": _num(per_doc), "total": _num(total),
            "measured": _num(sum((r["usd"] for r in measured), Decimal(0))),
            "monthly_projection": _num(per_doc * settings.documents_per_month), "breakdown": breakdown,
            "note": "measured rows from this run's usage; fixed rows are the case study's monthly estimates "
                    "spread over the volume"}


def cost_run(run_dir: str | Path, settings: CostSettings | None = None) -> dict:
    """Write the ``cost`` section of a run directory (every other section kept); returns ``metrics.json``."""
    from harness.store import RunStore

    store = RunStore(run_dir)
    return store.write_metrics({"cost": cost_section(store.read_run(), store.read_metrics(), settings)})
