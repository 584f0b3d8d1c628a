"""Pipeline registry: name -> config model, default config file, predictor factory and trainer.

The only module of ``harness/`` that imports ``pipelines/``: a new pipeline is one line in :data:`REGISTRY`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from harness.config import config_hash, load_config
from harness.errors import HarnessInputError
from harness.golden import GoldenSet
from harness.predictor import Predictor

# Each module exposes CONFIG_MODEL (a pydantic model), DEFAULT_CONFIG (a YAML path) and
# build(config, golden, progress) -> Predictor.
REGISTRY = {"mlops": "pipelines.mlops", "llmops": "pipelines.llmops"}


@dataclass(frozen=True)
class Built:
    predictor: Predictor
    config: dict
    config_hash: str
    batch_size: int
    concurrency: int = 1


def _module(name: str):
    if name not in REGISTRY:
        raise HarnessInputError(f"unknown pipeline {name!r}; known: {', '.join(sorted(REGISTRY))}", field="--pipeline")
    return importlib.import_module(REGISTRY[name])


def load_pipeline_config(name: str, config_file: str | None, overrides: Sequence[str]):
    mod = _module(name)
    return mod, load_config(mod.CONFIG_MODEL, Path(mod.DEFAULT_CONFIG), config_file, overrides)


def build_predictor(name: str, golden: GoldenSet, config_file: str | None = None, overrides: Sequence[str] = (),
                    progress: Callable[[str], None] = print, dry_run: bool = False) -> Built:
    """The pipeline's predictor with its resolved config; ``dry_run``: built to plan a run, calling no model (the
    module's ``build(..., dry_run=True)``)."""
    mod, cfg = load_pipeline_config(name, config_file, overrides)
    predictor = mod.build(cfg, golden, progress=progress, **({"dry_run": True} if dry_run else {}))
    data = cfg.model_dump(mode="json")
    return Built(predictor=predictor, config=data, config_hash=config_hash(data),
                 batch_size=getattr(cfg, "batch_size", 1), concurrency=getattr(cfg, "concurrency", 1))


def recorded_model(name: str, manifest, config_file: str | None = None, overrides: Sequence[str] = ()
                   ) -> tuple[str, str] | None:
    """(config hash, model version) that :func:`build_predictor` with these settings would record in a run's
    identity, known without building the predictor (the module's ``model_version(config, manifest)``, given
    the golden set's :func:`harness.golden.golden_manifest`); None when the pipeline cannot tell without
    building it (no such function, or no model trained yet)."""
    mod, cfg = load_pipeline_config(name, config_file, overrides)
    hook = getattr(mod, "model_version", None)
    version = hook(cfg, manifest) if hook is not None else None
    if version is None:
        return None
    return config_hash(cfg.model_dump(mode="json")), version


def config_model(name: str):
    """The settings model of a pipeline (``harness config NAME`` lists its keys)."""
    return _module(name).CONFIG_MODEL


def train_pipeline(name: str, golden: GoldenSet, config_file: str | None, overrides: Sequence[str],
                   out: str | None = None, progress: Callable[[str], None] = print):
    """Train a pipeline's model (the module's ``train(config, golden, out, progress)``); returns
    (artifact, path). Exit 2 for a pipeline that has nothing to train."""
    mod, cfg = load_pipeline_config(name, config_file, overrides)
    if not hasattr(mod, "train"):
        raise HarnessInputError(f"pipeline {name!r} has no model to train", field="pipeline")
    return mod.train(cfg, golden, out, progress=progress)


def prompt_registry(name: str = "llmops"):
    """The versioned-prompt module of a pipeline that has one (``PromptFile``, ``load_registry``,
    ``DEFAULT_DIR``): grading reads and writes student prompts through it, without importing ``pipelines/``."""
    _module(name)
    try:
        return importlib.import_module(REGISTRY[name] + ".prompts")
    except ModuleNotFoundError:
        raise HarnessInputError(f"pipeline {name!r} has no versioned prompts", field="pipeline") from None
