"""Prompt registry: versioned templates in YAML files, each identified by ``id@version`` and a content hash.

A prompt file holds one template::

    id: classify
    version: 1
    description: what it is for
    system: |
      You are ...
    user: |
      Labels: $labels
      Document:
      $document

Placeholders use ``$name`` (``string.Template``), so JSON braces in a prompt need no escaping. The hash is
the sha256 of the canonical JSON of ``id``, ``version``, ``system`` and ``user``: changing one word changes
it. Runs record the hash of every template used in ``run.json`` and on every prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Mapping

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import HarnessInputError
from harness.files import read_yaml_mapping_doc, validate

DEFAULT_DIR = Path(__file__).with_name("prompts")


class PromptFile(BaseModel):
    """A prompt file (``prompts/*.yaml``): what a student or a team may write."""
    model_config = ConfigDict(extra="forbid", strict=True)
    id: str = Field(min_length=1, max_length=100, description="the task's prompt name, e.g. 'classify'")
    version: int = Field(ge=1, description="bumped on every change; ``id@version`` is the reference")
    system: str = Field("", description="system message (``$placeholders`` as in ``user``)")
    user: str = Field(description="user message with ``$placeholders`` filled per task")
    description: str = Field("", description="what changed in this version")


@dataclass(frozen=True)
class PromptTemplate:
    id: str
    version: int
    system: str
    user: str
    description: str
    path: str

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def sha256(self) -> str:
        from harness.records import prompt_sha256

        return prompt_sha256(self.id, self.version, self.system, self.user)

    def render(self, **values: str) -> tuple[str, str]:
        """(system, user) with the placeholders filled; a missing value is an error naming the file."""
        try:
            return Template(self.system).substitute(values), Template(self.user).substitute(values)
        except KeyError as exc:
            raise HarnessInputError(f"template needs ${exc.args[0]}, which this task does not provide",
                                    path=self.path, field="user") from None
        except ValueError as exc:
            raise HarnessInputError(f"bad placeholder: {exc}", path=self.path, field="user") from None


def load_registry(directory: str | Path = DEFAULT_DIR) -> dict[str, PromptTemplate]:
    """Every ``*.yaml`` template under ``directory``, keyed by ``id@version``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise HarnessInputError("prompt directory not found", path=directory)
    out: dict[str, PromptTemplate] = {}
    for path in sorted(directory.glob("*.yaml")):
        doc = read_yaml_mapping_doc(path, "prompt file")
        f = validate(PromptFile, doc.data, doc=doc)
        t = PromptTemplate(id=f.id, version=f.version, system=f.system, user=f.user, description=f.description,
                           path=str(path))
        if t.ref in out:
            raise HarnessInputError(f"{t.ref} is also defined in {out[t.ref].path}", path=path, field="id")
        out[t.ref] = t
    return out


def select(registry: Mapping[str, PromptTemplate], wanted: Mapping[str, str]) -> dict[str, PromptTemplate]:
    """Task -> template for the ``prompts`` section of the config (``classify: classify@1``)."""
    chosen = {}
    for task, ref in wanted.items():
        if ref not in registry:
            known = ", ".join(sorted(registry)) or "none"
            raise HarnessInputError(f"no prompt {ref!r} (known: {known})", field=f"prompts.{task}")
        chosen[task] = registry[ref]
    return chosen
