"""The judgment cache under SIGKILL and under four processes writing at once.

Judging runs in real subprocesses (`tests.faults.cache_worker`) against one real
`JudgmentCache` directory. A killed writer must leave a cache that the rerun completes
from, with every stored value intact; four writers judging overlapping items must all
finish, agree, and leave exactly one entry per call.

diskcache writes a large value's file (in a new subdirectory) before the database row
that refers to it, so a kill between the two can leave an unreferenced file or an empty
directory: wasted space, never a wrong value. `diskcache.Cache.check` reports these as
"unknown file" and "empty directory"; any other warning would be corruption.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import diskcache
import pytest

from judge import Judge, PairwiseVerdict
from judge.backends.base import Backend
from tests.conftest import REPO
from tests.faults.cache_worker import items

WORKER = [sys.executable, "-m", "tests.faults.cache_worker"]
KILLS = 4
BENIGN = ("unknown file:", "empty directory:")  # left by a kill mid-write


def worker(
    cache: Path, out: Path, start: int, stop: int, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    command = [
        *WORKER,
        "--cache",
        str(cache),
        "--out",
        str(out),
        "--start",
        str(start),
        "--stop",
        str(stop),
        *extra,
    ]
    return subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen[bytes], timeout: float = 240) -> None:
    _, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err.decode()


def rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text().splitlines()]


def entries(cache: Path) -> int:
    with diskcache.Cache(str(cache)) as store:
        return len(store)


def assert_intact(cache: Path, calls: int) -> None:
    """SQLite is sound, every entry is a readable JSON payload, nothing but orphans warned."""
    with sqlite3.connect(cache / "cache.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with diskcache.Cache(str(cache)) as store:
        warnings = [str(w.message) for w in store.check()]
        assert all(w.startswith(BENIGN) for w in warnings), warnings
        keys = list(store.iterkeys())
        assert len(keys) == calls
        for key in keys:
            payload = json.loads(store[key])
            assert set(payload) in ({"logprobs"}, {"text", "finish_reason"})


def kill_while_writing(
    cache: Path,
    out: Path,
    stop: int,
    *extra: str,
    env: dict[str, str] | None = None,
    grown: int = 20,
) -> list[int]:
    """SIGKILL a worker ``KILLS`` times, each once it has stored ``grown`` more entries."""
    rng = random.Random(8)
    sizes = []
    for _ in range(KILLS):
        before = entries(cache) if (cache / "cache.db").exists() else 0
        process = worker(cache, out, 0, stop, *extra, env=env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if (cache / "cache.db").exists() and entries(cache) >= before + grown:
                break
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.1))  # land anywhere in the next writes
        assert process.poll() is None, "the worker finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
        sizes.append(entries(cache))
    return sizes


@pytest.mark.parametrize("big", [False, True], ids=["inline-values", "file-values"])
def test_sigkill_during_cache_writes_then_rerun_completes(tmp_path: Path, big: bool) -> None:
    """FakeBackend subprocess (pure concurrency and durability, no model)."""
    # Each rerun reuses the cache and writes on at full speed until its kill lands (up
    # to ~250 new entries under load), so the job must outlast KILLS reruns: with 300
    # big pairs (600 entries) the fourth rerun once finished them all before its kill.
    cache, out, n = tmp_path / "cache", tmp_path / "out.jsonl", 800 if big else 3000
    flags = ("--big",) if big else ()
    sizes = kill_while_writing(cache, out, n, *flags, grown=15 if big else 100)
    assert sizes == sorted(sizes) and 0 < sizes[-1] < 2 * n  # killed mid-job, work kept
    assert not out.exists()
    assert_intact(cache, sizes[-1])

    finish(worker(cache, out, 0, n, *flags))
    done = rows(out)
    assert len(done) == n
    assert all(r["result"]["ok"] and r["result"]["winner"] == r["oracle"] for r in done)
    cached = sum(o["cached"] for r in done for o in r["result"]["orders"])
    assert cached == sizes[-1]  # exactly the work finished before the kills was reused
    assert_intact(cache, 2 * n)


@pytest.mark.parametrize("big", [False, True], ids=["inline-values", "file-values"])
def test_four_processes_judging_overlapping_items_share_one_cache(
    tmp_path: Path, big: bool
) -> None:
    """FakeBackend subprocesses: each of 4 judges half the items, every item twice."""
    cache, n, span = tmp_path / "cache", 400, 200
    flags = ("--big",) if big else ()
    outs = [tmp_path / f"out{k}.jsonl" for k in range(4)]
    processes = [
        worker(cache, out, 100 * k, 100 * k + span, *flags, "--modulo", str(n))
        for k, out in enumerate(outs)
    ]  # [100k, 100k + 200) around the 400
    for process in processes:
        finish(process)
    verdicts: dict[str, list[dict[str, Any]]] = {}
    for out in outs:
        for row in rows(out):
            assert row["result"]["ok"] and row["result"]["winner"] == row["oracle"]
            verdicts.setdefault(row["prompt"], []).append(row["result"])
    assert len(verdicts) == n and all(len(v) == 2 for v in verdicts.values())
    for first, second in verdicts.values():
        assert first["prob_a"] == second["prob_a"]
        assert [o["label_probs"] for o in first["orders"]] == [
            o["label_probs"] for o in second["orders"]
        ]
    assert_intact(cache, 2 * n)


# The real embedded model -------------------------------------------------------------


def model_env(model_home: dict[str, Any]) -> dict[str, str]:
    """Subprocesses reuse the session's converted model."""
    return dict(os.environ, JUDGE_CACHE_DIR=str(model_home["root"]))


@pytest.mark.slow
def test_sigkill_of_a_real_model_judging_then_rerun_matches_a_clean_run(
    tmp_path: Path, model_home: dict[str, Any], smollm: Backend
) -> None:
    cache, out, n = tmp_path / "cache", tmp_path / "out.jsonl", 6
    env = model_env(model_home)
    # All 12 orders share the system prompt and rubric, so by default their suffixes run
    # in one forward pass and are cached together; two per pass leaves a kill window.
    process = worker(cache, out, 0, n, "--backend", "embedded", "--shared-batch", "2", env=env)
    while process.poll() is None and not ((cache / "cache.db").exists() and entries(cache)):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    kept = entries(cache)
    assert 0 < kept < 2 * n and not out.exists()

    finish(worker(cache, out, 0, n, "--backend", "embedded", env=env), timeout=600)
    done = rows(out)
    assert sum(o["cached"] for r in done for o in r["result"]["orders"]) == kept
    clean = Judge(smollm, swap="both", cache=False).compare_batch(items(0, n))
    for row, fresh in zip(done, clean, strict=True):
        assert isinstance(fresh, PairwiseVerdict) and row["result"]["ok"]
        assert row["result"]["prob_a"] == pytest.approx(fresh.prob_a, abs=1e-5)
    assert_intact(cache, 2 * n)
