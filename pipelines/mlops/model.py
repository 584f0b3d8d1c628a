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
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import scipy.sparse as sp
import xgboost as xgb
from sklearn.feature_extraction.text import TfidfVectorizer

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import HarnessInputError
from harness.files import dumps_json, read_json, validate
from metrics.normalize import normalize_value
from pipelines.mlops.candidates import (FIELD_CANDIDATE_TYPES, N_NUMERIC, Candidate, candidate_features,
                                        enum_patterns, find_candidates)

MODEL_FORMAT = 1
PIPELINE_VERSION = "1.2.0"  # bump when features change: old artifacts are then retrained


@dataclass(frozen=True)
class Artifact:
    """A loaded model, read-only."""
    root: Path
    meta: dict
    vectorizer: TfidfVectorizer
    classifier: xgb.Booster | None  # None when training saw a single class (it is then always predicted)
    labels: tuple[str, ...]
    vocab: Mapping[str, int]
    field_models: Mapping[str, xgb.Booster]
    field_types: Mapping[str, str]
    stoplist: frozenset[str]
    threshold: float
    n_jobs: int

    @property
    def version(self) -> str:
        return self.meta["version"]


# ---------------------------------------------------------------------------------------------- classifier
def _vectorizer(cfg) -> TfidfVectorizer:
    return TfidfVectorizer(max_features=cfg.max_features, ngram_range=(1, cfg.ngram_max), min_df=cfg.min_df,
                           sublinear_tf=cfg.sublinear_tf, lowercase=True, dtype=np.float32)


def classify(artifact: Artifact, texts: Sequence[str]) -> list[str]:
    if artifact.classifier is None:
        return [artifact.meta["constant_label"]] * len(texts)
    X = artifact.vectorizer.transform(texts)
    proba = artifact.classifier.inplace_predict(X)
    return [artifact.labels[i] for i in np.asarray(proba).reshape(len(texts), -1).argmax(axis=1)]


# ---------------------------------------------------------------------------------------------- extractor
def _matrix(numeric: list[list[float]], tokens: list[list[str]], vocab: Mapping[str, int]) -> sp.csr_matrix:
    """Numeric columns first, then one 0/1 column per known context token."""
    get = vocab.get
    indptr, indices = [0], []
    for toks in tokens:
        cols = {k for k in map(get, toks) if k is not None}
        indices.extend(sorted(cols))
        indptr.append(len(indices))
    ind = np.asarray(indices, dtype=np.int32)
    token_part = sp.csr_matrix((np.ones(len(ind), dtype=np.float32), ind, np.asarray(indptr, dtype=np.int64)),
                               shape=(len(tokens), len(vocab)))
    dense = sp.csr_matrix(np.asarray(numeric, dtype=np.float32).reshape(len(tokens), N_NUMERIC))
    return sp.hstack([dense, token_part], format="csr")


def _groups(cands: Sequence[Candidate]) -> dict[tuple[str, str | None], np.ndarray]:
    """Row indices of the candidates of each (type, enum field)."""
    out: dict[tuple[str, str | None], list[int]] = {}
    for i, c in enumerate(cands):
        out.setdefault((c.type, c.enum_field), []).append(i)
    return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}


def _eligible_rows(groups, field: str, ftype: str) -> np.ndarray:
    parts = [rows for (typ, enum_field), rows in groups.items()
             if typ in FIELD_CANDIDATE_TYPES[ftype] and (typ != "enum" or enum_field == field)]
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def _eligible(c: Candidate, field: str, ftype: str) -> bool:
    if c.type not in FIELD_CANDIDATE_TYPES[ftype]:
        return False
    return c.type != "enum" or c.enum_field == field


def _output_value(c: Candidate, spec) -> object:
    """What the extractor emits for a chosen span: the canonical value for dates, money and enums
    (ISO date, decimal amount, enum value), the span text otherwise."""
    if spec.type in ("date", "money", "enum"):
        return normalize_value(c.text, spec.type, spec)
    return c.text.strip()


