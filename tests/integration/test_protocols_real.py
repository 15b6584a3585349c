"""Reason-then-read and best-of-N on the real embedded SmolLM2 model (no fakes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge import Judge, PairwiseVerdict
from judge.protocols import ReasonThenRead
from judge.rank import rank
from judge.rank.arithmetic import arithmetic_items, pick_report
from tests.conftest import CountingBackend

pytestmark = pytest.mark.slow


def test_reason_then_read_reads_probabilities_after_a_real_rationale(
    counting: CountingBackend, tmp_path: Path
) -> None:
    protocol = ReasonThenRead(Judge(counting, cache=tmp_path), max_new_tokens=160)
    verdict = protocol.compare("What is 2+2?", "2+2 = 4.", "2+2 = 5.")
    assert isinstance(verdict, PairwiseVerdict), verdict
    assert verdict.template == "pairwise+reason-then-read"
    assert (counting.generate_requests, counting.label_requests) == (2, 2)
    for order in verdict.orders:
        assert order.rationale and order.raw_output
        assert 0.0 < order.label_probs["A"] < 1.0  # read, not the one-hot generated label
    again = ReasonThenRead(Judge(counting, cache=tmp_path), max_new_tokens=160).compare(
        "What is 2+2?", "2+2 = 4.", "2+2 = 5."
    )
    assert (counting.generate_requests, counting.label_requests) == (2, 2)  # all cached
    assert isinstance(again, PairwiseVerdict) and again.prob_a == pytest.approx(verdict.prob_a)


def test_best_of_n_on_generated_arithmetic(counting: CountingBackend, tmp_path: Path) -> None:
    items = arithmetic_items(2, candidates=3, seed=0)
    ranked = rank(Judge(counting, cache=tmp_path), [v.item for v in items])
    assert counting.label_requests == 2 * 3 * 2  # 3 pairs per prompt, both orders
    assert all(r.judgments == 3 and r.failures == 0 and r.picked is not None for r in ranked)
    report = pick_report([v.correct for v in items], ranked)
    assert report.n == 2 and report.oracle >= report.random
