"""docs/configuration.md, generated from the field docs of pipeline/settings.py (`socialpulse config --markdown`)."""
from __future__ import annotations

from dataclasses import fields

from pipeline.settings import ENV_PREFIX, Settings


def settings_reference_markdown() -> str:
    """docs/configuration.md: every variable, its default and meaning."""
    lines = [
        "# Configuration reference",
        "",
        "Generated from `pipeline/settings.py` by `socialpulse config --markdown`; a test keeps it in sync.",
        "Every setting is an environment variable; most `socialpulse` commands also take the common ones as flags",
        "(`--data-dir`, `--kafka-bootstrap`, `--clickhouse-host`, …), which override the environment.",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for f in fields(Settings):
        default = f.default
        shown = "auto" if default is None else ("(empty)" if default == "" else str(default))
        doc = f.metadata.get("doc", "")
        if f.metadata.get("secret"):
            doc += " Secret: never logged."
        lines.append(f"| `{ENV_PREFIX}{f.name.upper()}` | `{shown}` | {doc} |")
    return "\n".join(lines) + "\n"
