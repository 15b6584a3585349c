"""Reason, then read: the judge writes a rationale, then its verdict probabilities are read.

Pass 1 is the generate method (rationale, then a schema-constrained verdict) for every
order shown. Pass 2 appends the rationale alone (never the generated verdict, which
the read would only echo) as the judge's turn, asks for the verdict label, and reads
the labels' log-probabilities: calibrated probabilities after reasoning, not a one-hot
guess. With ``samples > 1`` this is self-consistency: several sampled rationales
(seeds ``seed, seed+1, …``), verdict probabilities averaged over samples and orders.

Both passes go through the judge's engine (cache, batching, typed failures). A
rationale cut off by the token budget is a ``truncated_output`` failure; a thinking
model's ``<think>`` block is stripped from the rationale shown again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, TypeVar

from judge.backends.base import Message
from judge.engine.calls import Call, CallFailure, Reading
from judge.engine.executor import Outcome, Progress
from judge.engine.tasks import (
    PAIRWISE,
    POINTWISE,
    PairPlan,
    PointPlan,
    Setup,
    TaskKind,
    TaskName,
    finish_pair,
    finish_point,
)
from judge.engine.thinking import strip_thinking
from judge.errors import UserError
from judge.judge import Judge
from judge.protocols.base import BatchProtocol, PairItems, PointItems, Stages, named, run_calls
from judge.templates import JudgeTemplate
from judge.verdicts import JudgmentFailure, PairwiseResult, PointwiseResult, PointwiseVerdict

VERDICT_TURN = "Based on your reasoning above, give your final verdict. Reply with only {labels}."
_PlanT = TypeVar("_PlanT", PairPlan, PointPlan)


def rationale_label(samples: int) -> str:
    """The protocol's name in reports and template tags: one rationale or ``samples``."""
    return "reason-then-read" if samples == 1 else f"self-consistency-{samples}"


def verdict_turn(rationale: str, labels: tuple[str, ...]) -> tuple[Message, Message]:
    """The judge's rationale as its own turn, then the request for the bare label."""
    shown = " or ".join(labels) if len(labels) <= 3 else f"one of {', '.join(labels)}"
    return (
        {"role": "assistant", "content": strip_thinking(rationale).visible},
        {"role": "user", "content": VERDICT_TURN.format(labels=shown)},
    )


