"""Delimiting judged text, which is untrusted input.

Judged text (prompts, responses, references) goes into the judge prompt between
``<name>`` … ``</name>`` tags. A response could try to close its own tag early and
write instructions after it, or smuggle chat-control tokens such as ``<|im_end|>`` that
a tokenizer would read as real turn boundaries. Both are neutralized here: look-alikes
of any delimiter in use, and anything shaped like a chat special token, have their
angle brackets replaced with the visually similar ``‹`` and ``›``, so the text stays
readable to the judge but can no longer act as structure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_LEFT, _RIGHT = "\u2039", "\u203a"  # ‹ ›

# <|im_start|>, <|endoftext|>, <｜begin▁of▁sentence｜> and similar control tokens.
_SPECIAL_TOKEN = re.compile(r"<\s*[|｜][^<>\n]{0,64}?[|｜]\s*>")


def _tag_pattern(names: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))
    # Tolerates whitespace, case changes and attributes: "< / Response_A foo=1 >".
    return re.compile(rf"<\s*/?\s*(?:{alternatives})\b[^<>]*>", re.IGNORECASE)


def _soften_text(text: str) -> str:
    if "<" in text or ">" in text:
        return text.replace("<", _LEFT).replace(">", _RIGHT)
    # A bracket-free special token such as "[INST]": a word joiner after its first
    # character keeps it readable while no tokenizer can match it as a whole.
    return text[:1] + "\u2060" + text[1:]


def _soften(match: re.Match[str]) -> str:
    return _soften_text(match.group(0))


def neutralize(text: str, tag_names: Iterable[str], special_tokens: Iterable[str] = ()) -> str:
    """Return ``text`` with delimiter and control-token look-alikes defused.

    Args:
        text: the untrusted text.
        tag_names: every delimiter tag name used in the prompt being built.
        special_tokens: the backend tokenizer's own special tokens, defused verbatim.

    Returns:
        The text, unchanged except for the defused look-alikes.
    """
    for token in special_tokens:
        if token and token in text:
            text = text.replace(token, _soften_text(token))
    names = list(tag_names)
    if names:
        text = _tag_pattern(names).sub(_soften, text)
    return _SPECIAL_TOKEN.sub(_soften, text)


def delimit(
    name: str, text: str, tag_names: Iterable[str], special_tokens: Iterable[str] = ()
) -> str:
    """Wrap neutralized ``text`` in ``<name>`` … ``</name>`` tags.

    Args:
        name: the tag, usually the variable name (``response_a``).
        text: the untrusted text.
        tag_names: every tag name in use, so none can be forged inside ``text``.
        special_tokens: the backend tokenizer's special tokens.

    Returns:
        The delimited block.
    """
    body = neutralize(text, tag_names, special_tokens)
    return f"<{name}>\n{body}\n</{name}>"
