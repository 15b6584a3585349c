"""Terminal output: rich tables for people, JSON for machines, a progress bar on stderr."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

stdout = Console()
stderr = Console(stderr=True)


def print_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout (no rich markup)."""
    print(json.dumps(value, ensure_ascii=False, indent=2))


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table cell; ``—`` for missing."""
    return "—" if value is None else f"{value:.{digits}f}"


@contextmanager
def progress_bar(label: str) -> Iterator[Any]:
    """A progress bar on stderr; yields a ``progress(done, total)`` callback."""
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("calls"),
               TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
