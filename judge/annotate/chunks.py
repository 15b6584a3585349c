"""One chunk of annotation work: the pairs to judge and the rows they become.

The same code runs in the local loop (`judge.annotate.job`) and in each Ray actor
(`judge.annotate.ray_job`); both import it from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from judge.annotate.filters import Filters
from judge.annotate.pairing import Pair, resolve
from judge.annotate.rows import failure_row, preference_row
from judge.annotate.sources import Record
from judge.annotate.store import Kind
from judge.annotate.text import as_text
from judge.inputs import PairInput
from judge.judge import Judge
from judge.protocols import JudgeLike, with_protocol
from judge.verdicts import JudgmentFailure, PairwiseVerdict

Progress = Callable[[float, float], None]  # (pairs done, pairs planned); done may be fractional
Line = tuple[Kind, dict[str, Any]]


@dataclass(frozen=True)
class Item:
    """One pair still to be annotated: a record, its slot, and the output row's key."""

    key: str
    record: Record
    slot: str


@dataclass(frozen=True)
class Settings:
    """What each chunk needs besides the judge (the same locally and in Ray actors)."""

    filters: Filters
    conversational: bool
    protocol: str = "plain"  # how the judge judges (`judge.protocols.with_protocol`)
    samples: int = 3  # rationales per order for "self-consistency"
    panel_rubrics: tuple[str, ...] = ()  # more rubrics: a panel on the judge's model

    def judging(self, judge: Judge) -> JudgeLike:
        """``judge`` behind the job's protocol, built once per job or Ray actor.

        With ``panel_rubrics``, a panel of ``judge`` and a judge of each rubric. So
        what a protocol learns as it goes (one-order's position prior) spans chunks.
        """
        return with_protocol(
            judge, self.protocol, samples=self.samples, panel_rubrics=self.panel_rubrics
        )


def judge_items(
    judging: JudgeLike,
    items: Sequence[Item],
    settings: Settings,
    progress: Progress | None = None,
) -> list[Line]:
    """Judge a chunk of items; every item becomes one row, dropped row or failure row.

    ``judging`` is the judge behind the job's protocol (`Settings.judging`).

    The engine turns a backend error on some items (or on a whole batch) into failures
    of those items. A `BackendError` that escapes it means the backend cannot be used
    at all (e.g. the model does not load): it stops the job, and the rows already
    written stay.
    """
    resolved = resolve(judging, [(item.record, item.slot) for item in items])
    pairs = [(i, p) for i, p in enumerate(resolved) if isinstance(p, Pair)]
    inputs = [
        PairInput(
            as_text(p.record.prompt),
            as_text(p.record.candidates[p.first]),
            as_text(p.record.candidates[p.second]),
        )
        for _, p in pairs
    ]
    verdicts = judging.compare_batch(inputs, progress=progress) if inputs else []
    results: list[Pair | JudgmentFailure | PairwiseVerdict] = list(resolved)
    for (i, _), verdict in zip(pairs, verdicts, strict=True):
        results[i] = verdict
    lines: list[Line] = []
    for item, result, pair in zip(items, results, resolved, strict=True):
        if isinstance(result, JudgmentFailure):
            lines.append(("failures", failure_row(item.key, item.record.where, item.slot, result)))
            continue
        assert isinstance(result, PairwiseVerdict) and isinstance(pair, Pair)
        conversational = settings.conversational or item.record.conversational
        row = preference_row(pair, result, item.key, conversational)
        reason = settings.filters.reason(row)
        lines.append(("dropped", {**row, "dropped": reason}) if reason else ("rows", row))
    return lines


def batched(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """Consecutive chunks of at most ``size`` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
