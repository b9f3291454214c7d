"""JSON Schemas of the public records, generated from the msgspec types into schemas/*.json."""
from __future__ import annotations

import json
from pathlib import Path

import msgspec

from pipeline.contract.records import SCHEMA_VERSION, Alert, AlertAction, Customer, DeadLetter, EnrichedMention, Identity, \
    RawMention

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
RECORDS = {"raw_mention": RawMention, "customer": Customer, "identity": Identity, "enriched_mention": EnrichedMention,
           "alert": Alert, "alert_action": AlertAction, "dead_letter": DeadLetter}


def schema_documents() -> dict[str, str]:
    """file name → JSON text for every public record (versioned by SCHEMA_VERSION)."""
    out = {}
    for name, kind in RECORDS.items():
        doc = msgspec.json.schema(kind)
        doc["$id"] = f"https://socialpulse.dev/schemas/v{SCHEMA_VERSION}/{name}.json"
        doc["$comment"] = f"Generated from pipeline/contract/records.py ({kind.__name__}); schema_version {SCHEMA_VERSION}."
        out[f"{name}.v{SCHEMA_VERSION}.json"] = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    return out


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    paths = []
    for fname, text in schema_documents().items():
        path = directory / fname
        path.write_text(text)
        paths.append(path)
    return paths


def check_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of schema files that are missing or differ from the code."""
    return [f for f, text in schema_documents().items()
            if not (directory / f).exists() or (directory / f).read_text() != text]
