"""vllm-judge's ``Judge.compare``, against the local vLLM server.

Runs in benchmarks/.peers/vllm-judge (see setup.sh). The prompt, JSON parsing and
sampling defaults (temperature 0, 256 new tokens) are the package's; the token cap is
set to the benchmark's (the same for every generative tool) and the request timeout is
raised from 30 s to 1800 s, as for the FastChat-style loop (16 generations in flight on
the 1.5B judge can outlast 600 s on this shared 2-core CPU). At most
``--concurrency`` compare calls are in flight at once (one at a time by default). Its
free-form ``decision`` is read as A, B or tie when it names one of them ("A",
"Response A", "response_a", ...); anything else is a parse failure.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import Row, arguments, run, verdict

CRITERIA = (
    "helpfulness: which response better addresses what the user asked, "
    "completely, accurately and clearly"
)


def label(decision: object) -> str | None:
    """A, B or tie from vllm-judge's decision value; None when it names neither."""
    text = re.sub(r"[^a-z]", "", str(decision).lower()).removeprefix("response")
    return {"a": "A", "b": "B", "tie": "tie", "equal": "tie"}.get(text)


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    from vllm_judge import Judge

    judge = Judge.from_url(
        args.api_base,
        model=args.model,
        timeout=1800.0,
        sampling_params={"temperature": 0.0, "max_tokens": args.max_tokens},
    )

    async def one(row: Row) -> Row:
        try:
            result = await judge.compare(row["a"], row["b"], criteria=CRITERIA, input=row["prompt"])
        except Exception as exc:  # a peer's failure is recorded, not raised
            return verdict(
                row["key"], None, getattr(exc, "raw_response", None), f"{type(exc).__name__}: {exc}"
            )
        raw = str(result.metadata.get("raw_response"))
        winner = label(result.decision)
        return verdict(
            row["key"],
            winner,
            raw,
            None if winner else f"decision {result.decision!r} names neither",
        )

    async def all_rows(rows: list[Row]) -> list[Row]:
        slots = asyncio.Semaphore(args.concurrency)

        async def bounded(row: Row) -> Row:
            async with slots:
                return await one(row)

        try:
            return list(await asyncio.gather(*(bounded(r) for r in rows)))
        finally:
            await judge.close()

    run(args, lambda rows: asyncio.run(all_rows(rows)), threads=False)


if __name__ == "__main__":
    main()
