"""MLOps pipeline: TF-IDF + XGBoost document classifier and a learned field extractor."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

from pydantic import Field

from harness.config import StrictModel, config_hash
from harness.golden import GoldenSet, Item
from harness.predictor import Output, Predictor

DEFAULT_CONFIG = Path(__file__).with_name("config.yaml")


class ClassifierConfig(StrictModel):
    """The document classifier: TF-IDF features into a multi-class XGBoost booster."""
    max_features: int = Field(10000, gt=0, le=10000, description="TF-IDF vocabulary size (at most 10,000)")
    ngram_max: int = Field(2, ge=1, le=3, description="longest word n-gram in the vocabulary")
    min_df: int = Field(2, ge=1, description="a term must occur in at least this many training documents")
    sublinear_tf: bool = Field(True, description="use 1 + log(tf) instead of raw term counts")
    n_estimators: int = Field(120, gt=0, description="boosting rounds")
    max_depth: int = Field(6, gt=0, description="depth of each tree")
    learning_rate: float = Field(0.3, gt=0, le=1, description="shrinkage of each boosting round")
    seed: int = Field(0, description="random seed of training")


class ExtractorConfig(StrictModel):
    """The field extractor: typed candidate spans ranked by one XGBoost model per field."""
    n_estimators: int = Field(120, gt=0, description="boosting rounds per field model")
    max_depth: int = Field(6, gt=0, description="depth of each tree")
    learning_rate: float = Field(0.3, gt=0, le=1, description="shrinkage of each boosting round")
    context_vocab: int = Field(4000, gt=0, description="context words around a candidate kept as features")
    min_count: int = Field(3, ge=1, description="a context word must occur this often in training to be kept")
    threshold: float = Field(0.5, ge=0, le=1, description="lowest score at which a field gets a value "
                             "(below it the field is left empty)")
    seed: int = Field(0, description="random seed of training")


class MLOpsConfig(StrictModel):
    """Settings of the MLOps pipeline (``pipelines/mlops/config.yaml``)."""
    pipeline: Literal["mlops"] = Field("mlops", description="which pipeline this file configures")
    classifier: ClassifierConfig = Field(ClassifierConfig(), description="the document classifier")
    extractor: ExtractorConfig = Field(ExtractorConfig(), description="the field extractor")
    artifact_dir: str | None = Field(None, description="model directory to load (default: artifacts/mlops/"
                                     "<golden>-<hash>-<config>, trained on first use)")
    n_jobs: int = Field(2, ge=1, description="CPU threads for XGBoost prediction")
    batch_size: int = Field(1, ge=1, description="documents per predictor call")

    def training_hash(self) -> str:
        from pipelines.mlops.version import PIPELINE_VERSION

        return config_hash({"classifier": self.classifier.model_dump(), "extractor": self.extractor.model_dump(),
                            "pipeline_version": PIPELINE_VERSION})


CONFIG_MODEL = MLOpsConfig


def artifact_path(config: MLOpsConfig, golden: GoldenSet) -> Path:
    return _artifact_dir(config, golden.name, golden.hash)


def _artifact_dir(config: MLOpsConfig, golden_name: str, golden_hash: str) -> Path:
    if config.artifact_dir:
        return Path(config.artifact_dir)
    return Path("artifacts") / "mlops" / f"{golden_name}-{golden_hash[:8]}-{config.training_hash()[:8]}"


def model_version(config: MLOpsConfig, manifest) -> str | None:
    """The ``model_version`` :func:`build` would record for ``config`` on the golden set of ``manifest``
    (:func:`harness.golden.golden_manifest`), read from the model folder without loading the model (no numpy,
    no XGBoost); None when there is none yet or it would not load. A re-run asks it to learn whether anything
    is left to do without building the predictor."""
    from pipelines.mlops.version import trained_version

    return trained_version(_artifact_dir(config, manifest.name, manifest.sha256))


class MLOpsPredictor(Predictor):
    name = "mlops"
    capabilities = frozenset({"classify", "extract"})

    def __init__(self, artifact, config: MLOpsConfig, fields_schema) -> None:
        self.artifact = artifact
        self._config = config
        self._schema = fields_schema

    def config(self) -> dict:
        return self._config.model_dump(mode="json")

    def describe(self) -> dict:
        return {"model_version": self.artifact.version, "model_path": str(self.artifact.root),
                "model_trained_on": self.artifact.meta.get("golden")}

    def in_processes(self):
        """With ``n_jobs`` of 2 or more, batches may run in ``n_jobs`` processes of one XGBoost thread each
        (:func:`_in_worker`): the candidate spans, features and values around the models then use every core as
        the models do. A batch's outputs do not depend on the process or the thread count."""
        if self._config.n_jobs < 2:
            return None
        return (partial(_in_worker, str(self.artifact.root), self.artifact.version, self._config, self._schema),
                self._config.n_jobs)

    def predict(self, items: Sequence[Item], task: str,
                upstream: Sequence[Mapping[str, Any]] | None = None) -> list[Output]:
        from harness.bulk import gc_paused

        # a batch's candidates, features and values are many small acyclic objects: the cyclic collector is
        # paused for the call (see harness.bulk); the same outputs, ~6% less CPU at 10,000 documents
        with gc_paused():
            return self._predict(items, task, upstream)

    def _predict(self, items: Sequence[Item], task: str, upstream: Sequence[Mapping[str, Any]] | None
                 ) -> list[Output]:
        from pipelines.mlops import model

        texts = [it.text for it in items]
        if task == "classify":
            return [Output(value=lab) for lab in model.classify(self.artifact, texts)]
        if task == "extract":
            # the document type is a feature of the extractor: the classify output passed in ``upstream``,
            # or the classifier's answer computed here when classify did not run or failed for the item
            given = [(upstream[i] if upstream else {}).get("classify") for i in range(len(items))]
            missing = [i for i, lab in enumerate(given) if lab is None]
            if missing:
                for i, lab in zip(missing, model.classify(self.artifact, [texts[i] for i in missing])):
                    given[i] = lab
            fields = model.extract(self.artifact, texts, given, self._schema)
            return [Output(value=f) for f in fields]
        raise ValueError(f"mlops cannot {task}")


