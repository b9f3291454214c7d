"""A rich progress bar for long commands (quiet when not on a terminal or disabled)."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator, Optional


class _Null:
    def advance(self, n: int = 1) -> None:
        pass


@contextmanager
def progress_bar(description: str, total: Optional[int], enabled: bool = True) -> Iterator:
    if not enabled:
        yield _Null()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("•"),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn()]
    with Progress(*columns, transient=not sys.stderr.isatty(), refresh_per_second=5) as prog:
        task = prog.add_task(description, total=total)

        class _Bar:
            def advance(self, n: int = 1) -> None:
                prog.advance(task, n)

        yield _Bar()
