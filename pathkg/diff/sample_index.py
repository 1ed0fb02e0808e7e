"""The samples of a run, digested: what question each answers, its id, status and content hash.

A sample is matched across runs by its *slot*: the question it answers (case, scale, question type,
wording, image paths; a repeat of the same question in one case gets an occurrence number). Its
`sample_id` hashes the response too, so it cannot match a rewritten sample to its predecessor.

The content hash leaves out what only names the run (`provenance.run_id`, paths inside the run
directory). Per field digests (top-level fields, `provenance.*` and `verification.*` one level down)
say which fields changed. Rows are streamed part by part; only these small digests are kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pathkg.diff.row_digest import CaseOutput, RowNormaliser, combine, iter_texts, plain, text_digest
from pathkg.diff.run_state import RunState

#: Nested records whose fields are compared one by one.
EXPANDED = ("provenance", "verification")


@dataclass(frozen=True)
class SampleDigest:
    slot: str
    case_id: str
    sample_id: str
    question_type: str
    scale: str
    status: str
    content: str
    field_names: tuple[str, ...]  # shared by every sample of a run with the same fields
    field_bytes: bytes  # 8-byte digest per field, in field_names order

    def field_map(self) -> dict[str, bytes]:
        return {n: self.field_bytes[i * 8 : i * 8 + 8] for i, n in enumerate(self.field_names)}


def changed_fields(a: SampleDigest, b: SampleDigest) -> list[str]:
    """The fields whose content differs between two digests of the same slot."""
    if a.field_names == b.field_names:
        return [
            n
            for i, n in enumerate(a.field_names)
            if a.field_bytes[i * 8 : i * 8 + 8] != b.field_bytes[i * 8 : i * 8 + 8]
        ]
    fa, fb = a.field_map(), b.field_map()
    return sorted(n for n in set(fa) | set(fb) if fa.get(n) != fb.get(n))


def slot_of(fields: dict[str, str]) -> str:
    text = "|".join(fields.get(k, "") for k in ("case_id", "scale", "question_type", "question", "images"))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


@dataclass
class SampleIndex:
    samples: dict[str, SampleDigest]  # slot -> digest
    outputs: dict[str, CaseOutput]  # the sample stage's output per content key, for the lineage walk


def index_samples(run: RunState, normalise: RowNormaliser) -> SampleIndex:
    """Digest every committed sample of the run's sample stage (one streaming pass over its parts)."""
    stage = run.sample_stage()
    found: dict[str, SampleDigest] = {}
    names_cache: dict[tuple[str, ...], tuple[str, ...]] = {}
    entries = list(run.states[stage].current.values())
    per_key: dict[str, list[str]] = {e.key: [] for e in entries}
    for key, texts in iter_texts(run.parts_dir(stage), entries, normalise, EXPANDED):
        names = tuple(sorted(texts))
        names = names_cache.setdefault(names, names)
        packed = b"".join(text_digest(texts[n], 8) for n in names)
        base = slot_of(texts)
        slot, n = base, 1
        while slot in found:  # the same question twice in one case: number the repeats
            n += 1
            slot = f"{base}#{n}"
        found[slot] = SampleDigest(
            slot=slot,
            case_id=plain(texts["case_id"]),
            sample_id=plain(texts["sample_id"]),
            question_type=plain(texts.get("question_type", "")),
            scale=plain(texts.get("scale", "")),
            status=plain(texts.get("verification.status", "")),
            content=hashlib.blake2b(packed + "|".join(names).encode(), digest_size=16).hexdigest(),
            field_names=names,
            field_bytes=packed,
        )
        per_key[key].append(found[slot].content)
    return SampleIndex(found, {key: CaseOutput(combine(digests), {}) for key, digests in per_key.items()})
