"""What a reward call is given, turned into the judge's texts one item at a time.

Trainers hand over prompts and completions either as plain strings or as chat message
lists (``[{"role": "user", "content": "..."}]``). Each item is checked on its own, so one
malformed or empty item becomes that item's failure and never stops the rest.

A message's content may be a string or a list of content blocks (TRL's multimodal and
tool-using formats). What the judge reads:

- a text block (``{"type": "text", "text": ...}``) is its text; blocks are joined by
  newlines;
- a tool call (``tool_calls`` of an assistant message, whose ``content`` may be ``""``)
  is a line ``[tool call] name({"arg": ...})`` after the message's text;
- a tool's reply (``role: tool``) is a turn ``tool (name): content``;
- an image block (``image``, ``image_url``, ``input_image``) in a **prompt** becomes
  the line ``[image not shown to the judge]``: the judge reads text only, and says so
  rather than silently dropping it; an image in a **completion** or a reference is that
  item's failure, reason ``unsupported_content`` (judging a picture it cannot see
  would be a made-up number).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from judge.errors import UserError

IMAGE_BLOCKS = ("image", "image_url", "input_image")
IMAGE_PLACEHOLDER = "[image not shown to the judge]"


class UnsupportedContent(UserError):
    """A message holds content the judge cannot read (an image where it is judged)."""


@dataclass(frozen=True)
class RewardFailure:
    """Why one item has no reward.

    Attributes:
        index: the item's position in the call.
        reason: a `judge.FailureReason` value from the judge (``context_overflow``, …),
            or ``invalid_input`` / ``empty_completion`` / ``unsupported_content`` found
            before judging.
        message: a human-readable explanation.
    """

    index: int
    reason: str
    message: str


Rewards = list[float | None]


@dataclass(frozen=True)
class RewardBatch:
    """Rewards for one call, with what went wrong.

    Attributes:
        rewards: one reward per item after shaping (None where there is none).
        raw: the rewards before shaping.
        failures: the items without a reward, and why.
    """

    rewards: Rewards
    raw: Rewards
    failures: list[RewardFailure]


def message_text(value: object, what: str) -> str:
    """A prompt, completion or reference as the text the judge reads.

    A string is used as is. A message list with a single message (or a single user turn
    after system messages) gives that message's content; a longer conversation becomes a
    ``role: content`` transcript, one turn per paragraph. Content blocks, tool calls and
    images are rendered as the module docstring says.

    Raises:
        UserError: the value is neither a string nor a list of ``{"role", "content"}``
            messages with string or content-block content.
        UnsupportedContent: an image outside the prompt.
    """
    if isinstance(value, str):
        return value
    if not isinstance(value, Sequence) or not value:
        raise UserError(
            f"{what} must be a string or a non-empty list of chat messages, "
            f"got {type(value).__name__}"
        )
    turns = [_turn(m, what, k) for k, m in enumerate(value)]
    spoken = [t for t in turns if t[0] != "system"]
    if len(spoken) == 1 and (len(turns) == 1 or spoken[0][0] == "user"):
        return spoken[0][1]
    return "\n\n".join(f"{role}: {content}" for role, content in turns)


def _turn(message: Any, what: str, k: int) -> tuple[str, str]:
    if not isinstance(message, Mapping):
        raise UserError(f"{what} message {k} must be a mapping with a 'content'")
    role = str(message.get("role", "user"))
    parts = [_content(message.get("content"), what, k)]
    parts += [_tool_call(call, what, k) for call in message.get("tool_calls") or ()]
    text = "\n".join(p for p in parts if p)
    if role == "tool" and message.get("name"):
        role = f"tool ({message['name']})"
    return role, text


def _content(content: object, what: str, k: int) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, Sequence) or isinstance(content, bytes | Mapping):
        raise UserError(
            f"{what} message {k}: content must be a string or a list of "
            f"content blocks, got {type(content).__name__}"
        )
    return "\n".join(_block(block, what, k) for block in content)


def _block(block: object, what: str, k: int) -> str:
    kind = block.get("type") if isinstance(block, Mapping) else None
    if kind == "text" and isinstance(block, Mapping) and isinstance(block.get("text"), str):
        return str(block["text"])
    if kind in IMAGE_BLOCKS:
        if what == "prompt":
            return IMAGE_PLACEHOLDER
        raise UnsupportedContent(
            f"{what} message {k} holds an image block; the judge reads "
            "text only, so it cannot judge it"
        )
    raise UserError(
        f"{what} message {k}: unknown content block {kind!r} (expected "
        f"'text' with a string 'text', or an image block)"
    )


def _tool_call(call: object, what: str, k: int) -> str:
    function = call.get("function", call) if isinstance(call, Mapping) else None
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise UserError(f"{what} message {k}: a tool call needs a function name")
    arguments = function.get("arguments", {})
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False, sort_keys=True)
    return f"[tool call] {function['name']}({arguments})"


def check_lengths(**columns: Sequence[Any] | None) -> int:
    """The common length of the given columns (None = absent).

    Raises:
        UserError: two columns differ in length, naming both.
    """
    present = {name: len(col) for name, col in columns.items() if col is not None}
    if len(set(present.values())) > 1:
        listing = ", ".join(f"{name} has {n}" for name, n in present.items())
        raise UserError(f"the lists must have one entry per item, but {listing}")
    return next(iter(present.values()), 0)


@dataclass(frozen=True)
class Item:
    """One item's texts, ready for the judge (``reference`` is None when not given)."""

    prompt: str
    completion: str
    reference: str | None


def read_item(
    index: int, prompt: object, completion: object, reference: object, need_reference: bool
) -> Item | RewardFailure:
    """Check and convert one item; a problem becomes that item's `RewardFailure`."""
    try:
        texts = (
            message_text(prompt, "prompt"),
            message_text(completion, "completion"),
            None if reference is None else message_text(reference, "reference"),
        )
    except UnsupportedContent as exc:
        return RewardFailure(index, "unsupported_content", f"item {index}: {exc}")
    except UserError as exc:
        return RewardFailure(index, "invalid_input", f"item {index}: {exc}")
    if not texts[1].strip():
        return RewardFailure(index, "empty_completion", f"item {index}: the completion is empty")
    if need_reference and not texts[2]:
        return RewardFailure(index, "invalid_input", f"item {index}: no reference answer")
    return Item(*texts)
