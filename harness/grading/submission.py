"""Student submissions for the instructor grading feature: found, read, checked and contained.

A submission is one folder per student, ``SUBMISSIONS/<student_id>/``, holding any of ``classify.yaml``,
``extract.yaml``, ``answer.yaml``, ``summarize.yaml`` (prompt files in the format of
``pipelines/llmops/prompts/*.yaml``; a missing one falls back to the reference) and ``settings.yaml`` (nested keys
the assignment gives a range, e.g. ``retrieval: {top_k: 6}``). A class may also come as a zip of those folders
(``harness.grading.archive`` stages it without trusting it).

Everything a student wrote is data: read with the project's one safe YAML reader, never imported or executed.
Whatever is wrong with one submission makes it :class:`Invalid` with a one-line reason naming the file and the
field or line (never more than about 60 characters of what the student wrote), and the batch goes on.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from harness.errors import HarnessInputError
from harness.files import YamlDoc, load_yaml_text, validate
from harness.paths import safe_name
from harness.grading.archive import at, case_clashes, is_safe_id, show, skipped, stage_zip
from harness.grading.assignment import Assignment, Limits
from harness.grading.checks import Problem, huge_number, placeholder_problem, settings_values
from harness.pipelines import prompt_registry

PromptFile = prompt_registry().PromptFile  # the format of pipelines/llmops/prompts/*.yaml

TASKS = ("classify", "extract", "answer", "summarize")
SUBMISSION_FILES = frozenset({f"{t}.yaml" for t in TASKS} | {"settings.yaml"})
EXPECTED = "a submission holds classify.yaml, extract.yaml, answer.yaml, summarize.yaml, settings.yaml"
MAX_DEPTH = 8  # folder levels walked inside a submission
MAX_REASON = 200


@dataclass(frozen=True)
class Submission:
    """A checked submission: the student's own prompts for graded tasks and the settings they set."""
    student_id: str
    root: Path  # the folder read (a staged copy for a zip)
    prompts: Mapping[str, PromptFile]  # task -> the student's own prompt (validated), only graded tasks
    settings: Mapping[str, int | float]  # dotted key -> value (only keys the student set)
    sha256: str  # over the sorted (relative path, bytes) of the files used: identity for resume
    notes: tuple[str, ...] = ()  # ignored files, prompts for ungraded tasks


@dataclass(frozen=True)
class Invalid:
    """A submission (or a student's part of a zip) that is not graded, and why (one line)."""
    student_id: str
    reason: str


class _Refused(Exception):
    """Internal: the submission is invalid for ``reason``."""
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def reason(file: str | None, problem: str, *, line: int | None = None, field: str | None = None) -> str:
    """``file:line: field: problem`` on one line (control characters escaped), at most 200 characters."""
    text = HarnessInputError(problem, path=file, line=line, field=None if field is None else field[:60]).format()
    return text if len(text) <= MAX_REASON else text[:MAX_REASON - 3] + "..."


def _from_error(file: str, exc: HarnessInputError) -> str:
    return reason(file, exc.problem[:120], line=exc.line, field=exc.field)


# ---------------------------------------------------------------------------------------------- finding
def discover(source: Path, staging: Path, limits: Limits
             ) -> tuple[dict[str, Path], list[str], dict[str, str]]:
    """A class: a directory of student folders or a zip of them -> ``({student_id: folder}, problems,
    {student_id: reason})``, each dict sorted by student id, no student in both. Zip members are staged under
    ``staging/<student_id>/``; a student whose part of the zip is unsafe (or whose folder is a symlink) is in
    the third dict, with the reason it is invalid. ``problems``: entries that are no student (unsafe folder
    names, loose files), never graded. A zip over ``limits``' archive caps, or a source that is neither, raises
    :class:`HarnessInputError`."""
    source = Path(source)
    if source.is_file():
        staged = stage_zip(source, staging, limits, SUBMISSION_FILES)
        return staged.folders, staged.problems, staged.invalid
    if not source.is_dir():
        raise HarnessInputError("submissions not found (a folder of student folders or a zip of them)", path=source)
    entries = _listing(source)
    if len(entries) == 1 and entries[0][1] == "dir":  # one common top folder (an unzipped platform export)
        inner = _listing(source / entries[0][0])
        if any(k == "dir" for _, k in inner) and not any(k == "file" and n in SUBMISSION_FILES for n, k in inner):
            source, entries = source / entries[0][0], inner
    folders: dict[str, Path] = {}
    invalid: dict[str, str] = case_clashes(n for n, k in entries if k != "file" and is_safe_id(n))
    problems: list[str] = []
    for name, kind in entries:
        if name in invalid:
            continue
        if kind == "file":
            problems.append(f"{show(name)} is a file at the top of the class, not a student folder; skipped")
        elif not is_safe_id(name):
            problems.append(f"folder {show(name)} is not a safe student id (letters, digits, '.', '_', '-'; no "
                            "'..'); not graded")
        elif kind == "dir":
            folders[name] = source / name
        else:
            invalid[name] = f"the student folder is a {kind} (refused)"
    return folders, problems, dict(sorted(invalid.items()))