class ReasonThenRead(BatchProtocol):
    """A judge that reasons first, then has its verdict probabilities read.

    Args:
        judge: the judge whose backend, rubric, templates, cache, swap and seed are
            used; its backend must both generate and read log-probabilities.
        samples: rationales per order; more than one is self-consistency.
        temperature: sampling temperature of the rationales (default 0 for one
            sample, 0.7 for several).
        max_new_tokens: the rationale's token budget (default: the judge's).

    Raises:
        UserError: samples < 1, or several samples with temperature 0 (they would
            all be the same).
    """

    def __init__(
        self,
        judge: Judge,
        *,
        samples: int = 1,
        temperature: float | None = None,
        max_new_tokens: int | None = None,
    ) -> None:
        if samples < 1:
            raise UserError(f"samples must be at least 1, got {samples}")
        heat = temperature if temperature is not None else (0.7 if samples > 1 else 0.0)
        if samples > 1 and heat == 0:
            raise UserError(
                "several samples at temperature 0 are all the same rationale: set temperature > 0"
            )
        budget = {"max_new_tokens": max_new_tokens} if max_new_tokens else {}
        self.judge = judge
        self.samples = samples
        self.name = rationale_label(samples)
        self._writers = [
            judge.with_settings(
                method="generate", temperature=heat, seed=judge.config.seed + k, **budget
            )
            for k in range(samples)
        ]

    def template(self, task: TaskName) -> JudgeTemplate:
        """The task template used for ``task``."""
        return self.judge.template(task)

    def compare_batch(
        self, items: PairItems, *, progress: Progress | None = None
    ) -> list[PairwiseResult]:
        """Judge many pairs: rationale per order and sample, then the read verdict.

        ``progress(done, total)`` counts the rationales' calls, then the readings'.
        """
        return self._run(PAIRWISE, items, progress)

    def score_batch(
        self, items: PointItems, *, progress: Progress | None = None
    ) -> list[PointwiseResult]:
        """Score many responses: rationale per sample, then the read score distribution."""
        return self._run(POINTWISE, items, progress)

    def _run(
        self, kind: TaskKind[Any, _PlanT, Any], items: Any, progress: Progress | None
    ) -> list[Any]:
        inputs = [kind.convert(item) for item in items]
        planned = [writer._plan(kind, inputs) for writer in self._writers]
        writing = [c for _, plans in planned for p in plans for c in p.calls]
        stages = Stages(progress, 2)  # the readings: one per rationale, at most
        written = run_calls(self.judge, writing, stages.stage())
        reader = replace(planned[0][0], method="logprob")
        read_plans = [
            [self._read_plan(reader, plan, written) for plan in plans] for _, plans in planned
        ]
        outcomes = dict(written)
        outcomes.update(
            run_calls(
                self.judge,
                [
                    c
                    for plans in read_plans
                    for p in plans
                    for c in p.calls
                    if c.method == "logprob"
                ],
                stages.stage(),
            )
        )
        outcomes = _with_rationales(read_plans, planned, outcomes)
        return [
            self._finish(kind, reader, [plans[i] for plans in read_plans], outcomes)
            for i in range(len(inputs))
        ]

    @staticmethod
    def _read_plan(reader: Setup, plan: _PlanT, written: Mapping[str, Outcome]) -> _PlanT:
        """The read calls of one plan; a failed rationale keeps its call (and failure)."""
        calls = tuple(
            call
            if not isinstance(out := written[call.key], Reading)
            else reader.call(call.messages + verdict_turn(out.rationale or "", reader.labels))
            for call in plan.calls
        )
        return replace(plan, calls=calls)

    def _finish(
        self,
        kind: TaskKind[Any, Any, Any],
        reader: Setup,
        plans: list[Any],
        outcomes: Mapping[str, Outcome],
    ) -> Any:
        if kind is PAIRWISE:
            merged = PairPlan(
                tuple(o for p in plans for o in p.orders),
                tuple(c for p in plans for c in p.calls),
                plans[0].truncations,
                plans[0].failure,
            )
            return self._named(finish_pair(reader, merged, outcomes))
        scores = [finish_point(reader, plan, outcomes) for plan in plans]
        return self._named(_average_scores(scores))

    def _named(self, result: Any) -> Any:
        return named(result, self.name)


def _with_rationales(
    read_plans: list[list[Any]],
    planned: list[tuple[Setup, list[Any]]],
    outcomes: dict[str, Outcome],
) -> dict[str, Outcome]:
    """Attach each rationale (and its cost) to the reading of the verdict that followed it."""
    for plans, (_, written) in zip(read_plans, planned, strict=True):
        for plan, first in zip(plans, written, strict=True):
            for read_call, write_call in zip(plan.calls, first.calls, strict=True):
                _attach(outcomes, read_call, outcomes[write_call.key])
    return outcomes


def _attach(outcomes: dict[str, Outcome], read_call: Call, rationale: Outcome) -> None:
    reading = outcomes[read_call.key]
    if (
        read_call.method != "logprob"
        or not isinstance(reading, Reading)
        or isinstance(rationale, CallFailure)
    ):
        return
    outcomes[read_call.key] = replace(
        reading,
        rationale=rationale.rationale,
        raw_output=rationale.raw_output,
        cached=reading.cached and rationale.cached,
    )


def _average_scores(scores: list[PointwiseResult]) -> PointwiseResult:
    """One pointwise verdict from several samples: their score distributions averaged."""
    failed = [s for s in scores if isinstance(s, JudgmentFailure)]
    if failed or len(scores) == 1:
        return failed[0] if failed else scores[0]
    verdicts = [s for s in scores if isinstance(s, PointwiseVerdict)]
    distribution = {
        k: sum(v.distribution[k] for v in verdicts) / len(verdicts)
        for k in verdicts[0].distribution
    }
    best = max(distribution, key=lambda s: (distribution[s], -s))
    return verdicts[0].model_copy(
        update={
            "score": best,
            "distribution": distribution,
            "expected_score": sum(s * p for s, p in distribution.items()),
        }
    )
