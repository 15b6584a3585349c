"""Terminal output: rich tables for people, JSON for machines, a progress bar on stderr."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

# Markup is off: messages carry paths and judged text, in which "[serve]" or
# "run[test].jsonl" must print as written. Styling goes through `rich.text.Text`.
stdout = Console(markup=False, highlight=False)
stderr = Console(stderr=True, markup=False, highlight=False)


def bold(text: str) -> Text:
    """``text`` in bold, as a table cell or a print argument."""
    return Text(text, style="bold")


def labelled(label: str, message: str, style: str = "red") -> Text:
    """``label: message`` with the label styled and the message printed as written."""
    return Text.assemble((f"{label}:", style), " ", message)


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
