"""``harness grade run --dry-run``: what grading would cost, without calling a model.

Per variant: model calls (items x graded tasks, on the grading and dev splits) and an estimate of the tokens
(input: the prompt template, the item's text and the passages at about 4 characters per token; output: at
most each task's ``max_tokens``), beside the budget.
"""

from __future__ import annotations

from harness.grading.roster import REFERENCE

CHARS_PER_TOKEN = 4


def variant_config(assignment, sub, overrides=()):
    """The pipeline config of a variant: the assignment's settings, the student's, the instructor's ``--set``."""
    from harness.grading.submission import overrides as student_settings
    from harness.pipelines import load_pipeline_config

    sets = list(assignment.spec.pipeline.set) + (student_settings(sub) if sub is not None else []) + list(overrides)
    _, cfg = load_pipeline_config("llmops", str(assignment.pipeline_config) if assignment.pipeline_config else None,
                                  sets)
    return cfg


def reference_templates(assignment, cfg) -> dict:
    """task -> the reference's PromptTemplate: the one the pipeline config names, from the reference dir."""
    from harness.pipelines import prompt_registry

    registry = prompt_registry().load_registry(assignment.reference_prompts)
    out = {}
    for task in assignment.spec.tasks:
        ref = getattr(cfg.prompts, task)
        if ref not in registry:  # a course's own baseline folder: its one version of the task
            ref = max((r for r in registry if r.split("@")[0] == task), key=lambda r: int(r.split("@")[1]),
                      default=None)
        if ref is None:
            from harness.errors import HarnessInputError

            raise HarnessInputError(f"no {task} prompt in the reference prompts", path=assignment.reference_prompts)
        out[task] = registry[ref]
    return out


def estimate(assignment, golden, sub, overrides=()) -> dict:
    """{calls, input_tokens, max_output_tokens} per split role for one variant."""
    cfg = variant_config(assignment, sub, overrides)
    templates = reference_templates(assignment, cfg)
    texts = {t: len(p.system) + len(p.user) for t, p in templates.items()}
    if sub is not None:
        texts.update({t: len(p.system) + len(p.user) for t, p in sub.prompts.items()})
    labels = len(", ".join(golden.manifest.labels))
    fields = sum(len(n) + len(s.description) + 20 for n, s in golden.manifest.fields.items())
    out = {}
    for role, split in (("grading", assignment.spec.grading_split), ("dev", assignment.spec.dev_split)):
        calls = chars = out_tokens = 0
        for it in golden.items(split):
            tasks = ["answer"] if it.kind == "qa" else ["classify", "extract"] + (["summarize"] if it.summary else [])
            for task in (t for t in tasks if t in assignment.spec.tasks):
                calls += 1
                out_tokens += cfg.llm.max_tokens.get(task, 256)
                chars += texts[task]
                if task == "answer":
                    chars += len(it.question or "") + cfg.retrieval.top_k * cfg.chunking.chunk_size
                else:
                    chars += min(len(it.text), cfg.max_document_chars)
                    chars += labels if task == "classify" else fields if task == "extract" else 0
        out[role] = {"calls": calls, "input_tokens": chars // CHARS_PER_TOKEN, "max_output_tokens": out_tokens}
    return out


def estimate_rows(assignment, golden, jobs, settled: dict, roster, overrides=()) -> list[dict]:
    """One row per roster student (and the reference): status, calls and tokens expected, the budget."""
    from harness.grading.submission import Invalid, load_submission
    from pathlib import Path

    budget = assignment.spec.budget
    rows = []
    for job in jobs:
        sub = None
        if job.folder is not None:
            sub = load_submission(job.student_id, Path(job.folder), assignment)
            if isinstance(sub, Invalid):  # cannot happen after plan(); kept for safety
                rows.append({"student": job.student_id, "status": "invalid", "reason": sub.reason})
                continue
        e = estimate(assignment, golden, sub, overrides)
        g = e["grading"]
        rows.append({"student": job.student_id, "status": "to run" if job.student_id != REFERENCE else "reference",
                     "calls": g["calls"] + e["dev"]["calls"], "input_tokens": g["input_tokens"] + e["dev"]["input_tokens"],
                     "max_output_tokens": g["max_output_tokens"] + e["dev"]["max_output_tokens"],
                     "grading_tokens_max": g["input_tokens"] + g["max_output_tokens"],
                     "budget_tokens": budget.tokens, "budget_calls": budget.calls,
                     "fits": _fits(budget, g), "reason": ""})
    for s in roster:
        if s.student_id in settled:
            status, reason = settled[s.student_id]
            rows.append({"student": s.student_id, "status": status, "reason": reason})
    return rows


def _fits(budget, g: dict) -> str:
    if budget.calls is not None and g["calls"] > budget.calls:
        return "no (calls)"
    if budget.tokens is not None and g["input_tokens"] + g["max_output_tokens"] > budget.tokens:
        return "maybe (if outputs are long)" if g["input_tokens"] <= budget.tokens else "no (tokens)"
    return "yes"
