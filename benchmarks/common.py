"""What every benchmark shares: the LLMBar pairs and the exact messages the Judge sends."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from judge import Judge
from judge.inputs import PairInput

T = TypeVar("T")
U = TypeVar("U")
DATA = Path(__file__).resolve().parent / "data" / "llmbar.jsonl"


ADVERSARIAL = (
    "llmbar-adversarial-neighbor",
    "llmbar-adversarial-gptinst",
    "llmbar-adversarial-gptout",
    "llmbar-adversarial-manual",
)


def interleave(items: Iterable[U], subset: Callable[[U], str], n: int) -> list[U]:
    """The first ``n`` of ``items`` taken from each subset in turn, in file order."""
    by_subset: dict[str, list[U]] = {}
    for item in items:
        by_subset.setdefault(subset(item), []).append(item)
    taken: list[U] = []
    while len(taken) < n and any(by_subset.values()):
        for members in by_subset.values():
            if members and len(taken) < n:
                taken.append(members.pop(0))
    return taken


def load_pairs(n: int, subset: str = "natural") -> list[PairInput]:
    """The first ``n`` LLMBar pairs of ``subset``, chosen response as A.

    ``subset`` is ``"natural"`` or ``"adversarial"`` (its four subsets in turn, as in
    bench_protocols).
    """
    rows = [json.loads(line) for line in DATA.read_text().splitlines()]
    if subset == "natural":
        chosen = [r for r in rows if r["subset"] == "llmbar-natural"][:n]
    elif subset == "adversarial":
        chosen = interleave((r for r in rows if r["subset"] in ADVERSARIAL), _subset, n)
    else:
        raise ValueError(f"subset must be 'natural' or 'adversarial', not {subset!r}")
    return [PairInput(r["prompt"], r["chosen"], r["rejected"]) for r in chosen]


def _subset(row: dict[str, str]) -> str:
    return row["subset"]


def prompts_for(judge: Judge, pairs: list[PairInput]) -> list[list[dict[str, str]]]:
    """The exact messages the Judge sends, both orders (built outside any timing)."""
    setup = judge.setup("pairwise")
    return [list(setup.render(p.judged(order))) for p in pairs for order in ("AB", "BA")]


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Seconds ``fn()`` took, and what it returned."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def rounds_arguments(doc: str, rounds: int) -> argparse.Namespace:
    """The options of a benchmark that alternates settings of one embedded judge in rounds.

    ``--model`` (an embedded judge key; default SmolLM2), ``--pairs``, ``--subset``,
    ``--rounds`` and ``--no-write``.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--model", default=None, help="an embedded judge key (default SmolLM2)")
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--subset", choices=["natural", "adversarial"], default="natural")
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser.parse_args()
