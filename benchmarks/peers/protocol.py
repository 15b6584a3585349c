"""The file protocol between benchmarks/bench_peers.py and each peer's driver.

A driver runs in the peer's own venv, so it imports nothing from `judge`. It reads
rows ``{"key", "prompt", "a", "b"}`` (one pair in one order) from a JSONL file and
writes ``{"seconds": ..., "rows": [{"key", "winner", "raw", "error"}, ...]}``, where
``winner`` is ``"A"``, ``"B"``, ``"tie"`` or None (no verdict; ``error`` says why) and
``seconds`` is the wall-clock time of the peer's judging calls only (imports and
client construction are outside it).

``--concurrency N`` (default 1) is the number of rows in flight at once. A driver whose
judging call is synchronous gets it from `run`: N threads, each calling the peer's
judging function on one row at a time (the way FastChat's ``gen_judgment.py --parallel``
runs its judge). An asynchronous driver bounds its own coroutines to N instead.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

Row = dict[str, Any]


def arguments(description: str) -> argparse.Namespace:
    """The options every driver takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=Path, required=True, help="JSONL of pairs in one order")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--api-base", required=True, help="http://127.0.0.1:PORT/v1")
    parser.add_argument("--model", required=True, help="the served model name")
    parser.add_argument("--max-tokens", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=1, help="rows in flight at once")
    return parser.parse_args()


def run(
    args: argparse.Namespace,
    judge_all: Callable[[list[Row]], list[Row]],
    threads: bool = True,
) -> None:
    """Time ``judge_all`` on the rows and write the results file.

    With ``threads`` and ``--concurrency`` above 1, ``judge_all`` is called on one row
    at a time from that many threads; otherwise once, on every row (the driver then
    handles ``--concurrency`` itself).
    """
    rows = [json.loads(line) for line in args.rows.read_text().splitlines() if line.strip()]
    start = time.perf_counter()
    if threads and args.concurrency > 1:
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = [r for done in pool.map(lambda row: judge_all([row]), rows) for r in done]
    else:
        results = judge_all(rows)
    seconds = time.perf_counter() - start
    args.out.write_text(json.dumps({"seconds": seconds, "rows": results}))


def verdict(key: str, winner: str | None, raw: str | None, error: str | None = None) -> Row:
    """One result row."""
    return {"key": key, "winner": winner, "raw": raw, "error": error}
