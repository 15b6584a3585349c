"""Each benchmark's own scoring on hand-built verdicts (pure logic, no model)."""

from __future__ import annotations

import math

import pytest

from judge import OrderResult, PairwiseVerdict, PointwiseVerdict
from judge.bench import PreferenceItem
from judge.bench.human import HumanPair, agreement, human_human, kappas
from judge.bench.protocols import ties_prompt, ties_score
from judge.bench.scoring import pairwise_outcome, pointwise_outcome, summarize
from judge.verdicts import Winner

RM = PreferenceItem(
    "rm", "chat", "q", "c1", ("r1", "r2", "r3"), also_chosen=("c2", "c3"), protocol="rm-bench"
)
JB = PreferenceItem("jb", "math", "q", "good", ("bad",), protocol="judgebench", chosen_label="A")


def pair(winner: Winner, *orders: Winner, prob: float = 0.7) -> PairwiseVerdict:
    shown = [
        OrderResult(shown=s, label_probs={"A": 0.5, "B": 0.5}, prob_a=0.5, winner=w)
        for s, w in zip(("AB", "BA"), orders or (winner,), strict=False)
    ]
    return PairwiseVerdict(
        method="logprob",
        model="m",
        template="t",
        rubric="r",
        winner=winner,
        prob_a=prob,
        consistent=None if len(shown) == 1 else len({o.winner for o in shown}) == 1,
        orders=tuple(shown),
        swap="both" if len(shown) == 2 else "none",
    )


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


def test_rm_bench_matrix_hard_normal_easy() -> None:
    # chosen style i beats rejected style j only when i >= j: a judge swayed by style
    wins = [pair("A" if i >= j else "B") for i in range(3) for j in range(3)]
    outcome = pairwise_outcome(RM, ["A"] * 9, wins)
    assert outcome.cells == ((1, 0, 0), (1, 1, 0), (1, 1, 1))
    assert outcome.score == pytest.approx(6 / 9)
    report = summarize("chat", [outcome])
    assert report.published["rm_bench_hard"] == 0.0
    assert report.published["rm_bench_normal"] == 1.0
    assert report.published["rm_bench_easy"] == 1.0


def test_rm_bench_tie_is_half_ours_and_a_loss_published() -> None:
    outcome = pairwise_outcome(RM, ["A"] * 9, [pair("tie")] * 9)
    assert outcome.score == 0.5 and outcome.published["rm_bench_avg"] == 0.0


def test_rm_bench_pointwise_uses_strict_score_comparisons() -> None:
    outcome = pointwise_outcome(RM, [score(s) for s in (5, 7, 9, 4, 6, 8)])
    assert outcome.cells == ((1, 0, 0), (1, 1, 0), (1, 1, 1))
    assert outcome.published["rm_bench_hard"] == 0.0


def test_judgebench_inconsistent_pair_is_not_a_win() -> None:
    consistent = pairwise_outcome(JB, ["A"], [pair("A", "A", "A")])
    one_tie = pairwise_outcome(JB, ["A"], [pair("A", "A", "tie")])
    flipped = pairwise_outcome(JB, ["A"], [pair("tie", "A", "B")])
    assert [o.published["judgebench"] for o in (consistent, one_tie, flipped)] == [1, 1, 0]
    assert flipped.published["judgebench_one_order"] == 1.0  # the published order alone
    report = summarize("math", [consistent, one_tie, flipped])
    assert report.published["judgebench"] == pytest.approx(2 / 3)
    assert report.accuracy == pytest.approx((1 + 1 + 0.5) / 3)  # ours: averaged verdict


def test_ties_prompt_stats_and_subset_score() -> None:
    assert ties_prompt([9, 8, 5, 4], correct=2) == (True, 1, 3)
    assert ties_prompt([9, 3, 5], correct=2) == (False, 6, -2)
    # ref accurate, tied accurate, margin 3 > spread 1, min(ref 4, tied 3) > 1
    stats = {"ref:1": ties_prompt([9, 5], 1), "tied:1": ties_prompt([9, 8, 5, 4], 2)}
    expected = 0.3 + 0.3 + 0.2 + 0.2 + 0.01 * math.tanh(3 / 1 - 1)
    assert ties_score(stats)["ties_score"] == pytest.approx(expected)


def test_ties_items_pointwise_report_the_subset_score() -> None:
    ref = PreferenceItem("ref:1", "Ties", "q", "red", ("green",), protocol="rewardbench2-ties")
    tied = PreferenceItem(
        "tied:1",
        "Ties",
        "q",
        "red",
        ("green", "purple"),
        also_chosen=("blue",),
        protocol="rewardbench2-ties",
    )
    outcomes = [
        pointwise_outcome(ref, [score(9), score(5)]),
        pointwise_outcome(tied, [score(9), score(8), score(5), score(4)]),
    ]
    report = summarize("Ties", outcomes)
    assert report.accuracy == 1.0 and report.published["ties_score"] == pytest.approx(
        0.3 + 0.3 + 0.2 + 0.2 + 0.01 * math.tanh(3 - 1)
    )
    pairwise = pairwise_outcome(tied, ["A"] * 4, [pair("A")] * 3 + [pair("B")])
    assert pairwise.score == 0.0  # one correct answer lost to an incorrect one


def test_fastchat_agreement_with_and_without_ties() -> None:
    judge = ["A", "tie", "B"]
    votes = [("A", "B", "tie"), ("A", "tie"), ("B", "B")]
    assert agreement(judge, votes, ties=True) == (1 + 1 + 2, 3 + 2 + 2)
    assert agreement(judge, votes, ties=False) == (1 + 2, 2 + 2)  # tie verdict skipped
    assert human_human(votes, ties=True) == (0 + 0 + 1, 3 + 1 + 1)
    assert human_human(votes, ties=False) == (0 + 1, 1 + 1)
    assert kappas(["A", "B"], [("A",), ("B",)])["kappa"] == 1.0


def test_human_pairs_report_agreement_kappa_and_humans_beside() -> None:
    pairs = [
        HumanPair("h1", "s", "q", "a", "b", ("A", "A", "tie")),
        HumanPair("h2", "s", "q", "a", "b", ("B", "B")),
    ]
    outcomes = [
        pairwise_outcome(pairs[0], ["A"], [pair("A", prob=0.9)]),
        pairwise_outcome(pairs[1], ["A"], [pair("A", prob=0.6)]),
    ]
    assert outcomes[0].score == pytest.approx(2 / 3) and outcomes[1].score == 0.0
    report = summarize("s", outcomes)
    assert report.published["agreement_with_ties"] == pytest.approx(2 / 5)
    assert report.published["agreement_without_ties"] == pytest.approx(2 / 4)
    assert report.published["human_human_with_ties"] == pytest.approx(2 / 4)
    assert report.published["human_human_without_ties"] == 1.0
    assert report.kappa is not None and report.kappa < 0.5
    # Brier against the soft label: (0.9 - 5/6)² and (0.6 - 0)²
    assert report.brier == pytest.approx(((0.9 - 2.5 / 3) ** 2 + 0.6**2) / 2)


def test_rewardbench2_best_of_n_tie_for_the_top_both_readings() -> None:
    four = PreferenceItem("b", "Focus", "q", "good", ("r1", "r2", "r3"))
    outcome = pointwise_outcome(four, [score(8), score(8), score(3), score(2)])
    assert outcome.score == 0.0 and outcome.tie  # ours: a shared top is not first
    assert outcome.published == {"rewardbench2": 1.0}  # upstream's argmax picks index 0
    assert summarize("Focus", [outcome]).published["rewardbench2"] == 1.0
