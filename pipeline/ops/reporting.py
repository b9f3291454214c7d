"""Summaries of file-processing commands: counts and the first bad lines with their numbers."""
from __future__ import annotations

from dataclasses import dataclass, field

MAX_REPORTED = 20


@dataclass
class FileSummary:
    what: str
    sent: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    bad_count: int = 0
    seconds: float = 0.0
    extra: dict[str, int] = field(default_factory=dict)

    def report_bad(self, line: int, reason: str) -> None:
        self.bad_count += 1
        if len(self.bad) < MAX_REPORTED:
            self.bad.append((line, reason))

    def render(self) -> str:
        rate = self.sent / self.seconds if self.seconds > 0 else 0.0
        lines = [f"{self.what}: {self.sent} sent in {self.seconds:.1f}s ({rate:,.0f}/s), {self.bad_count} bad line(s)"]
        lines += [f"  {k}: {v}" for k, v in self.extra.items()]
        lines += [f"  line {n}: {reason}" for n, reason in self.bad]
        if self.bad_count > len(self.bad):
            lines.append(f"  … and {self.bad_count - len(self.bad)} more")
        return "\n".join(lines)
