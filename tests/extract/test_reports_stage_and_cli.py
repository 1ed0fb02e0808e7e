"""The `reports` stage in a real pipeline run, and `pathkg extract reports` as the real CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pathkg.llm.loopback_server import LoopbackServer
from pipelines.registry import resolve_stage
from pipelines.stages.reports import ReportsStage
from tests.extract.cli_in_process import run_cli as cli
from tests.pipelines.runner_harness import run_inprocess, write_config

PLANTED = (
    "Patient: Ostrowski, Wilhelmina. MRN: 55310942. Received 02/14/2011. FINAL DIAGNOSIS: "
    "INFILTRATING LOBULAR CARCINOMA, NOTTINGHAM GRADE 2 (SCORE 6/9), 1.8 CM. pT1c pN0(sn) (0/2). FAULT=500:1."
)


def _manifest(tmp_path: Path, shared_data: Path) -> Path:
    src = shared_data / "reports" / "tcga_brca_sample" / "reports.csv"
    with open(src, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows.append({"patient_id": "LOCAL-0001", "cancer_type": "", "text": PLANTED})
    path = tmp_path / "reports.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["patient_id", "cancer_type", "text"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def _stage_rows(run_dir: Path) -> dict[str, dict]:
    tables = [pq.read_table(p) for p in sorted((run_dir / "stages" / "reports").glob("part-*.parquet"))]
    rows = pa.concat_tables(tables).to_pylist()
    return {r["case_id"]: r for r in rows}


def test_registered() -> None:
    assert resolve_stage("reports") is ReportsStage


def test_rules_stage_in_a_run(tmp_path: Path, shared_data: Path) -> None:
    manifest = _manifest(tmp_path, shared_data)
    config = write_config(
        tmp_path / "p.yaml",
        [
            {"name": "ingest", "params": {"sources": [{"path": str(manifest)}], "min_letter_fraction": 0.3}},
            {"name": "reports", "after": ["ingest"], "params": {"backend": "rules"}},
        ],
    )
    statuses = run_inprocess(config, tmp_path / "run")
    by_stage = {s.stage: s for s in statuses}
    assert by_stage["reports"].done == 11 and by_stage["reports"].failed == 0
    rows = _stage_rows(tmp_path / "run")
    assert rows["TCGA-BH-A0HA"]["pn"] == "pN0(i-)" and rows["TCGA-BH-A0HA"]["backend"] == "rules"
    local = rows["LOCAL-0001"]
    assert local["histologic_type"] == "invasive lobular carcinoma" and local["pn"] == "pN0(sn)"
    assert dict(local["phi_replacements"]) == {"DATE": 1, "MRN": 1, "NAME": 1}
    assert "Ostrowski" not in json.dumps(local, default=str)
    # A second run finds everything done and runs nothing.
    again = {s.stage: s for s in run_inprocess(config, tmp_path / "run")}
    assert again["reports"].ran == 0 and again["reports"].skipped == 11


def test_llm_stage_in_a_run_sends_only_scrubbed_text(tmp_path: Path, shared_data: Path) -> None:
    manifest = _manifest(tmp_path, shared_data)
    with LoopbackServer() as server:
        config = write_config(
            tmp_path / "p.yaml",
            [
                {"name": "ingest", "params": {"sources": [{"path": str(manifest)}], "min_letter_fraction": 0.3}},
                {
                    "name": "reports",
                    "after": ["ingest"],
                    "params": {
                        "backend": "llm",
                        "model": "loopback-model",
                        "base_url": server.base_url,
                        "timeout_s": 5,
                        "max_in_flight": 4,
                    },
                },
            ],
            concurrency=8,
        )
        statuses = {s.stage: s for s in run_inprocess(config, tmp_path / "run")}
        bodies = json.dumps([e.body for e in server.log])
    assert statuses["reports"].done == 11 and statuses["reports"].failed == 0
    assert "Ostrowski" not in bodies and "55310942" not in bodies and "[NAME]" in bodies
    rows = _stage_rows(tmp_path / "run")
    assert rows["LOCAL-0001"]["histologic_type"] == "invasive lobular carcinoma"  # the server's answer
    assert rows["LOCAL-0001"]["prompt_version"] == "report_extraction@v1"
    assert all(r["backend"] == "llm" and r["prompt_tokens"] > 0 for r in rows.values())
    assert (tmp_path / "run" / "work" / "reports" / "llm_cache").is_dir()


def test_cli_extract_reports_rules(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "out.jsonl"
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"case_id": "X-1", "text": PLANTED}) + "\n" + json.dumps({"case_id": "X-2", "text": ""}) + "\n",
        encoding="utf-8",
    )
    proc = cli("extract", "reports", str(src), "--out", str(out), "--quiet")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["case_id"] for line in lines] == ["X-1"]
    row = lines[0]
    for key in ("case_id", "diagnosis", "histologic_type", "grade", "pt", "pn", "pm", "findings", "phi_replacements"):
        assert key in row
    assert row["pt"] == "pT1c" and row["grade"]["value"] == "2" and row["phi_replacements"]["NAME"] == 1
    failures = [json.loads(line) for line in (tmp_path / "out.failures.jsonl").read_text().splitlines()]
    assert failures == [{"case_id": "X-2", "error_type": "InputError", "message": failures[0]["message"]}]
    assert "X-2" in failures[0]["message"]
    assert '"extracted": 1' in proc.stdout


def test_cli_extract_reports_llm_parquet(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(
        pa.table({"patient_id": ["P-1", "P-2"], "text": [PLANTED, PLANTED.replace("LOBULAR", "DUCTAL")]}), src
    )
    out = tmp_path / "out.jsonl"
    with LoopbackServer() as server:
        cli("extract", "reports", str(src), "--out", str(out), "--backend", "llm", "--model", "loopback-model",
            "--base-url", server.base_url, "--quiet")  # fmt: skip
        asked = len(server.log)
    lines = {json.loads(line)["case_id"]: json.loads(line) for line in out.read_text().splitlines()}
    assert lines["P-1"]["histologic_type"] == "invasive lobular carcinoma"
    assert lines["P-2"]["histologic_type"] == "invasive ductal carcinoma"
    assert asked == 4  # each: one injected 500, then the answer
    assert (tmp_path / "out.jsonl.cache").is_dir()


def test_cli_llm_needs_a_model(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("case_id,text\nA,some report text here\n", encoding="utf-8")
    proc = cli("extract", "reports", str(src), "--out", str(tmp_path / "o.jsonl"), "--backend", "llm", check=False)
    assert proc.returncode == 2 and "--model" in proc.stderr


def test_llm_failures_are_recorded_and_a_retry_resumes_from_the_cache(tmp_path: Path) -> None:
    manifest = tmp_path / "cases.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["case_id", "text"])
        writer.writerow(["OK-1", "FINAL DIAGNOSIS: invasive ductal carcinoma, grade 2. CASEMARK=OK-1."])
        writer.writerow(["DOWN-1", "FINAL DIAGNOSIS: invasive lobular carcinoma. FAULT=500:always. CASEMARK=DOWN-1."])
    stages = [
        {"name": "ingest", "params": {"sources": [{"path": str(manifest)}]}},
        {"name": "reports", "after": ["ingest"], "params": {"backend": "llm", "model": "loopback-model",
                                                           "timeout_s": 5, "max_attempts": 2}},
    ]  # fmt: skip
    with LoopbackServer() as faulty:
        stages[1]["params"]["base_url"] = faulty.base_url
        config = write_config(tmp_path / "p.yaml", stages)
        first = {s.stage: s for s in run_inprocess(config, tmp_path / "run")}
        port = faulty.port
    assert first["reports"].done == 1 and first["reports"].failed == 1
    assert first["reports"].failure_types == {"LLMRequestError": 1}

    # `retry` reruns the failed case with the recorded config, against a healthy server on the same port;
    # the case that succeeded is not asked again.
    with LoopbackServer(port=port, faults=False) as healthy:
        again = {s.stage: s for s in run_inprocess(config, tmp_path / "run", retry=True)}
        asked = [e.body["messages"][1]["content"] for e in healthy.log]
    assert again["reports"].failed == 0 and again["reports"].done == 2
    assert len(asked) == 1 and "CASEMARK=DOWN-1" in asked[0]
    rows = _stage_rows(tmp_path / "run")
    assert rows["DOWN-1"]["diagnosis"] == "loopback answer for DOWN-1"


def test_cli_rules_in_worker_processes_match_inline(tmp_path: Path, shared_data: Path) -> None:
    src = shared_data / "reports" / "tcga_brca_sample" / "reports.csv"
    cli("extract", "reports", str(src), "--out", str(tmp_path / "inline.jsonl"), "--quiet")
    cli("extract", "reports", str(src), "--out", str(tmp_path / "pool.jsonl"), "--cpu-workers", "2", "--quiet")
    inline = (tmp_path / "inline.jsonl").read_text().splitlines()
    assert len(inline) == 10 and (tmp_path / "pool.jsonl").read_text().splitlines() == inline


def test_llm_stage_spreads_over_the_endpoints_of_a_config_list_and_file(tmp_path: Path, shared_data: Path) -> None:
    manifest = _manifest(tmp_path, shared_data)

    def server() -> LoopbackServer:
        return LoopbackServer(latency_s=0.05, faults=False)

    with server() as a, server() as b, server() as c:
        (tmp_path / "more-endpoints.txt").write_text(f"# the third GPU\n{c.base_url}\n", encoding="utf-8")
        config = write_config(
            tmp_path / "p.yaml",
            [
                {"name": "ingest", "params": {"sources": [{"path": str(manifest)}], "min_letter_fraction": 0.3}},
                {
                    "name": "reports",
                    "after": ["ingest"],
                    "params": {
                        "backend": "llm",
                        "model": "loopback-model",
                        "base_url": [a.base_url, b.base_url],
                        "base_urls_file": "more-endpoints.txt",  # relative to the config file
                        "max_in_flight": 2,
                    },
                },
            ],
            concurrency=8,
        )
        statuses = {s.stage: s for s in run_inprocess(config, tmp_path / "run")}
        asked = [len(s.log) for s in (a, b, c)]
    assert statuses["reports"].done == 11 and statuses["reports"].failed == 0
    assert all(n >= 2 for n in asked) and sum(asked) == 11


def test_cli_extract_reports_with_repeated_base_urls(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"case_id": f"E-{i}", "text": f"CASEMARK=E-{i}. {PLANTED}"}) + "\n"
                           for i in range(8)), encoding="utf-8")  # fmt: skip
    out = tmp_path / "out.jsonl"
    with LoopbackServer(latency_s=0.05, faults=False) as a, LoopbackServer(latency_s=0.05, faults=False) as b:
        proc = cli("extract", "reports", str(src), "--out", str(out), "--backend", "llm", "--model", "loopback-model",
                   "--base-url", a.base_url, "--base-url", b.base_url, "--max-in-flight", "2", "--quiet")  # fmt: skip
        asked = [len(a.log), len(b.log)]
    assert len(out.read_text().splitlines()) == 8 and min(asked) >= 3 and sum(asked) == 8
    assert '"endpoints"' in proc.stdout
