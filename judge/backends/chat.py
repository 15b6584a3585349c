"""Chat formatting shared by backends that hold a Hugging Face tokenizer (transformers, vLLM)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from judge.backends.base import Message
from judge.backends.labels import LabelTrie


def encode_chat(tokenizer: Any, messages: Sequence[Message]) -> list[int]:
    """Token ids of ``messages`` under the tokenizer's chat template, ready for the reply.

    The template's own text carries any BOS token, so no special tokens are added.
    """
    text = tokenizer.apply_chat_template(list(messages), tokenize=False,
                                         add_generation_prompt=True)
    ids: list[int] = tokenizer(text, add_special_tokens=False)["input_ids"]
    return ids


def label_trie(tokenizer: Any, labels: Sequence[str]) -> LabelTrie:
    """The token trie of ``labels`` as they would start the assistant's reply."""
    return LabelTrie({label: tuple(tokenizer(label, add_special_tokens=False)["input_ids"])
                      for label in labels})
