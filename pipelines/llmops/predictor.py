"""The LLMOps predictor: renders the task's versioned prompt, applies the guardrail hooks, calls the model
through the shared model layer (:mod:`harness.models`), parses the reply against the task's schema; answers
are grounded on passages retrieved from the FAISS index. Each item's outcome, usage and meta are returned,
never kept on the predictor."""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from harness.errors import HarnessInputError
from harness.golden import GoldenSet, Item
from harness.models import BEDROCK_MODELS, InvalidOutput, parse_json_object
from harness.predictor import Output, Predictor, TokenUsage
from pipelines.llmops import guardrails
from pipelines.llmops.config import LLMOpsConfig
from pipelines.llmops.schemas import SUMMARY_SCHEMA, answer_schema, extraction_schema, label_schema


# which policies of the guardrail engine check which value of each task (documents are data: their PII is
# masked and injected instructions are caught, but a contract about legal matters is not a "legal advice"
# request; the user's question and the model's answer get the denied topics too)
_DOC = frozenset({"pii", "injection", "words"})
GUARDED_INPUT = {"classify": {"document": _DOC}, "extract": {"document": _DOC}, "summarize": {"document": _DOC},
                 "answer": {"question": frozenset({"pii", "injection", "topics", "words"}),
                            "passages": frozenset({"pii", "injection"})}}
GUARDED_OUTPUT = {"answer": frozenset({"pii", "topics", "words"}), "*": frozenset({"pii", "words"})}
GROUNDING = frozenset({"grounding"})


