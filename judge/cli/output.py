"""Terminal output: rich tables for people, JSON for machines, a progress bar on stderr."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from judge.jsonable import to_jsonable

# Markup is off: messages carry paths and judged text, in which "[serve]" or
# "run[test].jsonl" must print as written. Styling goes through `rich.text.Text`.
LOG_EVERY_SECONDS = 10.0
Progress_ = Callable[[float, float], None]
stdout = Console(markup=False, highlight=False)
stderr = Console(stderr=True, markup=False, highlight=False)


def bold(text: str) -> Text:
    """``text`` in bold, as a table cell or a print argument."""
    return Text(text, style="bold")


def labelled(label: str, message: str, style: str = "red") -> Text:
    """``label: message`` with the label styled and the message printed as written."""
    return Text.assemble((f"{label}:", style), " ", message)


def print_json(value: Any) -> None:
    """Print ``value`` (anything `judge.jsonable.to_jsonable` takes) as JSON on stdout."""
    print(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2))


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table cell; ``—`` for missing."""
    return "—" if value is None else f"{value:.{digits}f}"


class RateColumn(ProgressColumn):
    """Units per second, as rich measures them."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        """The current speed, or nothing before the first units are done."""
        return Text(f"{task.speed:.2f} {self.unit}/s" if task.speed else "")


@contextmanager
def progress_bar(
    label: str, unit: str = "calls", every: float = LOG_EVERY_SECONDS
) -> Iterator[Progress_]:
    """Progress on stderr; yields a ``progress(done, total)`` callback.

    A live bar with rate and time left on a terminal; elsewhere (a log, CI) one line
    at the start, then at most one line every ``every`` seconds, and one at the end.
    """
    if not stderr.is_terminal:
        log = _ProgressLog(label, unit, every)
        yield log.update
        log.finish()
        return
    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        RateColumn(unit),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: float, total: float) -> None:
            bar.update(task, completed=done, total=total)

        yield update


class _ProgressLog:
    """Progress as plain, rate-limited lines, for a stderr that is not a terminal."""

    def __init__(self, label: str, unit: str, every: float) -> None:
        self.label, self.unit, self.every = label, unit, every
        self.started = self.said = time.monotonic()
        self.last: tuple[float, float] | None = None
        self.spoke, self._said_done = False, -1.0

    def update(self, done: float, total: float) -> None:
        now = time.monotonic()
        first = self.last is None
        self.last = (done, total)
        if first or now - self.said >= self.every:
            self._say(now)

    def finish(self) -> None:
        if self.last is not None and self.spoke and self.last[0] != self._said_done:
            self._say(time.monotonic())

    def _say(self, now: float) -> None:
        assert self.last is not None
        done, total = self.last
        self.said, self._said_done, self.spoke = now, done, True
        stderr.print(
            f"{self.label}: {done:g}/{total:g} {self.unit} ({now - self.started:.0f} s)",
            soft_wrap=True,
        )
