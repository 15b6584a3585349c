"""A judging process for the cache tests: killed with SIGKILL, or run four at a time.

``python -m tests.faults.cache_worker --cache DIR --start 0 --stop 400 --out FILE``
judges pairs ``start`` … ``stop - 1`` (built by `tests.faults.cases.pair`; ``--modulo``
wraps the indices around) through a real `judge.cache.JudgmentCache` in ``DIR``, and
writes one JSON line per verdict to ``FILE`` when done.

``--backend fake`` uses the engine tests' `FakeBackend`, a pure function of the prompt,
so every process must agree; ``--backend embedded`` uses the real SmolLM2
(``--shared-batch K``: K suffixes per forward pass after a shared prefix). ``--big``
makes the fake answer with the generate method and a reply over diskcache's 32 KiB
inline limit, so values are written as files too.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from judge import Judge
from judge.backends.base import Backend, GenerateRequest
from judge.cache import JudgmentCache
from judge.inputs import PairInput
from judge.jsonable import to_jsonable
from tests.faults.cases import oracle_winner, pair
from tests.faults.server import MARK

BIG_REPLY_CHARS = 40_000  # > diskcache's disk_min_file_size (32 KiB): stored as a file


def items(start: int, stop: int, modulo: int = 0) -> list[PairInput]:
    """Pairs ``start`` … ``stop - 1`` (indices taken mod ``modulo`` when given).

    Odd indices have the better answer second.
    """
    indices = [i % modulo if modulo else i for i in range(start, stop)]
    return [pair(i, right="AB" if i % 2 == 0 else "BA") for i in indices]


def _big_reply(request: GenerateRequest) -> str:
    user = request.messages[-1]["content"]
    first = user.split("<response_a>\n", 1)[1].split("\n</response_a>", 1)[0]
    winner = "A" if MARK in first else "B"
    # The schema caps the rationale; trailing whitespace is valid JSON of any length.
    return json.dumps({"rationale": "padded", "winner": winner}) + " " * BIG_REPLY_CHARS


def make_judge(backend: str, cache: Path, big: bool, shared_batch: int | None = None) -> Judge:
    """The judge under test: a fake (or the real embedded) backend, the shared cache."""
    model: Backend | None = None
    settings: dict[str, Any] = {}
    if shared_batch:
        settings["backend_options"] = {"shared_batch_size": shared_batch}
    if backend == "fake":
        from tests.unit.test_engine_fake import FakeBackend

        model = FakeBackend(prefer=MARK, reply=_big_reply if big else None)
        settings = {"method": "generate"} if big else {}
    return Judge(model, cache=JudgmentCache(cache), swap="both", **settings)


def main() -> None:
    """Judge the range and write the verdicts."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--stop", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--backend", choices=["fake", "embedded"], default="fake")
    parser.add_argument("--modulo", type=int, default=0, help="wrap indices around")
    parser.add_argument("--big", action="store_true")
    parser.add_argument(
        "--shared-batch", type=int, default=None, help="embedded: suffixes per forward pass"
    )
    args = parser.parse_args()
    judge = make_judge(args.backend, args.cache, args.big, args.shared_batch)
    pairs = items(args.start, args.stop, args.modulo)
    results = judge.compare_batch(pairs)
    with args.out.open("w", encoding="utf-8") as handle:
        for item, result in zip(pairs, results, strict=True):
            row = {
                "prompt": item.prompt,
                "oracle": oracle_winner(item),
                "result": to_jsonable(result),
            }
            handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
