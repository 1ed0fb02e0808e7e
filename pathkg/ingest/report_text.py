"""Read a report's text and decide whether it is usable at all."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class ReportError(ValueError):
    pass


class MissingFileError(ReportError):
    pass


class EmptyReportError(ReportError):
    pass


class GarbledReportError(ReportError):
    pass


@dataclass(frozen=True)
class ReportText:
    text: str
    replaced_bytes: int  # U+FFFD inserted while decoding non-UTF-8 bytes


def read_report_file(path: Path) -> ReportText:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MissingFileError(f"report file {path} does not exist") from None
    except IsADirectoryError:
        raise MissingFileError(f"report path {path} is a directory, not a file") from None
    except OSError as exc:
        raise MissingFileError(f"report file {path} cannot be read: {exc}") from exc
    return decode_report(data)


def decode_report(data: bytes) -> ReportText:
    """UTF-8 (with or without BOM); other bytes become U+FFFD and are counted, never fatal."""
    try:
        return ReportText(data.decode("utf-8-sig"), 0)
    except UnicodeDecodeError:
        text = data.decode("utf-8-sig", errors="replace")
        return ReportText(text, text.count("\ufffd"))


def check_report(text: str, where: str, min_chars: int, min_letter_fraction: float) -> None:
    """Raise when a report is empty, too short, or mostly not text (binary, mojibake)."""
    visible = "".join(text.split())
    if not visible:
        raise EmptyReportError(f"{where}: report is empty")
    if len(visible) < min_chars:
        raise EmptyReportError(f"{where}: report has {len(visible)} non-space characters (< {min_chars})")
    letters = sum(ch.isalpha() for ch in visible)
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    fraction = letters / len(visible)
    if fraction < min_letter_fraction or controls > 0.01 * len(text):
        raise GarbledReportError(
            f"{where}: report looks garbled ({fraction:.0%} letters, {controls} control characters)"
        )
