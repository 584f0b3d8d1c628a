"""Deterministic generator of the TechCorp golden sets.

``harness golden generate --out golden_sets/techcorp`` (or ``python -m golden_sets.generate``) writes
``documents.jsonl``, ``qa.jsonl`` and ``manifest.yaml`` with the sha256 of each data file; ``--profile
course`` writes the small course set (splits dev and grading, see :mod:`golden_sets.profiles`). The same seed
gives the same bytes on every machine: only :class:`random.Random` with an integer seed and the word lists
of :mod:`golden_sets.techcorp_spec` are used (no third-party data package whose contents change between
versions).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path

import yaml

from golden_sets import techcorp_spec as S
from golden_sets.profiles import PROFILES, TECHCORP, Profile
from golden_sets.questions import reference_summary, make_qa
from golden_sets.render import render
from golden_sets.values import ocr_noise, protected_values

GENERATOR_VERSION = "1.0.0"
DEFAULT_SEED = TECHCORP.seed
SPLIT_SIZES = {split: n for split, (n, _) in TECHCORP.splits.items()}  # documents per class
SUMMARIES_PER_CLASS = TECHCORP.summaries["test"]
N_QA = TECHCORP.qa["test"]
NOISE_RATE = 0.25  # share of documents that get OCR-style noise
# ---------------------------------------------------------------------------------------------- main
def manifest_fields() -> dict:
    out = {}
    for name, (ftype, desc) in S.FIELDS.items():
        entry: dict = {"type": ftype, "description": desc}
        if name == "currency":
            entry["values"] = list(S.CURRENCIES)
            entry["aliases"] = S.CURRENCY_ALIASES
        elif name == "payment_terms":
            entry["values"] = list(S.PAYMENT_TERMS)
            entry["aliases"] = S.PAYMENT_TERMS_ALIASES
        elif ftype == "date":
            entry["date_order"] = "mdy"
        out[name] = entry
    return out


def generate(out_dir: str | Path, seed: int | None = None, profile: Profile | str = TECHCORP) -> dict:
    """Write the golden set of ``profile`` (default TechCorp) to ``out_dir``, drawn with ``seed`` (default the
    profile's); returns the manifest as a dict."""
    prof = PROFILES[profile] if isinstance(profile, str) else profile
    seed = prof.seed if seed is None else seed
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    docs: list[dict] = []
    shown_by_id: dict[str, dict] = {}
    for split, (per_class, families) in prof.splits.items():
        batch = []
        for c, label in enumerate(S.CLASSES):
            for k in range(per_class):
                family = families[(k + (c if prof.rotate_families else 0)) % len(families)]
                draft = render(rng, label, family)
                text = "\n".join(draft.lines).strip() + "\n"
                if rng.random() < NOISE_RATE:
                    text = ocr_noise(rng, text, protected_values(draft.shown))
                fields = {name: draft.gold.get(name) for name in S.FIELDS}
                batch.append(({"split": split, "text": text, "label": label, "fields": fields,
                               "template_family": family}, draft.shown))
        rng.shuffle(batch)
        for rec, shown in batch:
            rec = {"id": f"doc-{len(docs) + 1:05d}", **rec}
            docs.append(rec)
            shown_by_id[rec["id"]] = shown
    # reference summaries on the first documents of each class in the profile's summary splits
    counts = {(split, label): 0 for split in prof.summaries for label in S.CLASSES}
    for rec in docs:
        rec["summary"] = None
        key = (rec["split"], rec["label"])
        if key in counts and counts[key] < prof.summaries[rec["split"]]:
            counts[key] += 1
            rec["summary"] = reference_summary(rec, shown_by_id[rec["id"]])
    qa = make_qa(rng, docs, shown_by_id, prof.qa)

    files = {"documents.jsonl": docs, "qa.jsonl": qa}
    checksums = {}
    for name, rows in files.items():
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
        (out / name).write_bytes(data)
        checksums[name] = hashlib.sha256(data).hexdigest()
    manifest = {
        "name": prof.name,
        "version": GENERATOR_VERSION,
        "description": prof.description,
        "labels": list(S.CLASSES),
        "fields": manifest_fields(),
        "splits": list(prof.splits),
        "files": {name: {"sha256": digest} for name, digest in checksums.items()},
        "generator": {"module": "golden_sets.generate", "version": GENERATOR_VERSION, "seed": seed},
    }
    (out / "manifest.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True),
                                       encoding="utf-8")
    return manifest


def output_dir(profile: str, out: str | None, seed: int | None) -> str:
    """Where ``generate`` writes: ``out``, else the profile's folder in the repository, which only the profile's
    own seed may write (that set is public; a set drawn with another seed, such as a course's private grading
    split, goes where ``--out`` says)."""
    from harness.errors import HarnessInputError

    prof = PROFILES[profile]
    if out is None and seed is not None and seed != prof.seed:
        raise HarnessInputError(f"a set drawn with another seed than the profile's ({prof.seed}) needs --out: "
                                f"{prof.out} is the public one in the repository (for a course's private grading "
                                "split, a folder students cannot read)", field="--out")
    return out or prof.out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=list(PROFILES), default="techcorp")
    parser.add_argument("--out", default=None, help="default: the profile's directory under golden_sets/")
    parser.add_argument("--seed", type=int, default=None, help="default: the profile's seed")
    args = parser.parse_args(argv)
    from harness.errors import HarnessInputError

    try:
        out = output_dir(args.profile, args.out, args.seed)
    except HarnessInputError as exc:
        parser.exit(2, f"error: {exc}\n")
    generate(out, args.seed, args.profile)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
