"""What run-scope stages (kg, export, run report) produced: one record per run."""

from pydantic import Field

from schemas.record import Record


class ExportSummary(Record):
    case_id: str = Field(description="Always '__run__': run-scope stages have one item per run.")
    out_dir: str
    counts: dict[str, int] = Field(default_factory=dict, description="Rows per split (default config).")
    patients: int = 0
    samples_in: int = 0
    samples_exported: int = 0
    held_for_review: int = 0
    rejected: int = 0
    bytes_written: int = 0


class RunReportSummary(Record):
    case_id: str
    report_path: str
    plots: list[str] = Field(default_factory=list)


class KGBuildSummary(Record):
    """The knowledge graph a run uses: the dump it built and the store it loaded it into."""

    case_id: str
    dump_dir: str = Field(description="Absolute path of the dump folder.")
    version: str = Field(description="KG version (content hash of the dump), stamped on every sample.")
    nodes: int = Field(ge=0)
    edges: int = Field(ge=0)
    dictionary_terms: int = Field(ge=0)
    backend: str = Field(description="'embedded' or 'neo4j'.")
    store: str = Field(description="Embedded database path, or the Neo4j URI.")
