"""Typed verdicts: what a judgment returns, and what a failed judgment returns instead.

A verdict that could not be obtained is a `JudgmentFailure` with a reason and the raw
prompt and output; it never carries a number standing in for a score. Every verdict
records the method that produced it and, for pairwise judgments, each order shown.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Method = Literal["logprob", "generate"]
SwapMode = Literal["both", "random", "none"]
Winner = Literal["A", "B", "tie"]
Order = Literal["AB", "BA"]


class FailureReason(StrEnum):
    """Why a verdict could not be obtained."""

    PARSE_FAILURE = "parse_failure"
    """The output did not validate against the verdict schema."""
    OFF_MENU_LABEL = "off_menu_label"
    """The output named a label or score the template did not offer."""
    TRUNCATED_OUTPUT = "truncated_output"
    """Generation hit the token limit before the verdict was complete."""
    CONTEXT_OVERFLOW = "context_overflow"
    """The rendered prompt is longer than the model's context and the policy is to fail."""
    NO_LABEL_MASS = "no_label_mass"
    """The model put (numerically) zero probability on every offered label."""
    BACKEND_ERROR = "backend_error"
    """The backend raised; see ``retryable``."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Usage(_Frozen):
    """Tokens (and, where the provider's price is known, dollars) spent on a judgment.

    Judgments served from the cache spent nothing and carry no usage.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None

    def __add__(self, other: Usage) -> Usage:
        cost = (
            None
            if self.cost_usd is None and other.cost_usd is None
            else (self.cost_usd or 0.0) + (other.cost_usd or 0.0)
        )
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=cost,
        )


class Truncation(_Frozen):
    """A judged text shortened to fit the context (``on_overflow="truncate"``)."""

    field: str
    original_chars: int
    kept_chars: int


class OrderResult(_Frozen):
    """One presentation of a pair to the model.

    Attributes:
        shown: ``"AB"`` if response A was shown first, ``"BA"`` if B was.
        label_probs: renormalized probabilities over the labels *as shown*
            (``"A"`` is whatever was shown first). For ``method="generate"`` this is
            one-hot on the generated label.
        prob_a: P(A ≻ B) in the caller's labelling, ties counted half.
        winner: the label with the highest probability, in the caller's labelling.
        rationale: the model's reasoning (``method="generate"`` only).
        raw_output: the raw generated text (``method="generate"`` only).
        cached: whether this order came from the cache.
        usage: tokens and cost of this order's backend call (None when cached).
    """

    shown: Order
    label_probs: dict[str, float]
    prob_a: float
    winner: Winner
    rationale: str | None = None
    raw_output: str | None = None
    cached: bool = False
    usage: Usage | None = None


class _VerdictBase(_Frozen):
    ok: Literal[True] = True
    method: Method
    model: str
    template: str
    rubric: str | None
    truncations: tuple[Truncation, ...] = ()


class PairwiseVerdict(_VerdictBase):
    """The judge's preference between responses A and B.

    Attributes:
        winner: ``"A"``, ``"B"`` or ``"tie"``. With ``swap="both"`` and the generate
            method, two orders that disagree give ``"tie"``.
        prob_a: P(A ≻ B), averaged over the orders shown; a tie counts half (calibrated
            when the judge has a calibrator; the orders keep the raw readings).
        prob_tie: probability of a tie, when the template offers one.
        consistent: whether every order shown picked the same winner
            (``None`` when only one order was shown).
        orders: each order shown, with its own probabilities.
        swap: the position-debiasing mode used.
        raw_prob_a: the judge's own P(A ≻ B) when a calibrator (``Judge(calibration=)``)
            mapped it to ``prob_a``; None when no calibration was applied.
    """

    kind: Literal["pairwise"] = "pairwise"
    winner: Winner
    prob_a: float = Field(ge=0.0, le=1.0)
    raw_prob_a: float | None = None
    prob_tie: float | None = None
    consistent: bool | None
    orders: tuple[OrderResult, ...]
    swap: SwapMode


class PointwiseVerdict(_VerdictBase):
    """A score on the template's scale.

    Attributes:
        score: the most probable score (logprob) or the generated score (generate).
        expected_score: Σ s·p(s) over the scale (G-Eval style); equals ``score`` for
            the generate method.
        distribution: probability of each score on the scale.
        scale: (lowest, highest) score offered.
        rationale: the model's reasoning (generate only).
        raw_output: the raw generated text (generate only).
        cached: whether the judgment came from the cache.
        usage: tokens and cost of the backend call (None when cached).
    """

    kind: Literal["pointwise"] = "pointwise"
    score: int
    expected_score: float
    distribution: dict[int, float]
    scale: tuple[int, int]
    rationale: str | None = None
    raw_output: str | None = None
    cached: bool = False
    usage: Usage | None = None


class JudgmentFailure(_Frozen):
    """A judgment that produced no verdict, with the reason and what was seen.

    Attributes:
        reason: the kind of failure.
        message: a human-readable explanation.
        retryable: whether the same request may succeed later (backend errors).
        raw_output: the model's output, when there was one.
        messages: the rendered chat messages that were (or would have been) sent.
        orders: the orders that did succeed, for a swapped pair with one failure.
    """

    ok: Literal[False] = False
    kind: Literal["pairwise", "pointwise"]
    reason: FailureReason
    message: str
    retryable: bool = False
    raw_output: str | None = None
    messages: tuple[dict[str, str], ...] = ()
    orders: tuple[OrderResult, ...] = ()


PairwiseResult = Annotated[PairwiseVerdict | JudgmentFailure, Field(discriminator="ok")]
PointwiseResult = Annotated[PointwiseVerdict | JudgmentFailure, Field(discriminator="ok")]
