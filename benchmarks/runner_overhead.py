"""Runner overhead per case: a no-op stage over 10,000 cases vs a bare loop over the same records.

    .venv/bin/python benchmarks/runner_overhead.py [--cases 10000] [--workers 1]

The runner's time covers everything it adds around the stage's work: planning content keys,
reading and validating upstream records from Parquet, validating outputs against the
contract, writing atomic parts and the ledger. Target: < 2 ms per case.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

import yaml
from rich.console import Console

from pipelines.config import load_config
from pipelines.runner import Runner
from pipelines.stage import Stage
from schemas.arrow import from_arrow_row
from schemas.case import Case


class NoopStage(Stage):
    """Returns its input unchanged: all the time it takes inside the runner is overhead."""

    name: ClassVar[str] = "noop"
    output_model = Case

    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[Case]:
        return inputs["cases"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "p.yaml"
        cfg.write_text(
            yaml.safe_dump(
                {
                    "name": "overhead",
                    "run": {"workers": args.workers, "flush_every": 500},
                    "stages": [
                        {"name": "cases", "uses": "synthetic_cases", "params": {"n_cases": args.cases}},
                        {"name": "noop", "uses": "__main__:NoopStage"},
                    ],
                }
            )
        )
        runner = Runner(load_config(cfg), Path(tmp) / "run", show_progress=False, console=Console(quiet=True))
        statuses = {s.stage: s for s in runner.run()}
        assert statuses["noop"].done == args.cases, statuses
        runner_s = statuses["noop"].seconds

        records = [from_arrow_row(Case, r) for r in runner.read_current("cases").to_pylist()]
        stage = NoopStage(NoopStage.Params(), None)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        for rec in records:
            stage.process(rec.case_id, {"cases": [rec]})
        bare_s = time.perf_counter() - t0

    n = args.cases
    overhead_ms = (runner_s - bare_s) / n * 1000
    print(f"cases: {n}, workers: {args.workers}")
    print(f"bare loop:        {bare_s:.4f} s  ({bare_s / n * 1e6:.2f} us/case)")
    print(f"runner (no-op):   {runner_s:.4f} s  ({runner_s / n * 1e3:.3f} ms/case)")
    print(f"ratio runner/bare: {runner_s / bare_s:.1f}x")
    print(f"runner overhead:  {overhead_ms:.3f} ms/case (target < 2 ms): {'PASS' if overhead_ms < 2 else 'FAIL'}")


if __name__ == "__main__":
    main()
