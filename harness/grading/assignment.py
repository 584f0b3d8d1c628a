"""The instructor's ``assignment.yaml``: what students may change, on which data they are graded, their budget
and the rubric. Read with :func:`load_assignment` (one safe YAML reader, ``file:line: field: problem`` errors).

A minimal file::

    name: techcorp-prompts-1          # the gradebook column; a safe name
    golden: ../../golden_sets/course  # relative to this file
    dev_split: dev                    # what students see (grade check, feedback examples)
    grading_split: grading            # hidden: aggregate figures only, never a document
    tasks: [classify, extract, answer]
    rubric:
      metrics:
        - {name: classification, metric: classification.macro_f1, points: 40, from: 0.0, to: 1.0}

Paths in the file are relative to the file's own directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from harness.config import StrictModel
from harness.errors import HarnessInputError
from harness.files import read_yaml_mapping_doc, validate
from harness.paths import safe_name

TaskName = Literal["classify", "extract", "answer", "summarize"]

# bounds of every number the file may give (said in the error when one is beyond)
VALUE_BOUND = 1e9  # a setting's range, a rubric line's from/to and steps: |x| at most this
POINTS_BOUND = 10_000.0  # points of one line, one criterion, one penalty
Value = Annotated[float, Field(ge=-VALUE_BOUND, le=VALUE_BOUND)]
Points = Annotated[float, Field(ge=0, le=POINTS_BOUND)]
# rubric line names the outputs use for their own columns (grades.csv, leaderboard) and for the penalty lines
RESERVED_LINE_NAMES = ("student_id", "name", "total", "status", "reason", "rank", "invalid outputs", "errors",
                       "over budget", "late", "submitted_at", "lateness")

# the settings a student may change (issue: prompts and RAG settings); the assignment gives each a range
STUDENT_SETTINGS = ("chunking.chunk_size", "chunking.chunk_overlap", "retrieval.top_k", "llm.temperature",
                    "llm.max_tokens.classify", "llm.max_tokens.extract", "llm.max_tokens.answer",
                    "llm.max_tokens.summarize")
INTEGER_SETTINGS = frozenset(s for s in STUDENT_SETTINGS if s != "llm.temperature")

# placeholders each task's prompt may use (what pipelines/llmops/predictor.py fills in)
PLACEHOLDERS = {"classify": frozenset({"labels", "document"}), "extract": frozenset({"fields", "label", "document"}),
                "answer": frozenset({"passages", "question"}), "summarize": frozenset({"document"})}


class Range(StrictModel):
    """The values a student may give one setting (both ends allowed)."""
    min: Value = Field(description="smallest allowed value")
    max: Value = Field(description="largest allowed value")

    @model_validator(mode="after")
    def _ordered(self):
        if self.min > self.max:
            raise ValueError("min is above max")
        return self


class Budget(StrictModel):
    """What one student's variant may spend on the grading split. Tokens and calls are counted whether or not a
    call came from the cache, in item order, so a grade never depends on who was graded first."""
    tokens: int | None = Field(None, ge=1, le=10**12, description="model input + output tokens; none: no limit")
    calls: int | None = Field(None, ge=1, le=10**9, description="model calls; none: no limit")
    wall_s: float | None = Field(None, gt=0, le=10**7, description="model time in seconds (a cached call counts "
                                 "the time it first took); a safety limit: where it is reached, the grade depends on "
                                 "the machine")


class MetricLine(StrictModel):
    """Points for one metric of the grading run: linear between ``from`` (0 points) and ``to`` (all points), or
    by ``steps`` (the points of the best step reached). ``relative_to: reference`` scores the difference to the
    reference variant instead of the value itself."""
    name: str = Field(min_length=1, max_length=60, description="rubric line name (a column of grades.csv)")
    metric: str = Field(description="a metric of the registry (`harness metrics`), e.g. classification.macro_f1")
    points: float = Field(gt=0, le=POINTS_BOUND, description="points of this line when fully met")
    relative_to: Literal["absolute", "reference"] = Field("absolute", description="score the value itself or its "
                                                          "difference to the reference variant")
    from_: Value | None = Field(None, alias="from", description="linear: the value (or difference) worth 0 points")
    to: Value | None = Field(None, description="linear: the value (or difference) worth all the points")
    steps: list[tuple[Value, Points]] | None = Field(None, min_length=1, max_length=50, description="[[value, "
                                                     "points], ...]: the points of the best value reached in the "
                                                     "metric's better direction")

    model_config = {**StrictModel.model_config, "populate_by_name": True}

    @model_validator(mode="after")
    def _one_scale(self):
        linear = self.from_ is not None or self.to is not None
        if linear == (self.steps is not None):
            raise ValueError("give either from/to (linear) or steps")
        if linear and (self.from_ is None or self.to is None or self.from_ == self.to):
            raise ValueError("a linear line needs from and to, and they must differ")
        if self.steps is not None and any(p < 0 or p > self.points for _, p in self.steps):
            raise ValueError("every step's points must be between 0 and the line's points")
        return self

    @field_validator("metric")
    @classmethod
    def _known(cls, v: str) -> str:
        from metrics.registry import UnknownMetric, lookup

        try:
            spec = lookup(v)
        except UnknownMetric:
            raise ValueError(f"unknown metric {v!r} (harness metrics lists them)") from None
        if spec.higher_is_better is None:
            raise ValueError(f"{v} has no better direction; a rubric cannot score it")
        return v


class CriteriaLine(StrictModel):
    """Points for the pilot success criteria the grading run meets (at least their must-have)."""
    name: str = Field("pilot criteria", min_length=1, max_length=60, description="rubric line name")
    file: str | None = Field(None, description="criteria YAML (default: harness/criteria/techcorp.yaml)")
    ids: list[str] | None = Field(None, min_length=1, max_length=100, description="criteria that count (ids of the "
                                  "criteria file; default: every criterion whose metric the graded tasks produce)")
    points_each: float = Field(gt=0, le=POINTS_BOUND, description="points per criterion met")


class Penalty(StrictModel):
    """Points taken per affected item of the grading split, at most ``max``."""
    per_item: Points = Field(description="points per item")
    max: Points = Field(description="the most this penalty takes")


class Penalties(StrictModel):
    """Deductions. A penalty never takes the grade below 0."""
    invalid_output: Penalty = Field(Penalty(per_item=0.0, max=0.0), description="per task output the model gave "
                                    "that did not parse or was not allowed")
    errors: Penalty = Field(Penalty(per_item=0.0, max=0.0), description="per task that failed otherwise (model "
                            "errors, guardrail blocks, not done for lack of budget)")
    over_budget: Points = Field(0.0, description="points taken once when the budget stopped the variant")


class Rubric(StrictModel):
    """How a grading run becomes points."""
    metrics: list[MetricLine] = Field(min_length=1, max_length=50, description="one line per metric")
    criteria: CriteriaLine | None = Field(None, description="points for pilot criteria met")
    penalties: Penalties = Field(Penalties(), description="deductions")
    max_grade: float | None = Field(None, gt=0, le=50 * POINTS_BOUND, description="the grade is capped here "
                                    "(default: the sum of the lines' points)")


class PipelineSpec(StrictModel):
    """The LLMOps pipeline every variant runs in (students change only prompts and the allowed settings)."""
    config: str | None = Field(None, description="LLMOps config file (default: pipelines/llmops/config.yaml)")
    set: list[str] = Field([], description="key=value overrides, as --set in harness run")


class ReferenceSpec(StrictModel):
    """The course's baseline variant, graded once and shown beside every student."""
    prompts: str | None = Field(None, description="directory of the baseline prompts (default: the shipped ones)")


