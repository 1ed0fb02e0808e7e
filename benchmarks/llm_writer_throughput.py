"""Request rate of the `generate` stage with the LLM writer against an endpoint with a fixed latency.

    .venv/bin/python benchmarks/llm_writer_throughput.py [--cases 1000] [--concurrency 64] [--latency 0.05]

The stage is the real one: `GenerateStage` (`writer: llm`) driven by the runner's `AsyncioExecutor`,
on the real inputs of the demo pipeline (its `questions`, `reports` and `paths` records: TCGA and
WSI-Bench reports, KG paths from the curated KG), read back from a demo run the way the runner reads
them. The demo run is made once under `runs/bench-llm-writer-inputs/` (or `--run-dir`) and reused.
Its ~100 cases are repeated to `--cases`, each copy with its own case id written into its questions,
so that every request is a new one (the stage's response cache never answers).

The endpoint is `pathkg.llm.lean_loopback` in its own process (a lean asyncio server: the aiohttp
test server would cost more CPU per request than the client on the same two cores). In the same run:
the stage at `--concurrency` requests in flight (`max_in_flight`) and with a sequential client
(1 in flight). Printed: requests per second, the fraction of the ideal `concurrency / latency`
(target >= 90 %), the speed-up over the sequential client, and the client's CPU per request.

`measure(cases, concurrency, latency)` returns the same figures as a dict (used by
`benchmarks/regenerate_20k.py`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pipelines.config import load_config  # noqa: E402
from pipelines.executors.asyncio_executor import AsyncioExecutor  # noqa: E402
from pipelines.executors.base import StageFactory, Task  # noqa: E402
from pipelines.runner import Runner  # noqa: E402
from pipelines.stage import StageContext  # noqa: E402
from pipelines.stages.generate import GenerateParams, GenerateStage  # noqa: E402
from schemas.arrow import from_arrow_row  # noqa: E402
from schemas.case_paths import CasePaths  # noqa: E402
from schemas.extraction import ReportExtraction  # noqa: E402
from schemas.question import Question  # noqa: E402

DEMO_CONFIG = REPO / "pipelines" / "configs" / "demo.yaml"
DEFAULT_RUN_DIR = REPO / "runs" / "bench-llm-writer-inputs"
UPSTREAM = {"questions": Question, "reports": ReportExtraction, "paths": CasePaths}


def demo_inputs(run_dir: Path = DEFAULT_RUN_DIR) -> list[tuple[str, dict[str, list[Any]]]]:
    """Per case of a demo run: the records the generate stage receives (runs the demo first if needed)."""
    config = load_config(DEMO_CONFIG)
    runner = Runner(config, run_dir, show_progress=False)
    tables = {}
    try:
        tables = {name: runner.read_current(name) for name in UPSTREAM}
    except Exception:  # no usable run yet: make it (resumable, so an interrupted one just goes on)
        tables = {}
    if not tables or any(t.num_rows == 0 for t in tables.values()):
        print(f"making the demo run the inputs come from: {run_dir} (once)", file=sys.stderr)
        runner.run()
        tables = {name: runner.read_current(name) for name in UPSTREAM}
    per_case: dict[str, dict[str, list[Any]]] = {}
    for name, model in UPSTREAM.items():
        for row in tables[name].to_pylist():
            per_case.setdefault(row["_case_id"], {n: [] for n in UPSTREAM})[name].append(from_arrow_row(model, row))
    return [(case_id, inputs) for case_id, inputs in sorted(per_case.items()) if all(inputs.values())]


def replicate(base: list[tuple[str, dict[str, list[Any]]]], cases: int) -> list[Task]:
    """`cases` tasks cycling over the demo cases; each copy's findings name the copy (distinct prompts,
    as distinct cases have distinct findings, while question wordings repeat as the templates do)."""
    tasks = []
    for i in range(cases):
        case_id, inputs = base[i % len(base)]
        copy_id = f"{case_id}~{i:05d}"
        (report,) = inputs["reports"]
        findings = [*report.findings, f"Replicate {i} of this case."]
        questions = [
            q.model_copy(update={"case_id": copy_id, "question_id": f"{q.question_id}~{i:05d}"})
            for q in inputs["questions"]
        ]
        tasks.append(
            Task(copy_id, copy_id, {**inputs, "questions": questions, "reports": [
                report.model_copy(update={"case_id": copy_id, "findings": findings})]})
        )  # fmt: skip
    return tasks


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pathkg.llm.lean_loopback", "--latency", str(latency), "--reply", "chain"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def run_stage(base_url: str, tasks: list[Task], in_flight: int, work: Path) -> tuple[float, float, int, float]:
    """(requests per second, client CPU ms per request, requests, seconds) for one pass of the stage."""
    params = GenerateParams(writer="llm", base_url=base_url, model="loopback-model", max_in_flight=in_flight,
                            timeout_s=30)  # fmt: skip
    # A fresh run directory (so a fresh response cache) per pass: requests, not cache hits, are measured.
    context = StageContext(run_dir=Path(tempfile.mkdtemp(dir=work)), run_id="bench", stage_name="generate")
    factory = StageFactory(GenerateStage, params, context)
    requests = sum(len(t.inputs["questions"]) for t in tasks)
    start, cpu = time.perf_counter(), time.process_time()
    outcomes = list(AsyncioExecutor(max(1, in_flight)).map(factory, tasks))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    failed = [o for o in outcomes if o.error]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(outcomes)} cases failed, e.g. {failed[0].error}")
    rows = sum(len(o.rows or []) for o in outcomes)
    if rows != requests:
        raise RuntimeError(f"{rows} chains for {requests} questions")
    return requests / elapsed, 1000 * cpu / requests, requests, elapsed


def measure(cases: int, concurrency: int, latency: float) -> dict[str, Any]:
    """The LLM generate stage's request rate at `concurrency` in flight, against a sequential client."""
    base = demo_inputs()
    proc, base_url = start_server(latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            run_stage(base_url, replicate(base, min(cases, 200)), concurrency, work)  # warm-up
            # Sequential: enough requests for about two seconds.
            seq_tasks = replicate(base, max(2, int(2.0 / max(latency, 1e-3) / 4.3)))
            seq_rate, seq_cpu, seq_requests, _ = run_stage(base_url, seq_tasks, 1, work)
            rate, cpu, requests, seconds = run_stage(base_url, replicate(base, cases), concurrency, work)
    finally:
        proc.terminate()
        proc.wait(10)
    ideal = concurrency / latency
    return {
        "cases": cases,
        "requests": requests,
        "seconds": round(seconds, 3),
        "concurrency": concurrency,
        "latency_s": latency,
        "ideal_rate": ideal,
        "rate": rate,
        "fraction_of_ideal": rate / ideal,
        "cpu_ms_per_request": cpu,
        "sequential_rate": seq_rate,
        "sequential_fraction_of_ideal": seq_rate * latency,
        "sequential_requests": seq_requests,
        "sequential_cpu_ms_per_request": seq_cpu,
        "speedup_over_sequential": rate / seq_rate,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = ap.parse_args()
    result = measure(args.cases, args.concurrency, args.latency)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    r = result
    print(f"generate stage, LLM writer: {r['cases']} cases, {r['requests']} requests, endpoint latency "
          f"{r['latency_s'] * 1000:.0f} ms")  # fmt: skip
    print(f"ideal at concurrency {r['concurrency']}: {r['ideal_rate']:.0f} req/s "
          f"(client CPU budget {1000 / r['ideal_rate']:.2f} ms per request)")  # fmt: skip
    print(f"sequential client (1 in flight)   {r['sequential_rate']:8.1f} req/s = "
          f"{100 * r['sequential_fraction_of_ideal']:5.1f}% of its ideal, CPU {r['sequential_cpu_ms_per_request']:.2f} "
          "ms/request")  # fmt: skip
    print(f"concurrency {r['concurrency']:<3}                   {r['rate']:8.1f} req/s = "
          f"{100 * r['fraction_of_ideal']:5.1f}% of ideal, {r['speedup_over_sequential']:.1f}x sequential, "
          f"CPU {r['cpu_ms_per_request']:.2f} ms/request")  # fmt: skip
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