def _listing(folder: Path) -> list[tuple[str, str]]:
    """(name, 'dir' | 'file' | 'symlink' | 'special file') of a folder's entries, hidden ones skipped, sorted."""
    out = []
    try:
        with os.scandir(folder) as it:
            for e in it:
                if skipped(e.name):
                    continue
                mode = e.stat(follow_symlinks=False).st_mode
                out.append((e.name, "symlink" if stat.S_ISLNK(mode) else "dir" if stat.S_ISDIR(mode)
                            else "file" if stat.S_ISREG(mode) else "special file"))
    except OSError as exc:
        raise HarnessInputError(f"cannot list the folder: {exc.strerror}", path=folder) from None
    return sorted(out)


def open_one(source: Path, staging: Path, limits: Limits, student_id: str = "self") -> Path | Invalid:
    """One submission (a folder, or a zip of its files, possibly under one folder) for ``harness grade check``:
    the folder to pass to :func:`load_submission`, or why its zip is refused (a zip over the archive caps
    raises)."""
    source = Path(source)
    safe_name(student_id, field="student id")
    if source.is_symlink() and source.is_dir():
        return Invalid(student_id, "the submission folder is a symlink (refused)")
    if source.is_dir():
        return source
    if not source.is_file():
        raise HarnessInputError("submission not found (a folder or a zip)", path=source)
    staged = stage_zip(source, staging, limits, SUBMISSION_FILES, single=student_id)
    if student_id in staged.invalid:
        return Invalid(student_id, staged.invalid[student_id])
    return staged.folders[student_id]


def load_class(source: Path, staging: Path, assignment: Assignment
               ) -> tuple[list[Submission | Invalid], list[str]]:
    """:func:`discover` then :func:`load_submission` for each student: results sorted by student id."""
    folders, problems, invalid = discover(source, staging, assignment.spec.limits)
    results: dict[str, Submission | Invalid] = {s: Invalid(s, r) for s, r in invalid.items()}
    for sid, folder in folders.items():
        results[sid] = load_submission(sid, folder, assignment)
    return [results[s] for s in sorted(results)], problems


# ---------------------------------------------------------------------------------------------- reading
def load_submission(student_id: str, folder: Path, assignment: Assignment) -> Submission | Invalid:
    """Read and check one student's folder (see the module docstring). ``student_id`` must be a safe name
    (:func:`discover` yields only those; another raises :class:`HarnessInputError`)."""
    safe_name(student_id, field="student id")
    try:
        return _load(student_id, Path(folder), assignment)
    except _Refused as exc:
        return Invalid(student_id, exc.reason)


