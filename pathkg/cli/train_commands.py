"""`pathkg train augment|sft|grpo|llava`: the bundled training module (installed with the `train` extra)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from pathkg.cli.logging_setup import configure

app = typer.Typer(help="Train on the exported corpus: augmentation, SFT, GRPO (needs the `train` extra).")
stdout = Console()


def _config(path: Path):
    from model.train_config import TrainConfig

    return TrainConfig.from_yaml(path)


@app.command()
def augment(
    export_dir: Path = typer.Argument(..., help="An export folder (with sft/ and data/)."),
    out_dir: Path = typer.Option(..., "--out", help="Folder for the variants ({split}.parquet, augment.json)."),
    variants: int = typer.Option(10, help="Variants per trajectory (the paper: 20K → 200K)."),
    mode: str = typer.Option(
        "input", help="input: masked partial chain in the prompt; prefix: chain prefix as context."
    ),
    observation_ratio: float = typer.Option(0.3, help="Chance each observation sentence is masked."),
    reasoning_ratio: float = typer.Option(0.3, help="Chance each reasoning step is masked."),
    entity_ratio: float = typer.Option(0.3, help="Chance each entity mention is masked."),
    seed: int = typer.Option(0),
    split: list[str] = typer.Option(["train"], help="Splits to augment (each on its own: never across)."),
    features_dir: Path | None = typer.Option(None, help="Feature bags (`pathkg slides features`): pseudo-bag masking."),
    clusters: int = typer.Option(8, help="k-means clusters per feature bag (one dropped per variant)."),
) -> None:
    """Trajectory-masked SFT variants: parts of the chain hidden in the input, the full chain the target."""
    configure()
    from model.trajectory_masking import MaskingConfig, augment_export

    config = MaskingConfig(variants, mode, observation_ratio, reasoning_ratio, entity_ratio, seed)

    def show(name: str, parents: int, rows: int) -> None:
        stdout.print(f"{name}: {parents} trajectories → {rows} variants")

    counts = augment_export(export_dir, out_dir, config, tuple(split), show, features_dir, clusters)
    stdout.print(json.dumps(counts))


@app.command()
def sft(
    config: Path = typer.Option(..., "--config", help="YAML config (model/configs/)."),
    output_dir: Path = typer.Option(..., "--output-dir"),
    max_steps: int | None = typer.Option(None, help="Overrides trainer.max_steps."),
    data: str | None = typer.Option(None, help="Overrides data.path (an export or augmented folder)."),
) -> None:
    """Supervised fine-tuning with TRL's SFTTrainer, loss on the assistant's chain only."""
    configure()
    from model.sft_training import run_sft

    result = run_sft(_config(config), output_dir, max_steps, data)
    first, last = (result.losses[0], result.losses[-1]) if result.losses else (None, None)
    stdout.print(f"SFT: {result.steps} steps in {result.seconds:.1f}s; loss {first} → {last}; model {output_dir}/final")


@app.command()
def grpo(
    config: Path = typer.Option(..., "--config", help="YAML config (model/configs/)."),
    output_dir: Path = typer.Option(..., "--output-dir"),
    max_steps: int | None = typer.Option(None, help="Overrides trainer.max_steps."),
    data: str | None = typer.Option(None, help="Overrides data.path (an export folder with the rl view)."),
) -> None:
    """GRPO with TRL's GRPOTrainer and pathkg's rewards (each component logged)."""
    configure()
    from model.grpo_training import run_grpo

    result = run_grpo(_config(config), output_dir, max_steps, data)
    rewards = [round(r["reward"], 4) for r in result.metrics if "reward" in r]
    stdout.print(f"GRPO: {result.steps} steps in {result.seconds:.1f}s; reward per step {rewards}")


@app.command()
def llava(
    export_dir: Path = typer.Argument(..., help="An export (or augmented) folder."),
    out: Path = typer.Option(..., "--out", help="Folder for {split}.json and images/."),
    split: str = typer.Option("train"),
    release_tags: bool = typer.Option(False, help="Write the reference release's <info> blocks and headings."),
) -> None:
    """LLaVA / SlideChat conversation JSON, so the corpus trains in those codebases."""
    configure()
    from model.llava_export import export_llava

    path, n = export_llava(export_dir, out, split, release_tags=release_tags)
    stdout.print(f"{n} conversations → {path}")
