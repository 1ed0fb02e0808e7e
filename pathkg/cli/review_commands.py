"""`pathkg review …`: the annotator web page and the same actions from a terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import typer
from rich.console import Console
from rich.table import Table

from pathkg.review.agreement import pairwise_agreement
from pathkg.review.audit_log import AuditLog, VersionConflict
from pathkg.review.labelstudio import import_annotations, write_tasks
from pathkg.review.reverification import Reverifier, kg_dump_of_run
from pathkg.review.review_desk import ReviewDesk, ReviewError
from pathkg.review.tokens import AnnotatorTokens
from schemas.review import RejectReason

app = typer.Typer(help="Review flagged samples: web page, CLI, audit log, Label Studio interop.", no_args_is_help=True)
stdout = Console()
stderr = Console(stderr=True)

RunDir = typer.Argument(..., exists=True, file_okay=False, help="The run directory (`pathkg run … --run-dir`).")
KgDump = typer.Option(None, "--kg-dump", help="KG dump folder for re-verifying edits (default: the run's kg stage).")
Token = typer.Option(
    None, "--token", envvar="PATHKG_REVIEW_TOKEN", help="Your annotator token (or PATHKG_REVIEW_TOKEN)."
)
Version = typer.Option(None, "--version", help="The version you reviewed (default: the current one).")


def _desk(run_dir: Path, kg_dump: Path | None, need_kg: bool = False) -> ReviewDesk:
    try:
        dump = kg_dump or (kg_dump_of_run(run_dir) if need_kg else None)
    except FileNotFoundError as exc:
        stderr.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    desk = ReviewDesk(run_dir, Reverifier(dump) if dump else None)
    try:
        desk.queue()
    except FileNotFoundError as exc:
        stderr.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    return desk


def _annotator(run_dir: Path, token: str | None) -> str:
    name = AnnotatorTokens.for_run(run_dir).annotator_for(token)
    if name is None:
        stderr.print("[red]unknown or missing annotator token (--token or PATHKG_REVIEW_TOKEN)")
        raise typer.Exit(2)
    return name


def _decide(desk: ReviewDesk, action: str, sample_id: str, version: int | None, **kwargs: object) -> None:
    """Run desk.accept/reject/edit against `version` (default: the current one); print the outcome."""
    try:
        current = desk.state(sample_id).version if version is None else version
        decision = getattr(desk, action)(sample_id, version=current, via="cli", **kwargs)
    except VersionConflict as exc:
        stderr.print(f"[red]conflict: {exc}")
        raise typer.Exit(3) from exc
    except (ReviewError, FileNotFoundError) as exc:
        stderr.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    stdout.print(f"{decision.sample_id}: {decision.status_before} → {decision.status_after} by {decision.annotator}")


@app.command()
def serve(
    run_dir: Path = RunDir,
    host: str = typer.Option("127.0.0.1", help="Interface to bind (loopback by default)."),
    port: int = typer.Option(8765, help="TCP port."),
    kg_dump: Path | None = KgDump,
) -> None:
    """Serve the review page for RUN_DIR (annotators sign in with their token)."""
    from pathkg.review.server import serve as run_server

    desk = _desk(run_dir, kg_dump, need_kg=False)
    try:
        dump = kg_dump or kg_dump_of_run(run_dir)
    except FileNotFoundError as exc:
        stderr.print(f"[yellow]{exc}: editing is off")
        dump = None
    n = len(desk.queue())
    stdout.print(f"review queue: {n} samples · http://{host}:{port}/ (Ctrl+C to stop)")
    if not AnnotatorTokens.for_run(run_dir).names():
        stderr.print("[yellow]no annotators yet: pathkg review add-annotator NAME RUN_DIR")
    run_server(run_dir, host, port, dump)


@app.command("add-annotator")
def add_annotator(name: str = typer.Argument(..., help="Annotator handle."), run_dir: Path = RunDir) -> None:
    """Make (or renew) NAME's token for RUN_DIR; the token is the last word printed."""
    try:
        token = AnnotatorTokens.for_run(run_dir).add(name)
    except ValueError as exc:
        stderr.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    typer.echo(f"annotator {name} token: {token}")


