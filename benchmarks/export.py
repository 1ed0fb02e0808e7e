"""Export throughput: MB/s of `export_corpus` against bare `pyarrow.parquet.write_table` of the same
tables (default, sft and rl views) in the same run. Target: >= 50 % of the bare rate.

    .venv/bin/python benchmarks/export.py [--samples 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from pathkg.export.corpus_export import export_corpus
from pathkg.export.splits import split_for_patient
from pathkg.export.views import RL_FEATURES, SFT_FEATURES, default_features, rl_row, sft_row
from schemas import Entity, ImageRef, Provenance, Sample, Verification
from schemas.arrow import to_arrow_row

N_TILES = 400


def make_samples(root: Path, n: int) -> list[Sample]:
    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(N_TILES):  # noisy tiles compress like real H&E tiles do: hardly at all
        pixels = rng.integers(0, 255, (224, 224, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "images" / f"tile{i}.jpg", quality=85)
    response = (
        "<observe>Sheets of atypical squamous cells with keratin pearls and intercellular bridges.</observe>\n"
        "<think>Keratin pearls support squamous cell carcinoma; squamous cell carcinoma is graded by WHO.</think>\n"
        "<answer>Squamous cell carcinoma</answer>"
    )
    return [
        Sample(
            sample_id=f"s{i}",
            case_id=f"TCGA-BM-{i // 4:04d}",
            patient_id=f"TCGA-BM-{i // 4:04d}",
            project="TCGA-LUSC",
            scale="roi",
            images=[
                ImageRef(
                    path=f"images/tile{(2 * i + j) % N_TILES}.jpg", kind="tile", level=0, magnification=20.0, x=j, y=j
                )
                for j in range(2)
            ],
            question_type="diagnosis",
            question="What is the diagnosis?",
            findings=["Sheets of atypical squamous cells with keratin pearls."],
            diagnosis="Squamous cell carcinoma",
            response=response,
            answer="Squamous cell carcinoma",
            description_entities=[
                Entity(
                    kg_id="PKG:keratin_pearls",
                    name="keratin pearls",
                    type="Finding",
                    text="keratin pearls",
                    start=40,
                    end=54,
                )
            ],
            verification=Verification(status="pass"),
            provenance=Provenance(
                report_sha256="0" * 64,
                kg_version="kg-bench",
                generator_backend="template",
                prompt_version="template-v1",
                run_id="bench",
                code_version="0",
            ),
        )
        for i in range(n)
    ]


def bare_tables(samples: list[Sample], root: Path) -> list[pa.Table]:
    rows = {"default": [], "sft": [], "rl": []}
    for s in samples:
        images = [{"bytes": (root / ref.path).read_bytes(), "path": Path(ref.path).name} for ref in s.images]
        s = s.model_copy(update={"split": split_for_patient(s.patient_id)})
        row = to_arrow_row(s)
        row["images"] = images
        row["image_meta"] = [ref.model_dump() for ref in s.images]
        rows["default"].append(row)
        rows["sft"].append(sft_row(s, images))
        rows["rl"].append(rl_row(s, images))
    return [
        pa.Table.from_pylist(rows["default"], schema=default_features().arrow_schema),
        pa.Table.from_pylist(rows["sft"], schema=SFT_FEATURES.arrow_schema),
        pa.Table.from_pylist(rows["rl"], schema=RL_FEATURES.arrow_schema),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        samples = make_samples(root, args.samples)

        t0 = time.perf_counter()
        result = export_corpus(samples, root / "export", root, max_shard_bytes=64 * 2**20)
        export_s = time.perf_counter() - t0
        export_mb = result.bytes_written / 2**20

        t0 = time.perf_counter()
        tables = bare_tables(samples, root)  # the baseline builds the same tables from the same samples
        for i, table in enumerate(tables):
            pq.write_table(table, root / f"bare{i}.parquet", compression="zstd")
        bare_s = time.perf_counter() - t0
        bare_mb = sum((root / f"bare{i}.parquet").stat().st_size for i in range(3)) / 2**20

    export_rate, bare_rate = export_mb / export_s, bare_mb / bare_s
    print(f"samples: {args.samples}")
    print(f"export_corpus:      {export_mb:.1f} MB in {export_s:.2f} s = {export_rate:.1f} MB/s")
    print(f"bare write_table:   {bare_mb:.1f} MB in {bare_s:.2f} s = {bare_rate:.1f} MB/s")
    ratio = export_rate / bare_rate
    print(f"ratio export/bare:  {ratio:.0%} (target >= 50%): {'PASS' if ratio >= 0.5 else 'FAIL'}")


if __name__ == "__main__":
    main()