class Limits(StrictModel):
    """What a submission may hold; anything beyond is graded invalid with the reason."""
    max_file_bytes: int = Field(64 * 1024, ge=1, le=16 * 1024 * 1024, description="largest file in a submission")
    max_files: int = Field(20, ge=1, le=1000, description="most files in a submission folder")
    max_archive_bytes: int = Field(64 * 1024 * 1024, ge=1, le=16 * 1024 ** 3, description="largest uncompressed "
                                   "size of a whole zip")
    max_archive_entries: int = Field(10_000, ge=1, le=1_000_000, description="most entries in a zip")


# Gradescope's visibility settings (gradescope-autograders.readthedocs.io/en/latest/specs/, "Controlling Test
# Case Visibility"): a test's own visibility overrides the top level's, so results.json gives every test the same
VISIBILITY = ("after_published", "visible", "after_due_date", "hidden")


class LatePolicy(StrictModel):
    """Points taken from a submission handed in after the due time (and the student's extension)."""
    per: Literal["day", "hour"] = Field("day", description="the penalty is per day or per hour started late")
    penalty: Points = Field(description="points taken per day (or hour) started late")
    max: Points | None = Field(None, description="the most the late penalty takes (none: no cap)")
    cutoff_hours: float | None = Field(None, gt=0, le=24 * 366, description="hours after the due time (and the "
                                       "extension) from which a submission counts as missing (none: never)")


