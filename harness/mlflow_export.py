"""Export to MLflow: harness runs, a graded class's students and a shadow database's weeks, each as one MLflow
run in an experiment of a tracking server or store (``harness export mlflow``).

A harness run becomes one MLflow run named after its directory:

* **params**: the resolved config flattened to dotted keys (``config.classifier.max_depth``; values cut to
  MLflow's length limit, the whole config is the artifact ``config.json``), each prompt's ref and sha256
  (``prompt.answer.sha256``), ``pipeline`` and ``model_version``;
* **metrics**: every number of ``metrics.json`` the metric registry declares, under its registry name (per-class
  and per-field figures, the cost per document included), and each interval as ``<name>.ci_low`` /
  ``<name>.ci_high``;
* **tags**: the golden set (name, version, split, sha256, item-set fingerprint), the config hash, the git commit,
  the gate status, verdict and each criterion's status when ``gates.json`` exists, the harness version;
* **dataset input**: the golden split through ``mlflow.data``, its digest the golden set's sha256 (cut to
  MLflow's digest length; the full hash is the tag ``golden.sha256``);
* **artifacts**: ``run.json``, ``metrics.json``, ``gates.json``, ``predictions.jsonl``, ``config.json`` and the
  report page (the run's own ``report.html``, else one written for the export).

The export is idempotent: the MLflow run is found by the tag :data:`IDENTITY_TAG`, which holds the harness run's
identity (what ran, on which items, since when: a re-judged or re-gated run keeps it, a run with another config
or prompt does not). A second export logs only what changed: a metric whose value moved gets a new point, a tag
is set or removed, an artifact is uploaded again when its bytes changed (their digests are the tag
:data:`ARTIFACTS_TAG`); nothing is duplicated.

Credentials in a tracking URI are never printed or stored (:func:`harness.config.strip_credentials`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping


from harness.config import strip_credentials
from harness.errors import HarnessInputError
from harness.files import dumps_json

from harness.mlflow_entries import GATE_PREFIX, Entry, report_page_maker, run_entry

TRACKING_ENV = "MLFLOW_TRACKING_URI"
DEFAULT_URI = "sqlite:///mlflow.db"  # MLflow's own default backend, in the working directory
DEFAULT_EXPERIMENT = "docintel-harness"
IDENTITY_TAG = "harness.identity"  # what an exported thing is: the key a second export finds its MLflow run by
KIND_TAG = "harness.kind"  # run | student | shadow-week
ARTIFACTS_TAG = "harness.artifacts"  # JSON: artifact name -> sha256 of the bytes last uploaded
_USERINFO = re.compile(r"(\b[a-zA-Z][\w+.-]*://)[^/\s@]*@")



# ---------------------------------------------------------------------------------------------- the tracker
def tracking_uri(given: str | None = None) -> str:
    """The tracking URI: ``given``, else ``$MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` (the cwd)."""
    return given or os.environ.get(TRACKING_ENV) or DEFAULT_URI


def shown_uri(uri: str) -> str:
    """``uri`` as it may be printed or stored: without the user-info of a URL.

    >>> shown_uri("https://alice:s3cret@mlflow.example.com/")
    'https://mlflow.example.com/'
    """
    return strip_credentials(uri)


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """``os.environ`` with ``values`` for the length of the block, then as it was."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def session() -> Iterator[None]:
    """MLflow's own printing off while the harness talks to it: its run links (a server's URI, credentials
    included, on stdout) and its notices (migrating a new sqlite store)."""
    import logging

    loggers = [logging.getLogger(n) for n in ("mlflow", "alembic", "urllib3")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING if lg.name != "urllib3" else logging.ERROR)
    try:
        with _environment(MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT="true"):
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def redact(text: str) -> str:
    """``text`` (a message that may quote a URL) with the user-info of every URL in it removed.

    >>> redact("failed: https://alice:s3cret@mlflow.example.com/api/2.0 refused")
    'failed: https://mlflow.example.com/api/2.0 refused'
    """
    return _USERINFO.sub(r"\1", text)


def _unreachable(uri: str, exc: BaseException) -> HarnessInputError:
    # the exception's text may carry the URI (and its credentials): only its kind is said
    return HarnessInputError(f"cannot reach the MLflow tracking store {shown_uri(uri)} ({type(exc).__name__}); "
                             "is the server running and the URI right?", field="--tracking-uri")


def connect(uri: str, experiment: str) -> tuple[Any, str]:
    """An ``MlflowClient`` on ``uri`` and the id of ``experiment`` (created when absent); an unreachable store
    is exit 2 naming it (without credentials)."""
    from harness.extras import require

    require("mlflow", "mlflow", "harness export mlflow", field="--tracking-uri")
    from mlflow.tracking import MlflowClient

    if uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///"):]).parent.is_dir():
        raise HarnessInputError(f"no folder for the sqlite store {shown_uri(uri)}", field="--tracking-uri")
    # one try per request while the store is probed: MLflow retries a refused connection for minutes
    with session(), _environment(MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
                                 MLFLOW_HTTP_REQUEST_TIMEOUT=os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")):
        try:
            client = MlflowClient(tracking_uri=uri)
            found = client.get_experiment_by_name(experiment)
            experiment_id = found.experiment_id if found else client.create_experiment(experiment)
        except Exception as exc:  # noqa: BLE001 - any failure to talk to the store is the one line
            raise _unreachable(uri, exc) from None
    return client, experiment_id


# ---------------------------------------------------------------------------------------------- one export
@dataclass(frozen=True)
class Exported:
    """What an export did to one MLflow run."""
    name: str
    run_id: str
    created: bool
    metrics: int  # metrics logged (new or changed)
    tags: int  # tags set or removed
    artifacts: int  # artifacts uploaded


def _find(client: Any, experiment_id: str, identity: str) -> Any | None:
    found = client.search_runs([experiment_id], filter_string=f"tags.`{IDENTITY_TAG}` = '{identity}'",
                               max_results=2)
    return found[0] if found else None


def _batches(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def write_entry(client: Any, experiment_id: str, entry: Entry, make_artifacts: Any = None) -> Exported:
    """Create or update the MLflow run of ``entry``: only what changed is logged. ``make_artifacts``, when
    given, is called (with a temporary folder) for artifacts built only when some artifact changed (the report
    page) and returns name -> file."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.utils.validation import MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH

    run = _find(client, experiment_id, entry.identity)
    created = run is None
    if created:
        run = client.create_run(experiment_id, run_name=entry.name,
                                tags={IDENTITY_TAG: entry.identity, KIND_TAG: entry.kind})
    run_id = run.info.run_id
    old_params, old_metrics, old_tags = run.data.params, run.data.metrics, run.data.tags
    params = [Param(k, v) for k, v in entry.params.items() if k not in old_params]  # params never change: the
    # identity covers what they are made of
    now = int(time.time() * 1000)
    metrics = [Metric(k, v, now, 0) for k, v in entry.metrics.items() if old_metrics.get(k) != v]
    digests = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in entry.artifacts.items()}
    uploaded = json.loads(old_tags.get(ARTIFACTS_TAG) or "{}")
    changed = [name for name in entry.artifacts if uploaded.get(name) != digests[name]]
    tags = {**entry.tags, IDENTITY_TAG: entry.identity, KIND_TAG: entry.kind}
    with tempfile.TemporaryDirectory(prefix="harness-mlflow-") as tmp:
        extra = make_artifacts(Path(tmp)) if make_artifacts is not None and (changed or created) else {}
        files = {**{n: entry.artifacts[n] for n in changed}, **extra}
        for name, path in files.items():
            client.log_artifact(run_id, str(path))  # the file's name is its artifact name
        if files:
            tags[ARTIFACTS_TAG] = dumps_json({**uploaded, **digests}, sort_keys=True)
    set_tags = [RunTag(k, v) for k, v in tags.items() if old_tags.get(k) != v]
    stale = [k for k in old_tags if k.startswith(GATE_PREFIX) and k not in tags]  # a criterion no longer there
    for batch in _batches(params, MAX_PARAMS_TAGS_PER_BATCH):
        client.log_batch(run_id, params=batch)
    for batch in _batches(set_tags, MAX_PARAMS_TAGS_PER_BATCH):
        client.log_batch(run_id, tags=batch)
    for batch in _batches(metrics, MAX_METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=batch)
    for key in stale:
        client.delete_tag(run_id, key)
    if entry.dataset is not None:
        _log_dataset(client, run, entry.dataset)
    if created:
        client.set_terminated(run_id)
    return Exported(entry.name, run_id, created, len(metrics), len(set_tags) + len(stale), len(files))


def _log_dataset(client: Any, run: Any, dataset: Mapping[str, str]) -> None:
    """The golden split as the run's dataset input (``mlflow.data``), once."""
    if any(d.dataset.name == dataset["name"] and d.dataset.digest == dataset["digest"]
           for d in run.inputs.dataset_inputs):
        return
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.entities import DatasetInput, InputTag

    with warnings.catch_warnings():  # a local path reads as two equal sources: MLflow says so, and takes one
        warnings.simplefilter("ignore")
        source = resolve_dataset_source(dataset["source"])
    ds = MetaDataset(source, name=dataset["name"], digest=dataset["digest"])
    client.log_inputs(run.info.run_id, [DatasetInput(ds._to_mlflow_entity(),
                                                     [InputTag("mlflow.data.context", "evaluation")])])


def export_runs(paths: list[str], uri: str, experiment: str) -> list[Exported]:
    """Export each run directory of ``paths`` (all read first: a directory that is not a run is exit 2 before
    anything is written)."""
    from harness.store import load_run

    runs = [load_run(p) for p in paths]
    client, experiment_id = connect(uri, experiment)
    out = []
    with session(), failures(uri):
        for run in runs:
            with tempfile.TemporaryDirectory(prefix="harness-mlflow-") as tmp:
                out.append(write_entry(client, experiment_id, run_entry(run, Path(tmp)), report_page_maker(run)))
    return out


def export_entries(entries: list[Entry], uri: str, experiment: str) -> list[Exported]:
    """Write each entry to its MLflow run in ``experiment``."""
    client, experiment_id = connect(uri, experiment)
    with session(), failures(uri):
        return [write_entry(client, experiment_id, e) for e in entries]


@contextmanager
def failures(uri: str) -> Iterator[None]:
    """A store that fails midway (the server went away, refused a value) is one line, without credentials; what
    was written stays (the next export goes on from it)."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except (MlflowException, OSError) as exc:
        first = (redact(str(exc)).splitlines() or [type(exc).__name__])[0][:300]
        raise HarnessInputError(f"the MLflow tracking store {shown_uri(uri)} failed: {first}",
                                field="--tracking-uri") from None