def extract(artifact: Artifact, texts: Sequence[str], doc_classes: Sequence[str], fields_schema: Mapping
            ) -> list[dict]:
    enum_res = enum_patterns(fields_schema)
    per_doc = []
    all_num, all_tok, owner = [], [], []
    for d, (text, cls) in enumerate(zip(texts, doc_classes)):
        cands = [c for c in find_candidates(text, enum_res) if not _stopped(c, artifact.stoplist)]
        num, tok = candidate_features(text, cands, cls)
        per_doc.append(cands)
        all_num.extend(num)
        all_tok.extend(tok)
        owner.extend([d] * len(cands))
    X = _matrix(all_num, all_tok, artifact.vocab)
    flat = [c for cands in per_doc for c in cands]
    owner_arr = np.asarray(owner)
    groups = _groups(flat)
    results = [{name: None for name in fields_schema} for _ in texts]
    for name, spec in fields_schema.items():
        model = artifact.field_models.get(name)
        if model is None:
            continue
        rows = _eligible_rows(groups, name, spec.type)
        if rows.size == 0:
            continue
        scores = np.asarray(model.inplace_predict(X[rows]))
        if spec.type == "list":
            picked: dict[int, list] = {}
            for r, s in zip(rows, scores):
                if s >= artifact.threshold:
                    val = _output_value(flat[r], spec)
                    lst = picked.setdefault(owner_arr[r], [])
                    if val not in lst:
                        lst.append(val)
            for d, lst in picked.items():
                results[d][name] = lst
            continue
        keep = scores >= artifact.threshold
        rows, scores = rows[keep], scores[keep]
        owners = owner_arr[rows]
        order = np.lexsort((-scores, owners))  # by document, best score first
        first = np.ones(len(order), dtype=bool)
        first[1:] = owners[order][1:] != owners[order][:-1]
        for r in rows[order][first]:
            results[owner_arr[r]][name] = _output_value(flat[r], spec)
    return results


# ---------------------------------------------------------------------------------------------- training
def _xgb_params(cfg, n_jobs: int, **extra) -> dict:
    return {"max_depth": cfg.max_depth, "eta": cfg.learning_rate, "tree_method": "hist", "nthread": n_jobs,
            "seed": cfg.seed, **extra}


def train(golden, config, out_dir: Path, progress=print) -> Artifact:
    """Train on the golden set's ``train`` split and write the artifact to ``out_dir``."""
    if "train" not in golden.manifest.splits:
        raise HarnessInputError("the MLOps pipeline trains on a 'train' split; this golden set has none",
                                path=golden.root / "manifest.yaml", field="splits")
    t0 = time.perf_counter()
    docs = golden.items("train", kinds=("document",))
    labels = golden.manifest.labels
    texts = [d.text for d in docs]
    y = np.asarray([labels.index(d.label) for d in docs])
    ccfg, ecfg = config.classifier, config.extractor
    progress(f"training classifier on {len(docs)} documents ...")
    vec = _vectorizer(ccfg)
    X = vec.fit_transform(texts)
    if len(set(y.tolist())) > 1:
        clf = xgb.train(_xgb_params(ccfg, config.n_jobs, objective="multi:softprob", num_class=len(labels)),
                        xgb.DMatrix(X, label=y), num_boost_round=ccfg.n_estimators)
    else:
        clf = None
        progress(f"only one class in training ({labels[y[0]]!r}): the classifier always predicts it")

    progress("building extraction candidates ...")
    schema = golden.manifest.fields
    enum_res = enum_patterns(schema)
    per_doc = [(d, find_candidates(d.text, enum_res)) for d in docs]
    # label every candidate for every field it is eligible for
    labelled: list[dict[str, int]] = []  # per document: candidate index -> bitmask of fields it is right for
    field_names = list(schema)
    for d, cands in per_doc:
        gold = {}
        for name, spec in schema.items():
            g = d.fields.get(name)
            gold[name] = (set(normalize_value(v, "string") for v in g) if spec.type == "list" and g
                          else normalize_value(g, spec.type, spec))
        hits: dict[int, int] = {}
        for i, c in enumerate(cands):
            for k, name in enumerate(field_names):
                spec = schema[name]
                if gold[name] is None or not _eligible(c, name, spec.type):
                    continue
                if spec.type == "list":
                    pos = normalize_value(c.text, "string") in gold[name]
                else:
                    pos = normalize_value(c.text, spec.type, spec) == gold[name]
                if pos:
                    hits[i] = hits.get(i, 0) | (1 << k)
        labelled.append(hits)
    stoplist = _learn_stoplist(per_doc, labelled, min_count=ecfg.min_count)
    progress(f"learned {len(stoplist)} single-word spans that are never a value; they are not proposed")
    rows_num, rows_tok, cand_rows = [], [], []
    for (d, cands), hits in zip(per_doc, labelled):
        keep = [i for i, c in enumerate(cands) if not _stopped(c, stoplist)]
        kept_cands = [cands[i] for i in keep]
        num, tok = candidate_features(d.text, kept_cands, d.label)
        rows_num.extend(num)
        rows_tok.extend(tok)
        cand_rows.extend((c, hits.get(i, 0)) for i, c in zip(keep, kept_cands))
    freq: dict[str, int] = {}
    for toks in rows_tok:
        for t in set(toks):
            freq[t] = freq.get(t, 0) + 1
    kept = sorted((t for t, n in freq.items() if n >= ecfg.min_count), key=lambda t: (-freq[t], t))
    vocab = {t: i for i, t in enumerate(kept[:ecfg.context_vocab])}
    Xc = _matrix(rows_num, rows_tok, vocab)
    groups = _groups([c for c, _ in cand_rows])
    masks = np.asarray([m for _, m in cand_rows], dtype=np.int64)
    field_models, field_types = {}, {}
    for k, (name, spec) in enumerate(schema.items()):
        rows = _eligible_rows(groups, name, spec.type)
        ys = (masks[rows] >> k) & 1
        if rows.size == 0 or ys.sum() == 0:
            continue
        progress(f"training extractor for {name} ({len(rows)} candidates, {int(ys.sum())} positive) ...")
        dm = xgb.DMatrix(Xc[rows], label=ys)
        field_models[name] = xgb.train(_xgb_params(ecfg, config.n_jobs, objective="binary:logistic"), dm,
                                       num_boost_round=ecfg.n_estimators)
        field_types[name] = spec.type
    return save(out_dir, golden, config, vec, clf, labels, vocab, field_models, field_types, stoplist,
                train_seconds=time.perf_counter() - t0)


