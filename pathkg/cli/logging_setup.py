"""Logs a data engineer can read: timestamps, level, the stage's own words, on stderr."""

import logging

from rich.console import Console
from rich.logging import RichHandler

stderr = Console(stderr=True)


def configure(verbose: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(console=stderr, show_path=False, rich_tracebacks=True)],
        force=True,
    )
