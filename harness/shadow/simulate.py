"""``harness shadow simulate``: the parallel run replayed day by day into a comparison database.

Every document of the stream (:mod:`harness.shadow.stream`) is processed by the **real MLOps pipeline**
(production: its trained model, its measured time per document) and by the shadow: the **simulated model** of
the scenario (``shadow="scenario"``: quality, time, tokens and cost are the scenario's figures, drawn per
document, deterministic by seed) or the **real LLMOps pipeline** (``shadow="pipeline"``: the embedded local
model or Bedrock through ``--set``; real time and tokens; slow). Results are written through the database's
one writer :data:`CHUNK` documents at a time as the day's stream is generated, so memory stays flat however
large the scenario, a reader (the dashboard) can follow a running simulation, and a rerun resumes at the first
day not complete (a day partly written is redone: rows are replaced, never doubled). A drawn processing time
over the result record's bound (a day) is recorded as that bound.
"""

from __future__ import annotations

import math
import random
import time
from itertools import islice
from typing import Callable, Iterable, Iterator, Sequence

from harness.shadow.records import MAX_LATENCY_S, GuardrailEvent, ResultRecord
from harness.shadow.scenario import Scenario
from harness.shadow.stream import StreamDoc, day_documents

CHUNK = 1000  # documents generated, processed by both pipelines and written at a time


def _active(spec, kind: str, day: int, pipeline: str | None = None):
    return [e for e in spec.events if e.kind == kind and e.active(day) and (pipeline is None or e.pipeline == pipeline)]


def _down(spec, doc: StreamDoc, pipeline: str) -> bool:
    """Whether ``pipeline`` is in an outage when ``doc`` arrives (outages start at 09:00 UTC)."""
    hour = doc.received_at.hour + doc.received_at.minute / 60
    return any(9 <= hour < 9 + e.hours for e in _active(spec, "outage", doc.day, pipeline))


def _down_record(base: dict) -> ResultRecord:
    """A document the pipeline never saw: it was down (counted in its error rate and availability)."""
    return ResultRecord(**base, latency_s=0.0, available=False, error="unavailable (outage)")


def shadow_model(spec, day: int):
    """The simulated shadow's figures on ``day``: the scenario's, changed by the version, quality and price events
    in force that day (from their first day, for ``days`` when given)."""
    m = spec.shadow.model_dump()
    for e in sorted((e for e in spec.events if e.kind in ("version_change", "quality_change") and e.active(day)),
                    key=lambda e: e.first_day()):
        for key in ("accuracy", "field_accuracy", "hallucination_rate", "prompt_version", "model_version"):
            if getattr(e, key) is not None:
                m[key] = getattr(e, key)
    m["price"] = math.prod(e.factor for e in _active(spec, "price_change", day))
    m["slow"] = math.prod(e.factor for e in _active(spec, "latency_degradation", day, "llmops"))
    return m


def simulated_shadow(spec, docs: Sequence[StreamDoc], labels: Sequence[str]) -> list[ResultRecord]:
    """The scenario's model on ``docs`` (see the module docstring): one record per document."""
    out, models = [], {}
    for doc in docs:
        if doc.day not in models:  # one day's figures for all its documents
            models[doc.day] = shadow_model(spec, doc.day)
        m = models[doc.day]
        rng = random.Random(f"{spec.seed}:shadow:{doc.item.id}")
        base = {"doc_id": doc.item.id, "pipeline": "llmops", "role": "shadow", "received_at": doc.received_at,
                "gold_label": doc.item.label, "gold_fields": dict(doc.item.fields),
                "model_version": m["model_version"], "prompt_version": m["prompt_version"]}
        if _down(spec, doc, "llmops"):
            out.append(_down_record(base))
            continue
        latency = min(MAX_LATENCY_S, m["latency_s"] * m["slow"] * math.exp(rng.gauss(0.0, m["latency_spread"])))
        if rng.random() < m["error_rate"]:
            out.append(ResultRecord(**base, latency_s=latency, error="model call failed (simulated)"))
            continue
        label = doc.item.label if rng.random() < m["accuracy"] else rng.choice([x for x in labels if x != doc.item.label])
        fields = {k: (v if v is None or rng.random() < m["field_accuracy"] else _wrong(v))
                  for k, v in doc.item.fields.items()}
        events = []
        if doc.pii:
            exposed = rng.random() < max((e.exposed_share for e in _active(spec, "pii_burst", doc.day)), default=0.0)
            events.append(GuardrailEvent(policy="pii", action="none" if exposed else "anonymized", exposed=exposed))
        out.append(ResultRecord(**base, latency_s=round(latency, 4), label=label, fields=fields,
                                input_tokens=m["input_tokens"], output_tokens=m["output_tokens"],
                                cost_usd=round(m["cost_per_doc"] * m["price"], 6),
                                hallucinated=rng.random() < m["hallucination_rate"], guardrail_events=events))
    return out


