"""`pathkg diff` on real demo runs: each kind of change is attributed to its root cause and nothing else.

One module fixture runs the demo pipeline (real TCGA-BRCA reports and the two real slides) and derives
the variants a data engineer meets: the same config again (fresh run), a new KG, a changed stage
parameter, two LLM runs that differ only in the chain-writing prompt version (served by the loopback
OpenAI-compatible server), changed and added input data, and a killed run. Variants are copies of the
first run rerun with the new config, so only the stages the change touches run again.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pathkg.corpus.llm_writer import PROMPT
from pathkg.diff.run_diff import diff_runs
from pathkg.llm.loopback_server import LoopbackServer
from schemas.run_diff import RunDiff
from tests.diff.demo_runs import demo_config, rerun_copy, run_config, stage_of
from tests.pipelines.runner_harness import cli

EDITED_CASE = "TCGA-A2-A1G4"  # its report gains a sentence in the input-data variant


def _chain_reply(body: dict) -> str:
    """A chain written from the prompt received: like a model's, its wording follows the prompt's layout."""
    user = body["messages"][1]["content"]
    answer = re.search(r"Reference answer: (.*)", user).group(1)
    findings = re.search(r"Findings \(from the report\):\n((?:- .*\n?)+)", user)
    observed = " ".join(line[2:] for line in (findings.group(1) if findings else "- none").splitlines())
    sections = sorted(("question", "findings", "paths"), key=lambda s: user.find({"question": "Question:",
                      "findings": "Findings (", "paths": "Knowledge-graph paths"}[s]))  # fmt: skip
    think = f"Reading the {', the '.join(sections)}: the findings support {answer}."
    return f"<observe>{observed}</observe>\n<think>{think}</think>\n<answer>{answer}</answer>"


def _write_reports(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, shared_data, repo_root) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("rundiff")
    with (shared_data / "reports/tcga_brca_sample/reports.csv").open(encoding="utf-8") as fh:
        real_rows = list(csv.DictReader(fh))
    reports = tmp / "data" / "reports.csv"
    reports.parent.mkdir()
    _write_reports(reports, real_rows[:-1])  # the last real report joins in the input-data variant

    def config(edit=None):
        def with_reports(cfg):
            stage_of(cfg, "ingest")["params"]["sources"][0] = {"path": str(reports)}
            if edit is not None:
                edit(cfg)

        return demo_config(shared_data, with_reports)

    out: dict[str, Path] = {}
    out["a"] = run_config(config(), tmp / "a")
    out["same"] = run_config(config(), tmp / "same")

    seed = tmp / "seed"
    shutil.copytree(repo_root / "kg_dumps/pathology_seed", seed)
    systems = seed / "staging_systems.csv"
    text = systems.read_text(encoding="utf-8")
    assert ",ONCOTREE:BREAST,ONCOTREE:BRCA" in text
    systems.write_text(text.replace(",ONCOTREE:BREAST,ONCOTREE:BRCA", ",,ONCOTREE:BRCA"), encoding="utf-8")
    new_seed = config(lambda c: stage_of(c, "kg")["params"].update(seed=str(seed)))
    out["kg"] = rerun_copy(out["a"], new_seed, tmp / "kg", fresh_kg_store=True)

    out["param"] = rerun_copy(
        out["a"], config(lambda c: stage_of(c, "generate")["params"].update(max_paths=1)), tmp / "param"
    )

    # The two shipped versions of the chain-writing prompt (v2 puts the static part first for prefix caching).
    with LoopbackServer(reply=_chain_reply) as server:

        def llm(prompt: str):
            params = {"writer": "llm", "base_url": server.base_url, "model": "loopback-model", "prompt": prompt}
            return config(lambda c: stage_of(c, "generate")["params"].update(params))

        out["prompt_v1"] = rerun_copy(out["a"], llm("chain_writing@v1"), tmp / "prompt_v1")
        out["prompt_v2"] = rerun_copy(out["a"], llm("chain_writing@v2"), tmp / "prompt_v2")

    # The LLM writer, whose server cannot write a chain for one case: that case fails at generate.
    failing = pq.read_table(sorted((out["a"] / "stages" / "reports").glob("part-*.parquet"))[0]).to_pylist()
    failing = next(r for r in failing if r["case_id"] == EDITED_CASE)["findings"][0]

    def reply_or_fail(body: dict) -> str:
        return "no chain here" if f"- {failing}" in body["messages"][1]["content"] else _chain_reply(body)

    with LoopbackServer(reply=reply_or_fail) as server:
        params = {"writer": "llm", "base_url": server.base_url, "model": "loopback-model"}
        llm_fail = config(lambda c: stage_of(c, "generate")["params"].update(params))
        out["llm_fail"] = rerun_copy(out["a"], llm_fail, tmp / "llm_fail", allow_failures=True)

    # Input data: one report gains a sentence, the last real report is added (same config, same file).
    rows = [dict(r) for r in real_rows]
    edited = next(r for r in rows if r["patient_id"] == EDITED_CASE)
    edited["text"] += " LYMPHOVASCULAR INVASION: PRESENT."
    _write_reports(reports, rows)
    out["data"] = rerun_copy(out["a"], config(), tmp / "data")

    # A killed run: the last verify part never committed, the invocation never finished.
    killed = tmp / "killed" / "run"
    shutil.copytree(out["a"], killed)
    last_part = sorted((killed / "stages" / "verify").glob("part-*.parquet"))[-1]
    out["killed_cases"] = {c for c in pq.read_table(last_part, columns=["_case_id"])["_case_id"].to_pylist()}
    last_part.unlink()
    manifest = json.loads((killed / "manifest.json").read_text())
    manifest["invocations"][-1]["finished"] = None
    (killed / "manifest.json").write_text(json.dumps(manifest))
    out["killed"] = killed
    return out


def kg_version(run_dir: Path) -> str:
    [part] = sorted((run_dir / "stages" / "kg").glob("part-*.parquet"))[-1:]
    return pq.read_table(part)["version"][0].as_py()


def causes_of(diff: RunDiff) -> set[tuple]:
    return {(c.kind, c.stage, c.name, c.a, c.b) for s in diff.samples for c in s.causes}


def test_a_fresh_run_of_the_same_config_is_an_empty_diff(runs):
    diff = diff_runs(runs["a"], runs["same"])
    assert diff.a.run_id != diff.b.run_id and diff.a.samples == diff.b.samples > 30
    assert diff.counts.unchanged == diff.a.samples
    assert (diff.counts.changed, diff.counts.added, diff.counts.removed) == (0, 0, 0)
    assert diff.samples == [] and diff.by_cause == []
    assert diff.a.lineage_recorded and diff.b.lineage_recorded and diff.a.finished


def test_only_a_prompt_version_differs_and_every_changed_sample_is_attributed_to_it(runs):
    diff = diff_runs(runs["prompt_v1"], runs["prompt_v2"])
    assert diff.counts.changed == diff.a.samples > 30  # the prompt version is in every sample's provenance
    assert (diff.counts.added, diff.counts.removed, diff.counts.unchanged) == (0, 0, 0)
    for sample in diff.samples:
        assert [(c.kind, c.stage, c.name, c.a, c.b) for c in sample.causes] == [
            ("prompt_version", "generate", "chain_writing", "v1", "v2")
        ], sample
        assert "provenance.prompt_version" in sample.fields and "response" in sample.fields
        assert sample.sample_id_a != sample.sample_id_b  # the id hashes the response; the slot matched them
    [row] = diff.by_cause
    assert (row.kind, row.changed) == ("prompt_version", diff.counts.changed)


def test_a_new_kg_is_the_cause_not_the_stages_that_read_it(runs):
    diff = diff_runs(runs["a"], runs["kg"])
    assert diff.counts.changed > 0
    assert kg_version(runs["a"]) != kg_version(runs["kg"])
    for sample in diff.samples:
        assert [(c.kind, c.stage, c.a, c.b) for c in sample.causes] == [
            ("kg_version", "kg", kg_version(runs["a"]), kg_version(runs["kg"]))
        ], sample
        assert "seed" in sample.causes[0].detail  # why the KG changed: its seed parameter


def test_a_changed_parameter_is_named_with_both_values(runs):
    diff = diff_runs(runs["a"], runs["param"])
    assert diff.counts.changed > 0 and diff.counts.unchanged > 0  # cases with one path are untouched
    assert causes_of(diff) == {("config", "generate", "max_paths", "3", "1")}
    assert all(s.fields == ["response", "sample_id"] for s in diff.samples)


def test_changed_and_added_input_data(runs):
    diff = diff_runs(runs["a"], runs["data"])
    added_cases = {s.case_id for s in diff.samples if s.change == "added"}
    changed_cases = {s.case_id for s in diff.samples if s.change == "changed"}
    assert added_cases >= {"TCGA-E9-A1NH"} and changed_cases == {EDITED_CASE}
    assert added_cases <= {"TCGA-E9-A1NH", EDITED_CASE}
    assert causes_of(diff) == {("input_data", "ingest", None, None, None)}
    changed = [s for s in diff.samples if s.change == "changed"]
    assert all("provenance.report_sha256" in s.fields for s in changed)
    # The other way round, the new case's samples are removed, for the same reason.
    back = diff_runs(runs["data"], runs["a"])
    assert {s.case_id for s in back.samples if s.change == "removed"} >= {"TCGA-E9-A1NH"}
    assert causes_of(back) == {("input_data", "ingest", None, None, None)}


def test_a_killed_run_is_diffed_as_committed_and_says_so(runs):
    diff = diff_runs(runs["a"], runs["killed"])
    assert not diff.b.finished and any("not finished" in n for n in diff.b.notes)
    assert [(p.stage, p.pending > 0) for p in diff.b.incomplete_stages] == [("verify", True)]
    assert diff.counts.removed > 0 and diff.counts.changed == diff.counts.added == 0
    assert {s.case_id for s in diff.samples} <= runs["killed_cases"]
    assert causes_of(diff) == {("not_committed", "verify", None, None, None)}


def test_a_run_without_recorded_lineage_still_attributes_by_content(runs, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(runs["a"], old)
    manifest = json.loads((old / "manifest.json").read_text())
    for invocation in manifest["invocations"]:
        invocation.pop("lineage", None)
    (old / "manifest.json").write_text(json.dumps(manifest))
    diff = diff_runs(old, runs["param"])
    assert not diff.a.lineage_recorded and diff.a.notes
    assert causes_of(diff) == {("config", "generate", "max_paths", "3", "1")}


def test_cli_json_is_the_documented_schema_and_the_table_names_the_cause(runs, tmp_path):
    out = tmp_path / "diff.json"
    proc = cli("diff", str(runs["prompt_v1"]), str(runs["prompt_v2"]), "--json", "--out", str(out))
    printed = RunDiff.model_validate_json(proc.stdout)
    assert printed == RunDiff.model_validate_json(out.read_text())
    assert printed.counts.changed > 0
    table = cli("diff", str(runs["prompt_v1"]), str(runs["prompt_v2"]), "--limit", "3", "--exit-code", check=False)
    assert table.returncode == 1  # --exit-code: samples differ
    assert "prompt_version" in table.stdout and "chain_writing" in table.stdout
    assert cli("diff", str(runs["a"]), str(runs["same"]), "--exit-code").returncode == 0
    bad = cli("diff", str(runs["a"]), str(tmp_path), check=False)
    assert bad.returncode == 2 and "not a pathkg run directory" in " ".join(bad.stderr.split())


def _rewrite_parts(stage_dir: Path, edit) -> None:
    """Rewrite a stage's parts in place, keeping their ledgers (the keys stay the same)."""
    for part in sorted(stage_dir.glob("part-*.parquet")):
        table = pq.read_table(part)
        rows = [edit(row) for row in table.to_pylist()]
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), part)


