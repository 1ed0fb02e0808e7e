"""Counts a run report shows, gathered in one streaming pass over the stage outputs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from schemas.case_paths import CasePaths
from schemas.linked_case import LinkedCase
from schemas.sample import Sample


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

    def add_linked(self, cases: Iterable[LinkedCase]) -> None:
        for case in cases:
            self.cases_linked += 1
            self.cases_with_description_entities += bool(case.description_entities)
            self.cases_with_diagnosis_entities += bool(case.diagnosis_entities)
            for e in (*case.description_entities, *case.diagnosis_entities):
                self.entity_types[e.type] += 1
                self.top_entities[e.name] += 1
                self.negated_mentions += e.negated

    def add_paths(self, records: Iterable[CasePaths]) -> None:
        for rec in records:
            self.cases_with_paths += bool(rec.paths)
            for path in rec.paths:
                self.path_lengths[len(path.steps)] += 1
            if rec.no_path_reason:
                self.no_path_reasons[rec.no_path_reason] += 1

    def add_samples(self, samples: Iterable[Sample]) -> None:
        for s in samples:
            self.question_types[s.question_type] += 1
            self.scales[s.scale] += 1
            self.verification[s.verification.status] += 1
            for check in s.verification.checks:
                if not check.passed:
                    self.failed_checks[check.name] += 1