def _learn_stoplist(per_doc, labelled, min_count: int) -> list[str]:
    """Single-word name spans seen at least ``min_count`` times in training and never the value of any
    field (``Total``, ``Please``, ``USD`` ...): a learned first-stage filter that keeps prediction fast."""
    seen: dict[str, int] = {}
    positive: set[str] = set()
    for (_, cands), hits in zip(per_doc, labelled):
        for i, c in enumerate(cands):
            if c.type != "name" or " " in c.text:
                continue
            key = c.text.casefold()
            seen[key] = seen.get(key, 0) + 1
            if hits.get(i):
                positive.add(key)
    return sorted(k for k, n in seen.items() if n >= min_count and k not in positive)


def _stopped(c: Candidate, stoplist) -> bool:
    return c.type == "name" and " " not in c.text and c.text.casefold() in stoplist


# ---------------------------------------------------------------------------------------------- persistence
def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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


class _ArtifactFile(BaseModel):
    """``artifact.json``."""
    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)
    format: int
    pipeline_version: str
    version: str
    labels: list[str] = Field(min_length=1)
    constant_label: str | None = None
    files: dict[str, str]
    config: dict = {}


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


def _verified(root: Path, meta: _ArtifactFile, required: Sequence[str]) -> str:
    """Check every file the model needs against ``artifact.json``'s checksums; return the digest of the files
    as they are. The file that lists the checksums cannot switch them off: the files needed come from the
    code, and the digest (recorded in every run as the model version) is computed, not read."""
    meta_path = root / "artifact.json"
    for name in required:
        if name not in meta.files:
            raise HarnessInputError(f"{name} is not covered by the artifact's checksums; retrain with "
                                    "'harness train mlops'", path=meta_path, field="files")
    actual = {}
    for name, digest in meta.files.items():
        if "/" in name or name.startswith(".") or not (root / name).is_file() or _sha(root / name) != digest:
            raise HarnessInputError("artifact file missing or modified (checksum mismatch); retrain with "
                                    "'harness train mlops'", path=root / name)
        actual[name] = digest
    digest = hashlib.sha256(json.dumps(actual, sort_keys=True).encode()).hexdigest()
    if not meta.version.endswith(f"+{digest[:12]}"):
        raise HarnessInputError(f"version {meta.version!r} does not match the artifact's files "
                                f"(+{digest[:12]}); retrain with 'harness train mlops'", path=meta_path,
                                field="version")
    return digest


def load(root: Path, n_jobs: int = 2) -> Artifact:
    """Read a model folder: typed files, every needed file checked against its checksum (exit 2 naming the
    file otherwise)."""
    root = Path(root)
    meta_path = root / "artifact.json"
    if not meta_path.is_file():
        raise HarnessInputError("not an MLOps model artifact (no artifact.json)", path=root)
    meta = _typed(_ArtifactFile, meta_path)
    if meta.format != MODEL_FORMAT:
        raise HarnessInputError(f"unsupported artifact format {meta.format!r}", path=meta_path, field="format")
    if meta.pipeline_version != PIPELINE_VERSION:
        raise HarnessInputError(f"artifact built by pipeline {meta.pipeline_version}, this is {PIPELINE_VERSION}; "
                                "retrain with 'harness train mlops'", path=meta_path, field="pipeline_version")
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
    return Artifact(root=root, meta=meta.model_dump(), vectorizer=vec, classifier=clf, labels=tuple(meta.labels),
                    vocab=edata.vocabulary, field_models=models, field_types=edata.field_types,
                    stoplist=frozenset(edata.stoplist), threshold=edata.threshold, n_jobs=n_jobs)