class FeedbackSpec(StrictModel):
    """What Gradescope shows a student of the autograder's results, and when."""
    visibility: Literal["after_published", "visible", "after_due_date", "hidden"] = Field(
        "after_published", description="after_published (default): every test and the total hidden until the "
        "instructor publishes; visible: all of it at once; after_due_date; hidden")


class AssignmentFile(StrictModel):
    """``assignment.yaml`` (see the module docstring)."""
    name: str = Field(description="assignment id: the gradebook column and the name of its outputs (a safe name)")
    title: str = Field("", description="shown on pages and feedback")
    golden: str = Field(description="golden set directory, relative to this file")
    dev_split: str = Field("dev", description="the split students see and feedback examples come from")
    grading_split: str = Field("grading", description="the hidden split grades are computed on")
    tasks: list[TaskName] = Field(min_length=1, description="tasks graded (each variant runs only these)")
    settings: dict[str, Range] = Field({}, description="setting -> allowed range; a setting not listed may not be "
                                       f"changed (the changeable ones: {', '.join(STUDENT_SETTINGS)})")
    pipeline: PipelineSpec = Field(PipelineSpec(), description="the pipeline's config and overrides")
    reference: ReferenceSpec = Field(ReferenceSpec(), description="the baseline variant")
    budget: Budget = Field(Budget(), description="per-student budget on the grading split")
    rubric: Rubric = Field(description="points")
    limits: Limits = Field(Limits(), description="submission size limits")
    feedback_examples: int = Field(5, ge=0, le=50, description="per-document examples per task in feedback, from "
                                   "the dev split (each variant also runs on it); 0: no examples, no dev runs")
    feedback: FeedbackSpec = Field(FeedbackSpec(), description="Gradescope: when students see their results")
    due: AwareDatetime | None = Field(None, description="the due time, ISO 8601 with its zone (e.g. "
                                      "2026-12-01T23:59:00+01:00); none: no deadline")
    late: LatePolicy | None = Field(None, description="the late policy (needs due)")

    @field_validator("settings")
    @classmethod
    def _changeable(cls, v: dict) -> dict:
        for key in v:
            if key not in STUDENT_SETTINGS:
                raise ValueError(f"{key!r} is not a setting students may change ({', '.join(STUDENT_SETTINGS)})")
        return v

    @model_validator(mode="after")
    def _late_needs_due(self):
        if self.late is not None and self.due is None:
            raise ValueError("a late policy needs a due time (due: 2026-12-01T23:59:00+00:00)")
        return self

    @model_validator(mode="after")
    def _splits(self):
        if self.dev_split == self.grading_split:
            raise ValueError("dev_split and grading_split must differ (the grading split is hidden)")
        return self


@dataclass(frozen=True)
class Assignment:
    """A checked assignment with its paths resolved."""
    spec: AssignmentFile
    path: Path  # the assignment file
    golden_dir: Path
    reference_prompts: Path
    pipeline_config: Path | None
    criteria_file: Path | None
    sha256: str  # of the file's bytes: part of every student's grade identity
    criteria_ids: tuple[str, ...] = ()  # the criteria the criteria line counts (checked against the file)

    @property
    def name(self) -> str:
        return self.spec.name