class LLMOpsPredictor(Predictor):
    name = "llmops"

    def __init__(self, config: LLMOpsConfig, golden: GoldenSet, llm, embedder_factory, prompts: Mapping,
                 input_hooks, output_hooks, progress=print, guard=None) -> None:
        self._config = config
        self.golden = golden
        self.llm = llm
        self._embedder_factory = embedder_factory
        self._embedder = None
        self.prompts = prompts
        self.input_hooks, self.output_hooks = input_hooks, output_hooks
        self.capabilities = frozenset(config.tasks)
        self.index = None
        self._progress = progress
        self.guard = guard  # harness.guardrails OfflineGuardrail or BedrockGuardrail, or None

    def config(self) -> dict:
        return self._config.model_dump(mode="json")

    def describe(self) -> dict:
        d = {"llm": {"provider": self.llm.provider, "model_id": self.llm.model_id},
             "prompts": {task: {"ref": t.ref, "sha256": t.sha256, "path": t.path} for task, t in self.prompts.items()
                         if task in self.capabilities}}
        if self._embedder is not None:
            d["embeddings"] = self._embedder.name
        if self.guard is not None:
            d["guardrails"] = {"config": self.guard.config.path, "name": self.guard.config.name,
                               "provider": self._config.guardrails.provider,
                               "not_evaluated_offline": sorted(set(self.guard.not_evaluated("INPUT"))
                                                               | set(self.guard.not_evaluated("OUTPUT")))}
        if self.index is not None:
            d["index"] = {k: self.index.meta.get(k) for k in ("key", "n_chunks", "embedding_model", "chunk_size",
                                                              "chunk_overlap", "n_documents", "embedding_tokens")}
        return d

    def for_repeat(self, repeat: int) -> "LLMOpsPredictor":
        """This predictor with the client of repeat ``repeat`` (:meth:`harness.models.CachedLLM.for_repeat`: no
        cache, the repeat's seed); index, embedder and guardrails shared."""
        from copy import copy

        view = copy(self)
        view.llm = self.llm.for_repeat(repeat)
        return view

    def embedder(self):
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def prepare(self, items: Sequence[Item]) -> None:
        """Build (or load) the vector index before the clock starts: over the run's own documents and its QA
        items' documents (``retrieval.index: run``), or over every document of the run's splits (``split``)."""
        if "answer" not in self.capabilities or not any(it.kind == "qa" for it in items):
            return
        from harness.extras import require
        from pipelines.llmops.retrieval import get_index

        extra = self._config.embeddings.provider  # "bedrock" or "local": the extra of that name brings both
        for module, what in (("faiss", "the vector index of QA retrieval (FAISS)"),
                             ("langchain_text_splitters", "document chunking for QA retrieval (LangChain)")):
            require(module, extra, what, field="embeddings.provider")

        splits = sorted({it.split for it in items})
        docs = [(d.id, d.text) for s in splits for d in self.golden.items(s, kinds=("document",))]
        if self._config.retrieval.index == "run":
            wanted = {it.id for it in items if it.kind == "document"} | {d for it in items for d in it.doc_ids}
            if len(wanted) < len(docs):
                self._say(f"vector index over the run's {len(wanted)} documents (its documents and its QA items' "
                          f"documents), not the split's {len(docs)}: retrieval picks among fewer passages, which "
                          "makes it easier (--set retrieval.index=split for the whole split)")
            docs = [(i, t) for i, t in docs if i in wanted]
        if self.guard is not None and self.guard.masks_pii():
            # the index holds the documents with their PII masked: retrieved passages, the prompt and the
            # contexts stored in the run never carry it
            docs = [(i, self.guard.mask_all(t)) for i, t in self._progress_iter(docs, "masking PII before indexing")]
        self.index, _ = get_index(docs, self.embedder(), self._config.chunking.chunk_size,
                                  self._config.chunking.chunk_overlap, self._config.index_dir, progress=self._progress)

    def _say(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)

    def predict(self, items: Sequence[Item], task: str,
                upstream: Sequence[Mapping[str, Any]] | None = None) -> list[Output]:
        return [self._one(it, task, (upstream[i] if upstream else {}).get("classify"))
                for i, it in enumerate(items)]

    def _progress_iter(self, items, what: str):
        from harness.progress import track

        return track(items, what, "doc", enabled=self._progress is not None and len(items) >= 50)

    # -- one item
    def _guard_input(self, task: str, values: dict) -> tuple[dict, list[dict], str | None]:
        """The guardrail engine over the item's own content (document, question, passages; never the prompt
        template): masked values, the events to record, and the reason when it blocks."""
        record, masked = _new_record(), dict(values)
        for key, policies in GUARDED_INPUT.get(task, {}).items():
            if not values.get(key):
                continue
            a = self.guard.apply(values[key], "INPUT", only=policies)
            _add(record, "input", key, a)
            if a.blocked:
                return masked, record, f"{key}: {', '.join(sorted(a.fired()))}"
            masked[key] = a.text
        return masked, record, None

    def _call(self, task: str, values: dict, schema: Mapping | None, context: dict) -> tuple[Any, Output]:
        """Guard, render, call, guard. Returns (parsed JSON or None, Output carrying usage/meta/error)."""
        template = self.prompts[task]
        meta: dict[str, Any] = {"prompt": template.ref, "prompt_sha256": template.sha256,
                                "model": f"{self.llm.provider}/{self.llm.model_id}"}
        if self.guard is not None:
            values, meta["guardrails"], reason = self._guard_input(task, values)
            if reason:
                return None, Output(error=f"blocked by input guardrail: {reason}", meta=meta)
        system, user = template.render(**values)
        guard_in = guardrails.apply(self.input_hooks, user, context)
        if guard_in.events:
            meta["guardrails_input"] = list(guard_in.events)
        if guard_in.blocked:
            return None, Output(error=f"blocked by input guardrail: {guard_in.events[-1]}", meta=meta)
        try:
            res = self.llm.complete(system, guard_in.text, schema, self._config.llm.max_tokens.get(task, 256))
        except Exception as exc:  # noqa: BLE001 - recorded on the item, counted, never dropped
            return None, Output(error=f"model call failed: {type(exc).__name__}: {exc}", meta=meta)
        usage = TokenUsage(res.input_tokens, res.output_tokens)
        meta["cache_hit"] = res.cached
        if res.stop_reason == "guardrail_intervened":  # Bedrock's guardrail on the Converse call itself
            record = meta.setdefault("guardrails", _new_record())
            record["output"].append({"value": "converse", "source": "OUTPUT", "action": "GUARDRAIL_INTERVENED",
                                     "blocked": True, "fired": ["converse"], "pii": [], "warnings": []})
            return None, Output(error="blocked by the Bedrock guardrail on the model call (guardrail_intervened)",
                                usage=usage, meta=meta)
        if res.cached:
            meta["original_latency_s"] = res.original_latency_s
            meta["original_ttft_s"] = res.original_ttft_s
        text = res.text
        if self.guard is not None:
            a = self.guard.apply(text, "OUTPUT", only=GUARDED_OUTPUT.get(task, GUARDED_OUTPUT["*"]))
            _add(meta["guardrails"], "output", "model output", a)
            if a.blocked:
                return None, Output(error=f"blocked by output guardrail: {', '.join(sorted(a.fired()))}",
                                    usage=usage, meta=meta)
            text = a.text
        guard_out = guardrails.apply(self.output_hooks, text, context)
        if guard_out.events:
            meta["guardrails_output"] = list(guard_out.events)
        if guard_out.blocked:
            return None, Output(error=f"blocked by output guardrail: {guard_out.events[-1]}", usage=usage, meta=meta)
        base = Output(usage=usage, first_token_at=res.first_token_at, meta=meta)
        try:
            return parse_json_object(guard_out.text), base
        except InvalidOutput as exc:
            return None, Output(error=f"invalid model output: {exc}", usage=usage,
                                first_token_at=res.first_token_at, meta={**meta, "raw": res.text[:500]})

    def _doc(self, item: Item) -> str:
        return item.text[: self._config.max_document_chars]

    def _one(self, item: Item, task: str, document_type: str | None) -> Output:
        context = {"task": task, "item_id": item.id}
        labels = self.golden.manifest.labels
        if task == "classify":
            obj, out = self._call(task, {"labels": ", ".join(labels), "document": self._doc(item)},
                                  label_schema(labels), context)
            if obj is None:
                return out
            label = obj.get("label")
            if label not in labels:
                return _with(out, error=f"invalid model output: label {label!r} is not one of the labels")
            return _with(out, value=label)
        if task == "extract":
            fields = self.golden.manifest.fields
            listing = "\n".join(f"- {n} ({s.type}{': ' + ', '.join(s.values) if s.values else ''}): {s.description}"
                                for n, s in fields.items())
            obj, out = self._call(task, {"fields": listing, "label": document_type or "unknown type",
                                         "document": self._doc(item)}, extraction_schema(fields), context)
            out = _with(out, meta={**out.meta, "document_type": document_type, "document_type_source":
                                   "classify" if document_type else "none (classify did not run or failed)"})
            if obj is None:
                return out
            unknown = sorted(set(obj) - set(fields))
            values = {}
            for name in fields:
                v = obj.get(name)
                if isinstance(v, list):
                    v = [str(x) for x in v if x is not None] or None
                elif v is not None and not isinstance(v, str):
                    v = str(v)
                values[name] = v
            if unknown:
                out = _with(out, meta={**out.meta, "ignored_keys": unknown})
            return _with(out, value=values)
        if task == "answer":
            if self.index is None:
                self.prepare([item])
            query, query_tokens = self.embedder().embed_counted([item.question])
            hits = self.index.search(query, self._config.retrieval.top_k)[0]
            ids = [h.chunk.id for h in hits]
            passages = "\n\n".join(f"[{h.chunk.id}] {h.chunk.text}" for h in hits)
            obj, out = self._call(task, {"passages": passages, "question": item.question}, answer_schema(ids),
                                  context)
            retrieved = [{"id": h.chunk.id, "score": round(h.score, 4)} for h in hits]
            out = _with(out, meta={**out.meta, "retrieved": retrieved}, contexts=tuple(h.chunk.text for h in hits),
                        usage=(out.usage or TokenUsage()) + TokenUsage(embedding_tokens=query_tokens or 0))
            if obj is None:
                return out
            answer = obj.get("answer")
            if not isinstance(answer, str):
                return _with(out, error="invalid model output: no 'answer' string")
            cites = [c for c in obj.get("citations") or [] if isinstance(c, str)]
            meta = {**out.meta, "citations": [c for c in cites if c in ids]}
            if self.guard is not None:  # grounding: is the answer supported by its passages?
                g = self.guard.apply(answer, "OUTPUT", passages=[h.chunk.text for h in hits], only=GROUNDING)
                record = {**(meta.get("guardrails") or _new_record())}
                record["output"] = list(record["output"])
                _add(record, "output", "answer", g)
                meta["guardrails"] = record
                if g.blocked:
                    return _with(out, meta=meta, error="blocked by output guardrail: grounding")
            if set(cites) - set(ids):
                meta["invalid_citations"] = sorted(set(cites) - set(ids))
            return _with(out, value=answer, meta=meta)
        if task == "summarize":
            obj, out = self._call(task, {"document": self._doc(item)}, SUMMARY_SCHEMA, context)
            if obj is None:
                return out
            summary = obj.get("summary")
            if not isinstance(summary, str):
                return _with(out, error="invalid model output: no 'summary' string")
            return _with(out, value=summary)
        raise ValueError(f"llmops cannot {task}")

    def close(self) -> None:
        self.llm.close()


