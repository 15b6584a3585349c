"""Best-of-N: the judge picks one of N candidate responses to each prompt.

Two ways to pick: ``"tournament"`` compares every pair of candidates (round robin,
each pair in the judge's swap mode) and fits Bradley–Terry strengths to the soft
outcomes (`judge.reward.bradley_terry`); ``"pointwise"`` scores each candidate and
takes the highest expected score. Any judge-like object works (a `judge.Judge`, a
protocol, a `judge.protocols.Panel`). Failed judgments are left out of the fit and
counted; a prompt whose judgments all failed has no pick (never a made-up one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal

from judge.errors import UserError
from judge.inputs import PairInput, PointInput
from judge.protocols.base import JudgeLike
from judge.reward.bradley_terry import fit_bradley_terry
from judge.verdicts import JudgmentFailure, PairwiseVerdict, PointwiseVerdict

RankMethod = Literal["tournament", "pointwise"]


@dataclass(frozen=True)
class RankItem:
    """One prompt and its candidate responses (``extra``: further template variables)."""

    prompt: str
    candidates: tuple[str, ...]
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Ranked:
    """The judge's pick among one prompt's candidates.

    Attributes:
        picked: index of the chosen candidate, or None when every judgment failed.
        scores: per candidate, its Bradley–Terry strength (tournament) or expected
            score (pointwise); None for a candidate with no successful judgment.
        judgments: judgments asked for this prompt.
        failures: how many of them failed (their reasons in ``failure_reasons``).
        failure_reasons: the failed judgments' reasons.
    """

    picked: int | None
    scores: tuple[float | None, ...]
    judgments: int
    failures: int
    failure_reasons: tuple[str, ...] = ()


def rank(
    judge: JudgeLike, items: Sequence[RankItem], *, method: RankMethod = "tournament"
) -> list[Ranked]:
    """Pick the best candidate of each item, judging every item in one batch.

    Args:
        judge: a `judge.Judge` or anything with its batch methods.
        items: prompts with at least two candidates each.
        method: ``"tournament"`` (all pairs) or ``"pointwise"`` (one score each).

    Raises:
        UserError: an item with fewer than two candidates, or an unknown method.
    """
    for k, item in enumerate(items):
        if len(item.candidates) < 2:
            raise UserError(
                f"item {k} has {len(item.candidates)} candidate(s); best-of-N needs at least two"
            )
    if method == "tournament":
        return _tournament(judge, items)
    if method == "pointwise":
        return _pointwise(judge, items)
    raise UserError(f"method must be 'tournament' or 'pointwise', got {method!r}")


def _tournament(judge: JudgeLike, items: Sequence[RankItem]) -> list[Ranked]:
    pairs = [[(i, j) for i, j in combinations(range(len(it.candidates)), 2)] for it in items]
    requests = [
        PairInput(it.prompt, it.candidates[i], it.candidates[j], dict(it.extra))
        for it, ij in zip(items, pairs, strict=True)
        for i, j in ij
    ]
    results = iter(judge.compare_batch(requests))
    ranked = []
    for item, ij in zip(items, pairs, strict=True):
        verdicts = [(i, j, next(results)) for i, j in ij]
        won = [(i, j, v.prob_a) for i, j, v in verdicts if isinstance(v, PairwiseVerdict)]
        seen = {k for i, j, _ in won for k in (i, j)}
        strengths = fit_bradley_terry(len(item.candidates), won) if won else None
        scores = tuple(
            float(strengths[k]) if strengths is not None and k in seen else None
            for k in range(len(item.candidates))
        )
        ranked.append(_ranked(scores, [v for _, _, v in verdicts]))
    return ranked


def _pointwise(judge: JudgeLike, items: Sequence[RankItem]) -> list[Ranked]:
    requests = [PointInput(it.prompt, c, dict(it.extra)) for it in items for c in it.candidates]
    results = iter(judge.score_batch(requests))
    ranked = []
    for item in items:
        verdicts = [next(results) for _ in item.candidates]
        scores = tuple(
            v.expected_score if isinstance(v, PointwiseVerdict) else None for v in verdicts
        )
        ranked.append(_ranked(scores, verdicts))
    return ranked


def _ranked(scores: tuple[float | None, ...], verdicts: Sequence[Any]) -> Ranked:
    known = [(s, -k) for k, s in enumerate(scores) if s is not None]
    picked = -max(known)[1] if known else None  # ties go to the earlier candidate
    reasons = tuple(v.reason.value for v in verdicts if isinstance(v, JudgmentFailure))
    return Ranked(picked, scores, len(verdicts), len(reasons), reasons)