@app.command("list")
def list_queue(
    run_dir: Path = RunDir,
    status: str | None = typer.Option(None, help="pending | accepted | edited | rejected"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """The review queue with each sample's status, flags and annotators."""
    desk = _desk(run_dir, None)
    states = [st for st in desk.states().values() if status is None or st.status == status]
    if as_json:
        for st in states:
            typer.echo(
                json.dumps(
                    {
                        "sample_id": st.sample.sample_id,
                        "case_id": st.sample.case_id,
                        "status": st.status,
                        "version": st.version,
                        "annotators": st.annotators,
                        "flags": st.sample.verification.reasons,
                        "exportable": st.exportable,
                    }
                )
            )
        return
    table = Table(title=f"review queue of {run_dir} ({len(states)})")
    table.add_column("sample", no_wrap=True)
    for col in ("case", "question", "status", "v", "flagged for", "by"):
        table.add_column(col)
    for st in states:
        s = st.sample
        flags = ", ".join(c.name for c in s.verification.checks if not c.passed)
        table.add_row(
            s.sample_id, s.case_id, s.question_type, st.status, str(st.version), flags, ", ".join(st.annotators)
        )
    stdout.print(table)


@app.command()
def show(run_dir: Path = RunDir, sample_id: str = typer.Argument(...)) -> None:
    """One sample: question, chain, checks and its decisions."""
    try:
        st = _desk(run_dir, None).state(sample_id)
    except ReviewError as exc:
        stderr.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    s = st.sample
    stdout.print(
        f"[bold]{s.sample_id}[/] {s.case_id} {s.project or '-'} {s.question_type} · status {st.status} "
        f"· version {st.version}"
    )
    stdout.print(f"[bold]question:[/] {s.question}\n[bold]reference answer:[/] {s.answer}")
    stdout.print(f"[bold]findings:[/] {' '.join(s.findings)}\n[bold]diagnosis:[/] {s.diagnosis}")
    stdout.print("[bold]chain:[/]", markup=True)
    stdout.print(st.response, markup=False, highlight=False)
    for c in st.verification.checks:
        mark = "[green]pass" if c.passed else "[red]FAIL"
        stdout.print(f"  {mark}[/] {c.name} {c.score if c.score is not None else '-'} {c.reason or ''}")
    for d in st.decisions:
        stdout.print(f"  {d.time:%Y-%m-%d %H:%M:%S} {d.annotator} {d.decision} {d.reason or ''} {d.note or ''}")


@app.command()
def accept(
    run_dir: Path = RunDir,
    sample_id: str = typer.Argument(...),
    note: str | None = typer.Option(None, help="Optional note."),
    token: str | None = Token,
    version: int | None = Version,
) -> None:
    """Accept a sample's current chain."""
    _decide(_desk(run_dir, None), "accept", sample_id, version, annotator=_annotator(run_dir, token), note=note)


@app.command()
def reject(
    run_dir: Path = RunDir,
    sample_id: str = typer.Argument(...),
    reason: str = typer.Option(
        ...,
        help="wrong_answer | hallucinated_entity | negation_error | "
        "unsupported_reasoning | image_mismatch | report_error | phi | other",
    ),
    note: str | None = typer.Option(None, help="Free text."),
    token: str | None = Token,
    version: int | None = Version,
) -> None:
    """Reject a sample (it never joins the export)."""
    if reason not in get_args(RejectReason):
        stderr.print(f"[red]unknown reason {reason!r}; one of {', '.join(get_args(RejectReason))}")
        raise typer.Exit(2)
    annotator = _annotator(run_dir, token)
    _decide(_desk(run_dir, None), "reject", sample_id, version, annotator=annotator, reason=reason, note=note)


@app.command()
def edit(
    run_dir: Path = RunDir,
    sample_id: str = typer.Argument(...),
    response_file: Path = typer.Option(..., "--response-file", exists=True, help="The new chain (text file)."),
    note: str | None = typer.Option(None),
    token: str | None = Token,
    version: int | None = Version,
    kg_dump: Path | None = KgDump,
) -> None:
    """Replace a sample's chain; it is re-verified and joins the export only if it passes."""
    desk = _desk(run_dir, kg_dump, need_kg=True)
    response = response_file.read_text(encoding="utf-8")
    _decide(desk, "edit", sample_id, version, annotator=_annotator(run_dir, token), response=response, note=note)
    st = desk.state(sample_id)
    stdout.print(f"re-verification: {st.verification.status} {'; '.join(st.verification.reasons)}")


@app.command()
def stats(run_dir: Path = RunDir) -> None:
    """Counts by status and agreement between annotators who decided the same sample."""
    desk = _desk(run_dir, None)
    contents = AuditLog.for_run(run_dir).read()
    states = desk.states()
    counts: dict[str, int] = {}
    for st in states.values():
        counts[st.status] = counts.get(st.status, 0) + 1
    exportable = sum(st.exportable for st in states.values())
    stdout.print(
        f"queue: {len(states)} samples · "
        + " · ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        + f" · exportable after review {exportable}"
    )
    stdout.print(
        f"audit log: {len(contents.decisions)} decisions, {len(contents.ignored)} lines ignored"
        + "".join(f"\n  line {n}: {why}" for n, why in contents.ignored)
    )
    pairs = pairwise_agreement(contents.decisions)
    if not pairs:
        stdout.print("agreement: no sample was decided by two annotators")
        return
    table = Table(title="agreement between annotators (last decision each; accept / edit / reject)")
    for col in ("annotator A", "annotator B", "samples", "agreed", "observed", "Cohen's kappa"):
        table.add_column(col)
    for p in pairs:
        table.add_row(
            p.annotator_a,
            p.annotator_b,
            str(p.samples),
            str(p.agreed),
            f"{p.observed:.2f}",
            "-" if p.kappa is None else f"{p.kappa:.2f}",
        )
    stdout.print(table)


@app.command("export-labelstudio")
def export_labelstudio(
    run_dir: Path = RunDir,
    out: Path = typer.Argument(..., help="Task JSON file to write (the labelling config is written beside it)."),
    image_url_prefix: str = typer.Option("/data/local-files/?d=", help="Prefix for image paths (run-relative)."),
) -> None:
    """The review queue as Label Studio tasks."""
    n = write_tasks(_desk(run_dir, None), out, image_url_prefix)
    stdout.print(f"{n} tasks → {out} (labelling config: {out.with_name(out.stem + '.label_config.xml')})")


@app.command("import-labelstudio")
def import_labelstudio(
    run_dir: Path = RunDir,
    tasks_file: Path = typer.Argument(..., exists=True, help="Label Studio JSON export (tasks with annotations)."),
    kg_dump: Path | None = KgDump,
) -> None:
    """Record Label Studio annotations as decisions (idempotent: re-importing adds nothing)."""
    desk = _desk(run_dir, kg_dump, need_kg=kg_dump is None and _has_edits(tasks_file))
    recorded, problems = import_annotations(desk, json.loads(tasks_file.read_text(encoding="utf-8")))
    for p in problems:
        stderr.print(f"[yellow]{p}")
    stdout.print(f"imported {recorded} decisions ({len(problems)} problems)")
    if problems:
        raise typer.Exit(1)


def _has_edits(tasks_file: Path) -> bool:
    return '"edit"' in tasks_file.read_text(encoding="utf-8")
