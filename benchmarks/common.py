"""What every benchmark shares: the LLMBar pairs and the exact messages the Judge sends."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from judge import Judge
from judge.inputs import PairInput

T = TypeVar("T")
DATA = Path(__file__).resolve().parent / "data" / "llmbar.jsonl"


def load_pairs(n: int) -> list[PairInput]:
    """The first ``n`` LLMBar Natural pairs, chosen response as A."""
    rows = [json.loads(line) for line in DATA.read_text().splitlines()]
    natural = [r for r in rows if r["subset"] == "llmbar-natural"][:n]
    return [PairInput(r["prompt"], r["chosen"], r["rejected"]) for r in natural]


def prompts_for(judge: Judge, pairs: list[PairInput]) -> list[list[dict[str, str]]]:
    """The exact messages the Judge sends, both orders (built outside any timing)."""
    setup = judge.setup("pairwise")
    return [list(setup.render(p.judged(order))) for p in pairs for order in ("AB", "BA")]


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Seconds ``fn()`` took, and what it returned."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value
