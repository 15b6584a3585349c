"""Prefix reuse on the real embedded model: the same log-probabilities, fewer tokens."""

from __future__ import annotations

from typing import Any

import pytest

from judge import Judge
from judge.backends.base import LabelRequest, LabelScores
from judge.backends.prefix import common_prefix
from judge.backends.transformers import MIN_HEAD
from judge.inputs import PairInput
from tests.conftest import llmbar

pytestmark = pytest.mark.slow


def test_reused_prefix_scores_equal_the_plain_path(smollm: Any) -> None:
    judge = Judge(smollm, cache=False)
    setup = judge.setup("pairwise")
    rows = llmbar(n=3)
    first, second = rows[0], rows[1]
    group = [
        PairInput(first["prompt"], first["chosen"], first["rejected"]),
        PairInput(first["prompt"], first["rejected"], second["chosen"]),
    ]
    messages = [tuple(setup.render(p.judged(order))) for p in group for order in ("AB", "BA")]
    requests = [LabelRequest(m, ("A", "B")) for m in messages]
    # Multi-token labels ("10" is "1", "0"): two probes per prompt, both reuse it.
    requests.append(LabelRequest(messages[0], tuple(str(s) for s in range(1, 11))))
    requests.append(
        LabelRequest(
            tuple(setup.render(PairInput(rows[2]["prompt"], "x", "y").judged("AB"))), ("A", "B")
        )
    )
    saved = (smollm.prefix_reuse, smollm.batch_size, smollm.shared_batch_size)
    try:
        smollm.prefix_reuse, smollm.batch_size = False, 1
        plain = smollm.score_labels(requests)
        # Suffixes after the shared prefix batched (padded between prefix and suffix),
        # and the unshared rows batched too.
        smollm.prefix_reuse, smollm.batch_size, smollm.shared_batch_size = True, 4, 16
        before = (smollm.computed_tokens, smollm.forward_passes)
        reused = smollm.score_labels(requests)
        computed = smollm.computed_tokens - before[0]
        passes = smollm.forward_passes - before[1]
    finally:
        smollm.prefix_reuse, smollm.batch_size, smollm.shared_batch_size = saved
    assert all(isinstance(r, LabelScores) for r in plain + reused)
    for p, r in zip(plain, reused, strict=True):
        assert p.logprobs.keys() == r.logprobs.keys()
        assert all(abs(p.logprobs[k] - r.logprobs[k]) < 1e-3 for k in p.logprobs)
    total = sum(len(smollm._encode(m.messages)) for m in requests) + 1  # + the "1" probe
    assert computed < 0.8 * total  # the shared prompt ran once, not five times
    assert passes < len(requests)  # suffixes of one prefix share a forward pass


def test_the_head_every_prompt_shares_runs_once(smollm: Any) -> None:
    # Three prompts, one order each: no two rows share half their tokens, only the head
    # (chat template, system prompt, the template's instructions before the prompt).
    setup = Judge(smollm, cache=False).setup("pairwise")
    requests = [
        LabelRequest(
            tuple(setup.render(PairInput(r["prompt"], r["chosen"], r["rejected"]).judged("AB"))),
            ("A", "B"),
        )
        for r in llmbar(n=3)
    ]
    rows = [smollm._encode(r.messages) for r in requests]
    head = min(common_prefix(rows[0], row) for row in rows[1:])
    assert head >= MIN_HEAD
    saved = (smollm.prefix_reuse, smollm.head_reuse, smollm.batch_size)
    spent = {}
    try:
        results = {}
        for reuse in (False, True):
            smollm.prefix_reuse, smollm.head_reuse, smollm.batch_size = True, reuse, 1
            before = smollm.computed_tokens
            results[reuse] = smollm.score_labels(requests)
            spent[reuse] = smollm.computed_tokens - before
    finally:
        smollm.prefix_reuse, smollm.head_reuse, smollm.batch_size = saved
    assert spent[False] == sum(len(r) for r in rows)
    assert spent[True] == sum(len(r) for r in rows) - (len(rows) - 1) * head
    for plain, reused in zip(results[False], results[True], strict=True):
        assert isinstance(plain, LabelScores) and isinstance(reused, LabelScores)
        assert all(abs(plain.logprobs[k] - reused.logprobs[k]) < 1e-3 for k in plain.logprobs)
