"""`pathkg diff` at corpus scale: seconds and peak memory for ~2K versus ~20K samples.

Runs the demo pipeline once on the real TCGA-BRCA reports and slides, then replicates that run's parts
into two large runs A and B whose content keys chain exactly as the runner's would (each replica is a
distinct case; run B is A regenerated with another chain-writing prompt, so every sample changed and
every case's lineage is walked: the diff's worst case). Each diff runs in a fresh process; the ratio of
peak RSS at 20K to 2K shows whether the diff streams (it keeps digests, never the samples).

    python benchmarks/run_diff.py [--replicas-small 26 --replicas-large 256]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.content_key import content_key  # noqa: E402
from pipelines.store import CASE_COL, KEY_COL, LEDGER_KEY  # noqa: E402
from tests.diff.demo_runs import demo_config, run_config  # noqa: E402

RUN_CASE = "__run__"


def _write_part(path: Path, tables: list[pa.Table], ledger: list) -> None:
    merged = pa.concat_tables(tables)
    pq.write_table(merged.replace_schema_metadata({LEDGER_KEY: json.dumps(ledger).encode()}), path)


def _replicate(base: Path, out: Path, replicas: int, new_prompt: bool) -> int:
    """Copy `base` with every case repeated `replicas` times under new ids; keys recomputed in stage order."""
    manifest = json.loads((base / "manifest.json").read_text())
    inv = manifest["invocations"][-1]
    lineage = inv["lineage"]
    if new_prompt:
        params = json.loads(lineage["generate"]["params"])
        params["prompt"] = "chain_writing@v1" if params.get("prompt") != "chain_writing@v1" else "chain_writing@v2"
        lineage["generate"]["params"] = json.dumps(params, sort_keys=True, separators=(",", ":"))
    config = {s["name"]: s for s in yaml.safe_load(manifest["config"]["text"])["stages"]}
    stages = [s for s in config if (base / "stages" / s).is_dir()]  # pipeline order
    new_keys: dict[tuple[str, str], str] = {}  # (stage, replica case id) -> key
    samples = 0
    for stage in stages:
        after = config[stage].get("after")
        order = list(config)
        after = list(after) if after is not None else ([order[order.index(stage) - 1]] if order.index(stage) else [])
        rec = lineage[stage]
        target = out / "stages" / stage
        target.mkdir(parents=True)
        for part in sorted((base / "stages" / stage).glob("part-*.parquet")):
            table = pq.read_table(part)
            ledger = json.loads(table.schema.metadata[LEDGER_KEY])
            if rec["scope"] == "run":
                pq.write_table(table, target / part.name)
                for case_id, key, _ in ledger:
                    new_keys[(stage, case_id)] = key
                continue
            tables, new_ledger = [], []
            per_part = max(1, 100 // max(1, len(ledger)))  # ~100 cases per part, as `flush_every: 100` writes
            for i in range(replicas):
                mapping = {}
                for case_id, key, n in ledger:
                    cid = f"{case_id}~{i}"
                    if not after:
                        new = content_key(stage, rec["code_version"], rec["params"], [key, i])
                    else:
                        ups = [(u, new_keys.get((u, cid)) or new_keys[(u, RUN_CASE)]) for u in after]
                        new = content_key(stage, rec["code_version"], rec["params"], ups)
                    new_keys[(stage, cid)] = new
                    mapping[key] = (cid, new)
                    new_ledger.append([cid, new, n])
                rows = table.to_pylist()
                for row in rows:
                    row[CASE_COL], row[KEY_COL] = mapping[row[KEY_COL]]
                    if "case_id" in row:
                        row["case_id"] = row[CASE_COL]
                    if new_prompt and stage == "generate":
                        row["response"] = row["response"].replace("<think>", "<think>Step by step: ")
                    if new_prompt and "sample_id" in row:
                        row["response"] = row["response"].replace("<think>", "<think>Step by step: ")
                        row["provenance"]["prompt_version"] = "chain_writing@v9"
                    if "sample_id" in row:
                        row["sample_id"] = f"{row['sample_id']}~{i}"
                        samples += 1
                tables.append(pa.Table.from_pylist(rows, schema=table.schema))
                if (i + 1) % per_part == 0 or i == replicas - 1:
                    _write_part(target / f"{part.stem}-{i:04d}.parquet", tables, new_ledger)
                    tables, new_ledger = [], []
    inv["finished"] = inv.get("finished") or "done"
    (out / "manifest.json").write_text(json.dumps(manifest))
    return samples


def _diff_in_child(a: Path, b: Path) -> tuple[float, float, dict]:
    code = (
        "import json,re,time;from pathkg.diff.run_diff import diff_runs;t=time.perf_counter();"
        f"d=diff_runs({str(a)!r},{str(b)!r});s=time.perf_counter()-t;"
        # VmHWM: this process's peak (ru_maxrss would carry the parent's peak across fork + exec).
        "hwm=int(re.search(r'VmHWM:\\s+(\\d+)',open('/proc/self/status').read()).group(1))/1024;"
        "print(json.dumps([s,hwm,d.counts.model_dump()]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    seconds, rss_mb, counts = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, rss_mb, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas-small", type=int, default=26)
    parser.add_argument("--replicas-large", type=int, default=256)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        base = run_config(demo_config(args.data.resolve()), root / "base")
        print(f"base demo run: {time.perf_counter() - t0:.1f}s")
        results = {}
        for label, replicas in (("small", args.replicas_small), ("large", args.replicas_large)):
            a, b = root / f"{label}-a", root / f"{label}-b"
            n = _replicate(base, a, replicas, new_prompt=False)
            _replicate(base, b, replicas, new_prompt=True)
            seconds, rss, counts = _diff_in_child(a, b)
            results[label] = (n, seconds, rss)
            print(f"{label}: {n} samples per run, diff {seconds:.1f}s ({n / seconds:,.0f} samples/s), "
                  f"peak RSS {rss:.0f} MB, counts {counts}")  # fmt: skip
        (n_s, _, rss_s), (n_l, sec_l, rss_l) = results["small"], results["large"]
        print(f"peak RSS {n_l} vs {n_s} samples: {rss_l / rss_s:.2f}x; {n_l} samples diffed in {sec_l:.1f}s")


if __name__ == "__main__":
    main()
