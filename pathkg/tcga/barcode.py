"""TCGA barcodes: `TCGA-CR-7395-01A-01-TS1` -> patient `TCGA-CR-7395`.

Grammar (GDC): TCGA-<TSS:2>-<participant:4>[-<sample:2><vial:1>[-<portion:2><analyte:0-1>
[-<plate:4 | slide: TS/BS/MS + id, DX + n>[-<center:2>]]]]. Case-insensitive on input,
upper-case on output. File names such as `TCGA-21-1083-01Z-00-DX1.8288ca92-….svs` carry the
barcode before the first dot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

_BARCODE = re.compile(
    r"TCGA-(?P<tss>[A-Z0-9]{2})-(?P<participant>[A-Z0-9]{4})"
    r"(?:-(?P<sample>\d{2})(?P<vial>[A-Z])?"
    r"(?:-(?P<portion>\d{2})(?P<analyte>[A-Z])?"
    r"(?:-(?P<part>(?:TS|BS|MS)[A-Z0-9]|DX\d+|[A-Z0-9]{4})"
    r"(?:-(?P<center>\d{2}))?)?)?)?"
)


# The patient part alone, followed by a separator or the end: enough to name the patient.
_PATIENT = re.compile(r"(TCGA-[A-Z0-9]{2}-[A-Z0-9]{4})(?=-|$)")


class MalformedBarcodeError(ValueError):
    pass


@dataclass(frozen=True)
class Barcode:
    text: str
    patient: str
    sample: str | None  # e.g. '01A'; 01-09 tumour, 10-19 normal, 20-29 control
    # False when only the patient part parses (e.g. a slide part 'DXI' for 'DX1').
    well_formed: bool = True

    @property
    def is_tumor_sample(self) -> bool | None:
        return None if self.sample is None else int(self.sample[:2]) < 10


def looks_like_tcga(value: str) -> bool:
    return value.strip().upper().startswith("TCGA")


def barcode_token(value: str) -> str:
    """The barcode part of a value that may be a path or file name (`…/TCGA-…-DX1.uuid.svs`)."""
    name = PurePath(value.strip()).name
    return name.split(".", 1)[0].strip().upper()


def parse_barcode(value: str) -> Barcode:
    """Parse a TCGA barcode (or a file name that starts with one).

    Raises MalformedBarcodeError unless at least the patient part (TCGA-XX-XXXX) is valid; when
    only that part is, the result has `well_formed=False` and the caller decides.
    """
    token = barcode_token(value)
    m = _BARCODE.fullmatch(token)
    if m is None:
        head = _PATIENT.match(token)
        if head is None:
            raise MalformedBarcodeError(f"malformed TCGA barcode {value!r}")
        return Barcode(text=token, patient=head.group(1), sample=None, well_formed=False)
    sample = (m["sample"] + (m["vial"] or "")) if m["sample"] else None
    return Barcode(text=token, patient=f"TCGA-{m['tss']}-{m['participant']}", sample=sample)
