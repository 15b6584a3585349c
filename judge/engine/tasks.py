"""Plan and finish the two judgment tasks: pairwise comparison and pointwise scoring.

Planning renders each order's messages (fitting the judged texts into the context
first, identically for both orders) and builds the backend calls. Finishing turns
the calls' readings into a verdict, or a failure that keeps whatever did succeed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from judge.backends.base import Backend, GenerateRequest, LabelRequest, Message
from judge.cache import cache_key
from judge.debias import combine, consistency, orders_to_show, prob_a, unswap, winner_of
from judge.engine.calls import Call, CallFailure, Reading
from judge.engine.fit import OnOverflow, fit
from judge.engine.schemas import json_schema, pairwise_schema, pointwise_schema
from judge.inputs import PairInput, PointInput, as_pair, as_point
from judge.templates import JudgeTemplate, delimit
from judge.verdicts import (
    FailureReason,
    JudgmentFailure,
    Method,
    Order,
    OrderResult,
    PairwiseResult,
    PairwiseVerdict,
    PointwiseResult,
    PointwiseVerdict,
    SwapMode,
    Truncation,
)

_LOGPROB_RESERVE = 4  # tokens kept free after the prompt for the verdict label
TaskName = Literal["pairwise", "pointwise"]


@dataclass(frozen=True)
class Setup:
    """Everything fixed for a run of one task: backend, templates and settings."""

    backend: Backend
    template: JudgeTemplate
    rubric: JudgeTemplate
    method: Method
    swap: SwapMode
    seed: int
    on_overflow: OnOverflow
    max_new_tokens: int
    temperature: float

    @cached_property
    def rubric_text(self) -> str:
        """The rendered rubric (criteria) text."""
        return self.rubric.render_text({})

    @cached_property
    def labels(self) -> tuple[str, ...]:
        """Verdict labels offered by the template."""
        spec = self.template.spec
        return spec.labels if spec.verdict == "pairwise" else spec.score_labels

    @cached_property
    def schema(self) -> type[BaseModel] | None:
        """The verdict schema for the generate method."""
        if self.method != "generate":
            return None
        spec = self.template.spec
        if spec.verdict == "pairwise":
            return pairwise_schema(spec.labels)
        assert spec.scale is not None
        return pointwise_schema(*spec.scale)

    @cached_property
    def schema_json(self) -> dict[str, Any]:
        """The verdict schema as JSON schema, built once per run (generate method)."""
        assert self.schema is not None
        return json_schema(self.schema)

    @cached_property
    def fingerprint(self) -> dict[str, str]:
        """The backend's identity, computed once per run."""
        return self.backend.fingerprint()

    def render(self, judged: Mapping[str, str]) -> tuple[Message, ...]:
        """Chat messages with every judged text delimited and neutralized."""
        names = list(judged)
        variables: dict[str, Any] = {"rubric": self.rubric_text, "method": self.method}
        variables |= {
            k: delimit(k, v, names, self.backend.special_tokens) for k, v in judged.items()
        }
        return tuple(self.template.render_messages(variables))

    def fit(self, judged: Mapping[str, str]) -> tuple[dict[str, str], tuple[Truncation, ...]] | str:
        """Judged texts that fit the context under the overflow policy, or why not."""
        limit = self.backend.context_length
        if limit is None:
            return dict(judged), ()  # unknown context: nothing to fit against
        reserve = self.max_new_tokens if self.method == "generate" else _LOGPROB_RESERVE

        def measure(texts: Mapping[str, str]) -> int:
            # A backend that cannot count reports None: treat the prompt as fitting.
            return self.backend.count_tokens(self.render(texts)) or 0

        return fit(judged, measure, limit - reserve, self.on_overflow)

    def call(self, messages: tuple[Message, ...]) -> Call:
        """The backend call (and its cache key) for rendered messages."""
        request: dict[str, Any] = {
            "messages": messages,
            "template": self.template.digest,
            "method": self.method,
            "labels": self.labels,
        }
        if self.schema is None:
            return Call(
                cache_key(self.fingerprint, request),
                self.method,
                LabelRequest(messages, self.labels),
                self.labels,
            )
        schema = self.schema_json
        request |= {
            "schema": schema,
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
        }
        # A sampled verdict depends on the seed: it reaches the backend and the cache
        # key, so several seeds give several samples. Greedy keys stay as they were.
        seed = self.seed if self.temperature > 0 else None
        if seed is not None:
            request["seed"] = seed
        generate = GenerateRequest(messages, schema, self.max_new_tokens, self.temperature, seed)
        return Call(
            cache_key(self.fingerprint, request), self.method, generate, self.labels, self.schema
        )

    def common(self) -> dict[str, Any]:
        """Fields every verdict of this run shares."""
        return {
            "method": self.method,
            "model": self.backend.name,
            "template": self.template.name,
            "rubric": self.rubric.name,
        }


@dataclass(frozen=True)
class PairPlan:
    """The calls for one pair (one per order shown), or why none can be made."""

    orders: tuple[Order, ...]
    calls: tuple[Call, ...]
    truncations: tuple[Truncation, ...] = ()
    failure: JudgmentFailure | None = None


@dataclass(frozen=True)
class PointPlan:
    """The call for one response, or why it cannot be made."""

    calls: tuple[Call, ...]
    truncations: tuple[Truncation, ...] = ()
    failure: JudgmentFailure | None = None


