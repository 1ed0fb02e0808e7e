"""Write `report/index.html` and its PNG plots for a run."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from pathkg.io.atomic import atomic_path, write_text_atomic
from pathkg.run_report.run_statistics import RunStatistics


def _bar(path: Path, counts: dict[str, float], title: str, xlabel: str = "", colour: str = "#4c72b0") -> None:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    labels = list(counts)
    ax.bar(range(len(labels)), [counts[k] for k in labels], color=colour)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def _stage_plot(path: Path, stages: list[dict[str, Any]]) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    names = [s["stage"] for s in stages]
    bottom = [0] * len(stages)
    for key, colour in (("done", "#55a868"), ("failed", "#c44e52"), ("pending", "#dd8452"), ("blocked", "#8c8c8c")):
        values = [s.get(key, 0) for s in stages]
        ax.bar(names, values, bottom=bottom, label=key, color=colour)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title("Cases per stage")
    ax.legend(fontsize=8)
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right", fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def _table(rows: list[list[Any]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _counter_rows(counter: Counter, limit: int = 20) -> list[list[Any]]:
    return [[k, v] for k, v in counter.most_common(limit)]


def write_report(
    out_dir: Path,
    run_id: str,
    stages: list[dict[str, Any]],
    failures: list[dict[str, Any]],
    stats: RunStatistics,
) -> tuple[Path, list[Path]]:
    out_dir = Path(out_dir)
    plots_dir = out_dir / "plots"
    plots = [plots_dir / n for n in ("stages.png", "verification.png", "question_types.png", "path_lengths.png")]
    _stage_plot(plots[0], stages)
    _bar(plots[1], dict(stats.verification), "Verification outcomes", colour="#55a868")
    _bar(plots[2], dict(stats.question_types.most_common()), "Question types", colour="#8172b3")
    lengths = {f"{k} hop{'s' if k > 1 else ''}": stats.path_lengths[k] for k in sorted(stats.path_lengths)}
    _bar(plots[3], lengths, "KG path lengths", colour="#64b5cd")

    failure_types = Counter((f["stage"], f["error_type"]) for f in failures)
    linked = max(stats.cases_linked, 1)
    sections = [
        f"<h1>pathkg run report</h1><p>run <code>{html.escape(run_id)}</code></p>",
        "<h2>Stages</h2>",
        _table(
            [[s["stage"], s["total"], s["done"], s["failed"], s["pending"], s["blocked"]] for s in stages],
            ["stage", "total", "done", "failed", "pending", "blocked"],
        ),
        '<img src="plots/stages.png" alt="cases per stage">',
        "<h2>Failures</h2>",
        _table([[s, t, n] for (s, t), n in failure_types.most_common()], ["stage", "error", "cases"])
        if failures
        else "<p>No failed cases.</p>",
        _table(
            [[f["stage"], f["case_id"], f["error_type"], f["message"]] for f in failures[:50]],
            ["stage", "case", "error", "message"],
        )
        if failures
        else "",
        "<h2>Entity coverage</h2>",
        f"<p>{stats.cases_with_description_entities}/{stats.cases_linked} cases "
        f"({stats.cases_with_description_entities / linked:.0%}) have findings entities, "
        f"{stats.cases_with_diagnosis_entities}/{stats.cases_linked} "
        f"({stats.cases_with_diagnosis_entities / linked:.0%}) diagnosis entities; "
        f"{stats.negated_mentions} negated mentions.</p>",
        _table(_counter_rows(stats.entity_types), ["entity type", "mentions"]),
        _table(_counter_rows(stats.top_entities), ["entity", "mentions"]),
        "<h2>KG paths</h2>",
        f"<p>{stats.cases_with_paths} cases have at least one path.</p>",
        '<img src="plots/path_lengths.png" alt="path lengths">',
        _table(_counter_rows(stats.no_path_reasons), ["no path because", "cases"]),
        "<h2>Questions</h2>",
        '<img src="plots/question_types.png" alt="question types">',
        _table(_counter_rows(stats.scales), ["scale", "samples"]),
        "<h2>Verification</h2>",
        '<img src="plots/verification.png" alt="verification outcomes">',
        _table(_counter_rows(stats.verification), ["status", "samples"]),
        _table(_counter_rows(stats.failed_checks), ["failed check", "samples"]),
    ]
    style = "body{font-family:sans-serif;max-width:960px;margin:2em auto}table{border-collapse:collapse;margin:1em 0}"
    style += "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}img{max-width:100%}"
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>pathkg run {html.escape(run_id)}</title>"
    page += f"<style>{style}</style></head><body>{''.join(sections)}</body></html>\n"
    index = out_dir / "index.html"
    write_text_atomic(index, page)
    return index, plots
