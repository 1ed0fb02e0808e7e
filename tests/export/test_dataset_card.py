"""The dataset card of a demo export records how to regenerate the corpus exactly, with the run's real values.

A demo-like run on the real reports and slides, with the LLM chain writer served by the loopback
OpenAI-compatible server (so that a model name and a prompt version are recorded), and the config
reading the data folder through `${PATHKG_DATA}` (so that the environment matters).
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json

import pyarrow.parquet as pq
import pytest
import yaml
from rich.console import Console

from pathkg.corpus.llm_writer import PROMPT
from pathkg.export.dataset_card import REDACTED, read_regeneration, redact_endpoints
from pathkg.export.export_validation import validate_export
from pathkg.llm.loopback_server import LoopbackServer
from pipelines.config import load_config
from pipelines.run_manifest import git_revision
from pipelines.runner import Runner
from tests.diff.demo_runs import demo_config, stage_of


def _chain_reply(body: dict) -> str:
    answer = body["messages"][1]["content"].split("Reference answer: ", 1)[1].splitlines()[0]
    return f"<observe>The findings.</observe>\n<think>They support {answer}.</think>\n<answer>{answer}</answer>"


@pytest.fixture(scope="module")
def card_run(tmp_path_factory, shared_data):
    tmp = tmp_path_factory.mktemp("card")
    with LoopbackServer(reply=_chain_reply) as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATHKG_DATA", str(shared_data))
        config = demo_config(shared_data)
        stage_of(config, "generate")["params"].update(writer="llm", base_url=server.base_url, model="loopback-model")
        text = yaml.safe_dump(config, sort_keys=False).replace(str(shared_data), "${PATHKG_DATA}")
        path = tmp / "pipeline.yaml"
        path.write_text(text, encoding="utf-8")
        runner = Runner(  # as `pathkg run CONFIG --run-dir DIR --workers 1` runs it
            load_config(path), tmp / "run", workers=1, show_progress=False, console=Console(quiet=True),
            config_path=str(path),
        )  # fmt: skip
        statuses = runner.run(command=f"run {path}")
        assert all(s.failed == 0 for s in statuses), [(s.stage, s.failure_types) for s in statuses]
        return tmp / "run", path, text, server.base_url


def test_the_card_records_how_to_regenerate_with_the_runs_real_values(card_run, shared_data):
    run_dir, config_path, config_text, base_url = card_run
    export = run_dir / "export"
    assert validate_export(export) == []  # the card is covered by the export's checksums
    card = (export / "README.md").read_text(encoding="utf-8")
    info, stored_config = read_regeneration(card)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    invocation = manifest["invocations"][-1]

    # The config: its exact text is in the card (the endpoint redacted), with its sha256 and path.
    assert config_text == manifest["config"]["text"] and f"base_url: {base_url}" in config_text
    assert stored_config == config_text.replace(base_url, REDACTED).rstrip("\n")
    assert info["config"]["sha256"] == hashlib.sha256(config_text.encode()).hexdigest()
    assert info["config"]["path"] == str(config_path) and "README.md" in info["config"]["stored_in"]
    assert info["environment"] == {"PATHKG_DATA": str(shared_data)}
    # The exact command (the config and run directory are outside the repository: absolute paths).
    assert info["command"] == f"pathkg run {config_path} --run-dir {run_dir} --workers 1"
    # Code and packages, as the run recorded them, which are the versions installed now.
    assert info["git_revision"] == invocation["git_revision"] == git_revision()
    assert info["packages"] == invocation["packages"]
    assert info["packages"]["pyarrow"] == md.version("pyarrow") and info["packages"]["pathkg"] == md.version("pathkg")
    # KG version: the one the kg stage built.
    kg_part = sorted((run_dir / "stages" / "kg").glob("part-*.parquet"))[-1]
    assert info["kg_versions"] == [pq.read_table(kg_part)["version"][0].as_py()]
    # Prompt versions and model (the name only: no endpoint), and the seeds.
    assert info["prompt_versions"] == [PROMPT] and info["prompts"] == {"generate": PROMPT}  # the default prompt
    assert info["models"] == {"generate": "loopback-model"} and info["generators"] == ["llm:loopback-model"]
    assert base_url not in card and "127.0.0.1" not in card
    assert info["seeds"] == {"slides": 0, "questions": 0}
    assert info["run_id"] == manifest["run_id"]


def test_endpoints_are_redacted_and_everything_else_is_kept_byte_for_byte():
    text = (
        "stages:  # the demo\n"
        "  - name: generate\n"
        "    params: {writer: llm, base_url: http://10.0.0.7:8000/v1, model: qwen-7b}\n"
        "  - name: reports\n"
        "    params:\n"
        "      base_url: http://gpu-17:8000/v1   # staging\n"
        "      model: qwen-7b\n"
        "      base_urls_file:\n"
        "        - http://a:1/v1\n"
        "        - http://b:1/v1\n"
        "      prompt: report_extraction@v1\n"
        "  - name: kg\n"
        "    params: {backend: neo4j, neo4j_uri: bolt://db:7687, seed: ../seed}\n"
    )
    redacted = redact_endpoints(text)
    for host in ("10.0.0.7", "gpu-17", "http://a", "http://b", "bolt://db"):
        assert host not in redacted
    assert redacted.count(REDACTED) == 5
    kept = [line for line in text.splitlines() if "http" not in line and "bolt" not in line]
    assert kept == [line for line in redacted.splitlines() if REDACTED not in line]
    assert "model: qwen-7b}" in redacted and "# staging" in redacted and "seed: ../seed}" in redacted
