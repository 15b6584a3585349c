"""A FastChat-style judging loop: generate a judgment, then scan it for [[A]]/[[B]]/[[C]].

This is the pattern MT-Bench popularized, written here from its description: a
pairwise instruction asking for an explanation and a bracketed verdict, greedy
decoding, and a substring scan of the reply ([[A]] checked first, then [[B]], then
[[C]] for a tie; none of them is a parse failure). The instructions below are our own
wording; no FastChat code or prompt text is used. Requests go to the local vLLM
server's chat endpoint, ``--concurrency`` at a time (one by default). Runs in the
project's venv (it only needs httpx).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import Row, arguments, run, verdict

SYSTEM = (
    "You are asked to referee two AI assistants. Read the user's request and both "
    "assistants' replies, then judge which reply serves the user better: consider "
    "whether it follows the request, and how helpful, relevant, correct and detailed it "
    "is. The order of the replies, their length and the assistants' names must not "
    "influence you. Write a short comparison first. Finish with your verdict in double "
    "square brackets: [[A]] when assistant A's reply is better, [[B]] when assistant "
    "B's reply is better, [[C]] when neither is better."
)
USER = (
    "### User request\n{prompt}\n\n### Reply of assistant A\n{a}\n### End of reply A\n\n"
    "### Reply of assistant B\n{b}\n### End of reply B"
)


def scan(text: str) -> str | None:
    """The verdict marker in a judgment, checked in the order A, B, C."""
    for marker, winner in (("[[A]]", "A"), ("[[B]]", "B"), ("[[C]]", "tie")):
        if marker in text:
            return winner
    return None


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    import httpx

    def judge_all(rows: list[Row]) -> list[Row]:
        out = []
        with httpx.Client(timeout=1800.0) as client:
            for row in rows:
                body = {
                    "model": args.model,
                    "temperature": 0.0,
                    "max_tokens": args.max_tokens,
                    "messages": [
                        {"role": "system", "content": SYSTEM},
                        {"role": "user", "content": USER.format(**row)},
                    ],
                }
                reply = client.post(f"{args.api_base}/chat/completions", json=body)
                reply.raise_for_status()
                text = reply.json()["choices"][0]["message"]["content"]
                winner = scan(text)
                out.append(
                    verdict(
                        row["key"], winner, text, None if winner else "no [[A]], [[B]] or [[C]]"
                    )
                )
        return out

    run(args, judge_all)


if __name__ == "__main__":
    main()
