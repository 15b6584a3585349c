"""The length-controlled win rate on data whose answer is known by construction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from judge.length import fit_length_model, length_controlled_win_rate
from judge.stats import win_rate
from judge.verdicts import FailureReason, JudgmentFailure, PairwiseVerdict


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def verdict(prob_a: float) -> PairwiseVerdict:
    winner = "A" if prob_a > 0.5 else "B" if prob_a < 0.5 else "tie"
    return PairwiseVerdict(
        method="logprob",
        model="fake",
        template="t",
        rubric="r",
        winner=winner,
        prob_a=prob_a,
        consistent=None,
        orders=(),
        swap="none",
    )


FAILED = JudgmentFailure(kind="pairwise", reason=FailureReason.PARSE_FAILURE, message="x")


def test_soft_targets_from_the_model_recover_its_parameters() -> None:
    diffs = np.linspace(-900, 900, 61)
    scale = float(np.std(diffs))
    probs = [sigmoid(0.4 + 1.7 * math.tanh(d / scale)) for d in diffs]
    fit = fit_length_model(diffs, probs, l2_length=0.0)
    assert fit.intercept == pytest.approx(0.4, abs=1e-6)
    assert fit.length_coef == pytest.approx(1.7, abs=1e-6)
    assert fit.length_scale == pytest.approx(scale)
    assert fit.lc_win_rate == pytest.approx(sigmoid(0.4), abs=1e-6)


def test_a_judge_that_only_rewards_length_gets_half_once_length_is_controlled() -> None:
    # A is the longer response in 3 pairs out of 4; the judge looks at length only.
    diffs = [300.0, 200.0, 100.0, -100.0] * 10
    scale = float(np.std(diffs))
    results = [verdict(sigmoid(2.0 * math.tanh(d / scale))) for d in diffs]
    lengths = [(int(500 + d), 500) for d in diffs]
    lc = length_controlled_win_rate(results, lengths, target="prob", resamples=200)
    assert lc.raw_win_rate is not None and lc.raw_win_rate > 0.65
    assert lc.lc_win_rate == pytest.approx(0.5, abs=1e-4)
    assert lc.length_coef == pytest.approx(2.0, abs=1e-2)
    assert lc.lc_ci is not None and lc.lc_ci[0] <= lc.lc_win_rate <= lc.lc_ci[1]


def test_raw_rate_and_interval_match_win_rate_and_failures_are_excluded() -> None:
    results = [verdict(0.9), verdict(0.2), verdict(0.8), FAILED, verdict(0.6), verdict(0.3)]
    lengths = [(100, 50), (40, 90), (70, 70), (1, 1), (200, 20), (10, 30)]
    lc = length_controlled_win_rate(results, lengths, resamples=100, seed=3)
    reference = win_rate(results, seed=3)
    assert (lc.n, lc.failures) == (5, 1)
    assert lc.raw_win_rate == pytest.approx(reference.win_rate)
    assert lc.raw_ci == pytest.approx((reference.ci_low, reference.ci_high))


def test_equal_lengths_leave_the_coefficient_unestimated() -> None:
    results = [verdict(0.9), verdict(0.1), verdict(0.9)]
    lc = length_controlled_win_rate(results, [(50, 50)] * 3, resamples=50)
    assert lc.length_coef is None
    assert lc.lc_win_rate == pytest.approx(2 / 3, abs=1e-3)  # intercept only: the raw rate


def test_group_terms_only_for_groups_with_enough_pairs() -> None:
    diffs = list(np.linspace(-50, 50, 12))
    groups = ["big"] * 6 + ["small-1"] * 3 + ["small-2"] * 3
    targets = [0.9] * 6 + [0.3] * 6
    fit = fit_length_model(diffs, targets, groups=groups, min_group_size=5)
    assert set(fit.group_terms) == {"big"}
    assert fit.group_terms["big"] > 0  # the group that wins more gets the positive term
    results = [verdict(t) for t in targets]
    lc = length_controlled_win_rate(
        results, [(int(100 + d), 100) for d in diffs], groups=groups, resamples=20
    )
    assert lc.groups_fitted == 1


def test_mismatched_inputs_are_errors() -> None:
    with pytest.raises(ValueError, match="one length pair"):
        length_controlled_win_rate([verdict(0.5)], [])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fit_length_model([1.0, 2.0], [0.5, 1.5])
    assert length_controlled_win_rate([FAILED], [(1, 2)]).lc_win_rate is None
