"""Reason-then-read, one-order, hybrid, split-merge, pmi and best-of-N on the real SmolLM2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from judge import Judge, PairInput, PairwiseVerdict, PointwiseVerdict
from judge.backends.base import LabelRequest
from judge.backends.hf import encode_chat
from judge.protocols import (
    ByPMI,
    ByScores,
    Hybrid,
    OneOrder,
    PanelPairwiseVerdict,
    ReasonThenRead,
    SplitMerge,
)
from judge.protocols.pmi import NEUTRAL_PROMPT, pmi_preference
from judge.protocols.scores import score_preference
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


def test_one_order_removes_the_real_judges_lean_to_the_first_shown(
    counting: CountingBackend,
) -> None:
    protocol = OneOrder(Judge(counting, cache=False), fit_pairs=2)
    pairs = [
        PairInput(f"What is {a}+{b}?", f"{a + b}.", f"{a + b + 1}.")
        for a, b in [(2, 2), (3, 4), (5, 1), (6, 2)]
    ]
    verdicts = protocol.compare_batch(pairs)
    assert counting.label_requests == 2 * 2 + 2  # fitting pairs both ways, then one each
    assert protocol.prior is not None and protocol.fitted_on == 2
    once = [v for v in verdicts if isinstance(v, PairwiseVerdict) and len(v.orders) == 1]
    assert len(once) == 2 and all(v.raw_prob_a is not None for v in once)
    raw = [first_shown(v.raw_prob_a, v.orders[0].shown) for v in once if v.raw_prob_a]
    corrected = [v.orders[0].label_probs["A"] for v in once]
    lean = abs(sum(raw) / len(raw) - 0.5)
    assert abs(sum(corrected) / len(corrected) - 0.5) < lean, (raw, corrected)


def first_shown(prob_a: float, shown: str) -> float:
    """P(the first shown wins) from P(A ≻ B) read in one order."""
    return prob_a if shown == "AB" else 1.0 - prob_a


def test_hybrid_mixes_the_real_pairwise_and_score_readings(
    counting: CountingBackend, tmp_path: Path
) -> None:
    judge = Judge(counting, cache=tmp_path)
    pair = ("What is 2+2?", "2+2 = 4.", "2+2 = 5.")
    scores = [judge.score(pair[0], response) for response in pair[1:]]
    assert all(isinstance(s, PointwiseVerdict) for s in scores), scores
    wins = score_preference(*(s.distribution for s in scores if isinstance(s, PointwiseVerdict)))
    scored = ByScores(judge).compare(*pair)
    assert isinstance(scored, PairwiseVerdict) and scored.orders == ()
    assert scored.prob_a == pytest.approx(wins["A"] + wins["tie"] / 2)
    assert counting.label_requests == 2  # by-scores read the two cached scores
    hybrid = Hybrid(judge).compare(*pair)
    assert counting.label_requests == 2 + 2  # and the plain verdict's two orders
    plain = judge.compare(*pair)
    assert isinstance(hybrid, PanelPairwiseVerdict) and isinstance(plain, PairwiseVerdict)
    assert hybrid.prob_a == pytest.approx((plain.prob_a + scored.prob_a) / 2)
    assert [o.shown for o in hybrid.orders] == ["AB", "BA"]
    for mixed, own in zip(hybrid.orders, plain.orders, strict=True):
        assert mixed.prob_a == pytest.approx((own.prob_a + scored.prob_a) / 2)
    assert hybrid.consistent == (hybrid.orders[0].winner == hybrid.orders[1].winner)


def test_split_merge_reads_the_real_judge_on_interleaved_parts(
    counting: CountingBackend,
) -> None:
    pair = PairInput(
        "How do I boil an egg?",
        "Put the egg in boiling water. Wait nine minutes. Cool it in cold water.",
        "Eggs are a food. Many birds lay them. Some people like them.",
    )
    verdict = SplitMerge(Judge(counting, cache=False)).compare_batch([pair])[0]
    assert isinstance(verdict, PairwiseVerdict), verdict
    assert counting.label_requests == 2  # one call per order
    assert verdict.template == "pairwise_split+split-merge"
    assert [o.shown for o in verdict.orders] == ["AB", "BA"]
    mean = sum(o.prob_a for o in verdict.orders) / 2
    assert verdict.prob_a == pytest.approx(mean)
    assert verdict.consistent == (verdict.orders[0].winner == verdict.orders[1].winner)


def _reply_logprob_by_hand(backend: Any, prompt: str, reply: str) -> float:
    """log P(reply | prompt) from one plain forward pass of the real model (no trie, no cache)."""
    import torch

    head = encode_chat(backend.tokenizer, [{"role": "user", "content": prompt}])
    tail = backend.tokenizer(reply, add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        logits = backend.model(input_ids=torch.tensor([head + tail])).logits[0].float()
    logprobs = torch.log_softmax(logits[len(head) - 1 : -1], dim=-1)
    return float(logprobs[torch.arange(len(tail)), torch.tensor(tail)].sum())


def test_pmi_reads_the_real_models_reply_logprobs_exactly(
    counting: CountingBackend, tmp_path: Path
) -> None:
    prompt = "Name the capital of France."
    on_topic, off_topic = "The capital of France is Paris.", "Bananas are rich in potassium."
    by_hand = {
        (asked, reply): _reply_logprob_by_hand(counting.inner, asked, reply)
        for asked in (prompt, NEUTRAL_PROMPT)
        for reply in (on_topic, off_topic)
    }
    scored = counting.score_labels(
        [LabelRequest(({"role": "user", "content": prompt},), (on_topic,))]
    )
    assert scored[0].logprobs[on_topic] == pytest.approx(by_hand[(prompt, on_topic)], abs=1e-3)
    judge = Judge(counting, cache=tmp_path)
    verdict = ByPMI(judge).compare(prompt, on_topic, off_topic)
    assert counting.label_requests == 1 + 4  # each response with the prompt and the neutral one
    pmis = [by_hand[(prompt, r)] - by_hand[(NEUTRAL_PROMPT, r)] for r in (on_topic, off_topic)]
    assert isinstance(verdict, PairwiseVerdict), verdict
    assert verdict.prob_a == pytest.approx(pmi_preference(*pmis), abs=1e-3)
    assert verdict.winner == "A" and verdict.orders == () and verdict.consistent is None
    swapped = ByPMI(judge).compare(prompt, off_topic, on_topic)
    assert counting.label_requests == 5  # the same four scores, from the cache
    assert isinstance(swapped, PairwiseVerdict)
    assert swapped.prob_a == pytest.approx(1 - verdict.prob_a)
