"""The ingest stage on real TCGA reports and on every kind of bad input we have met."""

from __future__ import annotations

import json
import shutil

import pytest

from pathkg.tcga.barcode import MalformedBarcodeError, parse_barcode
from tests.pipelines.runner_harness import cli, current_rows, run_inprocess, write_config


def test_barcodes():
    b = parse_barcode("TCGA-CR-7395-01A-01-TS1")
    assert (b.patient, b.sample, b.is_tumor_sample, b.well_formed) == ("TCGA-CR-7395", "01A", True, True)
    assert parse_barcode("tcga-cr-7395-01a-01-ts1.svs").text == "TCGA-CR-7395-01A-01-TS1"
    dx = parse_barcode("TCGA-LUSC/TCGA-21-1083-01Z-00-DX1.8288ca92-b611-4acf-986e-0b8a3f620b94.pt")
    assert (dx.text, dx.patient, dx.well_formed) == ("TCGA-21-1083-01Z-00-DX1", "TCGA-21-1083", True)
    # A real WSI-Bench name with 'DXI' for 'DX1': the patient part is still readable.
    odd = parse_barcode("TCGA-4X-A9F9-01Z-00-DXI.A15A8A41.pt")
    assert (odd.patient, odd.well_formed) == ("TCGA-4X-A9F9", False)
    assert parse_barcode("TCGA-A2-A0YM").sample is None
    for bad in ("TCGA-A2", "TCGA-A2-A0Y", "TCGA-A2-A0YMX", "TCGA_A2_A0YM", "TCGA-A!-A0YM"):
        with pytest.raises(MalformedBarcodeError):
            parse_barcode(bad)


def test_ingests_every_real_case(tmp_path, shared_data):
    cfg = write_config(
        tmp_path / "p.yaml",
        [
            {
                "name": "ingest",
                "params": {
                    "projects_csv": str(shared_data / "tcga/tcga_patient_to_cancer_type.csv"),
                    "sources": [
                        {"path": str(shared_data / "reports/tcga_brca_sample/reports.csv")},
                        {
                            "path": str(shared_data / "benchmarks/wsi_bench/WSI-Bench-Report-only-dev.jsonl"),
                            "columns": {"case_id": "image", "report_text": "T-answer"},
                            "id_level": "patient",
                        },
                    ],
                },
            }
        ],
    )
    (status,) = run_inprocess(cfg, tmp_path / "run")
    assert (status.total, status.done, status.failed) == (103, 103, 0)
    rows = {r["case_id"]: r for r in current_rows(tmp_path / "run", "ingest")}
    a0ym = rows["TCGA-A2-A0YM"]
    assert a0ym["project"] == "TCGA-BRCA" and a0ym["patient_id"] == "TCGA-A2-A0YM"
    assert a0ym["report_text"].startswith("SURGICAL REPORT. Sex: F.")
    assert a0ym["source"] == "reports.csv:2"
    lusc = rows["TCGA-21-1083"]
    assert lusc["project"] == "TCGA-LUSC"  # joined from the shared patient -> project table
    assert "squamous cell carcinoma" in lusc["report_text"]
    assert dict(lusc["labels"])["metadata"] == "Report"
    assert rows["TCGA-4X-A9F9"]["flags"] == ["malformed_barcode_suffix"]
    assert sum(r["project"] == "TCGA-BRCA" for r in rows.values()) == 10 + 7


def test_folder_of_tcga_named_files(tmp_path, shared_data):
    folder = tmp_path / "cases"
    folder.mkdir()
    for name in ("TCGA-A2-A0YM.txt", "TCGA-E9-A1NH.txt"):
        shutil.copy(shared_data / "reports/tcga_brca_sample" / name, folder / name)
    (folder / "tcga-cr-7395-01a-01-ts1.svs").symlink_to(shared_data / "slides/tcga-cr-7395-01a-01-ts1.svs")
    (folder / "TCGA-A2-A0YM-01A-01-TS1.svs").symlink_to(shared_data / "slides/cmu-1-small-region.svs")
    (folder / "notes.txt").write_text("not a case")
    cfg = write_config(tmp_path / "p.yaml", [{"name": "ingest", "params": {"sources": [{"folder": str(folder)}]}}])
    (status,) = run_inprocess(cfg, tmp_path / "run")
    assert (status.done, status.failed, status.failure_types) == (2, 1, {"MissingReportError": 1})
    rows = {r["case_id"]: r for r in current_rows(tmp_path / "run", "ingest")}
    assert [p.rsplit("/", 1)[1] for p in rows["TCGA-A2-A0YM"]["slide_paths"]] == ["TCGA-A2-A0YM-01A-01-TS1.svs"]


