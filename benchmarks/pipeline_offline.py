"""End-to-end throughput of the demo pipeline with the template writer (no GPU, no network).

    .venv/bin/python benchmarks/pipeline_offline.py [--cases 1000] [--workers 2]

The shared real reports (10 TCGA-BRCA + 93 WSI-Bench) repeated under distinct case ids up to
--cases; every stage of pipelines/configs/demo.yaml runs (the KG is built once, included in the
time). Prints cases/s end to end and per stage, and, as the baseline measured in the same run,
the same pipeline on one worker.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time
from pathlib import Path

import yaml
from rich.console import Console

from pipelines.config import load_config
from pipelines.runner import Runner

REPO = Path(__file__).resolve().parent.parent


def shared_data() -> Path:
    return Path(os.environ.get("PATHKG_DATA", REPO.parent / "shared" / "data")).resolve()


def write_manifest(path: Path, n: int) -> None:
    data = shared_data()
    texts = []
    with open(data / "reports/tcga_brca_sample/reports.csv", newline="") as fh:
        texts += [r["text"] for r in csv.DictReader(fh)]
    with open(data / "benchmarks/wsi_bench/WSI-Bench-Report-only-dev.jsonl") as fh:
        texts += [json.loads(line)["T-answer"] for line in fh if line.strip()]
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["case_id", "patient_id", "report_text"])
        for i in range(n):
            writer.writerow([f"BENCH-{i:06d}", f"BENCH-P{i:06d}", texts[i % len(texts)]])


def run_once(tmp: Path, n: int, workers: int, label: str) -> tuple[float, dict[str, float], int]:
    config = yaml.safe_load(
        (REPO / "pipelines/configs/demo.yaml")
        .read_text()
        .replace("${PATHKG_DATA:-../../../shared/data}", str(shared_data()))
    )
    config["run"]["workers"] = workers
    for stage in config["stages"]:
        if stage["name"] == "ingest":
            stage["params"] = {"sources": [{"path": str(tmp / "cases.csv")}]}
        if stage["name"] == "kg":
            stage["params"]["seed"] = str(REPO / "kg_dumps/pathology_seed")
    path = tmp / f"{label}.yaml"
    path.write_text(yaml.safe_dump(config))
    runner = Runner(load_config(path), tmp / label, show_progress=False, console=Console(quiet=True))
    t0 = time.perf_counter()
    statuses = runner.run()
    seconds = time.perf_counter() - t0
    _, failures = runner.inspect()
    if failures:
        kinds = sorted({f"{f.stage}: {f.error_type}: {f.message[:200]}" for f in failures})
        raise SystemExit(f"{len(failures)} case(s) failed:\n" + "\n".join(kinds[:20]))
    # The part this run wrote (read_current would re-plan, and a KG file edited meanwhile changes keys).
    exported = runner.stores["export"].read_table().to_pylist()[-1]["samples_exported"]
    return seconds, {s.stage: s.seconds for s in statuses}, exported


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        write_manifest(tmp / "cases.csv", args.cases)
        seconds, per_stage, exported = run_once(tmp, args.cases, args.workers, "parallel")
        base_seconds, _, _ = run_once(tmp, args.cases, 1, "one_worker")
    print(f"cases: {args.cases}, samples exported: {exported}")
    for stage, s in per_stage.items():
        print(f"  {stage:<10} {s:7.1f} s")
    print(f"{args.workers} workers: {seconds:.1f} s = {args.cases / seconds:.1f} cases/s")
    print(f"1 worker:  {base_seconds:.1f} s = {args.cases / base_seconds:.1f} cases/s")
    print(f"speed-up: {base_seconds / seconds:.2f}x")


if __name__ == "__main__":
    main()
