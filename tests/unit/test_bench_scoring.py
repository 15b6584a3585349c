"""Scoring items and summarizing subsets: pure logic on hand-built verdicts."""

from __future__ import annotations

import json

import pytest

from judge import FailureReason, JudgmentFailure, OrderResult, PairwiseVerdict, PointwiseVerdict
from judge.bench import PreferenceItem
from judge.bench.runner import chosen_label
from judge.bench.scoring import pairwise_outcome, pointwise_outcome, summarize
from judge.jsonable import to_jsonable
from judge.stats import preference_stats
from judge.verdicts import Winner

PAIR = PreferenceItem("p1", "s", "q", "good", ("bad",))
FOUR = PreferenceItem("b1", "s", "q", "good", ("bad1", "bad2", "bad3"))


def verdict(winner: Winner, consistent: bool | None = True) -> PairwiseVerdict:
    prob = {"A": 0.9, "B": 0.1, "tie": 0.5}[winner]
    orders = (
        OrderResult(shown="AB", label_probs={"A": prob, "B": 1 - prob}, prob_a=prob, winner=winner),
    )
    return PairwiseVerdict(
        method="logprob",
        model="m",
        template="t",
        rubric="r",
        winner=winner,
        prob_a=prob,
        consistent=consistent,
        orders=orders,
        swap="none",
    )


def failure(kind: str = "pairwise") -> JudgmentFailure:
    return JudgmentFailure(kind=kind, reason=FailureReason.PARSE_FAILURE, message="x")  # type: ignore[arg-type]


def score(value: float) -> PointwiseVerdict:
    return PointwiseVerdict(
        method="logprob",
        model="m",
        template="t",
        rubric="r",
        score=round(value),
        expected_score=value,
        distribution={round(value): 1.0},
        scale=(1, 10),
    )


@pytest.mark.parametrize(
    ("label", "winner", "expected"),
    [("A", "A", 1.0), ("B", "B", 1.0), ("A", "B", 0.0), ("B", "A", 0.0), ("A", "tie", 0.5)],
)
def test_plain_pair_win_tie_loss(label: str, winner: Winner, expected: float) -> None:
    outcome = pairwise_outcome(PAIR, [label], [verdict(winner)])
    assert outcome.score == expected
    assert outcome.tie is (winner == "tie")


def test_best_of_four_pairwise_needs_every_win() -> None:
    labels = ["A", "B", "A"]
    assert pairwise_outcome(FOUR, labels, [verdict("A"), verdict("B"), verdict("A")]).score == 1.0
    assert pairwise_outcome(FOUR, labels, [verdict("A"), verdict("A"), verdict("A")]).score == 0.0
    tied = pairwise_outcome(FOUR, labels, [verdict("A"), verdict("tie"), verdict("A")])
    assert tied.score == 0.0 and tied.tie  # a tie is not a win with several rejected
    assert pairwise_outcome(FOUR, labels, [verdict("A"), failure(), verdict("A")]).score is None


def test_pointwise_chosen_must_score_strictly_highest() -> None:
    assert pointwise_outcome(FOUR, [score(8), score(3), score(7.5), score(2)]).score == 1.0
    top_tie = pointwise_outcome(FOUR, [score(8), score(8), score(1), score(2)])
    assert top_tie.score == 0.0 and top_tie.tie
    assert pointwise_outcome(FOUR, [score(3), score(8), score(1), score(2)]).score == 0.0
    assert (
        pointwise_outcome(FOUR, [score(9), failure("pointwise"), score(1), score(2)]).score is None
    )


def test_pairs_accuracy_is_preference_stats_accuracy() -> None:
    results = [verdict("A"), verdict("B", consistent=False), verdict("tie"), failure()]
    labels = ["A", "A", "B", "A"]
    items = [PreferenceItem(f"p{i}", "s", "q", "good", ("bad",)) for i in range(4)]
    outcomes = [
        pairwise_outcome(i, [lab], [r]) for i, lab, r in zip(items, labels, results, strict=True)
    ]
    report = summarize("s", outcomes, seed=3)
    stats = preference_stats(
        results, gold=labels, lengths=[(4, 3) if lab == "A" else (3, 4) for lab in labels], seed=3
    )
    assert report.accuracy == stats.accuracy == pytest.approx(0.5)  # (1 + 0 + ½) / 3
    assert report.accuracy_ci == stats.accuracy_ci
    assert report.consistency == stats.consistency == pytest.approx(2 / 3)
    assert report.p_first == stats.p_first
    assert (report.items, report.judged, report.failures) == (4, 3, 1)
    assert report.failure_reasons == {"parse_failure": 1}
    assert report.tie_rate == pytest.approx(1 / 3)
    json.dumps(to_jsonable(report))


def test_best_of_n_accuracy_is_mean_of_all_win_items() -> None:
    labels = ["A", "A", "A"]
    wins = pairwise_outcome(FOUR, labels, [verdict("A")] * 3)
    loses = pairwise_outcome(FOUR, labels, [verdict("A"), verdict("B"), verdict("A")])
    report = summarize("s", [wins, loses, wins], seconds=2.0)
    assert report.accuracy == pytest.approx(2 / 3)
    assert report.accuracy_ci is not None and report.accuracy_ci[0] <= 2 / 3
    assert report.judgments == 9 and report.seconds == 2.0


def test_pointwise_summary_has_no_position_numbers() -> None:
    outcome = pointwise_outcome(FOUR, [score(8), score(3), score(7), score(2)])
    report = summarize("s", [outcome])
    assert report.accuracy == 1.0 and report.consistency is None and report.p_first is None


def test_chosen_label_is_deterministic_and_balanced() -> None:
    labels = [chosen_label(0, f"item-{i}", 0) for i in range(400)]
    assert labels == [chosen_label(0, f"item-{i}", 0) for i in range(400)]
    assert 160 < labels.count("A") < 240
    assert labels != [chosen_label(1, f"item-{i}", 0) for i in range(400)]
