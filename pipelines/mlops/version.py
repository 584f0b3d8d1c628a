"""The MLOps model's format and pipeline version, and a trained model's ``artifact.json`` read and checked
against its files without loading the model (no numpy, no XGBoost): what :func:`pipelines.mlops.persistence.load`
checks first, and all a re-run with nothing left to do needs (:func:`trained_version`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import HarnessInputError
from harness.files import read_json, validate

MODEL_FORMAT = 1
PIPELINE_VERSION = "1.2.0"  # bump when features change: old artifacts are then retrained


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


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_meta(root: Path) -> _ArtifactFile:
    """``artifact.json`` of the model folder ``root``, typed, of this format and pipeline version (exit 2
    naming the file otherwise)."""
    meta_path = root / "artifact.json"
    if not meta_path.is_file():
        raise HarnessInputError("not an MLOps model artifact (no artifact.json)", path=root)
    meta = validate(_ArtifactFile, read_json(meta_path, "artifact.json"), path=meta_path)
    if meta.format != MODEL_FORMAT:
        raise HarnessInputError(f"unsupported artifact format {meta.format!r}", path=meta_path, field="format")
    if meta.pipeline_version != PIPELINE_VERSION:
        raise HarnessInputError(f"artifact built by pipeline {meta.pipeline_version}, this is {PIPELINE_VERSION}; "
                                "retrain with 'harness train mlops'", path=meta_path, field="pipeline_version")
    return meta


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


def trained_version(root: Path) -> str | None:
    """The version of the model in ``root`` as loading it would find it (format, pipeline version, every
    file against its checksum, the version against the files' digest), or None when it is missing or would not
    load (loading it then says why)."""
    try:
        meta = read_meta(Path(root))
        _verified(Path(root), meta, ())
    except HarnessInputError:
        return None
    return meta.version
