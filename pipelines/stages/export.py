"""export: the run's verified samples as a Hugging Face dataset folder (run scope).

`pass` samples are exported; `flagged` ones wait in the review queue (`RUN_DIR/review/queue.parquet`)
until an annotator accepts them (or edits them until they pass; `pathkg review`), and then join the export
with their review record; `rejected` ones never leave.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
from pydantic import Field

from pathkg.export.corpus_export import export_corpus
from pathkg.io.atomic import write_parquet_atomic
from pathkg.review.review_state import ReviewedSamples, review_fingerprint
from pipelines.run_manifest import git_revision, package_versions
from pipelines.stage import Stage, StageParams
from schemas.arrow import arrow_schema, to_arrow_row
from schemas.run_summaries import ExportSummary
from schemas.sample import Sample


class ExportParams(StageParams):
    out: str = Field(default="export", description="Folder under the run directory.")
    max_shard_mb: float = Field(default=256, gt=0)
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)


class ExportStage(Stage):
    name: ClassVar[str] = "export"
    scope: ClassVar[str] = "run"
    output_model = ExportSummary
    Params = ExportParams
    params: ExportParams

    def fingerprint(self) -> str | None:
        # Review decisions are an input too: a new one reruns the export.
        return review_fingerprint(self.context.run_dir)

    def process(self, case_id: str, inputs: dict[str, Any]) -> list[ExportSummary]:
        run_dir = self.context.run_dir
        counts = {"in": 0, "pass": 0, "flagged": 0, "rejected": 0}
        flagged: list[dict[str, Any]] = []
        reviewed = ReviewedSamples.load(run_dir)
        # Filled while the samples stream past; the card is written after the last one.
        info: dict[str, Any] = {
            "run_id": self.context.run_id,
            "git_revision": git_revision(),
            "packages": package_versions(),
            "regenerate": "pathkg run CONFIG --run-dir DIR, with the config recorded in the run's manifest.json",
            "kg_versions": [],
            "prompt_versions": [],
            "generators": [],
        }

        def note(key: str, value: str) -> None:
            if value not in info[key]:
                info[key].append(value)

        def exportable() -> Iterator[Sample]:
            for records in inputs.values():
                for sample in records:
                    if not isinstance(sample, Sample):
                        continue
                    counts["in"] += 1
                    counts[sample.verification.status] += 1
                    if sample.verification.status == "flagged":
                        flagged.append(to_arrow_row(sample))
                        # Accepted, or edited until it passes, by an annotator: exported with its review record.
                        sample = reviewed.exportable(sample) or sample
                    if sample.verification.status == "pass" or sample.review.status == "accepted":
                        prov = sample.provenance
                        note("kg_versions", prov.kg_version)
                        note("prompt_versions", prov.prompt_version)
                        note("generators", f"{prov.generator_backend}:{prov.generator_model or '-'}")
                        yield sample

        result = export_corpus(
            exportable(),
            run_dir / self.params.out,
            run_dir,
            max_shard_bytes=int(self.params.max_shard_mb * 2**20),
            fractions=self.params.split_fractions,
            info=info,
        )
        queue = pa.Table.from_pylist(flagged, schema=arrow_schema(Sample))
        write_parquet_atomic(Path(run_dir) / "review" / "queue.parquet", queue)
        default_counts = result.counts.get("default", {})
        return [
            ExportSummary(
                case_id=case_id,
                out_dir=str(result.out_dir),
                counts=default_counts,
                patients=result.patients,
                samples_in=counts["in"],
                samples_exported=sum(default_counts.values()),
                held_for_review=counts["flagged"],
                rejected=counts["rejected"],
                bytes_written=result.bytes_written,
            )
        ]