def plan_pair(setup: Setup, item: PairInput) -> PairPlan:
    """Fit, render and build the calls for each order of a pair."""
    orders = orders_to_show(setup.swap, setup.seed, item.digest())
    fitted = setup.fit(item.judged("AB"))
    if isinstance(fitted, str):
        return PairPlan(
            orders, (), failure=_overflow("pairwise", fitted, setup.render(item.judged("AB")))
        )
    texts, cuts = fitted
    shortened = PairInput(
        texts["prompt"], texts["response_a"], texts["response_b"], {k: texts[k] for k in item.extra}
    )
    calls = tuple(setup.call(setup.render(shortened.judged(o))) for o in orders)
    return PairPlan(orders, calls, cuts)


def plan_point(setup: Setup, item: PointInput) -> PointPlan:
    """Fit, render and build the call for one response."""
    fitted = setup.fit(item.judged())
    if isinstance(fitted, str):
        return PointPlan((), failure=_overflow("pointwise", fitted, setup.render(item.judged())))
    texts, cuts = fitted
    return PointPlan((setup.call(setup.render(texts)),), cuts)


def _overflow(kind: Any, message: str, messages: tuple[Message, ...]) -> JudgmentFailure:
    return JudgmentFailure(
        kind=kind, reason=FailureReason.CONTEXT_OVERFLOW, message=message, messages=messages
    )


def _failure(
    kind: Any, call: Call, failure: CallFailure, message: str, orders: tuple[OrderResult, ...] = ()
) -> JudgmentFailure:
    return JudgmentFailure(
        kind=kind,
        reason=failure.reason,
        message=message,
        retryable=failure.retryable,
        raw_output=failure.raw_output,
        messages=call.messages,
        orders=orders,
    )


def finish_pair(
    setup: Setup, plan: PairPlan, outcomes: Mapping[str, Reading | CallFailure]
) -> PairwiseResult:
    """Combine the orders' readings into a pairwise verdict (docs/architecture.md: combine)."""
    if plan.failure is not None:
        return plan.failure
    done: list[OrderResult] = []
    failed: list[tuple[Order, Call, CallFailure]] = []
    for order, call in zip(plan.orders, plan.calls, strict=True):
        outcome = outcomes[call.key]
        if isinstance(outcome, CallFailure):
            failed.append((order, call, outcome))
            continue
        probs = unswap(outcome.probs, order)
        done.append(
            OrderResult(
                shown=order,
                label_probs=outcome.probs,
                prob_a=prob_a(probs),
                winner=winner_of(probs),
                rationale=outcome.rationale,
                raw_output=outcome.raw_output,
                cached=outcome.cached,
                usage=outcome.usage,
            )
        )
    if failed:
        order, call, failure = failed[0]
        return _failure(
            "pairwise", call, failure, f"order {order} failed: {failure.message}", tuple(done)
        )
    combined = combine([unswap(o.label_probs, o.shown) for o in done])
    return PairwiseVerdict(
        winner=winner_of(combined),
        prob_a=min(max(prob_a(combined), 0.0), 1.0),
        prob_tie=combined.get("tie") if "tie" in setup.labels else None,
        consistent=consistency([o.winner for o in done]),
        orders=tuple(done),
        swap=setup.swap,
        truncations=plan.truncations,
        **setup.common(),
    )


def finish_point(
    setup: Setup, plan: PointPlan, outcomes: Mapping[str, Reading | CallFailure]
) -> PointwiseResult:
    """Turn a reading over the score labels into a pointwise verdict."""
    if plan.failure is not None:
        return plan.failure
    call = plan.calls[0]
    outcome = outcomes[call.key]
    if isinstance(outcome, CallFailure):
        return _failure("pointwise", call, outcome, outcome.message)
    distribution = {int(label): p for label, p in outcome.probs.items()}
    score = max(distribution, key=lambda s: (distribution[s], -s))
    spec = setup.template.spec
    assert spec.scale is not None
    return PointwiseVerdict(
        score=score,
        expected_score=sum(s * p for s, p in distribution.items()),
        distribution=distribution,
        scale=spec.scale,
        rationale=outcome.rationale,
        raw_output=outcome.raw_output,
        cached=outcome.cached,
        usage=outcome.usage,
        truncations=plan.truncations,
        **setup.common(),
    )


Plan = PairPlan | PointPlan
InputT = TypeVar("InputT", PairInput, PointInput)
PlanT = TypeVar("PlanT", PairPlan, PointPlan)
ResultT = TypeVar("ResultT")
Outcomes = Mapping[str, Reading | CallFailure]


@dataclass(frozen=True)
class TaskKind(Generic[InputT, PlanT, ResultT]):
    """How one task turns items into plans and outcomes into results."""

    name: TaskName
    convert: Callable[[Any], InputT]
    plan: Callable[[Setup, InputT], PlanT]
    finish: Callable[[Setup, PlanT, Outcomes], ResultT]


PAIRWISE: TaskKind[PairInput, PairPlan, PairwiseResult] = TaskKind(
    "pairwise", as_pair, plan_pair, finish_pair
)
POINTWISE: TaskKind[PointInput, PointPlan, PointwiseResult] = TaskKind(
    "pointwise", as_point, plan_point, finish_point
)
