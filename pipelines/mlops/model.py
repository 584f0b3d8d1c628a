"""The MLOps model: TF-IDF + XGBoost classifier and a learned field extractor (training and prediction; the
artifact folder and its reading are :mod:`pipelines.mlops.persistence`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import scipy.sparse as sp
import xgboost as xgb
from sklearn.feature_extraction.text import TfidfVectorizer

from harness.errors import HarnessInputError
from metrics.normalize import normalize_value
from pipelines.mlops.candidates import (FIELD_CANDIDATE_TYPES, TYPE_CODE, Candidates, enum_patterns, find_candidates,
                                        join_texts, stopped)
from pipelines.mlops.features import N_NUMERIC, TokenFeatures, candidate_features
# load, MODEL_FORMAT and PIPELINE_VERSION stay reachable as model.* (the package and the tests read them there)
from pipelines.mlops.persistence import MODEL_FORMAT, PIPELINE_VERSION, Artifact, load, save  # noqa: F401


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
def _matrix(numeric: np.ndarray, tokens: TokenFeatures, vocab: Mapping[str, int],
            columns: np.ndarray | None = None) -> sp.csr_matrix:
    """Numeric columns first, then one 0/1 column per known context token; only ``columns`` of them, in that
    (increasing) order, when given. Zeros are not stored: to XGBoost an absent entry is a missing value."""
    n_all = N_NUMERIC + len(vocab)
    columns = np.arange(n_all) if columns is None else np.asarray(columns)
    position = np.full(n_all, -1, dtype=np.int64)  # column of the full matrix -> column of this one
    position[columns] = np.arange(len(columns))
    lookup = np.asarray([position[N_NUMERIC + vocab[t]] if t in vocab else -1 for t in tokens.names] or [-1],
                        dtype=np.int64)
    cols = lookup[tokens.keys]
    known = cols >= 0
    numeric = numeric.reshape(len(numeric), N_NUMERIC)
    kept = columns[columns < N_NUMERIC]
    values = numeric[:, kept]
    n_rows, n_cols = np.nonzero(values)
    rows = np.concatenate([n_rows, tokens.rows[known]])
    cols = np.concatenate([position[kept][n_cols], cols[known]])
    data = np.concatenate([values[n_rows, n_cols], np.ones(int(known.sum()), dtype=np.float32)])
    # each row's columns in increasing order: one key per entry (no two entries share a row and a column), sorted
    # by NumPy's stable sort, which is much faster here than lexsort or the default sort (the entries come in
    # long sorted runs), and gives the same order
    order = np.argsort(rows * len(columns) + cols, kind="stable")
    indptr = np.zeros(len(numeric) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(numeric)), out=indptr[1:])
    return sp.csr_matrix((data[order].astype(np.float32), cols[order].astype(np.int32), indptr),
                         shape=(len(numeric), len(columns)))


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
    cands = find_candidates(batch, enum_patterns(fields_schema), artifact.stoplist)
    numeric, tokens = candidate_features(batch, cands, doc_classes)
    return cands, _matrix(numeric, tokens, artifact.vocab, artifact.columns)


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
        best = rows[order][first]
        for d, r in zip(cands.doc[best].tolist(), best.tolist()):
            results[d][name] = _output_value(cands.text[r], spec)
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
    keep = ~_stopped(cands, frozenset(stoplist))
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
    rows = np.flatnonzero(cands.type == TYPE_CODE["name"])
    out[rows] = stopped(list(map(cands.text.__getitem__, rows.tolist())), stoplist)
    return out
