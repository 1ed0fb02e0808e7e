"""`pathkg diff RUN_A RUN_B`: the samples added, removed and changed between two runs, with their causes.

The two runs may live anywhere and may still be running: what each has committed is compared, and the
report says which stages are incomplete. Samples are streamed and digested (`sample_index`), so a
20K-sample corpus is never held as Python objects; only the cases whose samples differ are walked
for causes (`attribution`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from pathkg.diff.attribution import Attributor, flatten_params
from pathkg.diff.row_digest import RowNormaliser
from pathkg.diff.run_state import RunState
from pathkg.diff.sample_index import SampleDigest, changed_fields, index_samples
from pipelines.content_key import canonical_json
from schemas.run_diff import (
    Cause,
    CauseCount,
    ContextChange,
    DiffCounts,
    RunDiff,
    RunSide,
    SampleChange,
    StageProgress,
)

_CHANGE_ORDER = {"changed": 0, "removed": 1, "added": 2}


def _side(run: RunState, samples: int) -> RunSide:
    inv = run.last_invocation
    notes = list(run.notes)
    if not run.finished:
        notes.append("the last invocation has not finished (still running, or killed): diffing what is committed")
    return RunSide(
        run_dir=str(run.run_dir),
        run_id=run.run_id,
        config_path=run.config_path,
        config_sha256=run.config_sha256,
        git_revision=inv.get("git_revision"),
        pathkg_version=inv.get("pathkg_version"),
        sample_stage=run.sample_stage(),
        samples=samples,
        finished=run.finished,
        lineage_recorded=run.lineage_recorded,
        incomplete_stages=[StageProgress(stage=s, committed=c, failed=f, pending=p) for s, c, f, p in run.incomplete()],
        notes=notes,
    )


def _context(a: RunState, b: RunState) -> list[ContextChange]:
    out: list[ContextChange] = []
    for what, key in (("git_revision", "git_revision"), ("pathkg_version", "pathkg_version")):
        va, vb = a.last_invocation.get(key), b.last_invocation.get(key)
        if va != vb:
            out.append(ContextChange(what=what, name=key, a=va, b=vb))  # type: ignore[arg-type]
    pa, pb = a.packages, b.packages
    for name in sorted(set(pa) | set(pb)):
        if pa.get(name) != pb.get(name):
            out.append(ContextChange(what="package", name=name, a=pa.get(name), b=pb.get(name)))
    for name in list(a.stages) + [n for n in b.stages if n not in a.stages]:
        sa, sb = a.stages.get(name), b.stages.get(name)
        if sa is None or sb is None:
            out.append(
                ContextChange(what="stages", name=name, a="present" if sa else None, b="present" if sb else None)
            )
            continue
        fa, fb = flatten_params(sa.params), flatten_params(sb.params)
        for param in sorted(set(fa) | set(fb)):
            if canonical_json(fa.get(param)) != canonical_json(fb.get(param)):
                out.append(
                    ContextChange(
                        what="stage_params",
                        name=f"{name}.{param}",
                        a=None if param not in fa else canonical_json(fa[param]),
                        b=None if param not in fb else canonical_json(fb[param]),
                    )
                )
        if sa.code_version and sb.code_version and sa.code_version != sb.code_version:
            out.append(ContextChange(what="stage_code", name=name, a=sa.code_version, b=sb.code_version))
    return out


def _change(kind: str, da: SampleDigest | None, db: SampleDigest | None, causes: list[Cause]) -> SampleChange:
    ref = da or db
    assert ref is not None
    return SampleChange(
        change=kind,  # type: ignore[arg-type]
        case_id=ref.case_id,
        question_type=ref.question_type,
        scale=ref.scale,
        sample_id_a=da.sample_id if da else None,
        sample_id_b=db.sample_id if db else None,
        content_hash_a=da.content if da else None,
        content_hash_b=db.content if db else None,
        status_a=da.status if da else None,
        status_b=db.status if db else None,
        fields=changed_fields(da, db) if da and db else [],
        causes=causes,
    )


def _by_cause(samples: list[SampleChange]) -> list[CauseCount]:
    counts: dict[tuple, CauseCount] = {}
    tally: Counter[tuple] = Counter()
    for sample in samples:
        for cause in sample.causes:
            key = (cause.kind, cause.stage, cause.name, cause.a, cause.b)
            if key not in counts:
                counts[key] = CauseCount(
                    kind=cause.kind, stage=cause.stage, name=cause.name, a=cause.a, b=cause.b, detail=cause.detail
                )
            tally[(*key, sample.change)] += 1
    for key, row in counts.items():
        row.changed, row.added, row.removed = (tally[(*key, k)] for k in ("changed", "added", "removed"))
    return sorted(counts.values(), key=lambda c: (-(c.changed + c.added + c.removed), c.kind, c.stage, c.name or ""))


def diff_runs(run_a: Path, run_b: Path, on_phase: Callable[[str], object] | None = None) -> RunDiff:
    """Diff two run directories; `on_phase` hears what is being done (for a status line)."""
    say = on_phase or (lambda _: None)
    say("reading the runs' manifests and ledgers")
    a, b = RunState(Path(run_a)), RunState(Path(run_b))
    say("digesting run A's samples")
    normalise = RowNormaliser(a.run_dir, b.run_dir)
    index_a = index_samples(a, normalise)
    say("digesting run B's samples")
    index_b = index_samples(b, normalise)
    samples_a, samples_b = index_a.samples, index_b.samples
    pairs: list[tuple[str, SampleDigest | None, SampleDigest | None]] = []
    unchanged = 0
    for slot, da in samples_a.items():
        db = samples_b.get(slot)
        if db is None:
            pairs.append(("removed", da, None))
        elif db.content != da.content:
            pairs.append(("changed", da, db))
        else:
            unchanged += 1
    pairs += [("added", None, db) for slot, db in samples_b.items() if slot not in samples_a]
    cases = {(da or db).case_id for _, da, db in pairs}  # type: ignore[union-attr]
    known = {a.sample_stage(): (index_a.outputs, index_b.outputs)} if a.sample_stage() == b.sample_stage() else {}
    say(f"walking the lineage of {len(cases)} case(s) whose samples differ")
    causes = Attributor(a, b, normalise, known).attribute(cases) if cases else {}
    changes = [_change(kind, da, db, causes.get((da or db).case_id, [])) for kind, da, db in pairs]  # type: ignore[union-attr]
    changes.sort(
        key=lambda c: (
            _CHANGE_ORDER[c.change],
            c.case_id,
            c.question_type,
            c.scale,
            c.sample_id_a or "",
            c.sample_id_b or "",
        )
    )
    counts = Counter(c.change for c in changes)
    return RunDiff(
        a=_side(a, len(samples_a)),
        b=_side(b, len(samples_b)),
        counts=DiffCounts(
            unchanged=unchanged, changed=counts["changed"], added=counts["added"], removed=counts["removed"]
        ),
        by_cause=_by_cause(changes),
        context=_context(a, b),
        samples=changes,
    )
