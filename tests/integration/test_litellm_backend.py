"""The litellm backend end to end against a real `vllm serve` of the embedded model.

Every request goes through litellm's ``hosted_vllm`` provider over HTTP to a vLLM
server on 127.0.0.1, and is compared with the transformers backend running the same
weights in this process.
"""

from __future__ import annotations

import asyncio
import json
import math
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from judge import FailureReason, Judge, JudgmentFailure, PairwiseVerdict, PointInput
from judge.backends.base import Backend, LabelRequest, LabelScores
from judge.backends.litellm import LiteLLMBackend
from tests.conftest import CountingBackend, llmbar
from tests.integration.server_fixtures import free_port, vllm_server  # noqa: F401

pytestmark = pytest.mark.slow

# Measured on 4 LLMBar pairs (+ mirror) and 4 responses: per-order probabilities differ
# by at most 2.2e-6, revealed label log-probabilities (including "10" from the
# continuation) by at most 2.6e-5 (vLLM's CPU kernels vs transformers, both float32).
# The tolerances leave a wide margin for other CPUs while still catching any prompt,
# template or token mismatch, which moves these numbers by 1e-2 or more.
PROB_TOLERANCE = 1e-4
LOGPROB_TOLERANCE = 1e-3


def pairs(n: int = 4, mirror: bool = False) -> list[dict[str, str]]:
    key_a, key_b = ("rejected", "chosen") if mirror else ("chosen", "rejected")
    return [
        {"prompt": r["prompt"], "response_a": r[key_a], "response_b": r[key_b]} for r in llmbar(n=n)
    ]


@pytest.fixture(scope="module")
def api(vllm_server: dict[str, Any]) -> LiteLLMBackend:  # noqa: F811
    # A CPU server shared with other work can take minutes for one 400-token generation;
    # the default 60 s per request would turn a slow machine into a backend error.
    return LiteLLMBackend(vllm_server["model"], api_base=vllm_server["api_base"], timeout=300)


@pytest.fixture(scope="module")
def api_verdicts(api: LiteLLMBackend) -> dict[str, list[Any]]:
    judge = Judge(api, swap="both", cache=False)
    return {
        "forward": judge.compare_batch(pairs()),
        "mirror": judge.compare_batch(pairs(mirror=True)),
    }


def test_pairwise_verdicts_and_their_mirror_sum_to_one(api_verdicts: dict[str, list[Any]]) -> None:
    for a, b in zip(api_verdicts["forward"], api_verdicts["mirror"], strict=True):
        assert isinstance(a, PairwiseVerdict) and isinstance(b, PairwiseVerdict)
        assert a.model == "hosted_vllm/smollm" and a.method == "logprob"
        # Not exact: vLLM batches concurrent requests, and the batch changes the float
        # arithmetic a little (measured: 5e-7).
        assert a.prob_a + b.prob_a == pytest.approx(1.0, abs=1e-5)
        assert [o.shown for o in a.orders] == ["AB", "BA"]


def test_pairwise_probabilities_agree_with_transformers(
    api_verdicts: dict[str, list[Any]], smollm: Backend
) -> None:
    ours = Judge(smollm, swap="both", cache=False).compare_batch(pairs())
    diffs = [
        abs(o.label_probs["A"] - t.label_probs["A"])
        for v, w in zip(api_verdicts["forward"], ours, strict=True)
        for o, t in zip(v.orders, w.orders, strict=True)
    ]
    assert len(diffs) == 8
    assert max(diffs) < PROB_TOLERANCE, f"max |ΔP| = {max(diffs):.2e}"
    # Both see SmolLM2's strong first-position bias: one number per order, not noise.
    assert all(o.label_probs["A"] > 0.8 for v in api_verdicts["forward"] for o in v.orders)


