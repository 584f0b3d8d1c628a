"""Questions with reference answers and passages, and reference summaries, for the TechCorp golden set
(part of the deterministic generator, :mod:`golden_sets.generate`)."""

from __future__ import annotations

import random

from golden_sets import techcorp_spec as S
from golden_sets.values import with_article

N_QA = 150

QUESTION_NAMES = {
    "document_number": "document number", "issue_date": "issue date", "due_date": "payment due date",
    "effective_date": "effective date", "expiration_date": "expiration date",
    "issuer_name": "name of the issuing party", "recipient_name": "name of the recipient",
    "total_amount": "total amount", "tax_amount": "tax amount", "currency": "currency",
    "payment_terms": "payment terms", "governing_law": "governing law",
    "po_reference": "referenced order or invoice number", "product_codes": "product codes listed",
    "contract_term": "term",
}


def _which(doc: dict, shown: dict) -> str:
    noun = S.CLASSES[doc["label"]]["noun"].lower()
    if shown.get("document_number"):
        return f"{noun} {shown['document_number']}"
    parties = [shown.get("issuer_name"), shown.get("recipient_name")]
    return f"the {noun} between {parties[0]} and {parties[1]}"


def _context_line(text: str, needle: str) -> str:
    for line in text.split("\n"):
        if needle in line:
            return line.strip()
    raise AssertionError(f"value {needle!r} not found in text")


def make_qa(rng: random.Random, docs: list[dict], shown_by_id: dict,
            per_split: dict[str, int] | None = None) -> list[dict]:
    """QA items: ``per_split[split]`` documents of each split drawn without replacement (all draws first, in
    the order of ``per_split``), one question each; an item's split is its document's."""
    qa = []
    picks = []
    for split, n in (per_split or {"test": N_QA}).items():
        picks += rng.sample([d for d in docs if d["split"] == split], n)
    for i, doc in enumerate(picks):
        shown = shown_by_id[doc["id"]]
        names = [n for n, v in doc["fields"].items() if v is not None]
        if "document_number" in names and len(names) > 1 and not shown.get("issuer_name"):
            names.remove("document_number")
        name = names[rng.randrange(len(names))]
        if name == "document_number":
            which = f"the {S.CLASSES[doc['label']]['noun'].lower()} issued by {shown['issuer_name']}"
        else:
            which = _which(doc, shown)
        if name == "product_codes":
            codes = doc["fields"][name]
            answer_text = ", ".join(codes)
            contexts = [_context_line(doc["text"], c) for c in codes]
        else:
            answer_text = shown[name]
            contexts = [_context_line(doc["text"], answer_text)]
        qa.append({
            "id": f"qa-{i + 1:04d}",
            "split": doc["split"],
            "doc_ids": [doc["id"]],
            "question": (f"Which product codes are listed in {which}?" if name == "product_codes"
                         else f"What is the {QUESTION_NAMES[name]} of {which}?"),
            "reference_answer": (f"The product codes listed are {answer_text}." if name == "product_codes"
                                 else f"The {QUESTION_NAMES[name]} is {answer_text}."),
            "reference_contexts": list(dict.fromkeys(contexts)),
        })
    return qa


def reference_summary(doc: dict, shown: dict) -> str:
    spec = S.CLASSES[doc["label"]]
    parts = [f"{spec['noun']} {shown['document_number']}" if shown.get("document_number") else spec["noun"]]
    if shown.get("issuer_name"):
        parts.append(f"from {shown['issuer_name']}")
    if shown.get("recipient_name"):
        parts.append(f"to {shown['recipient_name']}")
    when = shown.get("issue_date") or shown.get("effective_date")
    if when:
        parts.append(f"dated {when}")
    text = " ".join(parts)
    extra = []
    if shown.get("total_amount"):
        extra.append(f"for a total of {shown['total_amount']}")
    if shown.get("due_date"):
        extra.append(f"due {shown['due_date']}")
    if shown.get("contract_term"):
        extra.append(f"running {shown['contract_term']}")
    if shown.get("governing_law"):
        extra.append(f"governed by the laws of {with_article(shown['governing_law'])}")
    return text + (", " + ", ".join(extra) if extra else "") + "."
