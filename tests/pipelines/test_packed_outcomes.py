"""Workers send a chunk's rows back as one Arrow table; the runner's store writes tables and row dicts alike."""

from __future__ import annotations

import pickle

import pyarrow as pa

from pipelines.executors.base import Outcome, pack
from pipelines.store import CaseResult, StageStore
from schemas.arrow import arrow_schema, to_arrow_row
from schemas.case import Case


def _case(case_id: str, text: str) -> dict:
    return to_arrow_row(
        Case(case_id=case_id, patient_id=f"P-{case_id}", report_text=text, report_sha256="0" * 64, source="test.csv:1")
    )


def test_a_packed_chunk_round_trips_and_a_row_that_does_not_fit_fails_only_its_case():
    bad = {**_case("c3", "x"), "patient_id": ["not", "a", "string"]}
    outcomes = [
        Outcome("c1", "k1", [_case("c1", "one")]),
        Outcome("c2", "k2", None, ("RuntimeError", "case c2: boom")),
        Outcome("c3", "k3", [bad]),
        Outcome("c4", "k4", [_case("c4", "four"), _case("c4", "four again")]),
        Outcome("c5", "k5", []),
    ]
    packed = pickle.loads(pickle.dumps(pack(outcomes, Case)))  # as it crosses the process boundary
    back = packed.unpack()
    assert [(o.case_id, o.key) for o in back] == [(o.case_id, o.key) for o in outcomes]
    assert back[1].error == ("RuntimeError", "case c2: boom") and back[1].rows is None
    assert back[2].rows is None and back[2].error[1].startswith("case c3: rows do not fit the Case Arrow schema")
    assert back[0].rows.column("report_text").to_pylist() == ["one"]
    assert back[3].rows.column("report_text").to_pylist() == ["four", "four again"]
    assert back[4].rows.num_rows == 0


def test_write_part_keeps_ledger_order_across_tables_and_row_dicts(tmp_path):
    store = StageStore(tmp_path, "echo", Case)
    table = pa.Table.from_pylist([_case("b", "bee"), _case("b", "bee 2")], schema=arrow_schema(Case))
    part = store.write_part(
        [
            CaseResult("a", "ka", [_case("a", "ay")]),
            CaseResult("b", "kb", table),
            CaseResult("e", "ke", []),
            CaseResult("c", "kc", [_case("c", "sea")]),
        ]
    )
    written = store.read_table()
    assert written.column("report_text").to_pylist() == ["ay", "bee", "bee 2", "sea"]
    assert written.column("_case_id").to_pylist() == ["a", "b", "b", "c"]
    assert [(e.case_id, e.n_rows) for e in store._ledger(part)] == [("a", 1), ("b", 2), ("e", 0), ("c", 1)]
    assert [r.report_text for r in store.read_records(store.index()["kb"])] == ["bee", "bee 2"]


def test_chunks_grow_for_cheap_cases_and_shrink_for_expensive_ones():
    from pipelines.executors.base import ChunkSizer

    sizer = ChunkSizer(first=8, target_s=0.1, largest=256)
    sizer.observe(8, 2.0)  # a first chunk that also built the stage: 0.25 s a case
    assert sizer.size == 1
    sizer.observe(1, 0.002)  # the real cost shows: down at once
    assert sizer.size == 50
    sizer.observe(50, 0.0001)  # cheaper still, but never more than `largest`
    assert sizer.size == 256
    sizer.observe(256, 256 * 0.05)  # expensive cases: back up as a moving average, not in one jump
    assert 2 <= sizer.size < 10
    sizer.observe(0, 1.0)  # nothing measured changes nothing
    assert 2 <= sizer.size < 10


def test_arrow_batches_of_a_part_that_no_longer_matches_its_contract_name_the_part(tmp_path):
    import pyarrow.parquet as pq
    import pytest

    from pipelines.store import InputContractError, UpstreamRecords

    store = StageStore(tmp_path, "echo", Case)
    part = store.write_part([CaseResult("a", "ka", [_case("a", "ay")]), CaseResult("b", "kb", [_case("b", "bee")])])
    entries = list(store.index().values())
    assert UpstreamRecords(store, entries).batches().__next__().column("report_text").to_pylist() == ["ay", "bee"]
    # An edited part: a column renamed. Its rows are not read as if they still fit the contract.
    path = tmp_path / "stages" / "echo" / part
    table = pq.read_table(path)
    renamed = table.rename_columns(["report" if n == "report_text" else n for n in table.column_names])
    pq.write_table(renamed.replace_schema_metadata(table.schema.metadata), path)  # the ledger kept
    fresh = StageStore(tmp_path, "echo", Case)
    with pytest.raises(InputContractError, match=f"part {part} does not match the Case contract.*report_text"):
        next(UpstreamRecords(fresh, list(fresh.index().values())).batches())
