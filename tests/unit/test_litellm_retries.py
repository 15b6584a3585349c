"""The litellm backend against a real HTTP server on 127.0.0.1 that speaks OpenAI's shape.

Each test scripts the server's replies request by request (rate limits, server errors,
hangs, malformed bodies, log-probabilities) and checks what reaches `Judge`: a verdict,
or a typed failure with the right ``retryable``, after exactly the expected requests.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from judge import FailureReason, Judge, JudgmentFailure, PairwiseVerdict, PointwiseVerdict
from judge.backends.base import LabelRequest, LabelScores
from judge.backends.limits import Bucket
from judge.backends.litellm import LiteLLMBackend
from judge.errors import BackendError, UserError
from judge.inputs import PairInput
from tests.faults.server import FaultServer, Reply, completion, error_reply

SECRET = "sk-test-secret"
A_WINS = [("A", -0.1), ("B", -2.5), ("The", -4.0)]


def scripted(body: Any = None, *, status: int = 200, delay: float = 0.0) -> Reply:
    """A fixed reply; with no body, a 200 where "A" wins as in `A_WINS`."""
    return Reply(
        "scripted", status=status, delay=delay, body=completion(A_WINS) if body is None else body
    )


@pytest.fixture
def stub() -> Iterator[FaultServer]:
    with FaultServer() as server:
        server.default = scripted()
        yield server


def backend(stub: FaultServer, model: str = "openai/test-model", **options: Any) -> LiteLLMBackend:
    return LiteLLMBackend(model, api_base=stub.api_base, api_key=SECRET, **options)


def compare(stub: FaultServer, tmp_path: Path, **options: Any) -> PairwiseVerdict | JudgmentFailure:
    judge = Judge(backend(stub, **options), swap="none", cache=tmp_path)
    return judge.compare("What is 2+2?", "4", "5")


# Retries ----------------------------------------------------------------------------


def test_rate_limit_waits_for_retry_after_then_succeeds(stub: FaultServer, tmp_path: Path) -> None:
    stub.script.extend([error_reply(429, {"Retry-After": "1"})])
    verdict = compare(stub, tmp_path)
    assert isinstance(verdict, PairwiseVerdict)
    assert verdict.winner == "A"
    assert verdict.orders[0].label_probs["A"] == pytest.approx(1 / (1 + math.exp(-2.5 + 0.1)))
    assert len(stub.seen) == 2
    assert stub.seen[1].at - stub.seen[0].at >= 1.0


def test_server_errors_are_retried_until_success(stub: FaultServer, tmp_path: Path) -> None:
    stub.script.extend([error_reply(500), error_reply(500)])
    verdict = compare(stub, tmp_path)
    assert isinstance(verdict, PairwiseVerdict) and verdict.winner == "A"
    assert len(stub.seen) == 3


def test_bad_request_fails_at_once_and_is_not_retryable(stub: FaultServer, tmp_path: Path) -> None:
    stub.script.extend([error_reply(400)])
    failure = compare(stub, tmp_path)
    assert isinstance(failure, JudgmentFailure)
    assert failure.reason is FailureReason.BACKEND_ERROR
    assert failure.retryable is False
    assert "BadRequestError" in failure.message and "400" in failure.message
    assert len(stub.seen) == 1


def test_a_missing_api_key_fails_at_once_and_names_the_variable(
    stub: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    judge = Judge(LiteLLMBackend("openai/test-model", api_base=stub.api_base), cache=tmp_path)
    failure = judge.compare("What is 2+2?", "4", "5")
    assert isinstance(failure, JudgmentFailure)
    assert failure.retryable is False
    assert "Missing credentials" in failure.message and "OPENAI_API_KEY" in failure.message
    assert "attempts" not in failure.message  # litellm's HTTP 500 was not retried
    assert stub.seen == []  # the SDK refused before any request


def test_a_hang_past_the_timeout_is_retried_then_fails_retryable(
    stub: FaultServer, tmp_path: Path
) -> None:
    stub.default = scripted(delay=3.0)
    start = time.monotonic()
    failure = compare(stub, tmp_path, timeout=0.5, max_retries=1)
    assert isinstance(failure, JudgmentFailure)
    assert failure.reason is FailureReason.BACKEND_ERROR
    assert failure.retryable is True
    assert len(stub.seen) == 2
    assert time.monotonic() - start < 3.0  # gave up on the timeout, not the server


def test_persistent_server_errors_end_retryable_after_max_retries(
    stub: FaultServer, tmp_path: Path
) -> None:
    stub.default = error_reply(503)
    failure = compare(stub, tmp_path, max_retries=2)
    assert isinstance(failure, JudgmentFailure) and failure.retryable is True
    assert "after 3 attempts" in failure.message
    assert len(stub.seen) == 3


def test_a_retry_after_longer_than_we_wait_fails_retryable_at_once(
    stub: FaultServer, tmp_path: Path
) -> None:
    stub.script.extend([error_reply(429, {"Retry-After": "3600"})])
    failure = compare(stub, tmp_path)
    assert isinstance(failure, JudgmentFailure) and failure.retryable is True
    assert "asked to wait 3600 s" in failure.message
    assert len(stub.seen) == 1


def test_concurrency_bound_is_respected(stub: FaultServer) -> None:
    stub.default = scripted(delay=0.2)
    judge = Judge(backend(stub, concurrency=3), swap="both", cache=False)
    items = [
        {"prompt": f"question {i}", "response_a": "yes", "response_b": "no"} for i in range(10)
    ]
    verdicts = judge.compare_batch(items)  # 20 requests, one engine chunk
    assert all(isinstance(v, PairwiseVerdict) for v in verdicts)
    assert len(stub.seen) == 20
    assert stub.peak == 3  # bounded, and the bound is actually used


# Unusable bodies ----------------------------------------------------------------------


def test_malformed_json_body_is_a_typed_failure(stub: FaultServer, tmp_path: Path) -> None:
    stub.default = scripted(b'{"choices": [ {nope')
    failure = compare(stub, tmp_path, max_retries=1)
    assert isinstance(failure, JudgmentFailure)
    assert failure.reason is FailureReason.BACKEND_ERROR
    # litellm reports an undecodable body as a 500, so it is retried like one.
    assert failure.retryable is True
    assert len(stub.seen) == 2


@pytest.mark.parametrize(
    "body",
    [completion(None), {**completion(A_WINS), "choices": []}],
    ids=["no-logprobs", "no-choices"],
)
def test_a_body_without_logprobs_fails_without_retry(
    stub: FaultServer, tmp_path: Path, body: dict[str, Any]
) -> None:
    stub.default = scripted(body)
    failure = compare(stub, tmp_path)
    assert isinstance(failure, JudgmentFailure)
    assert failure.reason is FailureReason.BACKEND_ERROR and failure.retryable is False
    assert len(stub.seen) == 1


# Log-probabilities --------------------------------------------------------------------


def test_logprobs_map_to_labels_combining_duplicates(stub: FaultServer, tmp_path: Path) -> None:
    stub.default = scripted(
        completion([("A", -1.0), (" A", -1.5), ("B", -0.9), (" the", -3.0), ("A.", -3.5)])
    )
    verdict = compare(stub, tmp_path)
    assert isinstance(verdict, PairwiseVerdict)
    p_a, p_b = math.exp(-1.0) + math.exp(-1.5), math.exp(-0.9)
    assert verdict.orders[0].label_probs["A"] == pytest.approx(p_a / (p_a + p_b))
    assert verdict.winner == "A"  # only the combined " A" + "A" beats "B"
    sent = stub.seen[0].body
    assert sent["logprobs"] is True and sent["top_logprobs"] == 20
    assert sent["max_tokens"] == 1 and sent["temperature"] == 0


def test_a_label_missing_from_the_top_k_gets_probability_zero(
    stub: FaultServer, tmp_path: Path
) -> None:
    stub.default = scripted(completion([("A", -0.3), ("The", -1.2), ("I", -2.0)]))
    verdict = compare(stub, tmp_path)
    assert isinstance(verdict, PairwiseVerdict)
    assert verdict.orders[0].label_probs == {"A": 1.0, "B": 0.0}


def test_fewer_alternatives_than_asked_is_an_error_not_a_smaller_k(
    stub: FaultServer, tmp_path: Path
) -> None:
    body = completion(A_WINS)
    logprobs = body["choices"][0]["logprobs"]["content"][0]
    logprobs["top_logprobs"] = logprobs["top_logprobs"][:5]
    stub.default = scripted(body)
    failure = compare(stub, tmp_path)
    assert isinstance(failure, JudgmentFailure) and failure.retryable is False
    assert "top_logprobs=5" in failure.message
    assert isinstance(compare(stub, tmp_path, top_logprobs=5), PairwiseVerdict)


def test_no_label_in_the_top_k_is_a_no_label_mass_failure(
    stub: FaultServer, tmp_path: Path
) -> None:
    stub.default = scripted(completion([("The", -0.3), ("I", -1.2)]))
    failure = compare(stub, tmp_path)
    assert isinstance(failure, JudgmentFailure)
    assert failure.reason is FailureReason.NO_LABEL_MASS


def test_prefix_labels_fail_where_the_provider_cannot_continue(
    stub: FaultServer, tmp_path: Path
) -> None:
    judge = Judge(backend(stub), cache=tmp_path)  # pointwise_10: "1" is a prefix of "10"
    failure = judge.score("Rate this.", "A response.")
    assert isinstance(failure, JudgmentFailure)
    assert failure.reason is FailureReason.BACKEND_ERROR and failure.retryable is False
    assert "method='generate'" in failure.message
    assert stub.seen == []  # decided before any request


def test_hosted_vllm_resolves_prefix_labels_with_a_continuation(
    stub: FaultServer, tmp_path: Path
) -> None:
    first = [
        ("1", math.log(0.5)),
        ("7", math.log(0.3)),
        ("8", math.log(0.1)),
        ("The", math.log(0.05)),
    ]
    after_one = [("0", math.log(0.3)), ("\n", math.log(0.5)), (".", math.log(0.1))]
    stub.script.extend([scripted(completion(first)), scripted(completion(after_one))])
    judge = Judge(backend(stub, model="hosted_vllm/test-model"), cache=tmp_path)
    verdict = judge.score("Rate this.", "A response.")
    assert isinstance(verdict, PointwiseVerdict)
    raw = {1: 0.5 * (1 - 0.3), 10: 0.5 * 0.3, 7: 0.3, 8: 0.1}  # "1" stops unless "0" follows
    total = sum(raw.values())
    for score, p in raw.items():
        assert verdict.distribution[score] == pytest.approx(p / total)
    assert verdict.distribution[5] == 0.0
    assert verdict.score == 1
    assert len(stub.seen) == 2
    continued = stub.seen[1].body
    assert continued["messages"][-1] == {"role": "assistant", "content": "1"}
    assert continued["continue_final_message"] is True
    assert continued["add_generation_prompt"] is False
    assert "continue_final_message" not in stub.seen[0].body
    assert verdict.usage is not None and verdict.usage.prompt_tokens == 100  # both requests


# Generate -----------------------------------------------------------------------------


def test_generate_sends_the_schema_and_reads_the_verdict(stub: FaultServer, tmp_path: Path) -> None:
    text = json.dumps({"rationale": "4 is right.", "winner": "A"})
    stub.default = scripted(completion(None, content=text, finish="stop"))
    judge = Judge(backend(stub), method="generate", swap="none", cache=tmp_path)
    verdict = judge.compare("What is 2+2?", "4", "5")
    assert isinstance(verdict, PairwiseVerdict) and verdict.method == "generate"
    assert verdict.winner == "A" and verdict.orders[0].rationale == "4 is right."
    fmt = stub.seen[0].body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "verdict"
    assert fmt["json_schema"]["schema"]["properties"]["winner"]["enum"] == ["A", "B"]
    assert stub.seen[0].body["max_tokens"] == 400


def test_generate_length_finish_is_a_truncation(stub: FaultServer, tmp_path: Path) -> None:
    stub.default = scripted(completion(None, content='{"rationale": "4 is', finish="length"))
    judge = Judge(backend(stub), method="generate", swap="none", cache=tmp_path)
    failure = judge.compare("What is 2+2?", "4", "5")
    assert isinstance(failure, JudgmentFailure)
    assert failure.reason is FailureReason.TRUNCATED_OUTPUT


# Usage, secrets, event loops --------------------------------------------------------


def test_usage_is_recorded_per_order_and_summed(stub: FaultServer, tmp_path: Path) -> None:
    judge = Judge(backend(stub), swap="both", cache=tmp_path)
    verdict = judge.compare("What is 2+2?", "4", "5")
    assert isinstance(verdict, PairwiseVerdict)
    assert [o.usage.prompt_tokens for o in verdict.orders if o.usage] == [50, 50]
    assert judge.usage.prompt_tokens == 100 and judge.usage.completion_tokens == 2
    assert judge.usage.cost_usd is None  # litellm has no price for "test-model"


def test_cost_comes_from_litellms_price_list_when_it_knows_the_model(
    stub: FaultServer, tmp_path: Path
) -> None:
    import litellm

    body = completion(A_WINS)
    stub.default = scripted({**body, "model": "gpt-4o-mini"})
    judge = Judge(backend(stub, model="openai/gpt-4o-mini"), swap="none", cache=tmp_path)
    verdict = judge.compare("What is 2+2?", "4", "5")
    assert isinstance(verdict, PairwiseVerdict)
    price = litellm.model_cost["gpt-4o-mini"]
    expected = 50 * price["input_cost_per_token"] + 1 * price["output_cost_per_token"]
    assert expected > 0 and judge.usage.cost_usd == pytest.approx(expected)


def test_the_api_key_is_sent_but_never_kept(stub: FaultServer, tmp_path: Path) -> None:
    model = backend(stub)
    Judge(model, swap="both", cache=tmp_path).compare("What is 2+2?", "4", "5")
    assert stub.seen[0].headers.get("authorization") == f"Bearer {SECRET}"
    assert SECRET not in json.dumps(model.fingerprint())
    assert SECRET not in repr(model) and SECRET not in repr(vars(model))
    stored = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    assert stored and not any(SECRET.encode() in blob for blob in stored)


def test_the_api_key_is_redacted_from_error_messages(stub: FaultServer, tmp_path: Path) -> None:
    stub.script.extend([scripted(status=401, body={"error": {"message": f"bad key {SECRET}"}})])
    failure = compare(stub, tmp_path)
    assert isinstance(failure, JudgmentFailure) and failure.retryable is False
    assert "AuthenticationError" in failure.message and SECRET not in failure.message


def test_sync_call_inside_a_running_loop_and_async_path(stub: FaultServer) -> None:
    model = backend(stub)
    request = LabelRequest(({"role": "user", "content": "Pick."},), ("A", "B"))

    async def main() -> tuple[Any, Any]:
        inside = model.score_labels([request])  # a loop runs here: worker thread
        judge = Judge(model, swap="both", cache=False)
        return inside, await judge.acompare("What is 2+2?", "4", "5")

    inside, verdict = asyncio.run(main())
    assert isinstance(inside[0], LabelScores) and inside[0].logprobs["A"] == -0.1
    assert isinstance(verdict, PairwiseVerdict)
    assert len(stub.seen) == 3


def test_an_unknown_provider_is_a_user_error() -> None:
    with pytest.raises(UserError, match="provider"):
        LiteLLMBackend("no-such-provider-model")


def test_capabilities_come_from_litellm_and_can_be_overridden() -> None:
    assert LiteLLMBackend("openai/gpt-4o-mini").capabilities.logprobs is True
    assert LiteLLMBackend("anthropic/claude-3-5-haiku-latest").capabilities.logprobs is False
    assert LiteLLMBackend("anthropic/x", logprobs=True).capabilities.logprobs is True


def test_backend_errors_never_raise_out_of_a_batch(stub: FaultServer) -> None:
    stub.script.extend([error_reply(400)])
    model = backend(stub, concurrency=1)
    request = LabelRequest(({"role": "user", "content": "Pick."},), ("A", "B"))
    first, second = model.score_labels([request, request])
    assert isinstance(first, BackendError) and not first.retryable
    assert isinstance(second, LabelScores)


# Rate budgets -------------------------------------------------------------------------


def test_token_bucket_allows_a_minute_of_budget_then_paces() -> None:
    bucket = Bucket(60)  # one per second
    assert all(bucket.reserve(1) == 0.0 for _ in range(60))
    waits = [bucket.reserve(1) for _ in range(3)]
    assert waits == pytest.approx([1.0, 2.0, 3.0], abs=0.05)
    assert Bucket(100).reserve(10_000) == 0.0  # one huge request: one minute's budget


def test_requests_per_minute_paces_requests(stub: FaultServer) -> None:
    model = backend(stub, rpm=120)  # a burst of 120, then one every 0.5 s
    model.limits.rpm.reserve(119)  # type: ignore[union-attr]  # spend the burst but one
    request = LabelRequest(({"role": "user", "content": "Pick."},), ("A", "B"))
    start = time.monotonic()
    results = model.score_labels([request] * 3)
    assert all(isinstance(r, LabelScores) for r in results)
    assert time.monotonic() - start >= 0.9  # the 2nd and 3rd waited 0.5 s each
    assert stub.seen[2].at - stub.seen[0].at >= 0.9


def test_progress_moves_per_request_inside_one_chunk(stub: FaultServer, tmp_path: Path) -> None:
    judge = Judge(backend(stub, concurrency=1), swap="none", cache=tmp_path)
    seen: list[int] = []
    judge.compare_batch(
        [PairInput("Q?", f"a{i}", f"b{i}") for i in range(3)],
        progress=lambda done, total: seen.append(done),
    )
    assert seen == [0, 1, 2, 3, 3]  # the three requests form one chunk; each is counted


def test_a_local_server_s_reply_prints_nothing(
    stub: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The stub answers with its served name ("test-model"), as `vllm serve` does; the
    # cost lookup must not make litellm print its provider list for every call.
    judge = Judge(backend(stub, "hosted_vllm/my-judge"), swap="none", cache=tmp_path)
    assert isinstance(judge.compare("What is 2+2?", "4", "5"), PairwiseVerdict)
    out = capsys.readouterr()
    assert "Provider List" not in out.out + out.err
