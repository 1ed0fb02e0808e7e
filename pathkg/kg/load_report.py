"""What a reader or a store did with its input: rows taken, and each malformed row by file and line."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

#: The kinds of malformed input a reader reports (the summary counts each).
ISSUE_KINDS = (
    "wrong_column_count",
    "empty_id",
    "unknown_node_type",
    "unknown_relation",
    "dangling_edge",
    "duplicate_id_conflict",
)


@dataclass(frozen=True)
class Issue:
    """One malformed row. `line` is the 1-based line of a CSV file or the 1-based row of a Parquet file."""

    kind: str
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}: {self.message}"


@dataclass
class LoadReport:
    """Counts of what was read and what was rejected; the first `keep` issues are kept verbatim."""

    keep: int = 1000
    issues: list[Issue] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    nodes: int = 0
    edges: int = 0
    duplicates_merged: int = 0

    def add(self, kind: str, file: str, line: int, message: str) -> None:
        self.counts[kind] += 1
        if len(self.issues) < self.keep:
            self.issues.append(Issue(kind, file, line, message))

    @property
    def rejected(self) -> int:
        return sum(self.counts.values())

    def extend(self, other: LoadReport) -> None:
        for issue in other.issues:
            if len(self.issues) < self.keep:
                self.issues.append(issue)
        self.counts.update(other.counts)
        self.duplicates_merged += other.duplicates_merged

    def summary(self) -> dict[str, object]:
        return {
            "nodes": self.nodes,
            "edges": self.edges,
            "rejected": self.rejected,
            "rejected_by_kind": {kind: self.counts.get(kind, 0) for kind in ISSUE_KINDS},
            "duplicates_merged": self.duplicates_merged,
        }
