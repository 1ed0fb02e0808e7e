"""Regenerating a 20K-case corpus: throughput on 1 and 2 workers (local pool and Ray), and memory at 2K vs 20K.

    .venv/bin/python benchmarks/regenerate_20k.py [--cases 20000] [--runs one,local,ray,rss] [--repeat 1] [--skip-llm]

Cases: the shared real reports (10 TCGA-BRCA reports and the 93 WSI-Bench report texts, the same
files the demo's ingest reads), repeated under distinct case and patient ids, each copy's wording
perturbed with a seeded random choice of equivalent phrasings (spelling variants, synonyms,
heading case, whitespace), so no two cases share a content key. The whole demo pipeline runs
(ingest, slides, rule extraction, KG build, linking, paths, questions, the template writer,
verification, export, run report).

Each measured run is a separate process, started fresh, so runs do not share caches:
- `one`: 1 worker (the stages in one process);
- `local`: the local process pool, 2 workers (`--workers`);
- `ray`: the Ray executor, 2 actors, on a local Ray instance started before the clock (its start-up,
  printed, is not counted);
- `rss`: the local pool at `--cases // 10` cases, the small point of the memory comparison; the
  large point is the `local` run at `--cases`.
Throughput is cases / wall-clock seconds of `Runner.run()` (KG build, export and report included).
With `--repeat N` each timed configuration runs N times, interleaved, and the median run is the one
reported and compared (on a shared host the machine's speed drifts by tens of percent over minutes).

Peak RSS is the largest sum of resident memory over the measured process and all its descendants
(the pool workers, the extraction processes), sampled every 0.2 s with psutil. Ray's workers are
children of the raylet, not of the run, so the `ray` run reports no RSS.

Finally, `measure(cases, concurrency=64, latency=0.05)` from benchmarks/llm_writer_throughput.py
(the LLM writer against a loopback server with 50 ms latency) prints its fraction of the ideal rate.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import yaml

REPO = Path(__file__).resolve().parent.parent
SPEEDUP_TARGET = 1.6
RSS_TARGET = 1.2

#: Equivalent phrasings a pathologist might write; each case draws its own (seeded) choices.
VARIANTS: tuple[tuple[str, ...], ...] = (
    ("tumor", "tumour"),
    ("centimeter", "centimetre", "cm"),
    ("identified", "seen", "noted"),
    ("specimen", "sample"),
    ("measuring", "measures", "that measures"),
    ("consistent with", "compatible with"),
    ("received", "submitted"),
)
_VARIANT_RE = {v: re.compile(r"\b(" + "|".join(map(re.escape, v)) + r")\b", re.IGNORECASE) for v in VARIANTS}


def shared_data() -> Path:
    return Path(os.environ.get("PATHKG_DATA", REPO.parent / "shared" / "data")).resolve()


def real_reports() -> list[str]:
    data = shared_data()
    texts = []
    with open(data / "reports/tcga_brca_sample/reports.csv", newline="", encoding="utf-8") as fh:
        texts += [r["text"] for r in csv.DictReader(fh)]
    with open(data / "benchmarks/wsi_bench/WSI-Bench-Report-only-dev.jsonl", encoding="utf-8") as fh:
        texts += [json.loads(line)["T-answer"] for line in fh if line.strip()]
    return texts


def perturb(text: str, rng: random.Random) -> str:
    """The same report in other words: per variant group, one phrasing for the whole text."""
    for variants, pattern in _VARIANT_RE.items():
        choice = rng.choice(variants)

        def repl(m: re.Match[str], choice: str = choice) -> str:
            return choice.capitalize() if m.group(0)[:1].isupper() else choice

        text = pattern.sub(repl, text)
    if rng.random() < 0.3:
        text = re.sub(r"\b(DIAGNOSIS|FINAL DIAGNOSIS|COMMENT|GROSS DESCRIPTION)\b", lambda m: m.group(0).title(), text)
    if rng.random() < 0.5:
        text = re.sub(r"[ \t]+", " ", text)
    return text


def cases(n: int, seed: int = 0) -> Iterator[tuple[str, str, str]]:
    texts = real_reports()
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        yield f"REGEN-{i:06d}", f"REGEN-P{i:06d}", perturb(texts[i % len(texts)], rng)


def write_cases(path: Path, n: int) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["case_id", "patient_id", "report_text"])
        writer.writerows(cases(n))


def pipeline_config(tmp: Path, cases_csv: Path, workers: int, label: str) -> Path:
    config = yaml.safe_load(
        (REPO / "pipelines/configs/demo.yaml")
        .read_text(encoding="utf-8")
        .replace("${PATHKG_DATA:-../../../shared/data}", str(shared_data()))
    )
    config["run"]["workers"] = workers
    for stage in config["stages"]:
        if stage["name"] == "ingest":
            stage["params"] = {"sources": [{"path": str(cases_csv)}]}
        if stage["name"] == "kg":
            stage["params"]["seed"] = str(REPO / "kg_dumps/pathology_seed")
    path = tmp / f"{label}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


# --- one measured run (a child process) ----------------------------------------------------------
def child(spec: dict) -> None:
    from rich.console import Console

    from pipelines.config import load_config
    from pipelines.runner import Runner

    ray_start = 0.0
    if spec["executor"] == "ray":
        import ray

        t0 = time.perf_counter()
        ray.init(num_cpus=spec["workers"], include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
        ray_start = time.perf_counter() - t0
    runner = Runner(
        load_config(Path(spec["config"])), Path(spec["run_dir"]), workers=spec["workers"],
        executor=spec["executor"], show_progress=False, console=Console(quiet=True),
    )  # fmt: skip
    t0 = time.perf_counter()
    statuses = runner.run()
    seconds = time.perf_counter() - t0
    failed = {s.stage: s.failure_types for s in statuses if s.failed}
    summary = runner.stores["export"].read_table().to_pylist()[-1]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "ray_start": ray_start,
                "exported": summary["samples_exported"],
                "failed": failed,
                "stages": {s.stage: s.seconds for s in statuses},
            }
        ),
        flush=True,
    )


_PROBE_LINKER: Any = None


def _link_all(texts: list[str]) -> float:
    t0 = time.perf_counter()
    for text in texts:
        _PROBE_LINKER.link(text)
    return time.perf_counter() - t0


def parallel_probe(dump_dir: Path, rounds: int = 4) -> tuple[float, float]:
    """The pipeline's dominant work (spaCy entity linking) without the runner: reports linked per second by
    one process alone, and by two processes at once. Their ratio is the most 2 workers can gain on this
    machine for that work (memory-bound code scales worse than the cores suggest)."""
    global _PROBE_LINKER
    from pathkg.linking.entity_linker import EntityLinker

    texts = real_reports() * rounds
    _PROBE_LINKER = EntityLinker.from_dump(dump_dir)
    _link_all(texts[: len(texts) // rounds])  # warm the vocabulary before forking
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        one = pool.apply(_link_all, (texts,))
    with ctx.Pool(2) as pool:
        t0 = time.perf_counter()
        pool.map(_link_all, [texts, texts])
        two = time.perf_counter() - t0
    _PROBE_LINKER = None
    return len(texts) / one, 2 * len(texts) / two


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def measured(tmp: Path, n: int, workers: int, executor: str, label: str) -> dict:
    cases_csv = tmp / f"cases-{n}.csv"
    if not cases_csv.exists():
        write_cases(cases_csv, n)
    spec = {
        "config": str(pipeline_config(tmp, cases_csv, workers, label)),
        "run_dir": str(tmp / label),
        "workers": workers,
        "executor": executor,
    }
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", json.dumps(spec)], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    peak = 0
    watched = psutil.Process(proc.pid)
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                peak = max(peak, tree_rss(watched))
            except psutil.Error:
                return
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"run {label} exited {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss"] = peak
    result["cases"] = n
    if result["failed"]:
        print(f"  [{label}] failed cases by stage: {result['failed']}")
    print(
        f"  [{label}] {n} cases, {executor}, {workers} worker(s): {result['seconds']:.1f} s = "
        f"{n / result['seconds']:.2f} cases/s, {result['exported']} samples exported, "
        f"peak RSS {peak / 2**20:.0f} MiB",
        flush=True,
    )
    print("    per stage (s): " + ", ".join(f"{k} {v:.1f}" for k, v in result["stages"].items()), flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", default="one,local,ray,rss", help="Which measured runs (comma separated).")
    ap.add_argument(
        "--repeat", type=int, default=1, help="Timed runs per configuration, interleaved; the median is reported."
    )
    ap.add_argument("--skip-llm", action="store_true", help="Do not run the LLM writer measurement.")
    ap.add_argument("--skip-probe", action="store_true", help="Do not measure how linking alone scales.")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    runs = set(args.runs.split(","))
    n, w = args.cases, args.workers
    results: dict[str, dict] = {}
    print(f"regenerate: {n} cases from {len(real_reports())} real reports; {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="regen-") as tmp_name:
        tmp = Path(tmp_name)
        timed = [(label, workers, executor) for label, workers, executor in
                 (("one", 1, "local"), ("local", w, "local"), ("ray", w, "ray")) if label in runs]  # fmt: skip
        rounds: dict[str, list[dict]] = {label: [] for label, _, _ in timed}
        for round_ in range(args.repeat):
            # Interleaved (one, local, ray, one, local, ray, ...): a machine whose speed drifts over
            # minutes (shared hosts) slows every configuration alike instead of one of them.
            for label, workers, executor in timed:
                rounds[label].append(measured(tmp, n, workers, executor, f"{label}-{round_}"))
        for label, done in rounds.items():
            results[label] = sorted(done, key=lambda r: r["seconds"])[len(done) // 2]  # the median run
        if "rss" in runs:
            results["rss"] = measured(tmp, max(n // 10, 1), w, "local", "rss")
        dumps = sorted(tmp.glob("*/kg/dump"))
        probe = parallel_probe(dumps[0]) if dumps and not args.skip_probe else None

    print()
    for label in ("one", "local", "ray"):
        if label in results:
            r = results[label]
            extra = f" (Ray start-up {r['ray_start']:.1f} s not counted)" if label == "ray" else ""
            every = ", ".join(f"{n / x['seconds']:.2f}" for x in rounds[label])
            median = f" (median of {args.repeat}: {every})" if args.repeat > 1 else ""
            print(f"{label:<6} {n / r['seconds']:7.2f} cases/s{median}{extra}")
    if "one" in results:
        base = results["one"]["seconds"]
        for label in ("local", "ray"):
            if label in results:
                speedup = base / results[label]["seconds"]
                verdict = "PASS" if speedup >= SPEEDUP_TARGET else "FAIL"
                target = f"(target >= {SPEEDUP_TARGET}x) {verdict}"
                print(f"speed-up {label} ({w} workers) over 1 worker: {speedup:.2f}x {target}")
    if probe is not None:
        alone, both = probe
        print(
            f"linking alone (no runner): 1 process {alone:.0f} reports/s, 2 processes at once {both:.0f} reports/s "
            f"= {both / alone:.2f}x: the ceiling this machine puts on 2 workers for the linking stages"
        )
    if "rss" in results and "local" in results:
        small, large = results["rss"], results["local"]
        ratio = large["peak_rss"] / small["peak_rss"]
        print(
            f"peak RSS (process tree): {small['cases']} cases {small['peak_rss'] / 2**20:.0f} MiB, "
            f"{large['cases']} cases {large['peak_rss'] / 2**20:.0f} MiB: {ratio:.2f}x "
            f"(target <= {RSS_TARGET}x) {'PASS' if ratio <= RSS_TARGET else 'FAIL'}"
        )
    if not args.skip_llm:
        # Written beside this file by the LLM work; a missing module is an error, not a skipped line.
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from llm_writer_throughput import measure

        llm = measure(n, concurrency=64, latency=0.05)
        fraction = llm["fraction_of_ideal"] if isinstance(llm, dict) else float(llm)
        print(f"LLM writer at concurrency 64, 50 ms latency: {fraction:.1%} of the ideal request rate (target >= 90%)")


if __name__ == "__main__":
    main()
