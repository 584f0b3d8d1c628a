"""The MLOps model: TF-IDF + XGBoost classifier and a learned field extractor, saved without pickle.

Artifact directory (all JSON or xgboost's UBJ format, nothing that executes code on load)::

    artifact.json        version, training golden set, config, checksums of the other files
    vectorizer.json      TF-IDF vocabulary, idf weights and parameters
    classifier.ubj       XGBoost multi-class booster
    extractor.json       context-token vocabulary, per-field thresholds and candidate types
    field_<name>.ubj     one XGBoost ranker per field
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

import numpy as np
import xgboost as xgb
from pydantic import BaseModel, ConfigDict, Field
from sklearn.feature_extraction.text import TfidfVectorizer

from harness.errors import HarnessInputError
from harness.files import dumps_json, read_json, validate
from pipelines.mlops.features import N_NUMERIC
# the light part (versions, artifact.json, checksums) lives in version.py; these names stay reachable here
from pipelines.mlops.version import (MODEL_FORMAT, PIPELINE_VERSION, _sha, _verified,  # noqa: F401
                                     read_meta)


@dataclass(frozen=True)
class Artifact:
    """A loaded model, read-only."""
    root: Path
    meta: dict
    vectorizer: TfidfVectorizer
    classifier: xgb.Booster | None  # None when training saw a single class (it is then always predicted)
    labels: tuple[str, ...]
    vocab: Mapping[str, int]
    field_models: Mapping[str, xgb.Booster]  # over the feature matrix's ``columns`` (see _compact_models)
    field_types: Mapping[str, str]
    stoplist: frozenset[str]
    threshold: float
    n_jobs: int
    columns: np.ndarray  # the columns of the feature matrix some field model splits on

    @property
    def version(self) -> str:
        return self.meta["version"]



# ---------------------------------------------------------------------------------------------- persistence
def save(out_dir: Path, golden, config, vec, clf, labels, vocab, field_models, field_types, stoplist,
         train_seconds: float) -> Artifact:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vectorizer.json").write_text(dumps_json({
        "vocabulary": {t: int(i) for t, i in sorted(vec.vocabulary_.items(), key=lambda kv: kv[1])},
        "idf": [float(x) for x in vec.idf_],
        "params": {"ngram_range": list(vec.ngram_range), "sublinear_tf": vec.sublinear_tf, "lowercase": True}}))
    if clf is not None:
        clf.save_model(str(out_dir / "classifier.ubj"))
    for name, model in field_models.items():
        model.save_model(str(out_dir / f"field_{name}.ubj"))
    (out_dir / "extractor.json").write_text(dumps_json({
        "vocabulary": vocab, "field_types": field_types, "threshold": config.extractor.threshold,
        "stoplist": stoplist}))
    files = sorted(p.name for p in out_dir.iterdir() if p.name != "artifact.json")
    checksums = {name: _sha(out_dir / name) for name in files}
    digest = hashlib.sha256(json.dumps(checksums, sort_keys=True).encode()).hexdigest()
    meta = {"format": MODEL_FORMAT, "pipeline_version": PIPELINE_VERSION,
            "version": f"mlops-{PIPELINE_VERSION}+{digest[:12]}",
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "train_seconds": round(train_seconds, 2),
            "golden": golden.describe(), "labels": list(labels),
            "constant_label": None if clf is not None else _only_label(golden, labels),
            "config": {"classifier": config.classifier.model_dump(), "extractor": config.extractor.model_dump()},
            "files": checksums}
    (out_dir / "artifact.json").write_text(dumps_json(meta, indent=2))
    return load(out_dir, n_jobs=config.n_jobs)


def _only_label(golden, labels) -> str:
    return golden.items("train", kinds=("document",))[0].label


class _VectorizerParams(BaseModel):
    model_config = ConfigDict(strict=True)
    ngram_range: list[int] = Field(min_length=2, max_length=2)
    sublinear_tf: bool


class _VectorizerFile(BaseModel):
    """``vectorizer.json``."""
    model_config = ConfigDict(strict=True, allow_inf_nan=False)
    vocabulary: dict[str, int]
    idf: list[float]
    params: _VectorizerParams


class _ExtractorFile(BaseModel):
    """``extractor.json``."""
    model_config = ConfigDict(strict=True, allow_inf_nan=False)
    vocabulary: dict[str, int]
    field_types: dict[str, str]
    threshold: float = Field(ge=0, le=1)
    stoplist: list[str]


def _typed(model: type[BaseModel], path: Path):
    return validate(model, read_json(path, model.__doc__.strip("`. ")), path=path)


def _booster(path: Path, n_jobs: int) -> xgb.Booster:
    try:
        booster = xgb.Booster(model_file=str(path))
    except xgb.core.XGBoostError as exc:
        first = (str(exc).strip().splitlines() or ["unreadable"])[0]
        raise HarnessInputError(f"not an XGBoost model ({first[:160]}); retrain with 'harness train mlops'",
                                path=path) from None
    booster.set_param({"nthread": n_jobs})
    return booster


def load(root: Path, n_jobs: int = 2) -> Artifact:
    """Read a model folder: typed files, every needed file checked against its checksum (exit 2 naming the
    file otherwise)."""
    root = Path(root)
    meta = read_meta(root)
    base = ["vectorizer.json", "extractor.json"] + (["classifier.ubj"] if meta.constant_label is None else [])
    _verified(root, meta, base)
    vdata = _typed(_VectorizerFile, root / "vectorizer.json")
    edata = _typed(_ExtractorFile, root / "extractor.json")
    _verified(root, meta, [f"field_{name}.ubj" for name in edata.field_types])
    if len(vdata.idf) != len(vdata.vocabulary):
        raise HarnessInputError("idf and vocabulary differ in length", path=root / "vectorizer.json", field="idf")
    vec = TfidfVectorizer(vocabulary=vdata.vocabulary, ngram_range=tuple(vdata.params.ngram_range),
                          sublinear_tf=vdata.params.sublinear_tf, lowercase=True, dtype=np.float32)
    vec.idf_ = np.asarray(vdata.idf, dtype=np.float64)
    clf = _booster(root / "classifier.ubj", n_jobs) if meta.constant_label is None else None
    models = {name: _booster(root / f"field_{name}.ubj", n_jobs) for name in edata.field_types}
    columns, models = _compact_models(models, N_NUMERIC + len(edata.vocabulary))
    for m in models.values():
        m.set_param({"nthread": n_jobs})
    return Artifact(root=root, meta=meta.model_dump(), vectorizer=vec, classifier=clf, labels=tuple(meta.labels),
                    vocab=edata.vocabulary, field_models=models, field_types=edata.field_types,
                    stoplist=frozenset(edata.stoplist), threshold=edata.threshold, n_jobs=n_jobs,
                    columns=columns)


def _compact_models(models: Mapping[str, xgb.Booster], n_columns: int) -> tuple[np.ndarray, dict]:
    """(columns, models): the columns any field model splits on (a few hundred of the thousands of context
    tokens) and the models with their split features renumbered to those columns. A tree walks the same
    values to the same leaves, so every score is unchanged; prediction reads far narrower rows. Models of
    another kind than plain trees are kept as they are, over all columns."""
    dumps = {name: json.loads(m.save_raw("json")) for name, m in models.items()}
    boosters = [d["learner"]["gradient_booster"] for d in dumps.values()]
    trees = [t for b in boosters for t in b.get("model", {}).get("trees", [])]
    if any(b.get("name") != "gbtree" for b in boosters) or any(any(t.get("split_type", [])) for t in trees):
        return np.arange(n_columns), dict(models)
    used = sorted({f for t in trees for f, left in zip(t["split_indices"], t["left_children"]) if left != -1}) or [0]
    new_index = {f: i for i, f in enumerate(used)}
    out = {}
    for name, d in dumps.items():
        for t in d["learner"]["gradient_booster"]["model"]["trees"]:
            t["split_indices"] = [new_index[f] if left != -1 else 0
                                  for f, left in zip(t["split_indices"], t["left_children"])]
            t["tree_param"]["num_feature"] = str(len(used))
        d["learner"]["learner_model_param"]["num_feature"] = str(len(used))
        out[name] = xgb.Booster()
        out[name].load_model(bytearray(json.dumps(d).encode()))
    return np.asarray(used, dtype=np.int64), out
