"""Fitting judged texts into the context: shorten, fail, truncate (water-filling)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judge.engine.fit import fit, shorten

OVERHEAD_CHARS = 400  # the fixed template around the judged texts


def measure(texts: Mapping[str, str]) -> int:
    """A fake tokenizer: four characters per token, template included."""
    return (OVERHEAD_CHARS + sum(len(v) for v in texts.values())) // 4


_MARKER = re.compile(r"\n\[… (\d+) characters truncated …\]\n")


# shorten --------------------------------------------------------------------------


def test_shorten_leaves_short_text_alone() -> None:
    assert shorten("hello", 5) == "hello"
    assert shorten("hello", 100) == "hello"


def test_shorten_keeps_head_and_tail_with_marker() -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(100))
    out = shorten(text, 20)
    assert out == text[:10] + "\n[… 80 characters truncated …]\n" + text[-10:]


def test_shorten_odd_keep_splits_head_and_tail() -> None:
    text = "0123456789" * 3
    out = shorten(text, 5)
    head, tail = _MARKER.split(out)[0], _MARKER.split(out)[2]
    assert head == "01"
    assert tail == "789"
    assert _MARKER.search(out).group(1) == "25"  # type: ignore[union-attr]


def test_shorten_to_nothing_is_only_the_marker() -> None:
    out = shorten("x" * 50, 0)
    assert out == "\n[… 50 characters truncated …]\n"


# fit: under budget / fail ---------------------------------------------------------


def test_under_budget_returns_unchanged() -> None:
    judged = {"prompt": "p" * 40, "response_a": "a" * 400, "response_b": "b" * 400}
    out = fit(judged, measure, budget=1000, policy="fail")
    assert out == (judged, ())
    out = fit(judged, measure, budget=1000, policy="truncate")
    assert out == (judged, ())


def test_exactly_at_budget_is_unchanged() -> None:
    judged = {"response": "r" * 400}
    assert measure(judged) == 200
    assert fit(judged, measure, budget=200, policy="fail") == (judged, ())


def test_fail_policy_reports_both_token_counts() -> None:
    judged = {"prompt": "p" * 40, "response_a": "a" * 4000, "response_b": "b" * 400}
    used = measure(judged)
    assert used == 1210
    out = fit(judged, measure, budget=700, policy="fail")
    assert isinstance(out, str)
    assert "1210" in out
    assert "700" in out


# fit: truncate ---------------------------------------------------------------------


def test_truncate_fits_and_records_only_cut_fields() -> None:
    judged = {"prompt": "p" * 40, "response_a": "a" * 4000, "response_b": "b" * 400}
    out = fit(judged, measure, budget=700, policy="truncate")
    assert not isinstance(out, str)
    texts, cuts = out
    assert measure(texts) <= 700
    assert texts.keys() == judged.keys()
    # The long field alone suffices: the short ones are untouched.
    assert texts["prompt"] == judged["prompt"]
    assert texts["response_b"] == judged["response_b"]
    assert texts["response_a"] != judged["response_a"]
    assert [c.field for c in cuts] == ["response_a"]
    (cut,) = cuts
    assert cut.original_chars == 4000
    assert 0 < cut.kept_chars < 4000
    marker = _MARKER.search(texts["response_a"])
    assert marker is not None
    assert int(marker.group(1)) == 4000 - cut.kept_chars
    assert texts["response_a"].startswith("a" * (cut.kept_chars // 2))


def test_truncate_keeps_head_and_tail_of_the_cut_field() -> None:
    response = "HEAD" + "m" * 5000 + "TAIL"
    out = fit({"prompt": "q", "response": response}, measure, budget=500, policy="truncate")
    assert not isinstance(out, str)
    texts, cuts = out
    assert texts["response"].startswith("HEAD")
    assert texts["response"].endswith("TAIL")
    assert texts["prompt"] == "q"
    assert [c.field for c in cuts] == ["response"]


def test_truncate_longest_first_then_both_when_needed() -> None:
    judged = {"prompt": "p" * 40, "response_a": "a" * 3000, "response_b": "b" * 2000}
    out = fit(judged, measure, budget=300, policy="truncate")
    assert not isinstance(out, str)
    texts, cuts = out
    assert measure(texts) <= 300
    assert texts["prompt"] == judged["prompt"]
    by_field = {c.field: c for c in cuts}
    assert set(by_field) == {"response_a", "response_b"}
    # Water-filling: both long fields are capped at the same length.
    assert by_field["response_a"].kept_chars == by_field["response_b"].kept_chars
    assert by_field["response_a"].kept_chars >= 40


def test_truncate_impossible_budget_returns_message() -> None:
    judged = {"prompt": "p" * 40, "response_a": "a" * 4000, "response_b": "b" * 400}
    out = fit(judged, measure, budget=50, policy="truncate")  # overhead alone is 100 tokens
    assert isinstance(out, str)
    assert "50" in out


# Properties -----------------------------------------------------------------------


_lengths = st.lists(st.integers(min_value=0, max_value=20_000), min_size=1, max_size=4)


def _judged(lengths: list[int]) -> dict[str, str]:
    return {f"field{i}": chr(ord("a") + i) * n for i, n in enumerate(lengths)}


def _floor(judged: Mapping[str, str]) -> int:
    """Tokens of the smallest prompt truncation can reach: each text down to its marker."""
    return measure({k: min(v, shorten(v, 0), key=len) for k, v in judged.items()})


@settings(max_examples=200, deadline=None)
@given(lengths=_lengths, budget=st.integers(min_value=1, max_value=6_000))
def test_truncate_result_fits_and_records_its_cuts(lengths: list[int], budget: int) -> None:
    judged = _judged(lengths)
    out = fit(judged, measure, budget, "truncate")
    if isinstance(out, str):
        assert measure(judged) > budget
        return
    texts, cuts = out
    assert measure(texts) <= budget
    assert texts.keys() == judged.keys()
    cut_fields = {c.field for c in cuts}
    for key, text in texts.items():
        if key in cut_fields:
            assert text == shorten(judged[key], next(c.kept_chars for c in cuts if c.field == key))
        else:
            assert text == judged[key]
    for cut in cuts:
        assert cut.original_chars == len(judged[cut.field])
        assert 0 <= cut.kept_chars < cut.original_chars


@settings(max_examples=200, deadline=None)
@given(lengths=_lengths, budget=st.integers(min_value=1, max_value=6_000))
def test_truncate_gives_up_only_when_little_room_is_left(lengths: list[int], budget: int) -> None:
    # With room for at least ~25 tokens of content per field beyond the markers,
    # truncation must succeed.
    judged = _judged(lengths)
    if _floor(judged) + 25 * len(judged) > budget:
        return
    assert not isinstance(fit(judged, measure, budget, "truncate"), str)


def test_truncate_impossible_only_below_the_floor() -> None:
    judged = _judged([300, 300, 300])
    assert isinstance(fit(judged, measure, _floor(judged) - 1, "truncate"), str)


@pytest.mark.parametrize(
    ("lengths", "budget"), [([300, 300, 300], 134), ([300, 300], 116), ([32], 107)]
)
def test_truncate_finds_tight_fits(lengths: list[int], budget: int) -> None:
    judged = _judged(lengths)
    assert _floor(judged) <= budget  # a fit exists: every text down to its marker
    out = fit(judged, measure, budget, "truncate")
    assert not isinstance(out, str), out