def test_a_version_bump_the_content_keys_do_not_cover_is_still_found(runs, tmp_path):
    """The template writer's version lives outside the generate stage's module, so bumping it changes
    no content key: the second pass digests every stage and finds the version the records carry."""
    bumped = tmp_path / "bumped"
    shutil.copytree(runs["a"], bumped)

    def chain(row):
        row["prompt_version"] = "template-v2"
        return row

    def sample(row):
        row["provenance"]["prompt_version"] = "template-v2"
        return row

    _rewrite_parts(bumped / "stages" / "generate", chain)
    _rewrite_parts(bumped / "stages" / "verify", sample)
    diff = diff_runs(runs["a"], bumped)
    assert diff.counts.changed == diff.a.samples and diff.counts.added == diff.counts.removed == 0
    assert causes_of(diff) == {("prompt_version", "generate", "template", "v1", "v2")}


def test_a_case_that_fails_under_the_new_generator_is_removed_with_its_error(runs):
    diff = diff_runs(runs["a"], runs["llm_fail"])
    removed = [s for s in diff.samples if s.change == "removed"]
    assert removed and {s.case_id for s in removed} == {EDITED_CASE}
    for sample in removed:
        assert {(c.kind, c.stage, c.name, c.a, c.b) for c in sample.causes} == {
            ("generator", "generate", "model", None, "loopback-model"),
            ("generator", "generate", "writer", "template", "llm"),
            ("case_failed", "generate", "ChainWritingError", None, None),
        }, sample
    changed = [s for s in diff.samples if s.change == "changed"]
    assert changed and diff.counts.added == 0
    assert {(c.kind, c.stage, c.name, c.a, c.b) for s in changed for c in s.causes} == {
        ("generator", "generate", "generator_backend", "template", "llm"),
        ("generator", "generate", "generator_model", "(none)", "loopback-model"),
        ("prompt_version", "generate", "prompt_version", "template-v1", PROMPT),  # the LLM's prompt, not a template
    }
