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
from pipelines.mlops.candidates import (FIELD_CANDIDATE_TYPES, N_NUMERIC, TYPE_CODE, Candidates, TokenFeatures,
                                        candidate_features, enum_patterns, find_candidates, join_texts)

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
    field_models: Mapping[str, xgb.Booster]  # over the feature matrix's ``columns`` (see _compact_models)
    field_types: Mapping[str, str]
    stoplist: frozenset[str]
    threshold: float
    n_jobs: int
    columns: np.ndarray  # the columns of the feature matrix some field model splits on

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
def _matrix(numeric: np.ndarray, tokens: TokenFeatures, vocab: Mapping[str, int]) -> sp.csr_matrix:
    """Numeric columns first, then one 0/1 column per known context token."""
    lookup = np.asarray([vocab.get(t, -1) for t in tokens.names] or [-1], dtype=np.int64)
    cols = lookup[tokens.keys]
    known = cols >= 0
    rows, cols = tokens.rows[known], cols[known]
    order = np.lexsort((cols, rows))  # each row's columns in increasing order
    indptr = np.zeros(len(numeric) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(numeric)), out=indptr[1:])
    ind = cols[order].astype(np.int32)
    token_part = sp.csr_matrix((np.ones(len(ind), dtype=np.float32), ind, indptr), shape=(len(numeric), len(vocab)))
    dense = sp.csr_matrix(numeric.reshape(len(numeric), N_NUMERIC))
    return sp.hstack([dense, token_part], format="csr")


def _eligible_rows(cands: Candidates, field: str, ftype: str) -> np.ndarray:
    """Rows of the candidates a field's model scores: those of the field type's candidate types (for an enum
    field, the spans of its own values and aliases)."""
    ok = np.isin(cands.type, [TYPE_CODE[t] for t in FIELD_CANDIDATE_TYPES[ftype]])
    if ftype == "enum":
        own = cands.enum_fields.index(field) if field in cands.enum_fields else -2
        ok &= cands.enum == own
    return np.flatnonzero(ok)


def _output_value(text: str, spec) -> object:
    """What the extractor emits for a chosen span: the canonical value for dates, money and enums
    (ISO date, decimal amount, enum value), the span text otherwise."""
    if spec.type in ("date", "money", "enum"):
        return normalize_value(text, spec.type, spec)
    return text.strip()


def _candidates(artifact: Artifact, texts: Sequence[str], doc_classes: Sequence[str | None], fields_schema
                ) -> tuple[Candidates, sp.csr_matrix]:
    """The batch's candidates (without the stoplist's) and their feature matrix (the columns the field models
    split on)."""
    batch = join_texts(texts)
    cands = find_candidates(batch, enum_patterns(fields_schema))
    cands = cands.take(~_stopped(cands, artifact.stoplist))
    numeric, tokens = candidate_features(batch, cands, doc_classes)
    return cands, _matrix(numeric, tokens, artifact.vocab)[:, artifact.columns]


def extract(artifact: Artifact, texts: Sequence[str], doc_classes: Sequence[str | None], fields_schema: Mapping
            ) -> list[dict]:
    """Field values of each document: per field, its model's best-scoring candidate when the score reaches
    the threshold (every candidate that reaches it, in text order, for a list field), else None."""
    results = [{name: None for name in fields_schema} for _ in texts]
    if not texts:
        return results
    cands, X = _candidates(artifact, texts, doc_classes, fields_schema)
    for name, spec in fields_schema.items():
        model = artifact.field_models.get(name)
        if model is None:
            continue
        rows = _eligible_rows(cands, name, spec.type)
        if rows.size == 0:
            continue
        scores = np.asarray(model.inplace_predict(X[rows]))
        keep = scores >= artifact.threshold
        rows, scores = rows[keep], scores[keep]
        owners = cands.doc[rows]
        if spec.type == "list":
            for r, d in zip(rows.tolist(), owners.tolist()):
                lst = results[d][name] = results[d][name] or []
                val = _output_value(cands.text[r], spec)
                if val not in lst:
                    lst.append(val)
            continue
        order = np.lexsort((-scores, owners))  # by document, best score first
        first = np.ones(len(order), dtype=bool)
        first[1:] = owners[order][1:] != owners[order][:-1]
        for r in rows[order][first].tolist():
            results[cands.doc[r]][name] = _output_value(cands.text[r], spec)
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
    progress(f"training classifier on {len(docs)} documents ...")
    vec, clf = _train_classifier(docs, labels, config, progress)
    progress("building extraction candidates ...")
    vocab, field_models, field_types, stoplist = _train_extractor(docs, golden.manifest.fields, config, progress)
    return save(out_dir, golden, config, vec, clf, labels, vocab, field_models, field_types, stoplist,
                train_seconds=time.perf_counter() - t0)