def kth_logprob(api_base: str, messages: tuple[dict[str, str], ...], k: int) -> float:
    """The k-th most likely first token's log-probability, asked of the server directly."""
    body = {
        "model": "smollm",
        "messages": list(messages),
        "max_tokens": 1,
        "temperature": 0,
        "logprobs": True,
        "top_logprobs": k,
    }
    request = urllib.request.Request(
        f"{api_base}/chat/completions",
        json.dumps(body).encode(),
        {"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as reply:
        top = json.load(reply)["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
    return min(t["logprob"] for t in top)


def test_one_to_ten_scale_resolves_ten_by_continuation_like_transformers(
    api: LiteLLMBackend,
    smollm: Backend,
    vllm_server: dict[str, Any],  # noqa: F811
) -> None:
    judge = Judge(api, cache=False)
    items = [PointInput(r["prompt"], r["chosen"]) for r in llmbar(n=2)]
    verdicts = judge.score_batch(items)
    assert all(v.ok and v.scale == (1, 10) for v in verdicts)
    setup = judge.setup("pointwise")
    requests = [LabelRequest(setup.render(item.judged()), setup.labels) for item in items]
    for request, theirs, ours in zip(
        requests, api.score_labels(requests), smollm.score_labels(requests), strict=True
    ):
        assert isinstance(theirs, LabelScores) and isinstance(ours, LabelScores)
        shown = [label for label, lp in theirs.logprobs.items() if math.isfinite(lp)]
        assert {"1", "10"} <= set(shown)  # "10" only exists through the continuation
        for label in shown:
            assert abs(theirs.logprobs[label] - ours.logprobs[label]) < LOGPROB_TOLERANCE
        # A label outside the provider's top 20 is rarer than its 20th token.
        kth = kth_logprob(vllm_server["api_base"], request.messages, api.top_logprobs)
        hidden = [label for label in theirs.logprobs if label not in shown]
        assert all(ours.logprobs[label] <= kth + LOGPROB_TOLERANCE for label in hidden)


def test_the_model_string_builds_the_same_backend(
    api_verdicts: dict[str, list[Any]],
    vllm_server: dict[str, Any],  # noqa: F811
) -> None:
    judge = Judge(
        "hosted_vllm/smollm", backend_options={"api_base": vllm_server["api_base"]}, cache=False
    )
    verdict = judge.compare(**pairs(1)[0])
    assert isinstance(judge.backend, LiteLLMBackend)
    assert isinstance(verdict, PairwiseVerdict) and verdict.model == "hosted_vllm/smollm"
    assert verdict.prob_a == pytest.approx(api_verdicts["forward"][0].prob_a, abs=PROB_TOLERANCE)


def test_generate_gives_a_schema_valid_verdict(api: LiteLLMBackend) -> None:
    verdict = Judge(api, method="generate", swap="both", cache=False).compare(**pairs(1)[0])
    assert isinstance(verdict, PairwiseVerdict) and verdict.method == "generate"
    for order in verdict.orders:
        assert order.raw_output is not None
        parsed = json.loads(order.raw_output)
        assert parsed["winner"] in ("A", "B") and isinstance(parsed["rationale"], str)
        assert order.usage is not None and order.usage.completion_tokens > 1


def test_usage_per_order_sums_to_the_judge_and_the_server_count(
    api: LiteLLMBackend,
    vllm_server: dict[str, Any],  # noqa: F811
) -> None:
    server = vllm_server["server"]
    before = server.metric("vllm:prompt_tokens_total")
    judge = Judge(api, swap="both", cache=False)
    verdicts = judge.compare_batch(pairs(2))
    orders = [o for v in verdicts for o in v.orders]  # type: ignore[union-attr]
    assert all(o.usage is not None and o.usage.prompt_tokens > 100 for o in orders)
    assert judge.usage.prompt_tokens == sum(o.usage.prompt_tokens for o in orders)
    assert judge.usage.completion_tokens == len(orders)  # one token each
    assert judge.usage.cost_usd is None  # no price is known for a local server
    assert server.metric("vllm:prompt_tokens_total") - before == judge.usage.prompt_tokens


def test_cache_rerun_makes_no_requests(
    api: LiteLLMBackend,
    vllm_server: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    server = vllm_server["server"]
    counting = CountingBackend(api)
    first = Judge(counting, cache=tmp_path).compare_batch(pairs(2))
    assert counting.label_requests == 4
    served = server.metric("vllm:request_success_total")
    again = Judge(counting, cache=tmp_path).compare_batch(pairs(2))
    assert counting.label_requests == 4
    assert server.metric("vllm:request_success_total") == served
    assert all(o.cached for v in again for o in v.orders)  # type: ignore[union-attr]
    assert [v.prob_a for v in again] == [v.prob_a for v in first]  # type: ignore[union-attr]


def test_async_path_matches_the_sync_path(
    api: LiteLLMBackend, api_verdicts: dict[str, list[Any]]
) -> None:
    judge = Judge(api, swap="both", cache=False)
    verdicts = asyncio.run(judge.acompare_batch(pairs()))
    for a, b in zip(verdicts, api_verdicts["forward"], strict=True):
        assert isinstance(a, PairwiseVerdict)
        assert a.prob_a == pytest.approx(b.prob_a, abs=PROB_TOLERANCE)


def test_unknown_served_model_is_a_final_typed_failure(
    vllm_server: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    wrong = LiteLLMBackend("hosted_vllm/no-such-model", api_base=vllm_server["api_base"])
    failure = Judge(wrong, cache=tmp_path).compare(**pairs(1)[0])
    assert isinstance(failure, JudgmentFailure)
    assert failure.reason is FailureReason.BACKEND_ERROR and failure.retryable is False


def test_bad_api_base_is_a_retryable_typed_failure(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/v1"
    backend = LiteLLMBackend("hosted_vllm/smollm", api_base=nowhere, max_retries=1, timeout=5)
    failures = Judge(backend, cache=tmp_path).compare_batch(pairs(2))
    for failure in failures:
        assert isinstance(failure, JudgmentFailure)
        assert failure.reason is FailureReason.BACKEND_ERROR and failure.retryable is True
