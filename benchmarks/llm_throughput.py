"""Request rate of the `reports` stage (LLM backend) against an endpoint with a fixed 200 ms latency.

    .venv/bin/python benchmarks/llm_throughput.py [--cases 640] [--concurrency 32] [--latency 0.2]

The endpoint is the loopback OpenAI-compatible server (`pathkg.llm.loopback_server`), run in its
own process so that it does not share the client's interpreter. In the same run:

1. the stage at concurrency 32: `ReportsStage` driven by the runner's `AsyncioExecutor`
   (32 cases in flight, `max_in_flight: 32`), each case a real TCGA report (PHI scrub, OCR
   normalisation, request, validation, contract check);
2. the same with a sequential client (1 in flight) over fewer cases;
3. the same with preparation in `--cpu-workers` processes (`cpu_workers:` in the stage);
4. the request path alone at concurrency 32 (reports prepared before the clock starts), to
   separate the concurrency machinery from the CPU cost of preparing each report.

Printed: requests per second, the fraction of the ideal `concurrency / latency` (target >= 90 %),
and the speed-up over the sequential client. No response cache (every case is a new request).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pathkg.extract.backends import LLMBackend, LLMBackendConfig
from pathkg.extract.prepare import prepare_report
from pathkg.llm.client import LLMSettings
from pipelines.content_key import sha256_text
from pipelines.executors.asyncio_executor import AsyncioExecutor
from pipelines.executors.base import StageFactory, Task
from pipelines.stage import StageContext
from pipelines.stages.reports import ReportsParams, ReportsStage
from schemas.case import Case

REPO = Path(__file__).resolve().parent.parent


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pathkg.llm.loopback_server", "--latency", str(latency)],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def load_reports(data: Path) -> list[str]:
    csv.field_size_limit(sys.maxsize)
    with open(data / "reports" / "tcga_brca_sample" / "reports.csv", newline="", encoding="utf-8") as fh:
        return [row["text"] for row in csv.DictReader(fh)]


def cases(texts: list[str], n: int, tag: str) -> list[Case]:
    out = []
    for i in range(n):
        # A distinct text per case: no two requests are the same.
        text = f"{texts[i % len(texts)]} CASEMARK={tag}-{i}."
        out.append(Case(case_id=f"{tag}-{i:05d}", patient_id=f"{tag}-{i:05d}", report_text=text,
                        report_sha256=sha256_text(text), source="bench"))  # fmt: skip
    return out


def run_stage(
    base_url: str, items: list[Case], concurrency: int, work: Path, cpu_workers: int = 0
) -> tuple[float, float]:
    """(requests per second, CPU milliseconds per request in this process)."""
    params = ReportsParams(backend="llm", model="loopback-model", base_url=base_url, max_in_flight=concurrency,
                           timeout_s=30, cache_dir=None, cpu_workers=cpu_workers)  # fmt: skip
    # A fresh cache directory per run: the benchmark measures requests, not cache hits.
    params.cache_dir = Path(tempfile.mkdtemp(dir=work))
    factory = StageFactory(ReportsStage, params, StageContext(run_dir=work, run_id="bench", stage_name="reports"))
    tasks = [Task(c.case_id, c.case_id, {"ingest": [c]}) for c in items]
    start, cpu = time.perf_counter(), time.process_time()
    outcomes = list(AsyncioExecutor(concurrency).map(factory, tasks))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    failed = [o for o in outcomes if o.error]
    if failed:
        raise SystemExit(f"{len(failed)} cases failed, e.g. {failed[0].error}")
    return len(items) / elapsed, 1000 * cpu / len(items)


def run_requests_only(base_url: str, items: list[Case], concurrency: int) -> tuple[float, float]:
    prepared = [prepare_report(c.case_id, c.report_text) for c in items]

    async def go() -> float:
        settings = LLMSettings(base_url=base_url, model="loopback-model", max_in_flight=concurrency, timeout_s=30)
        backend = LLMBackend(LLMBackendConfig(settings))
        start, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(backend.extractor.extract(p) for p in prepared))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        await backend.aclose()
        return len(prepared) / elapsed, 1000 * cpu / len(prepared)

    return asyncio.run(go())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=640)
    ap.add_argument("--sequential-cases", type=int, default=25)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--cpu-workers", type=int, default=2, help="Also run the stage with N preparation processes.")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("PATHKG_DATA", REPO.parent / "shared" / "data")))
    args = ap.parse_args()
    texts = load_reports(args.data)
    ideal = args.concurrency / args.latency
    proc, base_url = start_server(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            run_stage(base_url, cases(texts, 64, "warm"), args.concurrency, work)  # warm-up
            sequential = run_stage(base_url, cases(texts, args.sequential_cases, "seq"), 1, work)
            concurrent = run_stage(base_url, cases(texts, args.cases, "conc"), args.concurrency, work)
            requests_only = run_requests_only(base_url, cases(texts, args.cases, "req"), args.concurrency)
            pooled = None
            if args.cpu_workers:
                run_stage(base_url, cases(texts, 64, "warm2"), args.concurrency, work, args.cpu_workers)
                pooled = run_stage(base_url, cases(texts, args.cases, "pool"), args.concurrency, work, args.cpu_workers)
    finally:
        proc.terminate()
        proc.wait(10)
    seq_rate, seq_cpu = sequential
    rate, cpu = concurrent
    req_rate, req_cpu = requests_only
    print(f"endpoint latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}: ideal {ideal:.1f} req/s")
    print(f"client CPU budget at the ideal rate: {1000 / ideal:.2f} ms per request (one event loop = one core)")
    rows = [
        ("stage, sequential client (1 in flight)", seq_rate, seq_cpu, 1 / args.latency),
        (f"stage, concurrency {args.concurrency}", rate, cpu, ideal),
        (f"request path only, concurrency {args.concurrency}", req_rate, req_cpu, ideal),
    ]
    if pooled:
        rows.insert(2, (f"stage, concurrency {args.concurrency}, {args.cpu_workers} prep processes", *pooled, ideal))
    for name, r, c, best in rows:
        print(
            f"{name:<42} {r:7.1f} req/s = {100 * r / best:5.1f}% of its ideal {best:.0f}, "
            f"{r / seq_rate:5.1f}x sequential, CPU here {c:.2f} ms/request"
        )
    print(f"load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
