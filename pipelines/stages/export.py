"""export: the run's verified samples as a Hugging Face dataset folder (run scope).

`pass` samples are exported; `flagged` ones wait in the review queue (`RUN_DIR/review/queue.parquet`)
until an annotator accepts them (or edits them until they pass; `pathkg review`), and then join the export
with their review record; `rejected` ones never leave.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import Field

from pathkg.export.corpus_export import export_batches
from pathkg.export.dataset_card import regeneration_record
from pathkg.io.atomic import atomic_path
from pathkg.review.review_state import ReviewedSamples, review_fingerprint
from pipelines.stage import Stage, StageParams
from schemas.arrow import arrow_schema, from_arrow_row, to_arrow_row
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
        queue_schema = arrow_schema(Sample)
        reviewed = ReviewedSamples.load(run_dir)
        # Filled while the samples stream past; the card is written after the last one.
        info: dict[str, Any] = {
            **regeneration_record(run_dir),  # command, exact config, versions, seeds, models: from the manifest
            "kg_versions": [],
            "prompt_versions": [],
            "generators": [],
        }

        def note(exported: pa.Table) -> None:
            prov = exported["provenance"].combine_chunks()
            backends = pc.struct_field(prov, "generator_backend").to_pylist()
            models = pc.struct_field(prov, "generator_model").to_pylist()
            for key, values in (
                ("kg_versions", pc.struct_field(prov, "kg_version").to_pylist()),
                ("prompt_versions", pc.struct_field(prov, "prompt_version").to_pylist()),
                ("generators", [f"{b}:{m or '-'}" for b, m in zip(backends, models, strict=True)]),
            ):
                info[key].extend(v for v in dict.fromkeys(values) if v not in info[key])

        def exportable() -> Iterator[pa.Table]:
            for upstream in inputs.values():
                if upstream.model is not Sample:
                    continue
                for batch in upstream.batches():
                    status = pc.struct_field(batch["verification"].combine_chunks(), "status")
                    counts["in"] += batch.num_rows
                    for value, n in zip(*_value_counts(status), strict=True):
                        counts[value] += n
                    flagged = pc.equal(status, "flagged")
                    # Flagged samples wait in the review queue, part by part, never all held at once.
                    held = batch.filter(flagged)
                    if held.num_rows:
                        queue.write_table(held)
                    exported = self._exported(batch, status, flagged, reviewed)
                    if exported.num_rows:
                        note(exported)
                        yield exported

        # The queue is committed (renamed into place) only once the export has succeeded.
        with (
            atomic_path(Path(run_dir) / "review" / "queue.parquet") as queue_tmp,
            pq.ParquetWriter(queue_tmp, queue_schema, compression="zstd") as queue,
        ):
            result = export_batches(
                exportable(),
                run_dir / self.params.out,
                run_dir,
                max_shard_bytes=int(self.params.max_shard_mb * 2**20),
                fractions=self.params.split_fractions,
                info=info,
            )
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

    @staticmethod
    def _exported(batch: pa.Table, status: pa.Array, flagged: pa.Array, reviewed: ReviewedSamples) -> pa.Table:
        """The batch's exported rows, in order: those that pass (or were accepted), and the flagged ones
        an annotator accepted or edited until they pass, as the annotator left them."""
        accepted = pc.equal(pc.struct_field(batch["review"].combine_chunks(), "status"), "accepted")
        passes = pc.fill_null(pc.or_kleene(pc.equal(status, "pass"), accepted), False)
        keep = np.array(passes.to_numpy(zero_copy_only=False), dtype=bool)
        flagged_at = np.flatnonzero(pc.fill_null(flagged, False).to_numpy(zero_copy_only=False))
        ids = batch["sample_id"].take(pa.array(flagged_at, pa.int64())).to_pylist()
        decided = [i for i, sample_id in zip(flagged_at.tolist(), ids, strict=True) if sample_id in reviewed.by_sample]
        if not decided:
            return batch.filter(pa.array(keep))
        rows, at = [], []
        for i, row in zip(decided, batch.take(pa.array(decided, pa.int64())).to_pylist(), strict=True):
            sample = reviewed.exportable(from_arrow_row(Sample, row))
            keep[i] = False
            if sample is not None and (sample.verification.status == "pass" or sample.review.status == "accepted"):
                rows.append(to_arrow_row(sample))
                at.append(i)
        kept = np.flatnonzero(keep)
        merged = pa.concat_tables(
            [batch.take(pa.array(kept, pa.int64())), pa.Table.from_pylist(rows, schema=batch.schema)]
        )
        order = np.argsort(np.concatenate([kept, np.array(at, dtype=np.int64)]), kind="stable")
        return merged.take(pa.array(order))


def _value_counts(values: pa.Array) -> tuple[list[str], list[int]]:
    counted = pc.value_counts(values)
    return counted.field("values").to_pylist(), counted.field("counts").to_pylist()