def _in_worker(root: str, version: str, config: MLOpsConfig, fields_schema) -> MLOpsPredictor:
    """The predictor of a worker process (:meth:`MLOpsPredictor.in_processes`): the same model folder, checked to
    be the same model version, with one XGBoost thread (the processes share the cores)."""
    from harness.errors import HarnessInputError
    from pipelines.mlops import model

    artifact = model.load(Path(root), n_jobs=1)
    if artifact.version != version:
        raise HarnessInputError(f"the model changed during the run ({version} -> {artifact.version})", path=root)
    return MLOpsPredictor(artifact, config, fields_schema)


def train(config: MLOpsConfig, golden: GoldenSet, out: str | Path | None = None, progress=print):
    """Train the model on ``golden``'s train split into ``out`` (default: :func:`artifact_path`).
    Returns (artifact, path)."""
    from pipelines.mlops import model

    path = Path(out) if out else artifact_path(config, golden)
    return _train(golden, config, path, progress), path


def _train(golden: GoldenSet, config: MLOpsConfig, path: Path, progress):
    """``model.train`` with a line at a steady pace while it runs (training takes minutes on a busy machine)."""
    from harness.progress import phase
    from pipelines.mlops import model

    with phase(f"training the MLOps model on {golden.name}:train"):
        return model.train(golden, config, path, progress=progress)


def build(config: MLOpsConfig, golden: GoldenSet, progress=print, retrain: bool = False,
          dry_run: bool = False) -> MLOpsPredictor:
    """Load the model artifact for ``config`` (training it first if it does not exist yet); ``dry_run``: a
    predictor that only says which tasks it runs (nothing loaded or trained: it calls no language model)."""
    from pipelines.mlops import model

    path = artifact_path(config, golden)
    if dry_run:
        progress(f"dry run: the MLOps model {'is at' if (path / 'artifact.json').is_file() else 'would be trained to'} "
                 f"{path}")
        return MLOpsPredictor(None, config, golden.manifest.fields)
    if retrain or not (path / "artifact.json").is_file():
        if config.artifact_dir and not retrain:
            from harness.errors import HarnessInputError

            raise HarnessInputError("no model artifact here; train one with 'harness train mlops --out DIR'",
                                    path=path)
        progress(f"no trained model at {path}; training on {golden.name}:train")
        artifact = _train(golden, config, path, progress)
        progress(f"model {artifact.version} written to {path}")
    else:
        artifact = model.load(path, n_jobs=config.n_jobs)
        trained = artifact.meta.get("config", {})
        wanted = {"classifier": config.classifier.model_dump(), "extractor": config.extractor.model_dump()}
        diff = [f"{part}.{k}: trained {trained.get(part, {}).get(k)!r}, configured {v!r}"
                for part, values in wanted.items() for k, v in values.items()
                if trained.get(part, {}).get(k) != v]
        if diff:
            from harness.errors import HarnessInputError

            raise HarnessInputError("the model was trained with other settings (" + "; ".join(diff[:3]) +
                                    "); pass the same --set options or retrain", path=path)
    return MLOpsPredictor(artifact, config, golden.manifest.fields)
