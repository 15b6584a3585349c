"""The reward server's queue bound and batching over real HTTP (uvicorn on 127.0.0.1).

The backend is `FakeGateBackend`, a scripted stand-in whose calls block until the test
opens a gate, so "the engine is busy" is a state the test controls exactly.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn

from judge import Judge
from judge.backends.base import Backend, Capabilities, LabelRequest, LabelScores, Message
from judge.errors import BackendError
from judge.reward import JudgeReward
from judge.reward.server import create_app


class FakeGateBackend(Backend):
    """Pointwise: all mass on score 7. Each batch waits for ``gate``; counts batches."""

    name = "fake/gate"
    capabilities = Capabilities(logprobs=True, structured=False)
    batch_size = 64

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.batches: list[int] = []

    def fingerprint(self) -> dict[str, str]:
        return {"backend": "fake", "model": self.name}

    def count_tokens(self, messages: Sequence[Message]) -> int | None:
        return 10

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        self.entered.set()
        assert self.gate.wait(60)
        self.batches.append(len(requests))
        return [
            LabelScores({label: 0.0 if label == "7" else -math.inf for label in r.labels})
            for r in requests
        ]


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, FakeGateBackend]]:
    """A server with ``capacity`` from the test's parametrization (default 1)."""
    backend = FakeGateBackend()
    reward = JudgeReward(Judge(backend, cache=False), on_failure="none")
    app = create_app(reward, capacity=getattr(request, "param", 1), max_batch=64)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", backend
    backend.gate.set()
    server.should_exit = True
    thread.join(timeout=10)


def post(url: str, n: int, tag: str = "") -> httpx.Response:
    prompts = [f"q{tag}{k}" for k in range(n)]  # distinct per tag: the engine dedups repeats
    return httpx.post(
        f"{url}/get_reward",
        timeout=60,
        json={"query": [p + " answer" for p in prompts], "prompts": prompts},
    )


def wait_for(condition: Any) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_beyond_capacity_gets_503_with_retry_after_and_queued_work_is_batched(
    served: tuple[str, FakeGateBackend],
) -> None:
    url, backend = served
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(post, url, 2)
        wait_for(backend.entered.is_set)  # the engine is busy with it
        queued = [pool.submit(post, url, 1)]
        wait_for(lambda: httpx.get(f"{url}/health").json()["waiting"] == 1)
        refused = post(url, 1)  # queue full: capacity 1
        assert refused.status_code == 503
        assert "capacity" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        backend.gate.set()
        replies = [first.result(), *[q.result() for q in queued]]
    assert [r.status_code for r in replies] == [200, 200]
    assert replies[0].json()["rewards"] == [7.0, 7.0]
    assert replies[1].json()["rewards"] == [7.0]
    assert backend.batches == [2, 1]


@pytest.mark.parametrize("served", [8], indirect=True)
def test_requests_waiting_together_share_one_engine_batch(
    served: tuple[str, FakeGateBackend],
) -> None:
    url, backend = served
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(post, url, 1)
        wait_for(backend.entered.is_set)
        rest = [pool.submit(post, url, 2, str(k)) for k in range(5)]
        wait_for(lambda: httpx.get(f"{url}/health").json()["waiting"] == 5)
        backend.gate.set()
        replies = [first.result(), *[r.result() for r in rest]]
    assert all(r.status_code == 200 for r in replies)
    assert [r.json()["rewards"] for r in replies] == [[7.0]] + [[7.0, 7.0]] * 5
    assert backend.batches == [1, 10]  # the five waiting requests went as one batch