def _load(student_id: str, folder: Path, assignment: Assignment) -> Submission:
    limits = assignment.spec.limits
    try:
        mode = os.lstat(folder).st_mode
    except OSError:
        raise _Refused("the submission folder cannot be read") from None
    if stat.S_ISLNK(mode) or not stat.S_ISDIR(mode):
        raise _Refused("the submission folder is a symlink or not a folder (refused)")
    notes: list[str] = []
    used: list[str] = []
    for rel in _walk(folder, limits):
        name = rel.rsplit("/", 1)[-1]
        if rel in SUBMISSION_FILES:
            used.append(rel)
        elif name in SUBMISSION_FILES:
            raise _Refused(at(rel, f"{name} is in a sub-directory; a submission's files sit at the top of its folder"))
        elif name.lower().startswith("readme") or name.lower().endswith((".md", ".txt")):
            notes.append(f"ignored {show(rel, 60)}")
        else:
            raise _Refused(f"unexpected file {show(rel)}; {EXPECTED}")
    graded = list(assignment.spec.tasks)
    prompts: dict[str, PromptFile] = {}
    settings: dict[str, int | float] = {}
    identity: list[tuple[str, bytes]] = []
    for rel in sorted(used):
        task = rel[:-len(".yaml")]
        if task != "settings" and task not in graded:
            notes.append(f"ignored {rel}: this assignment does not grade {task}")
            continue
        raw = _read(folder / rel, rel, limits)
        identity.append((rel, raw))
        if task == "settings":
            settings = _settings(raw, rel, assignment)
        else:
            prompts[task] = _prompt(raw, rel, task)
    if not identity:
        notes.append("no prompt files and no settings.yaml for the graded tasks: graded as the reference")
    digest = hashlib.sha256()
    for rel, raw in identity:
        digest.update(rel.encode() + b"\0" + len(raw).to_bytes(8, "big") + raw)
    return Submission(student_id=student_id, root=folder, prompts={t: prompts[t] for t in sorted(prompts)},
                      settings=dict(sorted(settings.items())), sha256=digest.hexdigest(), notes=tuple(notes))


def _walk(folder: Path, limits: Limits) -> list[str]:
    """Regular files under ``folder`` (relative, ``/``-separated, sorted), hidden ones skipped; a symlink
    anywhere, a device or fifo, too many files or a file over the size limit refuse the submission."""
    files: list[str] = []
    budget = 10 * limits.max_files + 100  # entries looked at, hidden ones included
    stack: list[tuple[str, Path, int]] = [("", folder, 0)]
    while stack:
        prefix, path, depth = stack.pop()
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            raise _Refused(at(prefix or ".", "the folder cannot be read")) from None
        for e in entries:
            budget -= 1
            rel = f"{prefix}{e.name}"
            if budget < 0:
                raise _Refused(f"too many entries (more than {limits.max_files} files are allowed)")
            st = e.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                raise _Refused(at(rel, "a symlink (refused, even to a file inside the folder)"))
            if skipped(e.name):
                continue
            if stat.S_ISDIR(st.st_mode):
                if depth + 1 >= MAX_DEPTH:
                    raise _Refused(at(rel, f"nested more than {MAX_DEPTH} folders deep"))
                stack.append((rel + "/", Path(e.path), depth + 1))
            elif stat.S_ISREG(st.st_mode):
                if st.st_size > limits.max_file_bytes:
                    raise _Refused(at(rel, f"{st.st_size:,} bytes, over the {limits.max_file_bytes:,}-byte limit"))
                files.append(rel)
                if len(files) > limits.max_files:
                    raise _Refused(f"more than {limits.max_files} files (the limit)")
            else:
                raise _Refused(at(rel, "not a regular file (a device, fifo or socket; refused)"))
    return sorted(files)


