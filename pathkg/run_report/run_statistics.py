"""Counts a run report shows, gathered in one streaming pass over the stage outputs.

Each `add_*` takes one Arrow batch of a stage's rows (typed by its contract) and counts with Arrow
compute, so a 20K-case report never turns nested rows into Python objects. Counters keep the order
in which values are first met, row by row, as a pass over the records would.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _count(counter: Counter, values: pa.Array | pa.ChunkedArray) -> None:
    """Add each value's count, values in order of first occurrence (nulls left out)."""
    for item in pc.value_counts(values).to_pylist():
        if item["values"] is not None:
            counter[item["values"]] += item["counts"]


def _nonempty(lists: pa.ChunkedArray | pa.Array) -> int:
    return int(pc.sum(pc.greater(pc.list_value_length(lists), 0)).as_py() or 0)


def _row_major(table: pa.Table, columns: tuple[str, ...]) -> pa.Array:
    """The items of several list columns, row by row (a row's items of the first column first)."""
    flats, parents = [], []
    for name in columns:
        lists = _array(table[name])
        flats.append(pc.list_flatten(lists))
        parents.append(pc.list_parent_indices(lists).to_numpy())
    order = np.argsort(np.concatenate(parents), kind="stable")
    return pa.concat_arrays(flats).take(pa.array(order))


@dataclass
class RunStatistics:
    cases_linked: int = 0
    cases_with_description_entities: int = 0
    cases_with_diagnosis_entities: int = 0
    entity_types: Counter = field(default_factory=Counter)
    top_entities: Counter = field(default_factory=Counter)
    negated_mentions: int = 0
    cases_with_paths: int = 0
    path_lengths: Counter = field(default_factory=Counter)
    no_path_reasons: Counter = field(default_factory=Counter)
    question_types: Counter = field(default_factory=Counter)
    scales: Counter = field(default_factory=Counter)
    verification: Counter = field(default_factory=Counter)
    failed_checks: Counter = field(default_factory=Counter)

    def add_linked(self, batch: pa.Table) -> None:
        """A batch of `LinkedCase` rows."""
        self.cases_linked += batch.num_rows
        self.cases_with_description_entities += _nonempty(batch["description_entities"])
        self.cases_with_diagnosis_entities += _nonempty(batch["diagnosis_entities"])
        entities = _row_major(batch, ("description_entities", "diagnosis_entities"))
        if len(entities):
            _count(self.entity_types, pc.struct_field(entities, "type"))
            _count(self.top_entities, pc.struct_field(entities, "name"))
            self.negated_mentions += int(pc.sum(pc.struct_field(entities, "negated")).as_py() or 0)

    def add_paths(self, batch: pa.Table) -> None:
        """A batch of `CasePaths` rows."""
        self.cases_with_paths += _nonempty(batch["paths"])
        paths = pc.list_flatten(_array(batch["paths"]))
        if len(paths):
            _count(self.path_lengths, pc.list_value_length(pc.struct_field(paths, "steps")))
        reasons = batch["no_path_reason"]
        _count(self.no_path_reasons, pc.filter(reasons, pc.greater(pc.utf8_length(reasons), 0)))

    def add_samples(self, batch: pa.Table) -> None:
        """A batch of `Sample` rows."""
        _count(self.question_types, batch["question_type"])
        _count(self.scales, batch["scale"])
        verification = _array(batch["verification"])
        _count(self.verification, pc.struct_field(verification, "status"))
        checks = pc.list_flatten(pc.struct_field(verification, "checks"))
        if len(checks):
            _count(
                self.failed_checks,
                pc.filter(pc.struct_field(checks, "name"), pc.invert(pc.struct_field(checks, "passed"))),
            )
