"""Thinking-model output: the ``<think>…</think>`` part is reasoning, not the answer.

Models such as Qwen3 or DeepSeek-R1 write their reasoning between think tags before
the reply. That text is stripped before a reply is parsed, but it was generated, so it
counts against the token budget like any other output; a reply whose think block never
closed was cut off by that budget before it reached the verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLOCK = re.compile(r"<think>.*?</think>", flags=re.DOTALL)
_OPEN = "<think>"


@dataclass(frozen=True)
class Stripped:
    """A reply with its thinking removed.

    Attributes:
        visible: the reply without any think block, stripped of surrounding space.
        thinking: the text of the think blocks, joined.
        unclosed: a think block was opened and never closed (the budget ran out).
    """

    visible: str
    thinking: str
    unclosed: bool


def strip_thinking(text: str) -> Stripped:
    """Remove ``<think>…</think>`` blocks (and an unclosed trailing one) from ``text``."""
    thinking = [m.group(0)[len(_OPEN) : -len("</think>")] for m in _BLOCK.finditer(text)]
    rest = _BLOCK.sub("", text)
    unclosed = _OPEN in rest
    if unclosed:
        rest, _, tail = rest.partition(_OPEN)
        thinking.append(tail)
    # A template may open the block in the prompt, so the reply holds only its close.
    if not thinking and "</think>" in rest:
        head, _, rest = rest.partition("</think>")
        thinking.append(head)
    return Stripped(rest.strip(), "\n".join(t.strip() for t in thinking), unclosed)
