"""Recover the prompt and the response from an OpenRLHF ``query``.

OpenRLHF sends each sample as ``query`` = the chat-formatted prompt followed by the
policy's response, special tokens kept, and the formatted prompt alone in ``prompts``.
The response is what follows the prompt, with trailing end-of-turn tokens removed.

OpenRLHF cuts a prompt longer than its budget from the left (it keeps the last tokens,
``openrlhf/utils/agent.py``) but still sends the whole prompt in ``prompts``; the query
then starts with a tail of the prompt. That tail is found as the longest suffix of the
prompt that begins the query (at least `MIN_OVERLAP` characters, after dropping the
replacement characters a token cut inside a character decodes to). The judge reads the
whole prompt. The
prompt is read back into its messages for the two chat formats whose markers are plain
text (ChatML, Llama 3); any other format is judged as the formatted text, whose control
tokens the judge's templates defuse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from judge.errors import UserError

END_OF_TURN = (
    "<|im_end|>",
    "</s>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|end|>",
    "<|end_of_text|>",
    "<end_of_turn>",
    "<eos>",
)
_CHATML = re.compile(r"<\|im_start\|>(\w+)\n(.*?)(?:<\|im_end\|>|\Z)", re.S)
_LLAMA3 = re.compile(
    r"<\|start_header_id\|>(\w+)<\|end_header_id\|>\n\n(.*?)(?:<\|eot_id\|>|\Z)", re.S
)


MIN_OVERLAP = 32
"""The shortest tail of a left-truncated prompt that is taken to begin a query."""


def prompt_overlap(query: str, prompt: str) -> int:
    """Length of the longest suffix of ``prompt`` that is a prefix of ``query`` (KMP)."""
    text = query[: len(prompt)] + "\0" + prompt
    border = [0] * len(text)
    for i in range(1, len(text)):
        k = border[i - 1]
        while k and text[i] != text[k]:
            k = border[k - 1]
        border[i] = k + (text[i] == text[k])
    return border[-1]


def split_query(query: str, prompt: str, end_tokens: Iterable[str] = END_OF_TURN) -> str:
    """The response inside ``query``: the text after ``prompt``, end-of-turn tokens stripped.

    A query that begins with a tail of the prompt (a left-truncated prompt) is split
    after that tail.

    Raises:
        UserError: ``query`` begins neither with ``prompt`` nor with a tail of it of at
            least `MIN_OVERLAP` characters.
    """
    if query.startswith(prompt):
        response = query[len(prompt) :]
    else:
        query = query.lstrip("\ufffd")
        overlap = prompt_overlap(query, prompt)
        if overlap < min(MIN_OVERLAP, len(prompt)):
            raise UserError(
                "the query does not start with its prompt, nor with the end "
                f"of it (a left-truncated prompt): its first {MIN_OVERLAP} "
                f"characters are {query[:MIN_OVERLAP]!r}"
            )
        response = query[overlap:]
    ends = tuple(t for t in end_tokens if t)
    trimmed = None
    while trimmed != response:
        trimmed = response
        response = response.rstrip()
        for token in ends:
            response = response.removesuffix(token)
    return response


def prompt_messages(prompt: str) -> list[dict[str, str]] | str:
    """Chat messages of a ChatML or Llama 3 formatted prompt; other text as is.

    The empty assistant turn that opens the response (the generation prompt) is dropped.
    """
    for pattern in (_CHATML, _LLAMA3):
        turns = [{"role": r, "content": c.strip("\n")} for r, c in pattern.findall(prompt)]
        if turns:
            if turns[-1]["role"] == "assistant" and not turns[-1]["content"]:
                turns.pop()
            return turns or prompt
    return prompt