def _wrong(v):
    """A value extraction got wrong: missed (null), as a model most often does."""
    return None


def production(spec, docs: Sequence[StreamDoc], predictor) -> list[ResultRecord]:
    """The real MLOps pipeline on ``docs``: classify, then extract with the predicted type; its time per document
    is the model's measured time plus the end-to-end overhead of the scenario's ``production`` (section 2)."""
    up = [d for d in docs if not _down(spec, d, "mlops")]
    items = [d.item for d in up]
    t0 = time.perf_counter()
    labels = predictor.predict(items, "classify") if items else []
    fields = predictor.predict(items, "extract", [{"classify": o.value} for o in labels]) if items else []
    per_doc = (time.perf_counter() - t0) / max(1, len(items))
    done = {d.item.id: (lab, fld) for d, lab, fld in zip(up, labels, fields)}
    out = []
    for d in docs:
        base = {"doc_id": d.item.id, "pipeline": "mlops", "role": "production", "received_at": d.received_at,
                "gold_label": d.item.label, "gold_fields": dict(d.item.fields), "model_version": "mlops"}
        if d.item.id not in done:
            out.append(_down_record(base))
            continue
        lab, fld = done[d.item.id]
        slow = math.prod(e.factor for e in _active(spec, "latency_degradation", d.day, "mlops"))
        rng = random.Random(f"{spec.seed}:production:{d.item.id}")
        overhead = max(0.0, rng.gauss(spec.production.overhead_s, spec.production.overhead_sd))
        out.append(ResultRecord(**base, latency_s=round(min(MAX_LATENCY_S, (per_doc + overhead) * slow), 6),
                                label=lab.value, fields=fld.value,
                                error=lab.error or fld.error, cost_usd=spec.production.cost_per_doc))
    return out


def pipeline_shadow(spec, docs: Sequence[StreamDoc], predictor) -> list[ResultRecord]:
    """The real LLMOps pipeline on ``docs`` (one document at a time: its own time and tokens)."""
    out = []
    for d in docs:
        base = {"doc_id": d.item.id, "pipeline": "llmops", "role": "shadow", "received_at": d.received_at,
                "gold_label": d.item.label, "gold_fields": dict(d.item.fields)}
        if _down(spec, d, "llmops"):
            out.append(_down_record(base))
            continue
        t0 = time.perf_counter()
        lab = predictor.predict([d.item], "classify")[0]
        fld = predictor.predict([d.item], "extract", [{"classify": lab.value}])[0]
        usage = [o.usage for o in (lab, fld) if o.usage is not None]
        events = guardrail_events((lab, fld))
        out.append(ResultRecord(**base, latency_s=round(min(MAX_LATENCY_S, time.perf_counter() - t0), 4),
                                label=lab.value, fields=fld.value, error=lab.error or fld.error,
                                input_tokens=sum(u.input_tokens for u in usage),
                                output_tokens=sum(u.output_tokens for u in usage),
                                cost_usd=spec.shadow.cost_per_doc, guardrail_events=events,
                                model_version=lab.meta.get("model"), prompt_version=lab.meta.get("prompt")))
    return out


def guardrail_events(outputs) -> list[GuardrailEvent]:
    """The pipeline's guardrail records (types and actions, see ``harness.guardrails``) as result-log events: one
    per PII entity found (``exposed`` when the guardrail detected it and let it through, action ``NONE``: it
    reached the model or the answer unmasked) and one per other policy that fired."""
    out = []
    for o in outputs:
        record = o.meta.get("guardrails") or {}
        for side in ("input", "output"):
            for ev in record.get(side) or []:
                for entity in ev.get("pii") or []:
                    action = str(entity.get("action", "")).lower()
                    out.append(GuardrailEvent(policy=f"pii:{entity.get('type', '?')}", action=action or "detected",
                                              exposed=action == "none"))
                for policy in ev.get("fired") or []:
                    if policy != "pii":
                        out.append(GuardrailEvent(policy=policy, action="blocked" if ev.get("blocked") else
                                                  "intervened"))
    return out


