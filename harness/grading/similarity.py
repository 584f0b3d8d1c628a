"""Near-duplicate prompts in a class, for a person to look at (never a grade change).

Prompts are compared task by task: each submission's own prompt for a task (its system and user text) is
normalised:
letter case folded, whitespace collapsed, and the text cut into sentences (at ``.``, ``!``, ``?``, ``;`` and line
ends) that are sorted, so two prompts that hold the same sentences in another order or layout read the same.
Two submissions are compared by the cosine similarity of their TF-IDF vectors over word shingles (runs of
:data:`SHINGLE` words, scikit-learn's ``TfidfVectorizer``); a pair at :data:`THRESHOLD` or above is listed in
the class summary with the task. A submission that keeps a task's reference prompt has no text of its own for
that task and is not compared on it.
"""

from __future__ import annotations

import re
from pathlib import Path

THRESHOLD = 0.80  # cosine similarity from which a pair is listed
SHINGLE = 3  # words per shingle
MEASURE = f"cosine similarity of TF-IDF over {SHINGLE}-word shingles, after normalising case, whitespace and " \
          "sentence order"


def normalise(text: str) -> str:
    """Case folded, whitespace collapsed, sentences sorted.

    >>> normalise("Answer in JSON.  Pick a LABEL!\\nThen stop.")
    'answer in json. pick a label! then stop.'
    >>> normalise("Then stop. Answer in JSON. Pick a label!") == normalise("Answer in JSON.  Pick a LABEL!\\nThen stop.")
    True
    """
    sentences = [" ".join(s.split()) for s in re.split(r"(?<=[.!?;])\s+|\n+", text.casefold())]
    return " ".join(sorted(s for s in sentences if s))


def prompt_texts(assignment, folders: dict[str, Path]) -> dict[str, dict[str, str]]:
    """task -> {student: the student's own prompt for it (system and user), normalised}, valid submissions only."""
    from harness.grading.submission import Invalid, load_submission

    out: dict[str, dict[str, str]] = {}
    for sid, folder in sorted(folders.items()):
        sub = load_submission(sid, folder, assignment)
        if isinstance(sub, Invalid):
            continue
        for task, p in sub.prompts.items():
            out.setdefault(task, {})[sid] = normalise(f"{p.system}\n{p.user}")
    return out


def similar_pairs(texts: dict[str, str], threshold: float = THRESHOLD) -> list[dict]:
    """Pairs of students whose normalised prompts are at least ``threshold`` similar, most similar first."""
    ids = sorted(texts)
    if len(ids) < 2:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    vec = TfidfVectorizer(analyzer="word", ngram_range=(SHINGLE, SHINGLE), token_pattern=r"[^\s]+", lowercase=False)
    try:
        m = vec.fit_transform([texts[i] for i in ids])
    except ValueError:  # no text has SHINGLE words
        return []
    sim = cosine_similarity(m)
    pairs = [{"a": ids[i], "b": ids[j], "similarity": round(float(sim[i, j]), 3)}
             for i in range(len(ids)) for j in range(i + 1, len(ids)) if sim[i, j] >= threshold]
    return sorted(pairs, key=lambda p: (-p["similarity"], p["a"], p["b"]))


def flagged(assignment, folders: dict[str, Path]) -> dict:
    """The class summary's similarity block: the measure, its threshold and the pairs at or above it."""
    pairs = [{**pair, "task": task} for task, texts in sorted(prompt_texts(assignment, folders).items())
             for pair in similar_pairs(texts)]
    return {"measure": MEASURE, "threshold": THRESHOLD,
            "pairs": sorted(pairs, key=lambda p: (-p["similarity"], p["a"], p["b"], p["task"]))}
