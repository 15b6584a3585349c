"""`judge serve` under load and under faults, driven from this (second) process over HTTP.

The server is the real console script, judging in ``reference`` mode through the litellm
backend against the fault server, so load and faults are real HTTP on both sides and
cost no model time. Rewards have a known sign (see `tests.faults.serving.reward_body`),
so a wrong or made-up reward is caught, not just a missing one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from judge.reward.client import RewardClient
from tests.faults.cases import MAX_RETRIES, fault
from tests.faults.server import FaultServer, ok
from tests.faults.serving import judge_serve, load, reward_body

CLIENTS = 64


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FaultServer, str]]:
    """One fault server and one `judge serve` (with a cache, failures as null) for two tests."""
    with (
        FaultServer() as server,
        judge_serve(
            server, tmp_path_factory.mktemp("home"), "--on-failure", "none", timeout=2.0
        ) as url,
    ):
        yield server, url


def test_64_concurrent_clients_get_every_reward_right(served: tuple[FaultServer, str]) -> None:
    faults, url = served
    result = asyncio.run(load(url, clients=CLIENTS, per_client=1))
    assert httpx.get(f"{url}/health", timeout=10).json()["status"] == "ok"
    assert result.errors == [] and result.rejected == []
    assert len(result.latencies) == CLIENTS and result.wrong == 0
    # 2 samples per request, 2 orders each, no retries: every attempt accounted for.
    assert len(faults.requests_for("[load-")) == CLIENTS * 2 * 2
    print(f"64 clients: p50 {result.percentile(50):.2f} s, p99 {result.percentile(99):.2f} s")


def test_requests_beyond_capacity_get_a_quick_503(faults: FaultServer, tmp_path: Path) -> None:
    faults.default = ok(delay=1.0)  # a slow judge: the queue fills
    with judge_serve(faults, tmp_path, "--no-cache", "--capacity", "2") as url:
        result = asyncio.run(load(url, clients=CLIENTS, per_client=1, size=1))
        queries, prompts, labels = reward_body("alone", 1)
        alone = httpx.post(
            f"{url}/get_reward",
            timeout=60,
            json={"query": queries, "prompts": prompts, "labels": labels},
        )
    assert result.errors == [] and result.wrong == 0
    assert len(result.latencies) + len(result.rejected) == CLIENTS
    assert result.rejected and len(result.latencies) >= 3  # one judged + two queued
    assert max(result.rejected) < min(result.latencies)  # turned away, not queued
    assert alone.status_code == 200  # once the crowd is gone, a request is served


def test_faults_upstream_leave_finished_rewards_and_a_live_server(
    served: tuple[FaultServer, str],
) -> None:
    faults, url = served
    queries, prompts, labels = reward_body("faulty", 8)
    broken = {1: "server_error", 3: "connection_reset", 5: "malformed_json", 7: "hang"}
    for k, name in broken.items():  # both orders, every attempt
        faults.plan(f"[faulty-{k}]", *(fault(name) for _ in range(2 * (MAX_RETRIES + 1))))
    with RewardClient(url, timeout=120) as client:
        reply = client.rewards(queries, prompts, labels)
        failed = {f["index"]: f for f in reply.failures}
        assert sorted(failed) == sorted(broken)
        assert all("backend_error" in str(f) for f in failed.values())
        for k, reward in enumerate(reply.rewards):
            if k in broken:
                assert reward is None and reply.extra_logs["judge_failed"][k] == 1.0
            else:  # judged, and judged right
                assert reward is not None and (reward > 0) == (k % 2 == 0)
        assert client.health()["status"] == "ok"  # the process did not die

        before = {k: len(faults.requests_for(f"[faulty-{k}]")) for k in range(8)}
        again = client.rewards(queries, prompts, labels)  # the faults have passed
        after = {k: len(faults.requests_for(f"[faulty-{k}]")) for k in range(8)}
    assert again.failures == [] and None not in again.rewards
    assert [r for k, r in enumerate(again.rewards) if k not in broken] == [
        r for k, r in enumerate(reply.rewards) if k not in broken
    ]
    # Finished work was kept (the cache): only the failed samples went upstream again.
    assert {k for k in range(8) if after[k] > before[k]} == set(broken)
