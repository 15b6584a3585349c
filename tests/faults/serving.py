"""`judge serve` as a subprocess judging through the fault server, and a load generator.

Shared by the reliability tests and ``benchmarks/bench_load.py``. The server is the
real console script in its own process; the load comes from this process through
`judge.reward.client.AsyncRewardClient`, so it crosses a real socket on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from judge.errors import BackendError, JudgeError
from judge.reward.client import AsyncRewardClient
from tests.faults.cases import API_KEY
from tests.faults.server import MARK, FaultServer

SCRIPT = shutil.which("judge", path=str(Path(sys.executable).parent)) or "judge"
START_TIMEOUT_S = 120.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def judge_serve(
    faults: FaultServer, home: Path, *options: str, timeout: float = 5.0, max_retries: int = 2
) -> Iterator[str]:
    """``judge serve --mode reference`` judging via litellm at ``faults``; yields its URL.

    ``home`` is its ``JUDGE_CACHE_DIR`` (the cache); ``options`` go on its command line.
    """
    port = free_port()
    log = home / f"serve-{port}.log"
    home.mkdir(parents=True, exist_ok=True)
    command = [
        SCRIPT,
        "serve",
        "--port",
        str(port),
        "--mode",
        "reference",
        "--model",
        "openai/fault-test",
        "--api-base",
        faults.api_base,
        "-o",
        f"api_key={API_KEY}",
        "-o",
        f"timeout={timeout}",
        "-o",
        f"max_retries={max_retries}",
        *options,
    ]
    env = dict(os.environ, JUDGE_CACHE_DIR=str(home))
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"judge serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"judge serve did not start in {START_TIMEOUT_S:.0f} s: {log.read_text()}")


def reward_body(tag: str, size: int) -> tuple[list[str], list[str], list[str]]:
    """``size`` samples (queries, prompts, labels) with a known sign.

    Even samples: the response holds `MARK` and the label does not (reward > 0 from the
    oracle); odd ones the other way round (reward < 0).
    """
    prompts = [f"[{tag}-{k}] Which is right?" for k in range(size)]
    good, poor = f"The {MARK} answer.", "A poor answer."
    responses = [good if k % 2 == 0 else poor for k in range(size)]
    labels = [poor if k % 2 == 0 else good for k in range(size)]
    return [p + r for p, r in zip(prompts, responses, strict=True)], prompts, labels


@dataclass
class LoadResult:
    """What a load run saw.

    Attributes:
        latencies: seconds per answered request (HTTP 200).
        rejected: seconds per request turned away with 503.
        errors: every other outcome, as text.
        wrong: rewards whose sign disagrees with the oracle (or are None).
        seconds: wall time of the whole run.
    """

    latencies: list[float] = field(default_factory=list)
    rejected: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wrong: int = 0
    seconds: float = 0.0

    def percentile(self, q: float, values: list[float] | None = None) -> float:
        """The ``q``-th percentile (0–100, nearest rank) of ``values`` (default latencies)."""
        data = sorted(self.latencies if values is None else values)
        if not data:
            return float("nan")
        rank = max(1, min(len(data), round(q / 100 * len(data) + 0.5)))
        return data[rank - 1]


async def load(
    url: str, *, clients: int, per_client: int, size: int = 2, tag: str = "load"
) -> LoadResult:
    """``clients`` concurrent clients, each sending ``per_client`` requests in turn."""
    result = LoadResult()

    async def one(client: AsyncRewardClient, name: str) -> None:
        queries, prompts, labels = reward_body(name, size)
        start = time.perf_counter()
        try:
            reply = await client.rewards(queries, prompts, labels)
        except BackendError as exc:
            if "answered 503" in str(exc):
                result.rejected.append(time.perf_counter() - start)
                return
            result.errors.append(str(exc))
            return
        except (JudgeError, httpx.HTTPError) as exc:
            result.errors.append(f"{type(exc).__name__}: {exc}")
            return
        result.latencies.append(time.perf_counter() - start)
        result.wrong += sum(
            r is None or (r > 0) != (k % 2 == 0) for k, r in enumerate(reply.rewards)
        )

    async def worker(client: AsyncRewardClient, index: int) -> None:
        for turn in range(per_client):
            await one(client, f"{tag}-{index}-{turn}")

    start = time.perf_counter()
    async with AsyncRewardClient(url, timeout=120.0, max_connections=clients) as client:
        await asyncio.gather(*(worker(client, i) for i in range(clients)))
    result.seconds = time.perf_counter() - start
    return result
