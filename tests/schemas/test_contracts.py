"""The data contracts: committed JSON Schema files are current; Arrow round trips are exact."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from pydantic import ValidationError

from schemas import CONTRACTS, Case, Entity, KGPath, KGPathStep, Provenance, Sample, Verification
from schemas.arrow import arrow_schema, from_arrow_row, to_arrow_row
from schemas.json_schema import JSON_DIR, render
from schemas.verification import CheckResult


def test_committed_json_schemas_match_the_models():
    for name in CONTRACTS:
        path = JSON_DIR / f"{name}.schema.json"
        assert path.exists(), f"{path} is missing: run `pathkg schemas write`"
        assert path.read_text() == render(name), f"{path} is stale: run `pathkg schemas write`"
    case = json.loads((JSON_DIR / "case.schema.json").read_text())
    assert {"case_id", "patient_id", "report_text", "report_sha256", "source"} <= set(case["required"])


def sample() -> Sample:
    step = KGPathStep(
        source_id="PKG:keratin_pearls",
        relation="SUPPORTS",
        target_id="NCIT:C2929",
        source_name="keratin pearls",
        target_name="squamous cell carcinoma",
    )
    return Sample(
        sample_id="s1",
        case_id="TCGA-21-1083",
        patient_id="TCGA-21-1083",
        project="TCGA-LUSC",
        split="train",
        scale="wsi",
        question_type="diagnosis",
        question="What is the diagnosis?",
        findings=["Sheets of atypical squamous cells with keratin pearls."],
        diagnosis="Squamous cell carcinoma",
        response="<observe>o</observe>\n<think>t</think>\n<answer>a</answer>",
        answer="Squamous cell carcinoma",
        description_entities=[
            Entity(
                kg_id="PKG:keratin_pearls",
                name="keratin pearls",
                type="Finding",
                text="keratin pearls",
                start=40,
                end=54,
            )
        ],
        kg_paths=[KGPath(start_id="PKG:keratin_pearls", end_id="NCIT:C2929", steps=[step], kg_version="abc")],
        verification=Verification(status="pass", checks=[CheckResult(name="format", passed=True, score=1.0)]),
        provenance=Provenance(
            report_sha256="0" * 64,
            kg_version="abc",
            generator_backend="template",
            prompt_version="template-v1",
            run_id="r1",
            code_version="0.1.0",
        ),
    )


def test_every_contract_has_an_arrow_schema():
    for model in CONTRACTS.values():
        schema = arrow_schema(model)
        assert schema.names == list(model.model_fields)
    assert arrow_schema(Case).field("labels").type == pa.map_(pa.string(), pa.string())
    assert arrow_schema(Sample).field("kg_paths").type.value_type.field("steps").type.value_type.num_fields == 6


def test_nested_records_round_trip_through_arrow_exactly():
    original = sample()
    table = pa.Table.from_pylist([to_arrow_row(original)], schema=arrow_schema(Sample))
    (row,) = table.to_pylist()
    assert from_arrow_row(Sample, row) == original
    case = Case(
        case_id="TCGA-A2-A0YM",
        patient_id="TCGA-A2-A0YM",
        report_text="x" * 30,
        report_sha256="h",
        source="reports.csv:2",
        labels={"cancer_type": "BRCA"},
    )
    (crow,) = pa.Table.from_pylist([to_arrow_row(case)], schema=arrow_schema(Case)).to_pylist()
    assert from_arrow_row(Case, crow) == case


def test_validation_names_the_field():
    with pytest.raises(ValidationError, match="report_text"):
        Case(case_id="X", patient_id="X", report_text="", report_sha256="h", source="s")
    with pytest.raises(ValidationError, match="extra_field"):
        Case(case_id="X", patient_id="X", report_text="t", report_sha256="h", source="s", extra_field=1)
    from schemas import FailureRecord

    rec = FailureRecord(stage="s", case_id="c", key="k", error_type="E", message="m", time=datetime.now(UTC))
    assert arrow_schema(FailureRecord).field("time").type == pa.timestamp("us", tz="UTC")
    assert rec.attempt == 1
