"""Extraction over a table of reports (CSV / JSONL / Parquet with `case_id` or `patient_id`, and `text`).

Every row ends in exactly one place: a `ReportExtraction` line in the output JSONL, or a failure
line (`case_id`, `error_type`, `message`) in `<out>.failures.jsonl`. Both files are written
atomically at the end; with the LLM backend a rerun replays answered requests from the cache.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pathkg.extract.backends import Backend
from pathkg.ingest.manifest_reader import read_manifest
from pathkg.io.atomic import write_text_atomic
from schemas.extraction import ReportExtraction

ID_COLUMNS = ("case_id", "patient_id")
TEXT_COLUMNS = ("text", "report_text")


@dataclass
class Failure:
    case_id: str
    error_type: str
    message: str


@dataclass
class BatchResult:
    records: list[ReportExtraction] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


@dataclass
class InputRow:
    case_id: str
    text: str | None
    error: str | None = None


def read_rows(path: Path) -> list[InputRow]:
    rows: list[InputRow] = []
    for row in read_manifest(path):
        if row.error is not None:
            rows.append(InputRow(row.origin, None, f"{row.origin}: {row.error}"))
            continue
        case_id = next((str(row.values[c]).strip() for c in ID_COLUMNS if str(row.values.get(c) or "").strip()), "")
        text = next((str(row.values[c]) for c in TEXT_COLUMNS if str(row.values.get(c) or "").strip()), None)
        if not case_id:
            rows.append(InputRow(row.origin, None, f"{row.origin}: no case_id / patient_id"))
        elif text is None:
            rows.append(InputRow(case_id, None, f"case {case_id} ({row.origin}): empty or missing 'text'"))
        else:
            rows.append(InputRow(case_id, text))
    return rows


async def extract_rows(
    rows: list[InputRow],
    backend: Backend,
    *,
    concurrency: int = 32,
    on_done: Callable[[], None] | None = None,
) -> BatchResult:
    result = BatchResult()
    semaphore = asyncio.Semaphore(concurrency)

    async def one(row: InputRow) -> None:
        try:
            if row.error is not None:
                result.failures.append(Failure(row.case_id, "InputError", row.error))
                return
            async with semaphore:
                record = await backend.extract(row.case_id, row.text or "")
            result.records.append(record)
        except Exception as exc:  # a failed case is recorded with its reason; the others go on
            message = str(exc) or repr(exc)
            if row.case_id not in message:
                message = f"case {row.case_id}: {message}"
            result.failures.append(Failure(row.case_id, type(exc).__name__, message))
        finally:
            if on_done:
                on_done()

    await asyncio.gather(*(one(r) for r in rows))
    order = {r.case_id: i for i, r in enumerate(rows)}
    result.records.sort(key=lambda r: order.get(r.case_id, 0))
    result.failures.sort(key=lambda f: order.get(f.case_id, 0))
    return result


def failures_path(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".jsonl") + ".failures.jsonl")


def write_outputs(result: BatchResult, out: Path) -> Path:
    lines = [r.model_dump_json() for r in result.records]
    write_text_atomic(out, "".join(line + "\n" for line in lines))
    fails = failures_path(out)
    failure_lines = [json.dumps(f.__dict__) for f in result.failures]
    if failure_lines or fails.exists():
        write_text_atomic(fails, "".join(line + "\n" for line in failure_lines))
    return fails


def summary(result: BatchResult) -> dict[str, Any]:
    by_type: dict[str, int] = {}
    for f in result.failures:
        by_type[f.error_type] = by_type.get(f.error_type, 0) + 1
    phi: dict[str, int] = {}
    for r in result.records:
        for k, v in r.phi_replacements.items():
            phi[k] = phi.get(k, 0) + v
    return {"extracted": len(result.records), "failed": len(result.failures), "failures": by_type, "phi": phi}
