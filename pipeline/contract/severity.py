"""The one severity order of alerts (lowest first), shared by the alert rules, webhooks, settings and the page."""
from __future__ import annotations

SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


def severity_rank(severity: str) -> int:
    """0 (low) … 3 (critical), case and surrounding blanks ignored; -1 for anything else (an unknown severity ranks
    below every real one, so it never passes a minimum)."""
    return _RANK.get(severity.strip().lower(), -1) if isinstance(severity, str) else -1
