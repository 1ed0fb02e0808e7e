"""The terminal view of a run diff: the two runs, the counts, the causes, and the first changed samples."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from schemas.run_diff import RunDiff, RunSide


def _short(value: str | None, width: int = 40) -> str:
    if value is None:
        return "–"
    return value if len(value) <= width else value[: width - 1] + "…"


def _runs(diff: RunDiff) -> Table:
    table = Table(title="runs", title_justify="left")
    for col in ("", "run", "run id", "samples", "git revision", "state"):
        table.add_column(col)

    def state(side: RunSide) -> str:
        parts = ["finished" if side.finished else "[yellow]in progress / killed[/]"]
        for stage in side.incomplete_stages:
            parts.append(f"{stage.stage}: {stage.failed} failed, {stage.pending} pending")
        return "; ".join(parts)

    for label, side in (("A", diff.a), ("B", diff.b)):
        table.add_row(label, side.run_dir, side.run_id, str(side.samples), _short(side.git_revision, 20), state(side))
    return table


def _counts(diff: RunDiff) -> Table:
    table = Table(title="samples", title_justify="left")
    for col in ("unchanged", "changed", "added", "removed"):
        table.add_column(col, justify="right")
    c = diff.counts
    table.add_row(str(c.unchanged), f"[yellow]{c.changed}[/]", f"[green]{c.added}[/]", f"[red]{c.removed}[/]")
    return table


def _causes(diff: RunDiff) -> Table:
    table = Table(title="causes (a sample with several causes counts under each)", title_justify="left")
    for col in ("cause", "stage", "what", "A", "B", "changed", "added", "removed"):
        table.add_column(
            col, justify="right" if col in ("changed", "added", "removed") else "left", no_wrap=col == "cause"
        )
    for row in diff.by_cause:
        table.add_row(
            row.kind, row.stage, _short(row.name, 30), _short(row.a), _short(row.b),
            str(row.changed), str(row.added), str(row.removed),
        )  # fmt: skip
    return table


def _context(diff: RunDiff) -> Table:
    table = Table(title="run-level differences", title_justify="left")
    for col in ("what", "name", "A", "B"):
        table.add_column(col)
    for row in diff.context:
        table.add_row(row.what, row.name, _short(row.a, 50), _short(row.b, 50))
    return table


def _samples(diff: RunDiff, limit: int) -> Table:
    shown = diff.samples[:limit]
    title = f"samples that differ ({len(shown)} of {len(diff.samples)}; --limit, or --json for all)"
    table = Table(title=title, title_justify="left")
    for col in ("change", "case", "question", "sample id A → B", "status A → B", "fields", "causes"):
        table.add_column(col)
    for s in shown:
        table.add_row(
            s.change, s.case_id, f"{s.question_type}/{s.scale}",
            f"{s.sample_id_a or '–'} → {s.sample_id_b or '–'}", f"{s.status_a or '–'} → {s.status_b or '–'}",
            _short(", ".join(s.fields), 40), "; ".join(f"{c.kind}@{c.stage}" for c in s.causes),
        )  # fmt: skip
    return table


def render_diff(diff: RunDiff, limit: int = 20) -> RenderableType:
    parts: list[RenderableType] = [_runs(diff)]
    for side_name, side in (("A", diff.a), ("B", diff.b)):
        for note in side.notes:
            parts.append(Text(f"run {side_name}: {note}", style="yellow"))
    parts.append(_counts(diff))
    if diff.by_cause:
        parts.append(_causes(diff))
    if diff.context:
        parts.append(_context(diff))
    if diff.samples and limit > 0:
        parts.append(_samples(diff, limit))
    if not diff.samples:
        parts.append(Text("no sample differs", style="green"))
    return Group(*parts)
