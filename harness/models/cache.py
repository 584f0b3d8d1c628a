"""Content-addressed cache of model calls on disk.

The key is the sha256 of the provider, model id, generation parameters (including any output schema) and
the full prompt; the value is the model's text and token usage (and, since issue 31, the request itself, so a
past call can be made again: ``harness maturity`` reproduces a sample). Re-running an unchanged config makes zero
model calls; changing a prompt changes the key of exactly the calls it touches. Entries are written
atomically, so concurrent writers and killed runs never leave a half-written entry. An entry that does not
read as :class:`CacheEntry` (broken JSON, wrong types: written by another tool or edited by hand) is a miss,
said once per cache on stderr, and is overwritten by the fresh call; it never reaches a prediction.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import HarnessInputError
from harness.files import dumps_json, read_json


class CacheEntry(BaseModel):
    """One cached model call."""
    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)
    text: str
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    latency_s: float | None = Field(None, ge=0)
    ttft_s: float | None = Field(None, ge=0)
    stop_reason: str | None = None


def call_key(provider: str, model_id: str, params: Mapping[str, Any], messages: Any) -> str:
    blob = json.dumps({"provider": provider, "model_id": model_id, "params": params, "messages": messages},
                      sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CallCache:
    """``root/ab/abcdef....json`` files; ``enabled=False`` makes every lookup a miss and writes nothing."""

    def __init__(self, root: str | Path, enabled: bool = True) -> None:
        self.root = Path(root)
        self.enabled = enabled
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.rejected = 0  # entries present but unreadable: treated as misses

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        if not self.enabled:
            return None
        path = self._path(key)
        try:
            value = CacheEntry.model_validate(read_json(path, "cache entry")).model_dump()
        except (HarnessInputError, ValidationError) as exc:
            with self._lock:
                self.misses += 1
                if path.exists():
                    self.rejected += 1
                    if self.rejected == 1:
                        problem = exc if isinstance(exc, HarnessInputError) else exc.errors()[0]["msg"]
                        print(f"warning: ignoring an unreadable cache entry {path} ({problem}); such entries are "
                              "misses and are replaced by fresh calls", file=sys.stderr)
            return None
        with self._lock:
            self.hits += 1
        return value

    def put(self, key: str, value: Mapping[str, Any]) -> None:
        if not self.enabled:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(dumps_json(value, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
