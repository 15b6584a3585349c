"""The peers benchmark's pure parts: verdict reading and turning two orders into a result."""

from __future__ import annotations

import pytest

from benchmarks.peers.fastchat_style_driver import scan
from benchmarks.peers.results import failed_orders, pair_result, peer_results, shown_orders
from benchmarks.peers.vllm_judge_driver import label
from judge import JudgmentFailure, PairwiseVerdict
from judge.stats import preference_stats


def row(key: str, winner: str | None) -> dict[str, object]:
    return {
        "key": key,
        "winner": winner,
        "raw": f"raw {key}",
        "error": None if winner else "no verdict",
    }


def test_consistent_orders_pick_the_caller_labelled_winner() -> None:
    # A shown first wins; then B shown first, the judge picks the second shown (= A)
    result = pair_result("peer", row("0:AB", "A"), row("0:BA", "B"))
    assert isinstance(result, PairwiseVerdict)
    assert result.winner == "A" and result.consistent is True and result.prob_a == 1.0
    assert [o.shown for o in result.orders] == ["AB", "BA"]


def test_position_bias_gives_an_inconsistent_tie() -> None:
    result = pair_result("peer", row("0:AB", "A"), row("0:BA", "A"))
    assert isinstance(result, PairwiseVerdict)
    assert result.winner == "tie" and result.consistent is False and result.prob_a == 0.5
    stats = preference_stats([result], gold=["A"])
    assert stats.p_first == 1.0 and stats.accuracy == 0.5


def test_one_unreadable_order_fails_the_pair_and_keeps_the_other() -> None:
    result = pair_result("peer", row("0:AB", None), row("0:BA", "B"))
    assert isinstance(result, JudgmentFailure) and result.reason == "parse_failure"
    assert len(result.orders) == 1 and result.raw_output == "raw 0:AB"
    assert failed_orders([result]) == 1


def test_judgments_count_a_verdict_in_one_order_once_and_one_by_scores_twice() -> None:
    both = pair_result("peer", row("0:AB", "A"), row("0:BA", "B"))
    failed = pair_result("peer", row("1:AB", None), row("1:BA", "B"))
    assert isinstance(both, PairwiseVerdict)
    once = both.model_copy(update={"orders": both.orders[:1], "consistent": None})
    assert shown_orders([both, failed, once]) == 2 + 2 + 1
    scored = both.model_copy(update={"orders": (), "consistent": None})  # by-scores
    assert shown_orders([scored]) == 2  # its two scores


def test_rows_are_matched_by_key_whatever_their_order() -> None:
    rows = [row("1:BA", "A"), row("0:AB", "A"), row("1:AB", "B"), row("0:BA", "B")]
    results = peer_results("peer", rows, 2)
    assert [r.winner for r in results if isinstance(r, PairwiseVerdict)] == ["A", "B"]


@pytest.mark.parametrize(
    ("text", "winner"),
    [
        ("B is better. [[B]]", "B"),
        ("[[C]]", "tie"),
        ("no verdict", None),
        ("A quotes [[B]] but says [[A]]", "A"),
    ],
)  # the style checks [[A]] first
def test_fastchat_style_scan(text: str, winner: str | None) -> None:
    assert scan(text) == winner


@pytest.mark.parametrize(
    ("decision", "winner"),
    [
        ("A", "A"),
        ("Response B", "B"),
        ("response_a", "A"),
        ("TIE", "tie"),
        ("PASS", None),
        (True, None),
    ],
)
def test_vllm_judge_decision_reading(decision: object, winner: str | None) -> None:
    assert label(decision) == winner
