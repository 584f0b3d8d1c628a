"""The simulated traffic: TechCorp documents day by day, from the golden-set generator, deterministic by
(seed, day) so any day can be regenerated on its own (a resumed simulation redoes only unfinished days). A day
is generated one document at a time (:func:`day_documents` is an iterator), so a simulation holds only the
documents it is processing, however many a day the scenario asks for."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator

from harness.golden import Item

PII_LINE = "Contact for this document: {name}, {email}, phone {phone}, SSN {ssn}."
NAMES = ("Maria Lopez", "John Carter", "Aiko Tanaka", "Pieter de Vries", "Fatima Rahman", "Liam O'Neill")


@dataclass(frozen=True)
class StreamDoc:
    item: Item  # id, text, gold label and fields (split "stream")
    received_at: datetime
    day: int  # 1-based day of the stream
    family: int
    pii: bool


def _events(spec, kind: str, day: int):
    return [e for e in spec.events if e.kind == kind and e.active(day)]


def day_documents(spec, day: int) -> Iterator[StreamDoc]:
    """The documents of ``day`` (1-based) of the scenario ``spec``, in arrival order, generated as they are
    taken (only the day's arrival times are drawn up front)."""
    from golden_sets import techcorp_spec as S
    from golden_sets.render import render

    rng = random.Random(f"{spec.seed}:{day}")
    start = datetime.combine(spec.start + timedelta(days=day - 1), datetime.min.time(), tzinfo=timezone.utc)
    drift = max((e.share for e in _events(spec, "new_template_family", day)), default=0.0)
    pii = max((e.share for e in _events(spec, "pii_burst", day)), default=0.0)
    seconds = sorted(rng.uniform(8 * 3600, 18 * 3600) for _ in range(spec.docs_per_day))
    labels = list(S.CLASSES)
    for i, sec in enumerate(seconds):
        label = labels[rng.randrange(len(labels))]
        held_out = rng.random() < drift
        pool = S.HELD_OUT_FAMILIES if held_out else S.IN_DISTRIBUTION_FAMILIES
        family = pool[rng.randrange(len(pool))]
        draft = render(rng, label, family)
        text = "\n".join(draft.lines).strip() + "\n"
        carries_pii = rng.random() < pii
        if carries_pii:
            name = NAMES[rng.randrange(len(NAMES))]
            text += PII_LINE.format(name=name, email=name.lower().replace(" ", ".").replace("'", "") + "@example.com",
                                    phone=f"+1 555 {rng.randrange(1000, 9999)}",
                                    ssn=f"{rng.randrange(100, 899)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}") + "\n"
        fields = {name: draft.gold.get(name) for name in S.FIELDS}
        item = Item(id=f"s{spec.seed}-d{day:03d}-{i:05d}", kind="document", split="stream", text=text, label=label,
                    fields=fields)
        yield StreamDoc(item, start + timedelta(seconds=round(sec, 3)), day, family, carries_pii)
