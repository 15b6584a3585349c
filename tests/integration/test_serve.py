"""`judge serve` as a real subprocess, driven over HTTP as OpenRLHF's remote reward client.

OpenRLHF posts JSON ``{"query", "prompts", "labels"}`` to ``--remote_rm_url`` and reads
``"rewards"`` from the reply; these tests do exactly that with httpx (and through
`judge.reward.client`, which load tests reuse), against the real embedded judge.
"""

from __future__ import annotations

import asyncio
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from judge import Judge
from judge.errors import UserError
from judge.reward import JudgeReward
from judge.reward.client import AsyncRewardClient, RewardClient

pytestmark = pytest.mark.slow
TOKEN = "test-token-123"
BIN = Path(sys.executable).parent / "judge"


def chatml(prompt: str) -> str:
    return f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(model_home: dict[str, Any], log: Path, *options: str) -> Iterator[str]:
    """``judge serve OPTIONS`` on a free port, sharing the session's cache; yields its URL."""
    port = free_port()
    env = {**os.environ, "JUDGE_CACHE_DIR": str(model_home["root"])}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN), "serve", "--port", str(port), *options], stdout=out, stderr=out, env=env
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail(f"judge serve did not start: {log.read_text()}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(model_home: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``judge serve --mode reference --token ...`` on a free port; yields its base URL.

    It shares the session's cache directory, so an item judged once (by the server or by
    a test's direct computation) is not judged again.
    """
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with serving(model_home, log, "--mode", "reference", "--token", TOKEN) as url:
        yield url


SHORT = [
    ("What is 2 + 2?", "5", "2 + 2 = 4."),
    ("Name a primary colour.", "Red.", "Blue is a primary colour."),
    ("Capital of France?", "Paris.", "Paris is the capital of France."),
    ("Is ice cold?", "Yes, ice is cold.", "Yes."),
    ("Spell cat backwards.", "tac", "tac"),
]


def samples(n: int, start: int = 0) -> list[dict[str, str]]:
    """Short items (the judge's cost grows with their length; this CPU is shared)."""
    return [
        {"prompt": chatml(p), "response": r, "label": label, "plain": p}
        for p, r, label in SHORT[start : start + n]
    ]


def body(items: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "query": [s["prompt"] + s["response"] + "<|im_end|>" for s in items],
        "prompts": [s["prompt"] for s in items],
        "labels": [s["label"] for s in items],
    }


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_health_needs_no_token(server: str) -> None:
    health = httpx.get(f"{server}/health").json()
    assert health["status"] == "ok" and health["mode"] == "reference"


def test_rewards_are_the_judges_reference_rewards(server: str, smollm: Any) -> None:
    items = samples(2)
    reply = httpx.post(f"{server}/get_reward", json=body(items), headers=AUTH, timeout=600)
    assert reply.status_code == 200, reply.text
    data = reply.json()
    direct = JudgeReward(Judge(smollm), mode="reference")(
        [s["plain"] for s in items],
        [s["response"] for s in items],
        reference=[s["label"] for s in items],
    )
    assert data["rewards"] == pytest.approx(direct, abs=1e-4)
    # scores: P(response ≻ label) = σ(reward), in [0, 1] for OpenRLHF's dynamic filtering
    assert data["scores"] == pytest.approx([1 / (1 + math.exp(-r)) for r in data["rewards"]])
    assert data["extra_logs"] == {"judge_failed": [0.0, 0.0], "judge_group_size": [2.0, 2.0]}
    assert data["failures"] == []


def test_token_is_required_and_checked(server: str) -> None:
    payload = body(samples(1))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        reply = httpx.post(f"{server}/get_reward", json=payload, headers=headers)
        assert reply.status_code == 401 and "token" in reply.json()["detail"]
        assert reply.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("payload", "status", "says"),
    [
        ({"query": ["a", "b"], "prompts": ["a"], "labels": ["x", "y"]}, 400, "prompts has 1"),
        ({"query": ["a"], "prompts": ["a"]}, 400, "reference"),
        ({"query": "a", "prompts": ["a"], "labels": ["x"]}, 422, "query"),
        ({"prompts": ["a"], "labels": ["x"]}, 422, "query"),
        ({"query": [1], "prompts": ["a"], "labels": ["x"]}, 422, "query"),
    ],
)
def test_bad_requests_get_4xx_with_a_message(
    server: str, payload: dict[str, Any], status: int, says: str
) -> None:
    reply = httpx.post(f"{server}/get_reward", json=payload, headers=AUTH)
    assert reply.status_code == status
    assert says in str(reply.json()["detail"])


def test_malformed_json_is_422(server: str) -> None:
    reply = httpx.post(
        f"{server}/get_reward",
        content=b"{not json",
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert reply.status_code == 422


def test_bad_items_are_masked_flagged_and_the_rest_are_judged(server: str) -> None:
    good = samples(1)[0]
    payload = body([good, good, good])
    payload["query"][1] = good["prompt"] + "<|im_end|>"  # empty response
    payload["query"][2] = "something else entirely"  # not prompt + response
    data = httpx.post(f"{server}/get_reward", json=payload, headers=AUTH, timeout=600).json()
    assert isinstance(data["rewards"][0], float)
    # --on-failure mask (the default): their group's mean, here the one judged reward
    assert data["rewards"][1:] == pytest.approx([data["rewards"][0]] * 2)
    assert data["extra_logs"]["judge_failed"] == [0.0, 1.0, 1.0]
    assert [(f["index"], f["reason"]) for f in data["failures"]] == [
        (1, "empty_completion"),
        (2, "invalid_input"),
    ]


def test_concurrent_requests_are_gathered_into_batches(server: str) -> None:
    items = samples(2, start=1)
    before = httpx.get(f"{server}/health").json()

    async def many() -> list[Any]:
        async with AsyncRewardClient(server, token=TOKEN) as client:
            return await asyncio.gather(
                *[
                    client.rewards(
                        *[
                            list(x)
                            for x in zip(
                                *[
                                    (s["prompt"] + s["response"], s["prompt"], s["label"])
                                    for s in items[k : k + 1]
                                ],
                                strict=True,
                            )
                        ]
                    )
                    for k in range(2)
                    for _ in range(4)
                ]
            )

    replies = asyncio.run(many())
    after = httpx.get(f"{server}/health").json()
    assert len(replies) == 8 and all(isinstance(r.rewards[0], float) for r in replies)
    assert len({r.rewards[0] for r in replies[:4]}) == len({r.rewards[0] for r in replies[4:]}) == 1
    assert after["batches"] - before["batches"] < 8  # concurrent requests shared batches


def test_sync_client_reports_errors_as_judge_errors(server: str) -> None:
    with RewardClient(server, token="wrong") as client, pytest.raises(UserError, match="401"):
        client.rewards(["q"], ["q"], ["x"])


def test_openrlhf_one_sample_requests_in_a_group_of_4_get_the_batched_groupwise_rewards(
    model_home: dict[str, Any], smollm: Any, tmp_path: Path
) -> None:
    """The real judge behind OpenRLHF 0.11.2's own HTTP reward call, one sample a request."""
    from openrlhf.utils.agent import SingleTurnAgentExecutor

    prompt = chatml("What is 2 + 2?")
    responses = ["4", "5", "2 + 2 = 4.", "It is 22."]
    with serving(
        model_home, tmp_path / "server.log", "--mode", "groupwise", "--group-size", "4"
    ) as url:
        executor = SingleTurnAgentExecutor(remote_rm_url=[f"{url}/get_reward"])

        async def rollout() -> list[Any]:
            return await asyncio.gather(
                *[
                    executor._fetch_rewards_via_http([prompt + r + "<|im_end|>"], [prompt], [""])
                    for r in responses
                ]
            )

        replies = [r[0] for r in asyncio.run(rollout())]
    direct = JudgeReward(Judge(smollm), mode="groupwise")(["What is 2 + 2?"] * 4, responses)
    assert [r["rewards"][0] for r in replies] == pytest.approx(direct, abs=1e-4)
    assert len(set(direct)) == 4 and all(
        r["extra_logs"]["judge_group_size"] == [4.0] for r in replies
    )
