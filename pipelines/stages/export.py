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
import pyarrow.parquet as pq
from pydantic import Field

from pathkg.export.corpus_export import export_corpus
from pathkg.export.dataset_card import regeneration_record
from pathkg.io.atomic import atomic_path
from pathkg.review.review_state import ReviewedSamples, review_fingerprint
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
    #: Flagged samples per row group of the review queue.
    queue_batch: ClassVar[int] = 500

    def fingerprint(self) -> str | None:
        # Review decisions are an input too: a new one reruns the export.
        return review_fingerprint(self.context.run_dir)

    def process(self, case_id: str, inputs: dict[str, Any]) -> list[ExportSummary]:
        run_dir = self.context.run_dir
        counts = {"in": 0, "pass": 0, "flagged": 0, "rejected": 0}
        # Flagged samples stream into the review queue in batches, never all held at once.
        flagged: list[dict[str, Any]] = []
        queue_schema = arrow_schema(Sample)
        reviewed = ReviewedSamples.load(run_dir)
        # Filled while the samples stream past; the card is written after the last one.
        info: dict[str, Any] = {
            **regeneration_record(run_dir),  # command, exact config, versions, seeds, models: from the manifest
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
                        if len(flagged) >= self.queue_batch:
                            queue.write_table(pa.Table.from_pylist(flagged, schema=queue_schema))
                            flagged.clear()
                        # Accepted, or edited until it passes, by an annotator: exported with its review record.
                        sample = reviewed.exportable(sample) or sample
                    if sample.verification.status == "pass" or sample.review.status == "accepted":
                        prov = sample.provenance
                        note("kg_versions", prov.kg_version)
                        note("prompt_versions", prov.prompt_version)
                        note("generators", f"{prov.generator_backend}:{prov.generator_model or '-'}")
                        yield sample

        # The queue is committed (renamed into place) only once the export has succeeded.
        with (
            atomic_path(Path(run_dir) / "review" / "queue.parquet") as queue_tmp,
            pq.ParquetWriter(queue_tmp, queue_schema, compression="zstd") as queue,
        ):
            result = export_corpus(
                exportable(),
                run_dir / self.params.out,
                run_dir,
                max_shard_bytes=int(self.params.max_shard_mb * 2**20),
                fractions=self.params.split_fractions,
                info=info,
            )
            queue.write_table(pa.Table.from_pylist(flagged, schema=queue_schema))
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
