"""`pathkg eval PREDICTIONS --ref EXPORT_OR_JSONL`: the paper's metrics (needs the `train` extra)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pathkg.cli.logging_setup import configure

stdout = Console()


def eval_predictions(
    predictions: Path = typer.Argument(..., help="JSONL: {sample_id, prediction} or WSI-Bench {question_id, answer}."),
    ref: Path = typer.Option(..., "--ref", help="An export folder or a JSONL of references (WSI-Bench files too)."),
    split: str = typer.Option("test", help="The export split to score against."),
    out: Path | None = typer.Option(None, help="Folder for scores.json and per_sample.jsonl."),
    kg_dump: Path | None = typer.Option(None, help="KG dump for the entity linker (default: the export's entities)."),
    embedding: bool = typer.Option(True, "--embedding/--no-embedding", help="Embedding similarity (MiniLM)."),
) -> None:
    """BLEU, ROUGE-1/2/L, embedding similarity, entity P/R/F1, diagnosis accuracy, format rate."""
    configure()
    from model.evaluation import evaluate, load_references, read_jsonl, write_report
    from model.grpo_rewards import linker_from_export
    from pathkg.linking.entity_linker import EntityLinker
    from pathkg.rewards.semantic_reward import EmbeddingSimilarity

    refs = load_references(ref, split)
    linker = None
    if kg_dump is not None:
        linker = EntityLinker.from_dump(kg_dump)
    elif ref.is_dir():
        linker = linker_from_export(ref, split)
    scores, rows = evaluate(
        read_jsonl(predictions),
        refs,
        link=linker.asserted_ids if linker else None,
        embedder=EmbeddingSimilarity() if embedding else None,
    )
    table = Table(title=f"{predictions} vs {ref} ({scores.n} scored)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in vars(scores).items():
        table.add_row(name, "—" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value))
    stdout.print(table)
    if out is not None:
        stdout.print(f"written {write_report(scores, rows, out)}")


def register(app: typer.Typer) -> None:
    app.command(name="eval")(eval_predictions)