def _new_record() -> dict:
    """What one model call records of its guardrail checks (types and actions only, never matched text)."""
    return {"input": [], "output": [], "checks": 0, "latency_ms": 0, "usage": {}}


def _add(record: dict, side: str, value: str, a) -> None:
    record["checks"] += 1
    record["latency_ms"] += a.latency_ms
    for k, v in a.usage.items():
        record["usage"][k] = record["usage"].get(k, 0) + v
    if a.action != "NONE" or a.warnings:
        record[side].append({"value": value, **{k: v for k, v in a.events().items() if k not in ("usage", "latency_ms")}})


def _with(out: Output, **changes) -> Output:
    from dataclasses import replace

    return replace(out, **changes)


# ---------------------------------------------------------------------------------------------- build
def build(config: LLMOpsConfig, golden: GoldenSet, progress=print, dry_run: bool = False) -> LLMOpsPredictor:
    """The predictor; ``dry_run``: its model calls are planned, never made (:mod:`harness.models.dry_run`), the
    retrieval index is built with the local embedder (Titan is not called) and a Bedrock guardrail is evaluated
    by the offline engine on the same JSON."""
    from harness.models import build_embedder, build_llm, client_config
    from pipelines.llmops.prompts import DEFAULT_DIR, load_registry, select

    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
    prompts = select(load_registry(config.prompts.dir or DEFAULT_DIR),
                     {t: getattr(config.prompts, t) for t in config.tasks})
    hooks_in = guardrails.resolve(config.guardrails.input, "input")
    hooks_out = guardrails.resolve(config.guardrails.output, "output")
    cfg = config.llm
    if cfg.provider == "bedrock" and not cfg.model_id:
        raise HarnessInputError(f"Bedrock needs a model id, e.g. --set llm.model_id={BEDROCK_MODELS['claude-3-haiku']}",
                                field="llm.model_id")
    botocore = client_config(cfg.max_retries, cfg.timeout_s, cfg.concurrency)
    converse_guardrail = None
    if config.guardrails.config and config.guardrails.provider == "bedrock" and cfg.provider == "bedrock":
        # the guardrail also rides on every Converse call (Bedrock applies it around the model itself)
        converse_guardrail = {"guardrailIdentifier": config.guardrails.guardrail_id or "",
                              "guardrailVersion": config.guardrails.guardrail_version, "trace": "enabled"}
    llm = build_llm(cfg.provider, model_id=cfg.model_id, model_path=cfg.model_path, region=cfg.region,
                    endpoint_url=cfg.endpoint_url, temperature=cfg.temperature, max_tokens=max(cfg.max_tokens.values()),
                    n_ctx=cfg.n_ctx, n_threads=cfg.n_threads, seed=cfg.seed, botocore_config=botocore,
                    cache_dir=config.cache.dir, cache_enabled=config.cache.enabled,
                    cache_params={"temperature": cfg.temperature, "seed": cfg.seed if cfg.provider == "local" else None,
                                  **({"guardrail": converse_guardrail} if converse_guardrail else {})},
                    progress=progress, guardrail_config=converse_guardrail, dry_run=dry_run)

    def embedder_factory():
        return build_embedder("local" if dry_run else config.embeddings.provider, model_id=config.embeddings.model_id, region=cfg.region,
                              endpoint_url=cfg.endpoint_url, botocore_config=botocore, concurrency=cfg.concurrency)

    guard = None
    if config.guardrails.config:
        from harness.guardrails.config import load_guardrail_config
        from harness.guardrails.engine import OfflineGuardrail

        guard_config = load_guardrail_config(config.guardrails.config)
        for note in guard_config.notes:
            progress(f"note: {guard_config.path}: {note}")
        if config.guardrails.provider == "bedrock" and not dry_run:
            from harness.guardrails.bedrock import BedrockGuardrail

            if not config.guardrails.guardrail_id:
                raise HarnessInputError("a Bedrock guardrail needs its id (created in the account from the same JSON)",
                                        field="guardrails.guardrail_id")
            guard = BedrockGuardrail(guard_config, config.guardrails.guardrail_id, config.guardrails.guardrail_version,
                                     cfg.region, cfg.endpoint_url, botocore)
        else:
            guard = OfflineGuardrail(guard_config)
    return LLMOpsPredictor(config, golden, llm, embedder_factory, prompts, hooks_in, hooks_out, progress=progress,
                           guard=guard)