def _train_classifier(docs, labels, config, progress) -> tuple[TfidfVectorizer, xgb.Booster | None]:
    ccfg = config.classifier
    y = np.asarray([labels.index(d.label) for d in docs])
    vec = _vectorizer(ccfg)
    X = vec.fit_transform([d.text for d in docs])
    if len(set(y.tolist())) > 1:
        clf = xgb.train(_xgb_params(ccfg, config.n_jobs, objective="multi:softprob", num_class=len(labels)),
                        xgb.DMatrix(X, label=y), num_boost_round=ccfg.n_estimators)
        return vec, clf
    progress(f"only one class in training ({labels[y[0]]!r}): the classifier always predicts it")
    return vec, None


def _label_candidates(docs, cands: Candidates, schema) -> np.ndarray:
    """Per candidate: a bitmask of the fields (in schema order) whose gold value it is."""
    gold = []
    for d in docs:
        g = {}
        for name, spec in schema.items():
            v = d.fields.get(name)
            g[name] = (set(normalize_value(x, "string") for x in v) if spec.type == "list" and v
                       else normalize_value(v, spec.type, spec))
        gold.append(g)
    eligible = [(k, name, spec, set(_eligible_rows(cands, name, spec.type).tolist()))
                for k, (name, spec) in enumerate(schema.items())]
    hits = np.zeros(len(cands), dtype=np.int64)
    for i, (d, text) in enumerate(zip(cands.doc.tolist(), cands.text)):
        for k, name, spec, rows in eligible:
            want = gold[d][name]
            if want is None or i not in rows:
                continue
            if spec.type == "list":
                pos = normalize_value(text, "string") in want
            else:
                pos = normalize_value(text, spec.type, spec) == want
            if pos:
                hits[i] |= 1 << k
    return hits


def _train_extractor(docs, schema, config, progress) -> tuple[dict, dict, dict, list[str]]:
    """(context vocabulary, field models, field types, stoplist) learned from the training documents."""
    ecfg = config.extractor
    batch = join_texts([d.text for d in docs])
    cands = find_candidates(batch, enum_patterns(schema))
    hits = _label_candidates(docs, cands, schema)
    stoplist = _learn_stoplist(cands, hits, min_count=ecfg.min_count)
    progress(f"learned {len(stoplist)} single-word spans that are never a value; they are not proposed")
    keep = ~_stopped(cands, stoplist)
    cands, masks = cands.take(keep), hits[keep]
    numeric, tokens = candidate_features(batch, cands, [d.label for d in docs])
    freq = np.bincount(tokens.keys, minlength=len(tokens.names))  # rows holding each token
    kept = [t for _, t in sorted((-n, t) for t, n in zip(tokens.names, freq.tolist()) if n >= ecfg.min_count)]
    vocab = {t: i for i, t in enumerate(kept[:ecfg.context_vocab])}
    Xc = _matrix(numeric, tokens, vocab)
    field_models, field_types = {}, {}
    for k, (name, spec) in enumerate(schema.items()):
        rows = _eligible_rows(cands, name, spec.type)
        ys = (masks[rows] >> k) & 1
        if rows.size == 0 or ys.sum() == 0:
            continue
        progress(f"training extractor for {name} ({len(rows)} candidates, {int(ys.sum())} positive) ...")
        dm = xgb.DMatrix(Xc[rows], label=ys)
        field_models[name] = xgb.train(_xgb_params(ecfg, config.n_jobs, objective="binary:logistic"), dm,
                                       num_boost_round=ecfg.n_estimators)
        field_types[name] = spec.type
    return vocab, field_models, field_types, stoplist


def _learn_stoplist(cands: Candidates, hits: np.ndarray, min_count: int) -> list[str]:
    """Single-word name spans seen at least ``min_count`` times in training and never the value of any
    field (``Total``, ``Please``, ``USD`` ...): a learned first-stage filter that keeps prediction fast."""
    seen: dict[str, int] = {}
    positive: set[str] = set()
    for i in np.flatnonzero(cands.type == TYPE_CODE["name"]).tolist():
        text = cands.text[i]
        if " " in text:
            continue
        key = text.casefold()
        seen[key] = seen.get(key, 0) + 1
        if hits[i]:
            positive.add(key)
    return sorted(k for k, n in seen.items() if n >= min_count and k not in positive)


def _stopped(cands: Candidates, stoplist) -> np.ndarray:
    """Whether each candidate is a single-word name on the stoplist."""
    out = np.zeros(len(cands), dtype=bool)
    for i in np.flatnonzero(cands.type == TYPE_CODE["name"]).tolist():
        text = cands.text[i]
        out[i] = " " not in text and text.casefold() in stoplist
    return out


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