def chunks(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of at most ``size``, taken as they come."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def shadow_settings(shadow: str, overrides: Sequence[str]) -> list[str]:
    """The LLMOps settings of ``--shadow pipeline``: classify and extract, then ``overrides`` (``--set``), checked
    against the pipeline's settings (an unknown key or a wrong value: exit 2 naming it). ``--set`` with the
    simulated shadow is refused: it would change nothing."""
    from harness.errors import HarnessInputError
    from harness.pipelines import load_pipeline_config

    settings = ["tasks=[classify, extract]", *overrides]
    if overrides:
        load_pipeline_config("llmops", None, settings)
        if shadow != "pipeline":
            raise HarnessInputError("sets the LLMOps pipeline, which only --shadow pipeline runs (the simulated "
                                    "shadow's figures are the scenario's)", field="--set")
    return settings


def simulate_day(spec, day: int, writer, mlops, llm, labels: Sequence[str], *, chunk: int = CHUNK) -> int:
    """Day ``day`` of the stream of ``spec`` into ``writer`` (a :class:`harness.shadow.db.Writer`): the events that
    start that day, then its documents, generated, processed by production (``mlops``) and the shadow (the real
    pipeline ``llm``, or the scenario's model when None) and written ``chunk`` at a time, so memory does not grow
    with the documents a day; returns how many documents."""
    from datetime import datetime, timedelta, timezone
    from datetime import time as dtime

    on = spec.start + timedelta(days=day - 1)
    for e in spec.events:
        if e.first_day() == day:
            writer.add_event(datetime.combine(on, dtime(9), tzinfo=timezone.utc), e.kind,
                             e.model_dump(exclude_none=True, exclude_defaults=True))
    n = 0
    for docs in chunks(day_documents(spec, day), chunk):
        records = production(spec, docs, mlops)
        records += pipeline_shadow(spec, docs, llm) if llm is not None else simulated_shadow(spec, docs, labels)
        writer.add(records)
        n += len(docs)
    return n


def simulate(scenario: Scenario, db_path, *, shadow: str = "scenario", overrides: Sequence[str] = (),
             progress: bool | None = None, info: Callable[[str], None] = print) -> dict:
    """Run the scenario into the database at ``db_path`` day by day (:func:`simulate_day`), skipping the days
    already complete; returns a summary (days, documents, seconds)."""
    from datetime import timedelta

    from harness.errors import HarnessInputError
    from harness.golden import default_golden, load_golden_set
    from harness.pipelines import build_predictor
    from harness.progress import progress as progress_bar
    from harness.shadow.db import Writer, database, meta
    from harness.shadow.judge import week_summary

    spec = scenario.spec
    settings = shadow_settings(shadow, overrides)
    golden = load_golden_set(default_golden())
    mlops = llm = None
    with database(db_path) as conn:
        try:
            writer = Writer(conn, golden.manifest.fields, summarise=week_summary)
            old = meta(conn)
            if old.get("scenario_sha256") not in (None, scenario.sha256) or old.get("shadow") not in (None, shadow):
                raise HarnessInputError("holds another scenario or shadow; choose another --out or delete it",
                                        path=db_path)
            for key, value in (("scenario", spec.name), ("scenario_sha256", scenario.sha256), ("shadow", shadow),
                               ("seed", str(spec.seed)), ("start", spec.start.isoformat()),
                               ("weeks", str(spec.weeks)), ("docs_per_day", str(spec.docs_per_day)),
                               ("feedback", spec.feedback), ("audit", spec.audit),
                               ("projected_cost_per_doc", spec.shadow.cost_per_doc)):
                writer.set_meta(key, value)
            done = {d for d, n in conn.execute("SELECT day, COUNT(*) FROM results GROUP BY day")
                    if n >= 2 * spec.docs_per_day}
            mlops = build_predictor("mlops", golden, progress=info).predictor
            llm = build_predictor("llmops", golden, None, settings, progress=info).predictor \
                if shadow == "pipeline" else None
            t0, n_docs = time.perf_counter(), 0
            days = range(1, spec.weeks * 7 + 1)
            with progress_bar(len(days), f"simulating {spec.name}", "day", enabled=progress) as bar:
                for day in days:
                    if (spec.start + timedelta(days=day - 1)).isoformat() not in done:
                        n_docs += simulate_day(spec, day, writer, mlops, llm, golden.manifest.labels)
                    bar.update(1)
            writer.refresh()  # the weeks' summaries (harness.shadow.db): the readers' one row a week
        finally:
            for predictor in (mlops, llm):
                if predictor is not None:
                    predictor.close()
    return {"days": len(days), "documents": n_docs, "seconds": round(time.perf_counter() - t0, 1)}
