"""The shared pairwise statistics, on verdicts whose answers are known by construction."""

from __future__ import annotations

import pytest

from judge.stats import preference_stats, win_rate
from judge.verdicts import FailureReason, JudgmentFailure, OrderResult, PairwiseVerdict


def verdict(*orders: tuple[str, float]) -> PairwiseVerdict:
    """A pair judged in the given orders; each order gives P(first shown ≻ second)."""
    shown = []
    for order, p_first in orders:
        probs = {"A": p_first, "B": 1.0 - p_first}
        p_a = p_first if order == "AB" else 1.0 - p_first
        shown.append(
            OrderResult(
                shown=order, label_probs=probs, prob_a=p_a, winner="A" if p_a > 0.5 else "B"
            )
        )
    prob_a = sum(o.prob_a for o in shown) / len(shown)
    winners = {o.winner for o in shown}
    winner = winners.pop() if len(winners) == 1 else "tie"
    return PairwiseVerdict(
        method="logprob",
        model="fake",
        template="t",
        rubric="r",
        winner=winner,
        prob_a=prob_a,
        consistent=None if len(shown) == 1 else winner != "tie",
        orders=tuple(shown),
        swap="both" if len(shown) > 1 else "none",
    )


FAILED = JudgmentFailure(kind="pairwise", reason=FailureReason.PARSE_FAILURE, message="x")


def test_a_judge_that_always_prefers_the_first_shown() -> None:
    always_first = [verdict(("AB", 0.9), ("BA", 0.9)) for _ in range(4)]
    stats = preference_stats(always_first, gold=["A", "B", "A", "B"])
    assert stats.p_first == pytest.approx(0.9)
    assert stats.consistency == 0.0
    assert stats.tie_rate == 1.0
    assert stats.accuracy == 0.5  # every verdict a tie: half credit each


def test_length_and_accuracy_known_by_construction() -> None:
    prefers_a = verdict(("AB", 0.8), ("BA", 0.2))  # consistent: A, prob_a 0.8
    prefers_b = verdict(("AB", 0.3), ("BA", 0.7))  # consistent: B, prob_a 0.3
    stats = preference_stats(
        [prefers_a, prefers_b, FAILED],
        lengths=[(100, 10), (100, 10), (5, 50)],
        gold=["A", "A", "A"],
    )
    assert (stats.n, stats.judged, stats.failures) == (3, 2, 1)
    assert stats.failure_reasons == {"parse_failure": 1}
    assert stats.consistency == 1.0
    assert stats.p_longer == pytest.approx((0.8 + 0.3) / 2)  # A is longer in both
    assert stats.longer_is_better == pytest.approx(2 / 3)  # failure still has a label
    assert stats.accuracy == 0.5
    assert stats.accuracy_ci is not None


def test_failures_only_and_length_mismatch() -> None:
    stats = preference_stats([FAILED])
    assert stats.judged == 0 and stats.p_first is None and stats.accuracy is None
    with pytest.raises(ValueError, match="gold has 2 entries for 1 results"):
        preference_stats([FAILED], gold=["A", "B"])


def test_win_rate_excludes_failures() -> None:
    summary = win_rate([verdict(("AB", 0.9)), FAILED])
    assert (summary.n, summary.failures, summary.win_rate) == (1, 1, 1.0)
