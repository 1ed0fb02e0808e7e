"""Re-verify an edited chain with the run's own KG dictionary and the pipeline's chain verifier."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from schemas.sample import Sample
from schemas.verification import Verification

if TYPE_CHECKING:
    from pathkg.verify.chain_verifier import ChainVerifier


def kg_dump_of_run(run_dir: Path) -> Path:
    """The KG dump folder the run's `kg` stage wrote; FileNotFoundError when the run has none.

    The stage's current output first; else its newest stored output (the run's KG stays what the samples were
    verified against even when the code moved on since); else `RUN_DIR/kg/dump`. Only a folder holding an
    entity dictionary counts.
    """
    import pyarrow.parquet as pq

    run_dir = Path(run_dir)
    candidates: list[str] = []
    try:
        from rich.console import Console

        from pipelines.runner import Runner

        runner = Runner.from_run_dir(run_dir, show_progress=False, console=Console(quiet=True))
        candidates += [r["dump_dir"] for r in runner.read_current("kg").to_pylist() if r.get("dump_dir")]
    except (OSError, KeyError, ValueError):
        pass  # no manifest or no kg stage: the fallbacks below
    parts = sorted((run_dir / "stages" / "kg").glob("*.parquet"), key=lambda p: p.stat().st_mtime, reverse=True)
    for part in parts:
        table = pq.read_table(part)
        if "dump_dir" in table.column_names:
            candidates += [d for d in table.column("dump_dir").to_pylist() if d]
    candidates.append(str(run_dir / "kg" / "dump"))
    for candidate in candidates:
        if (Path(candidate) / "entity_dictionary.parquet").is_file():
            return Path(candidate)
    raise FileNotFoundError(f"{run_dir}: no KG dump with an entity dictionary found; pass --kg-dump DIR")


class Reverifier:
    """Loads the entity linker once (a few seconds), on first use; safe to share between threads."""

    def __init__(self, dump_dir: Path):
        self.dump_dir = Path(dump_dir)
        self._verifier: ChainVerifier | None = None
        self._lock = threading.Lock()

    def _get(self) -> ChainVerifier:
        with self._lock:
            if self._verifier is None:
                from pathkg.linking.entity_linker import EntityLinker
                from pathkg.verify.chain_verifier import ChainVerifier

                dictionary = self.dump_dir / "entity_dictionary.parquet"
                if not dictionary.exists():
                    raise FileNotFoundError(f"{dictionary}: no entity dictionary in the KG dump")
                self._verifier = ChainVerifier(EntityLinker.from_dump(self.dump_dir))
            return self._verifier

    def warm(self) -> None:
        """Load the linker now (e.g. in a background thread when a server starts); errors surface on use."""
        with contextlib.suppress(OSError, ValueError):
            self._get()

    def verify(self, sample: Sample, response: str) -> Verification:
        """The checks the pipeline would run on `sample` with `response` as its chain."""
        verifier = self._get()
        with self._lock:  # spaCy pipelines are not documented as thread-safe
            return verifier.verify(
                response,
                sample.answer,  # the report's reference answer (verify stage: question.reference_answer)
                sample.question_type,
                sample.description_entities,
                sample.diagnosis_entities,
                sample.kg_paths,
                sample.question,
            )
