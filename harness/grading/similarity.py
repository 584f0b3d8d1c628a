"""Near-duplicate prompts in a class, for a person to look at (never a grade change).

Each submission's own prompts (the system and user text of every graded task it replaces) are normalised:
letter case folded, whitespace collapsed, and the text cut into sentences (at ``.``, ``!``, ``?``, ``;`` and line
ends) that are sorted, so two prompts that hold the same sentences in another order or layout read the same.
Two submissions are compared by the cosine similarity of their TF-IDF vectors over word shingles (runs of
:data:`SHINGLE` words, scikit-learn's ``TfidfVectorizer``); a pair at :data:`THRESHOLD` or above is listed in
the class summary. A submission that keeps the reference prompts has no text of its own and is not compared.
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


def prompt_texts(assignment, folders: dict[str, Path]) -> dict[str, str]:
    """Each valid submission's own prompt text (system and user of each task it replaces), normalised."""
    from harness.grading.submission import Invalid, load_submission

    out = {}
    for sid, folder in sorted(folders.items()):
        sub = load_submission(sid, folder, assignment)
        if isinstance(sub, Invalid) or not sub.prompts:
            continue
        out[sid] = normalise("\n".join(f"{p.system}\n{p.user}" for _, p in sorted(sub.prompts.items())))
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
    return {"measure": MEASURE, "threshold": THRESHOLD,
            "pairs": similar_pairs(prompt_texts(assignment, folders))}