def test_bad_inputs_each_get_their_own_clear_error_and_good_cases_finish(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    good = "Invasive ductal carcinoma of the left breast, Nottingham grade 2, margins negative."
    (d / "good.txt").write_text(good)
    (d / "latin1.txt").write_bytes(
        ("Carcinome canalaire infiltrant, grade 2, r\xe9section compl\xe8te. " * 2).encode("latin-1")
    )
    (d / "empty.txt").write_text("")
    (d / "blank.txt").write_text("   \n\t  \n")
    (d / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (d / "slide.svs").write_bytes(b"not really a slide")
    csv_rows = [
        "case_id,patient_id,project,slide_paths,report_path,report_text",
        "TCGA-A2-A0YM,,BRCA,slide.svs,good.txt,",  # good
        "TCGA-A2-A1G4,,,,latin1.txt,",  # good, flagged non-UTF-8
        "TCGA-AC-A2BK,,,,missing.txt,",  # missing report file
        "TCGA-A7-A26J,,,,empty.txt,",  # empty report
        "TCGA-A8-A07Z,,,,blank.txt,",  # whitespace only
        "TCGA-A8-A08B,,,,binary.txt,",  # garbled
        "TCGA-B6-A401,,,,,",  # no report at all
        "TCGA-BH-A0HA,,,gone.svs,good.txt,",  # missing slide file
        "TCGA-BH-A18T,,TCGA-LUAD,,good.txt,",  # project disagrees with the TCGA table
        "TCGA-E9-A1NH,TCGA-E9-ZZZZ,,,good.txt,",  # patient id disagrees with the barcode
        "TCGA-E9-A1N,,,,good.txt,",  # malformed barcode
        ",,,,good.txt,",  # no case id
        "TCGA-A2-A0YM,,,,good.txt,",  # duplicate of row 2
        "TCGA-OL-A66H,,,,good.txt",  # wrong column count
        f'LOCAL-0001,PAT-1,,,,"{good}"',  # good, not a TCGA id
    ]
    (d / "manifest.csv").write_text("\n".join(csv_rows) + "\n")
    (d / "more.jsonl").write_text(
        json.dumps({"case_id": "TCGA-OR-A5J1", "report_text": good})
        + "\n"
        + '{"case_id": "TCGA-OR-A5J2", "report_text": \n'
    )
    (d / "projects.csv").write_text("patient_id,cancer_type\nTCGA-BH-A18T,BRCA\nTCGA-A2-A0YM,BRCA\nTCGA-OR-A5J1,ACC\n")
    cfg = write_config(
        tmp_path / "p.yaml",
        [
            {
                "name": "ingest",
                "params": {
                    "projects_csv": str(d / "projects.csv"),
                    "sources": [{"path": str(d / "manifest.csv")}, {"path": str(d / "more.jsonl")}],
                },
            }
        ],
    )
    (status,) = run_inprocess(cfg, tmp_path / "run")
    rows = {r["case_id"]: r for r in current_rows(tmp_path / "run", "ingest")}
    assert set(rows) == {"TCGA-A2-A1G4", "LOCAL-0001", "TCGA-OR-A5J1"}
    assert rows["TCGA-A2-A1G4"]["flags"] == ["non_utf8_report"] and "\ufffd" in rows["TCGA-A2-A1G4"]["report_text"]
    assert rows["TCGA-OR-A5J1"]["project"] == "TCGA-ACC"
    assert rows["LOCAL-0001"]["patient_id"] == "PAT-1"

    report = json.loads(cli("status", str(tmp_path / "run"), "--json", "--failures").stdout)
    errors = {(f["case_id"], f["error_type"]): f["message"] for f in report["failures"]}
    expected = {
        ("TCGA-AC-A2BK", "MissingFileError"): "missing.txt does not exist",
        ("TCGA-A7-A26J", "EmptyReportError"): "report is empty",
        ("TCGA-A8-A07Z", "EmptyReportError"): "report is empty",
        ("TCGA-A8-A08B", "GarbledReportError"): "looks garbled",
        ("TCGA-B6-A401", "MissingReportError"): "neither report_text nor report_path",
        ("TCGA-BH-A0HA", "MissingFileError"): "slide file",
        ("TCGA-BH-A18T", "ProjectMismatchError"): "manifest says project TCGA-LUAD, projects.csv says TCGA-BRCA",
        ("TCGA-E9-A1NH", "MalformedRowError"): "does not match the case barcode",
        ("TCGA-E9-A1N", "MalformedBarcodeError"): "malformed TCGA barcode 'TCGA-E9-A1N'",
        ("manifest.csv:13", "MissingCaseIdError"): "no case id",
        ("TCGA-A2-A0YM", "DuplicateCaseIdError"): "manifest.csv:2, manifest.csv:14",
        ("manifest.csv:15", "MalformedRowError"): "row has 5 columns, the header has 6",
        ("more.jsonl:2", "MalformedRowError"): "line is not valid JSON",
    }
    for (case_id, etype), fragment in expected.items():
        assert (case_id, etype) in errors, f"no {etype} for {case_id}; got {sorted(errors)}"
        assert fragment in errors[(case_id, etype)]
    # Each message names where the case came from.
    assert "manifest.csv:4" in errors[("TCGA-AC-A2BK", "MissingFileError")]
    assert len(errors) == len(expected)
    assert len(report["failures"]) == len(expected) + 1  # the duplicate is reported for both of its rows
    assert status.done == 3 and status.failed == 14


def test_missing_manifest_is_a_clear_stage_error(tmp_path):
    cfg = write_config(tmp_path / "p.yaml", [{"name": "ingest", "params": {"sources": [{"path": "nowhere.csv"}]}}])
    proc = cli("run", str(cfg), "--run-dir", str(tmp_path / "run"), check=False)
    assert proc.returncode != 0
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "stage ingest: ManifestError: manifest" in proc.stderr
    assert "nowhere.csv does not exist" in " ".join(proc.stderr.split())
