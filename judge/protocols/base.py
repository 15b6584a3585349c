"""What every protocol shares: the judge-like interface, and running calls through the engine.

A protocol is built on a `judge.Judge` and sends its calls through the same engine
(`judge.engine.executor.execute`): the judge's cache, batching and typed failures,
so a protocol's second pass is cached and resumable like any judgment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from judge.debias import leaning
from judge.engine.calls import Call
from judge.engine.executor import Outcome, Progress, execute, run_sync
from judge.engine.tasks import TaskName
from judge.inputs import PairInput, PointInput, as_pair, as_point
from judge.judge import Judge
from judge.templates import JudgeTemplate
from judge.verdicts import (
    JudgmentFailure,
    Method,
    PairwiseResult,
    PairwiseVerdict,
    PointwiseResult,
    Truncation,
)

PairItems = Iterable[PairInput | Mapping[str, Any]]
PointItems = Iterable[PointInput | Mapping[str, Any]]


class JudgeLike(Protocol):
    """What `judge.reward.JudgeReward`, `Panel` and `judge.rank` ask of a judge."""

    def template(self, task: TaskName) -> JudgeTemplate:
        """The task template used for ``task``."""

    def compare_batch(
        self, items: PairItems, *, progress: Progress | None = None
    ) -> list[PairwiseResult]:
        """Judge many pairs; results in input order; ``progress(done, total)`` in calls."""

    def score_batch(
        self, items: PointItems, *, progress: Progress | None = None
    ) -> list[PointwiseResult]:
        """Score many responses; results in input order; ``progress`` as above."""

    async def acompare_batch(self, items: PairItems) -> list[PairwiseResult]:
        """Async `compare_batch`."""

    async def ascore_batch(self, items: PointItems) -> list[PointwiseResult]:
        """Async `score_batch`."""


class BatchProtocol:
    """The single-item and async methods of a judge, from its two batch methods."""

    def compare_batch(
        self, items: PairItems, *, progress: Progress | None = None
    ) -> list[PairwiseResult]:
        """Judge many pairs; results in input order; ``progress(done, total)`` in calls."""
        raise NotImplementedError

    def score_batch(
        self, items: PointItems, *, progress: Progress | None = None
    ) -> list[PointwiseResult]:
        """Score many responses; results in input order; ``progress`` as above."""
        raise NotImplementedError

    def compare(
        self, prompt: str, response_a: str, response_b: str, **extra: str
    ) -> PairwiseResult:
        """Judge which of two responses to ``prompt`` is better."""
        return self.compare_batch([PairInput(prompt, response_a, response_b, extra)])[0]

    def score(self, prompt: str, response: str, **extra: str) -> PointwiseResult:
        """Score one response to ``prompt``."""
        return self.score_batch([PointInput(prompt, response, extra)])[0]

    async def acompare_batch(self, items: PairItems) -> list[PairwiseResult]:
        """Async `compare_batch` (the sync method in a worker thread)."""
        return await asyncio.to_thread(self.compare_batch, [as_pair(i) for i in items])

    async def ascore_batch(self, items: PointItems) -> list[PointwiseResult]:
        """Async `score_batch` (the sync method in a worker thread)."""
        return await asyncio.to_thread(self.score_batch, [as_point(i) for i in items])


class OnJudge(BatchProtocol):
    """A protocol that changes how pairs are judged and leaves the rest to ``self.judge``.

    Its task templates are the judge's, and so are its pointwise scores: one response
    has no order, no pair and no prompt to weigh it against.
    """

    judge: Judge

    def template(self, task: TaskName) -> JudgeTemplate:
        """The task template used for ``task``."""
        return self.judge.template(task)

    def score_batch(
        self, items: PointItems, *, progress: Progress | None = None
    ) -> list[PointwiseResult]:
        """Score many responses: the judge's own scores."""
        return self.judge.score_batch(items, progress=progress)


ResultT = TypeVar("ResultT", PairwiseResult, PointwiseResult)


def named(result: ResultT, protocol: str) -> ResultT:
    """``result`` with ``+protocol`` after its template's name (a failure as it is)."""
    if isinstance(result, JudgmentFailure):
        return result
    return result.model_copy(update={"template": f"{result.template}+{protocol}"})


def order_free(
    *,
    method: Method,
    model: str,
    template: str,
    rubric: str | None,
    prob_a: float,
    prob_tie: float | None = None,
    truncations: tuple[Truncation, ...] = (),
) -> PairwiseVerdict:
    """A pairwise verdict that showed no order: its winner the side ``prob_a`` leans to."""
    return PairwiseVerdict(
        method=method,
        model=model,
        template=template,
        rubric=rubric,
        truncations=truncations,
        winner=leaning(prob_a),
        prob_a=prob_a,
        prob_tie=prob_tie,
        consistent=None,
        orders=(),
        swap="none",
    )


def run_calls(
    judge: Judge, calls: Sequence[Call], progress: Progress | None = None
) -> dict[str, Outcome]:
    """Run ``calls`` through ``judge``'s cache and backend; add what they spent to its usage."""
    backend = judge.backend
    chunk = max(judge.config.batch_size or backend.batch_size, backend.chunk_size or 0)
    outcomes = run_sync(execute(calls, judge.cache, chunk, progress), backend)
    for outcome in outcomes.values():
        if outcome.usage is not None:
            judge.usage += outcome.usage
    return outcomes


class Stages:
    """One progress count over calls run in stages, each stage counted after the last.

    A protocol runs its calls in stages (rationales, then readings; one panel member,
    then the next), and each stage reports ``(done, total)`` of its own calls. Through
    `stage`, the caller's ``progress`` sees the calls of every finished stage plus the
    current one's, plus an estimate of the stages still to come: ``later`` calls when
    the stage says so, else the current stage's size for each of them. When a later
    stage starts, its real size replaces the estimate.

    Args:
        progress: the caller's ``progress(done, total)``, or None (nothing reported).
        count: how many stages there are.
    """

    def __init__(self, progress: Progress | None, count: int) -> None:
        self._progress = progress
        self._left = count
        self._finished = 0
        self._current = 0

    def stage(self, later: int | None = None) -> Progress | None:
        """The ``progress`` callback for the next stage (None when nothing is reported)."""
        self._left -= 1
        outer = self._progress
        if outer is None:
            return None
        self._finished += self._current
        self._current = 0
        base, left = self._finished, self._left

        def report(done: int, total: int) -> None:
            self._current = total
            ahead = later if later is not None else left * total
            outer(base + done, base + total + ahead)

        return report
