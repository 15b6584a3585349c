"""Position debiasing: orders shown, unswapping, combining and consistency."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judge.debias import combine, consistency, orders_to_show, prob_a, unswap, winner_of

# orders_to_show -------------------------------------------------------------------


def test_both_shows_both_orders() -> None:
    assert orders_to_show("both", 0, "abc") == ("AB", "BA")
    assert orders_to_show("both", 123, "xyz") == ("AB", "BA")


def test_none_shows_the_given_order() -> None:
    assert orders_to_show("none", 0, "abc") == ("AB",)
    assert orders_to_show("none", 7, "xyz") == ("AB",)


def _digests(n: int) -> list[str]:
    return [hashlib.sha256(f"item-{i}".encode()).hexdigest() for i in range(n)]


def test_random_is_deterministic_for_same_seed_and_digest() -> None:
    for digest in _digests(50):
        first = orders_to_show("random", 42, digest)
        assert first in {("AB",), ("BA",)}
        assert orders_to_show("random", 42, digest) == first


def test_random_shows_ba_about_half_the_time() -> None:
    shown = [orders_to_show("random", 0, d) for d in _digests(200)]
    ba = sum(order == ("BA",) for order in shown)
    assert 70 <= ba <= 130


def test_random_depends_on_seed() -> None:
    digests = _digests(100)
    a = [orders_to_show("random", 0, d) for d in digests]
    b = [orders_to_show("random", 1, d) for d in digests]
    assert a != b


# unswap / prob_a / winner_of -------------------------------------------------------


def test_unswap_ab_is_identity() -> None:
    probs = {"A": 0.7, "B": 0.2, "tie": 0.1}
    assert unswap(probs, "AB") == probs


def test_unswap_ba_swaps_a_and_b_and_keeps_tie() -> None:
    assert unswap({"A": 0.7, "B": 0.2, "tie": 0.1}, "BA") == {"B": 0.7, "A": 0.2, "tie": 0.1}
    assert unswap({"A": 1.0, "B": 0.0}, "BA") == {"A": 0.0, "B": 1.0}


def test_prob_a_counts_tie_half() -> None:
    assert prob_a({"A": 0.5, "B": 0.3, "tie": 0.2}) == pytest.approx(0.6)
    assert prob_a({"A": 0.25, "B": 0.75}) == pytest.approx(0.25)
    assert prob_a({"tie": 1.0}) == pytest.approx(0.5)


def test_winner_of() -> None:
    assert winner_of({"A": 0.6, "B": 0.4}) == "A"
    assert winner_of({"A": 0.4, "B": 0.6}) == "B"
    assert winner_of({"A": 0.5, "B": 0.5}) == "tie"
    assert winner_of({"A": 0.3, "B": 0.3, "tie": 0.4}) == "tie"
    assert winner_of({"A": 0.2, "B": 0.3, "tie": 0.5}) == "tie"
    assert winner_of({"A": 0.45, "B": 0.35, "tie": 0.2}) == "A"
    assert winner_of({"A": 0.1, "B": 0.6, "tie": 0.3}) == "B"


# combine / consistency ------------------------------------------------------------


def test_combine_averages_per_label() -> None:
    out = combine([{"A": 0.9, "B": 0.1}, {"A": 0.3, "B": 0.7}])
    assert out == {"A": pytest.approx(0.6), "B": pytest.approx(0.4)}


def test_combine_missing_label_counts_as_zero() -> None:
    out = combine([{"A": 0.8, "B": 0.0, "tie": 0.2}, {"A": 0.4, "B": 0.6}])
    assert out == {"A": pytest.approx(0.6), "B": pytest.approx(0.3), "tie": pytest.approx(0.1)}


def test_combine_single_order_is_identity() -> None:
    assert combine([{"A": 0.9, "B": 0.1}]) == {"A": pytest.approx(0.9), "B": pytest.approx(0.1)}


def test_consistency() -> None:
    assert consistency(["A"]) is None
    assert consistency([]) is None
    assert consistency(["A", "A"]) is True
    assert consistency(["tie", "tie"]) is True
    assert consistency(["A", "B"]) is False
    assert consistency(["A", "tie"]) is False


# Properties -----------------------------------------------------------------------

_unit = st.floats(min_value=0.0, max_value=1.0)


def _judge_both(first_shown: dict[str, float], second_shown: dict[str, float]) -> float:
    """prob_a of swap="both" given the label probabilities of the AB and BA orders."""
    return prob_a(combine([unswap(first_shown, "AB"), unswap(second_shown, "BA")]))


@given(p1=_unit, p2=_unit)
def test_pair_and_mirror_prob_a_sum_to_one(p1: float, p2: float) -> None:
    # p1: P(first shown wins) when x is shown first; p2: when y is shown first.
    x_first = {"A": p1, "B": 1.0 - p1}
    y_first = {"A": p2, "B": 1.0 - p2}
    pair = _judge_both(x_first, y_first)  # pair (x, y): AB shows x first, BA shows y first
    mirror = _judge_both(y_first, x_first)  # mirror (y, x): AB shows y first
    assert pair + mirror == pytest.approx(1.0)
    assert pair == pytest.approx(0.5 * (p1 + 1.0 - p2))
    assert 0.0 <= pair <= 1.0 + 1e-12


@given(a1=_unit, t1=_unit, a2=_unit, t2=_unit)
def test_pair_and_mirror_sum_to_one_with_ties(a1: float, t1: float, a2: float, t2: float) -> None:
    def dist(a: float, t: float) -> dict[str, float]:
        a, t = a * (1 - t), t  # A + tie <= 1
        return {"A": a, "B": 1.0 - a - t, "tie": t}

    x_first, y_first = dist(a1, t1), dist(a2, t2)
    assert _judge_both(x_first, y_first) + _judge_both(y_first, x_first) == pytest.approx(1.0)


@given(p=_unit)
def test_pure_position_bias_cancels(p: float) -> None:
    # A judge that gives the first-shown response probability p whatever it is.
    shown = {"A": p, "B": 1.0 - p}
    assert _judge_both(shown, shown) == pytest.approx(0.5)