def _read(path: Path, rel: str, limits: Limits) -> bytes:
    """A file's bytes (never following a symlink, never blocking on a fifo), size-checked."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        raise _Refused(reason(rel, "cannot be opened (a symlink or unreadable; refused)")) from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise _Refused(reason(rel, "is not a regular file (refused)"))
        raw = fh.read(limits.max_file_bytes + 1)
    if len(raw) > limits.max_file_bytes:
        raise _Refused(reason(rel, f"over the {limits.max_file_bytes:,}-byte limit"))
    return raw


def _yaml(raw: bytes, rel: str) -> YamlDoc:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused(reason(rel, f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")) from None
    try:
        doc = load_yaml_text(text, rel)
    except HarnessInputError as exc:
        raise _Refused(_from_error(rel, exc)) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # e.g. 2020-02-30, a 5,000-digit int
        raise _Refused(reason(rel, f"a value cannot be read as plain YAML data ({type(exc).__name__})")) from None
    where = huge_number(doc.data)
    if where is not None:
        raise _Refused(reason(rel, "a number too large to be a setting or a version", line=doc.line(where),
                              field=".".join(map(str, where)) or None))
    return doc


def _prompt(raw: bytes, rel: str, task: str) -> PromptFile:
    doc = _yaml(raw, rel)
    if not isinstance(doc.data, dict):
        raise _Refused(reason(rel, "a prompt file must be a mapping with id, version, system and user"))
    try:
        prompt = validate(PromptFile, doc.data, doc=doc)
    except HarnessInputError as exc:
        raise _Refused(_from_error(rel, exc)) from None
    if prompt.id != task:
        raise _Refused(reason(rel, f"must be {task!r}, the file's task (got {show(prompt.id)})",
                              line=doc.line(("id",)), field="id"))
    for fld in ("system", "user"):
        problem = placeholder_problem(getattr(prompt, fld), task)
        if problem is not None:
            raise _Refused(reason(rel, problem, line=doc.line((fld,)), field=fld))
    return prompt


def _settings(raw: bytes, rel: str, assignment: Assignment) -> dict[str, int | float]:
    doc = _yaml(raw, rel)
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise _Refused(reason(rel, "settings must be a mapping, e.g. retrieval: {top_k: 6}"))
    try:
        return settings_values(doc.data, assignment.spec.settings)
    except Problem as exc:
        raise _Refused(reason(rel, exc.problem, line=doc.line(exc.path), field=".".join(exc.path) or None)) from None


# ---------------------------------------------------------------------------------------------- using
def overrides(sub: Submission) -> list[str]:
    """The student's settings as ``--set`` strings, sorted: ``["chunking.chunk_size=400", "retrieval.top_k=6"]``."""
    return sorted(f"{key}={_number(value)}" for key, value in sub.settings.items())


def _number(value: int | float) -> str:
    """A number as ``--set`` text YAML reads back as the same number (``1e-05`` would be a string)."""
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text


def write_prompt_dir(sub: Submission, reference_dir: Path, dest: Path, tasks: Sequence[str],
                     reference: Mapping[str, str] | None = None) -> dict[str, str]:
    """Write one prompt YAML per graded task into ``dest`` (the student's own, else the reference's), so that
    ``pipelines.llmops.prompts.load_registry(dest)`` loads exactly those (other ``*.yaml`` files already in
    ``dest`` are removed). The reference template of a task is ``reference[task]`` (``id@version``) when given
    and in ``reference_dir``, else the highest version of the task's id there. Returns task -> ``id@version``, usable as
    ``--set prompts.dir=dest --set prompts.classify=classify@3``."""
    import yaml

    registry = prompt_registry().load_registry(reference_dir)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {f"{t}.yaml" for t in tasks}
    for old in dest.glob("*.yaml"):
        if old.name not in wanted:
            old.unlink()
    refs: dict[str, str] = {}
    for task in tasks:
        if task in sub.prompts:
            data = sub.prompts[task].model_dump()
        else:
            data = _reference(registry, task, (reference or {}).get(task), reference_dir)
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1_000_000)
        if load_yaml_text(text, str(dest / f"{task}.yaml")).data != data:  # never write what reads back otherwise
            raise HarnessInputError("a prompt does not survive being written as YAML", path=dest / f"{task}.yaml")
        (dest / f"{task}.yaml").write_text(text, encoding="utf-8")
        refs[task] = f"{data['id']}@{data['version']}"
    return refs


def _reference(registry: Mapping, task: str, ref: str | None, reference_dir: Path) -> dict:
    if ref in registry and registry[ref].id == task:
        template = registry[ref]
    else:
        versions = [t for t in registry.values() if t.id == task]
        if not versions:
            raise HarnessInputError(f"no {task} prompt in the reference prompts", path=reference_dir)
        template = max(versions, key=lambda t: t.version)
    return {"id": template.id, "version": template.version, "system": template.system, "user": template.user,
            "description": template.description}
