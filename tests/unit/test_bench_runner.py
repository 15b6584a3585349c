"""The harness through `Judge` with scripted fake backends: placement, strategies, report."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import pytest

from judge import Judge
from judge.backends.base import LabelRequest, LabelScores
from judge.bench import PreferenceItem, load_preferences, run_bench
from judge.bench.runner import chosen_label, outcome_record
from judge.errors import BackendError
from judge.jsonable import to_jsonable
from tests.conftest import REPO
from tests.unit.test_engine_fake import FakeBackend, _tag

DATA = REPO / "tests" / "data" / "bench"
PAIRS = [
    PreferenceItem(
        f"i{n}", "a" if n % 2 else "b", f"question {n}", f"GOOD answer {n}", (f"poor answer {n}",)
    )
    for n in range(40)
]


class FakeScorer(FakeBackend):
    """Scores 9 for a response containing GOOD or TOP, 3 otherwise (logprob method)."""

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        if "A" in requests[0].labels:
            return super().score_labels(requests)
        self._receive(requests)
        out: list[LabelScores | BackendError] = []
        for request in requests:
            text = _tag(request.messages, "response") or ""
            best = "9" if "GOOD" in text or "TOP" in text else "3"
            out.append(
                LabelScores(
                    {label: 0.0 if label == best else -math.inf for label in request.labels}
                )
            )
        return out


def test_position_bias_without_swap_scores_the_share_placed_first() -> None:
    judge = Judge(FakeBackend(first_prob=0.9), swap="none", cache=False)
    report = run_bench(judge, PAIRS)
    placed_first = sum(chosen_label(0, i.id, 0) == "A" for i in PAIRS) / len(PAIRS)
    assert report.overall.accuracy == pytest.approx(placed_first)
    assert 0.3 < placed_first < 0.7  # a position-biased judge lands near chance, not 1.0


def test_content_judge_with_swap_is_right_and_consistent() -> None:
    judge = Judge(FakeBackend(prefer="GOOD"), cache=False)
    report = run_bench(judge, PAIRS)
    assert report.overall.accuracy == 1.0 and report.overall.consistency == 1.0
    assert [s.name for s in report.subsets] == ["b", "a"]
    assert sum(s.items for s in report.subsets) == report.overall.items == 40
    assert report.overall.judgments == 40 and report.overall.failures == 0
    assert report.judge["swap"] == "both" and report.strategy == "pairwise"
    json.dumps(to_jsonable(report))


def test_best_of_four_both_strategies() -> None:
    items = load_preferences(DATA / "rb2_small.jsonl")
    items = [
        PreferenceItem(i.id, i.subset, i.prompt, "GOOD " + i.chosen, i.rejected) for i in items
    ]
    pairwise = run_bench(Judge(FakeBackend(prefer="GOOD"), cache=False), items)
    assert pairwise.overall.accuracy == 1.0 and pairwise.overall.judgments == 6
    pointwise = run_bench(Judge(FakeScorer(), cache=False), items, strategy="pointwise")
    assert pointwise.strategy == "pointwise" and pointwise.overall.accuracy == 1.0
    assert pointwise.overall.judgments == 8 and pointwise.overall.consistency is None


def test_pointwise_top_tie_counts_wrong_and_as_a_tie() -> None:
    item = PreferenceItem("t", "s", "q", "GOOD one", ("TOP rival", "meh"))
    report = run_bench(Judge(FakeScorer(), cache=False), [item], strategy="pointwise")
    assert report.overall.accuracy == 0.0 and report.overall.tie_rate == 1.0


def test_failures_are_counted_not_scored_and_kept_per_item() -> None:
    items = [*PAIRS[:3], PreferenceItem("x", "b", "question BROKEN", "GOOD", ("poor",))]
    judge = Judge(FakeBackend(prefer="GOOD", fail_when="BROKEN", retryable=False), cache=False)
    report = run_bench(judge, items)
    assert report.overall.failures == 1 and report.overall.judged == 3
    assert report.overall.accuracy == 1.0
    assert report.overall.failure_reasons == {"backend_error": 1}
    record = outcome_record(next(o for o in report.outcomes if o.item.id == "x"))
    assert record["score"] is None and record["results"][0]["reason"] == "backend_error"
    json.dumps(record)
