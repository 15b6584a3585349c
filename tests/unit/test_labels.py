"""LabelTrie and renormalize: probabilities of complete verdict labels from token log-probs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judge.backends.labels import LabelTrie, renormalize

LOG = math.log


# Single-token labels ---------------------------------------------------------------


def test_single_token_probes_and_needed() -> None:
    trie = LabelTrie({"A": (1,), "B": (2,)})
    assert trie.probes() == [()]
    assert trie.needed() == {(): {1, 2}}


def test_single_token_combine_is_the_token_logprob() -> None:
    trie = LabelTrie({"A": (1,), "B": (2,)})
    out = trie.combine({((), 1): LOG(0.7), ((), 2): LOG(0.2)})
    assert out.keys() == {"A", "B"}
    assert out["A"] == pytest.approx(LOG(0.7))
    assert out["B"] == pytest.approx(LOG(0.2))


# Multi-token labels sharing a prefix ------------------------------------------------


def test_prefix_label_probes_and_needed() -> None:
    trie = LabelTrie({"1": (1,), "10": (1, 0)})
    assert trie.probes() == [(1,)]
    assert trie.needed() == {(): {1}, (1,): {0}}


def test_prefix_label_combine_accounts_for_stopping() -> None:
    trie = LabelTrie({"1": (1,), "10": (1, 0)})
    p1, p0 = 0.6, 0.25  # p("1" | start), p("0" | "1")
    out = trie.combine({((), 1): LOG(p1), ((1,), 0): LOG(p0)})
    assert out["1"] == pytest.approx(LOG(p1) + LOG(1 - p0))
    assert out["10"] == pytest.approx(LOG(p1) + LOG(p0))
    # Probability mass through "1" is split exactly between "1" and "10".
    assert math.exp(out["1"]) + math.exp(out["10"]) == pytest.approx(p1)


def test_prefix_label_with_certain_continuation_has_zero_probability() -> None:
    trie = LabelTrie({"1": (1,), "10": (1, 0)})
    out = trie.combine({((), 1): LOG(0.5), ((1,), 0): 0.0})  # p("0" | "1") = 1
    assert out["1"] == -math.inf
    assert out["10"] == pytest.approx(LOG(0.5))


def test_ten_point_scale_probes() -> None:
    seqs = {str(s): (s,) for s in range(1, 10)} | {"10": (1, 0)}
    trie = LabelTrie(seqs)
    assert trie.probes() == [(1,)]
    needed = trie.needed()
    assert needed[()] == set(range(1, 10))
    assert needed[(1,)] == {0}


def test_probes_are_maximal_and_sorted() -> None:
    trie = LabelTrie({"x": (5, 6, 7), "y": (5, 6), "z": (9, 1)})
    # Prefixes: (), (5,), (5, 6), (9,); maximal ones are (5, 6) and (9,).
    assert trie.probes() == [(9,), (5, 6)]


def test_identical_tokenizations_raise() -> None:
    with pytest.raises(ValueError, match="tokenize identically"):
        LabelTrie({"A": (1,), "a": (1,)})


def test_empty_tokenization_raises() -> None:
    with pytest.raises(ValueError, match="tokenizes to nothing"):
        LabelTrie({"A": ()})


# renormalize ----------------------------------------------------------------------


def test_renormalize_is_a_softmax() -> None:
    out = renormalize({"A": LOG(0.3), "B": LOG(0.1)})
    assert out is not None
    assert out["A"] == pytest.approx(0.75)
    assert out["B"] == pytest.approx(0.25)


def test_renormalize_handles_very_negative_logprobs() -> None:
    out = renormalize({"A": -1000.0, "B": -1000.0 - LOG(3)})
    assert out is not None
    assert out["A"] == pytest.approx(0.75)
    assert out["B"] == pytest.approx(0.25)


def test_renormalize_gives_zero_to_minus_infinity() -> None:
    out = renormalize({"A": LOG(0.2), "B": -math.inf, "tie": LOG(0.2)})
    assert out == {"A": pytest.approx(0.5), "B": 0.0, "tie": pytest.approx(0.5)}


def test_renormalize_all_minus_infinity_is_none() -> None:
    assert renormalize({"A": -math.inf, "B": -math.inf}) is None
    assert renormalize({}) is None


# Properties -----------------------------------------------------------------------

_weights = st.lists(st.floats(min_value=1e-6, max_value=1.0), min_size=2, max_size=12)


@given(weights=_weights, leftover=st.floats(min_value=0.0, max_value=0.99))
def test_single_token_renormalized_probabilities_sum_to_one(
    weights: list[float], leftover: float
) -> None:
    # A next-token distribution putting (1 - leftover) of its mass on the labels.
    total = sum(weights)
    probs = [w / total * (1.0 - leftover) for w in weights]
    labels = {f"L{i}": (i + 1,) for i in range(len(probs))}
    trie = LabelTrie(labels)
    logprobs = {((), i + 1): LOG(p) for i, p in enumerate(probs)}
    out = renormalize(trie.combine(logprobs))
    assert out is not None
    assert sum(out.values()) == pytest.approx(1.0)
    for i, p in enumerate(probs):
        assert out[f"L{i}"] == pytest.approx(p / sum(probs))


@given(
    weights=st.lists(st.floats(min_value=1e-6, max_value=1.0), min_size=9, max_size=9),
    p_zero=st.floats(min_value=0.0, max_value=0.999),
)
def test_ten_point_scale_mass_is_conserved(weights: list[float], p_zero: float) -> None:
    # Scores 1..9 are single tokens; "10" is "1" followed by "0".
    total = sum(weights)
    first = [w / total for w in weights]  # p(token s | start) for s = 1..9, sums to 1
    seqs = {str(s): (s,) for s in range(1, 10)} | {"10": (1, 0)}
    trie = LabelTrie(seqs)
    logprobs = {((), s): LOG(first[s - 1]) for s in range(1, 10)}
    logprobs[((1,), 0)] = LOG(p_zero) if p_zero > 0 else -math.inf
    out = trie.combine(logprobs)
    probs = {k: math.exp(v) for k, v in out.items()}
    assert sum(probs.values()) == pytest.approx(1.0)
    assert probs["1"] == pytest.approx(first[0] * (1 - p_zero))
    assert probs["10"] == pytest.approx(first[0] * p_zero, abs=1e-12)
