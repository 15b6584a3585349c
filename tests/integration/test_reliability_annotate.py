"""`judge annotate` under injected faults: failure rows recorded, the job completes.

The job runs as the console script, judging through the litellm backend against the
fault server. tests/integration/test_annotate_cli.py already kills a job on the real
model between chunks; the case added here is a kill while a request hangs upstream
inside its retries, then a rerun once the fault has passed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.cases import API_KEY, CLIENT_TIMEOUT_S, MAX_RETRIES, fault
from tests.faults.server import MARK, FaultServer, hang
from tests.faults.serving import SCRIPT

RECORDS = 10
BROKEN = {2: "server_error", 5: "connection_reset", 8: "malformed_json"}


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


def write_source(path: Path) -> None:
    """One pair per record; the candidate holding `MARK` (first or second) is better."""
    lines = []
    for i in range(RECORDS):
        good, poor = f"The {MARK} answer {i}.", f"A poor answer {i}."
        candidates = [good, poor] if i % 2 == 0 else [poor, good]
        lines.append(
            json.dumps({"prompt": f"[ann-{i}] Which is better?", "candidates": candidates})
        )
    path.write_text("\n".join(lines) + "\n")


def annotate(faults: FaultServer, tmp_path: Path, *extra: str) -> list[str]:
    return [
        SCRIPT,
        "annotate",
        str(tmp_path / "in.jsonl"),
        "-O",
        str(tmp_path / "out.jsonl"),
        "--model",
        "openai/fault-test",
        "--api-base",
        faults.api_base,
        "-o",
        f"api_key={API_KEY}",
        "-o",
        f"timeout={CLIENT_TIMEOUT_S}",
        "-o",
        f"max_retries={MAX_RETRIES}",
        "--json",
        *extra,
    ]


def run(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, JUDGE_CACHE_DIR=str(tmp_path / "home"))
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def check_rows(rows: list[dict[str, Any]]) -> None:
    """Every row prefers the candidate the oracle prefers; no pair twice."""
    assert len({r["key"] for r in rows}) == len(rows)
    for row in rows:
        assert MARK in row["chosen"] and MARK not in row["rejected"], row


def test_faulted_pairs_become_failure_rows_and_the_job_completes(
    faults: FaultServer, tmp_path: Path
) -> None:
    write_source(tmp_path / "in.jsonl")
    for i, name in BROKEN.items():  # both orders, every attempt
        faults.plan(f"[ann-{i}]", *(fault(name) for _ in range(2 * (MAX_RETRIES + 1))))
    done = run(annotate(faults, tmp_path), tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]  # 1: some judgments failed
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert report["failures"] == len(BROKEN) and report["rows"] == RECORDS - len(BROKEN)
    rows = lines(tmp_path / "out.jsonl")
    check_rows(rows)
    failures = lines(tmp_path / "out.jsonl.failures.jsonl")
    assert sorted(f["source"] for f in failures) == [f"in.jsonl:{i + 1}" for i in sorted(BROKEN)]
    assert all(f["reason"] == "backend_error" for f in failures)

    # The faults have passed: retrying the failures judges exactly those pairs.
    seen = len(faults.seen)
    again = run(annotate(faults, tmp_path, "--retry-failures"), tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(faults.seen) - seen == 2 * len(BROKEN)  # two orders per retried pair
    rows_after = lines(tmp_path / "out.jsonl")
    assert rows_after[: len(rows)] == rows  # finished rows untouched
    assert len(rows_after) == RECORDS
    check_rows(rows_after)
    assert lines(tmp_path / "out.jsonl.failures.jsonl") == []


def test_sigkill_while_a_request_hangs_in_its_retries_then_rerun(
    faults: FaultServer, tmp_path: Path
) -> None:
    write_source(tmp_path / "in.jsonl")
    faults.plan("[ann-4]", *(hang(60.0) for _ in range(2 * (MAX_RETRIES + 1))))
    env = dict(os.environ, JUDGE_CACHE_DIR=str(tmp_path / "home"))
    job = subprocess.Popen(
        annotate(faults, tmp_path, "--chunk-size", "1"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not faults.requests_for("[ann-4]"):
        assert job.poll() is None, job.communicate()[1].decode()[-2000:]
        time.sleep(0.05)
    assert faults.requests_for("[ann-4]"), "the job never reached the hanging pair"
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=30)
    assert job.returncode == -signal.SIGKILL
    out = tmp_path / "out.jsonl"
    before = out.read_bytes() if out.exists() else b""
    kept = before.count(b"\n")
    assert kept == 4  # records 0-3 finished and written; 4 was in flight

    faults.clear()  # the fault has passed
    rerun = run(annotate(faults, tmp_path, "--chunk-size", "1"), tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    report = json.loads(rerun.stdout)
    assert (report["resumed"], report["judged"]) == (kept, RECORDS - kept)
    assert out.read_bytes().startswith(before)
    rows = lines(out)
    assert len(rows) == RECORDS
    check_rows(rows)