def _resolve(base: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    p = Path(value)
    return p if p.is_absolute() else (base / p)


def load_assignment(path: str | Path) -> Assignment:
    """Read and check ``assignment.yaml``; exit 2 naming the file, line and field on any problem."""
    import hashlib

    from harness.pipelines import prompt_registry

    path = Path(path)
    doc = read_yaml_mapping_doc(path, "assignment file")
    spec = validate(AssignmentFile, doc.data, doc=doc)
    safe_name(spec.name, path=path, line=doc.line(("name",)), field="name")
    base = path.parent
    golden = _resolve(base, spec.golden)
    if not golden.is_dir():
        raise HarnessInputError(f"golden set directory {golden} not found (relative to the assignment file)",
                                path=path, line=doc.line(("golden",)), field="golden")
    prompts = _resolve(base, spec.reference.prompts) or prompt_registry().DEFAULT_DIR
    if not prompts.is_dir():
        raise HarnessInputError(f"reference prompt directory {prompts} not found", path=path,
                                line=doc.line(("reference", "prompts")), field="reference.prompts")
    config = _resolve(base, spec.pipeline.config)
    if config is not None and not config.is_file():
        raise HarnessInputError(f"pipeline config {config} not found", path=path,
                                line=doc.line(("pipeline", "config")), field="pipeline.config")
    criteria = _resolve(base, spec.rubric.criteria.file) if spec.rubric.criteria else None
    criteria_ids = _criteria_ids(spec, criteria, path, doc) if spec.rubric.criteria else ()
    for i, line in enumerate(spec.rubric.metrics):
        task = _metric_task(line.metric)
        if task not in (*spec.tasks, "run"):
            raise HarnessInputError(f"{line.metric} comes from the {task} task, which this assignment does not grade",
                                    path=path, line=doc.line(("rubric", "metrics", i, "metric")),
                                    field=f"rubric.metrics[{i}].metric")
    _line_names(spec, path, doc)
    return Assignment(spec=spec, path=path, golden_dir=golden, reference_prompts=prompts, pipeline_config=config,
                      criteria_file=criteria, sha256=hashlib.sha256(doc.raw).hexdigest(), criteria_ids=criteria_ids)


def _line_names(spec: AssignmentFile, path: Path, doc) -> None:
    """Rubric line names are columns of grades.csv: unique, and none of the outputs' own columns."""
    lines = [(m.name, ("rubric", "metrics", i, "name"), f"rubric.metrics[{i}].name")
             for i, m in enumerate(spec.rubric.metrics)]
    if spec.rubric.criteria:
        lines.append((spec.rubric.criteria.name, ("rubric", "criteria", "name"), "rubric.criteria.name"))
    seen: set[str] = set()
    for name, loc, field in lines:
        if name.strip().casefold() in RESERVED_LINE_NAMES:
            raise HarnessInputError(f"{name!r} is a name the outputs use for their own column or line (reserved: "
                                    f"{', '.join(RESERVED_LINE_NAMES)})", path=path, line=doc.line(loc), field=field)
        if name in seen:
            raise HarnessInputError(f"rubric line names must be unique (they are columns of grades.csv): {name!r} "
                                    "is given twice", path=path, line=doc.line(loc), field=field)
        seen.add(name)


def _criteria_ids(spec: AssignmentFile, file: Path | None, path: Path, doc) -> tuple[str, ...]:
    """The criteria the criteria line counts: each id given must be in the criteria file and measure a graded
    task or the run (a criterion no run can meet would silently give none of its points); by default every
    criterion whose metric a graded task produces, and there must be one."""
    from harness.gates.criteria import load_criteria

    if file is not None and not file.is_file():
        raise HarnessInputError(f"criteria file {file} not found (relative to the assignment file)", path=path,
                                line=doc.line(("rubric", "criteria", "file")), field="rubric.criteria.file")
    criteria = {c.id: c for c in load_criteria(file).criteria}

    def measured(c, tasks=(*spec.tasks, "run")) -> bool:
        return c.source != "ratings" and bool(c.metric) and _metric_task(c.metric) in tasks

    ids = spec.rubric.criteria.ids
    if ids is None:  # the default: the graded tasks' own criteria (not the run's latency and cost)
        chosen = tuple(i for i, c in criteria.items() if measured(c, spec.tasks))
        if not chosen:
            raise HarnessInputError("no criterion of the criteria file measures a task this assignment grades; "
                                    "give rubric.criteria.ids or drop the criteria line", path=path,
                                    line=doc.line(("rubric", "criteria")), field="rubric.criteria")
        return chosen
    for i, cid in enumerate(ids):
        where = dict(path=path, line=doc.line(("rubric", "criteria", "ids", i)), field=f"rubric.criteria.ids[{i}]")
        if cid not in criteria:
            raise HarnessInputError(f"unknown criterion {cid!r} (the criteria file has: {', '.join(criteria)})",
                                    **where)
        if not measured(criteria[cid]):
            what = ("needs ratings, which grading has none of" if criteria[cid].source == "ratings" else
                    f"measures {criteria[cid].metric}, from a task this assignment does not grade")
            raise HarnessInputError(f"criterion {cid!r} {what}", **where)
        if cid in ids[:i]:
            raise HarnessInputError(f"criterion {cid!r} is given twice", **where)
    return tuple(ids)


def _metric_task(metric: str) -> str:
    from metrics.registry import lookup

    return lookup(metric).task or "run"
