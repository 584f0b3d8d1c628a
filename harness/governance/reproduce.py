"""The reproducibility evidence of ``harness maturity``: a sample of recorded calls from a run's call cache made
again with its recorded settings, the cache bypassed, and the replies compared (a real model call each)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping


from harness.errors import HarnessInputError
from harness.governance.maturity_spec import (MET, NO_EVIDENCE, NOT_MET, EntrySpec)
from harness.governance.evidence import Evidence, Finding, _cache_dir, _names, _no_runs


def recorded_calls(cache_dir: Path, provider: str, model_id: str) -> list[tuple[Path, dict]]:
    """The cache entries of ``provider``/``model_id`` that record their request (older entries do not), in file
    name order (deterministic)."""
    from harness.files import read_json

    out = []
    for path in sorted(cache_dir.glob("??/*.json")):
        try:
            entry = read_json(path, "cache entry")
        except HarnessInputError:
            continue
        req = entry.get("request") if isinstance(entry, dict) else None
        if (isinstance(req, dict) and entry.get("provider") == provider and entry.get("model_id") == model_id
                and isinstance(entry.get("text"), str) and isinstance(req.get("system"), str)
                and isinstance(req.get("user"), str) and isinstance(req.get("max_tokens"), int)
                and isinstance(req.get("params"), dict)):
            out.append((path, entry))
    return out


def replay(run, entry: Mapping[str, Any]) -> str:
    """Make a recorded call again with the run's recorded model settings, the cache bypassed: the reply's text."""
    from harness.models import build_llm, client_config

    llm = run.run["predictor"]["config"]["llm"]
    req = entry["request"]
    client = build_llm(llm["provider"], model_id=llm.get("model_id"), model_path=llm.get("model_path"),
                       region=llm.get("region", "us-east-1"), endpoint_url=llm.get("endpoint_url"),
                       temperature=float(req["params"].get("temperature", llm.get("temperature", 0.0))),
                       max_tokens=req["max_tokens"], n_ctx=int(llm.get("n_ctx", 2048)),
                       n_threads=llm.get("n_threads"), seed=req["params"].get("seed", llm.get("seed")),
                       botocore_config=client_config(int(llm.get("max_retries", 8)), float(llm.get("timeout_s", 60)), 1),
                       cache_dir=str(Path.cwd()), cache_enabled=False, cache_params=req["params"],
                       progress=lambda _: None)
    try:
        return client.client.complete(req["system"], req["user"], req.get("schema"), req["max_tokens"]).text
    finally:
        client.close()


def _reproduce(ev: Evidence) -> Finding:
    from harness.models import call_key, request_parts

    runs = [r for r in ev.side("llmops") if isinstance(r.run.get("predictor", {}).get("llm"), Mapping)]
    if not ev.side("llmops"):
        return _no_runs("llmops", ev)
    if ev.reproduce <= 0:
        return Finding(NO_EVIDENCE, "not checked (--reproduce 0)")
    sample: list[tuple[Any, Path, dict]] = []
    seen: set[Path] = set()
    for run in reversed(runs):  # the latest run first
        cache = _cache_dir(run, ev)
        llm = run.run["predictor"]["llm"]
        if cache is None or not isinstance(run.run.get("predictor", {}).get("config", {}).get("llm"), Mapping):
            continue
        for path, entry in recorded_calls(cache, str(llm.get("provider")), str(llm.get("model_id"))):
            if path not in seen and len(sample) < ev.reproduce:
                seen.add(path)
                sample.append((run, path, entry))
    if not sample:
        return Finding(NO_EVIDENCE, "no recorded call with its request in the llmops runs' call caches "
                       "(entries written before the cache recorded requests cannot be made again)")
    same, differ, failed = [], [], []
    for run, path, entry in sample:
        req = entry["request"]
        if call_key(entry["provider"], entry["model_id"], *request_parts(req["params"], req["system"], req["user"],
                                                                          req.get("schema"), req["max_tokens"])) != path.stem:
            differ.append(f"{path.name[:12]} (its request does not hash to its key)")
            continue
        ev.progress(f"maturity: making recorded call {path.stem[:12]} of {run.id} again")
        try:
            text = replay(run, entry)
        except HarnessInputError as exc:  # a missing extra, an unreachable endpoint: said, not a pass
            failed.append(f"{path.stem[:12]} ({exc})")
            continue
        except Exception as exc:  # noqa: BLE001 - a model client's own failure is evidence, not a crash
            failed.append(f"{path.stem[:12]} ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        (same if text == entry["text"] else differ).append(path.stem[:12])
    sources = tuple(dict.fromkeys(r.id for r, _, _ in sample))
    figures = {"sampled": len(sample), "same": len(same), "different": len(differ), "failed": len(failed)}
    where = f"{len(sample)} recorded call(s) of {_names([r for r, _, _ in sample])} made again with the recorded settings"
    if differ:
        return Finding(NOT_MET, f"{where}: {len(differ)} gave a different reply ({', '.join(differ)})", sources, figures)
    if failed and not same:
        return Finding(NO_EVIDENCE, f"{where}: none could be made ({'; '.join(failed)})", sources, figures)
    extra = f"; {len(failed)} could not be made ({'; '.join(failed)})" if failed else ""
    return Finding(MET, f"{where}: {len(same)} gave the same reply, byte for byte{extra}", sources, figures)


def reproduce(entry: EntrySpec, ev: Evidence) -> Finding:
    return ev.once("reproduce", lambda: _reproduce(ev))


