"""Write the committed JSON Schema files from the pydantic contracts."""

import json
from pathlib import Path

from schemas import CONTRACTS

JSON_DIR = Path(__file__).parent / "json"


def render(name: str) -> str:
    schema = CONTRACTS[name].model_json_schema()
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_all(out_dir: Path = JSON_DIR) -> list[Path]:
    """(Re)generate one `<name>.schema.json` per contract; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in CONTRACTS:
        path = out_dir / f"{name}.schema.json"
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written
