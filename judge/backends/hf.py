"""What the in-process Hugging Face backends (transformers, vLLM) share.

Chat encoding with the model's own template, the label trie built from its tokenizer,
and the revision stamp that identifies a local model directory in cache keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from judge.backends.base import Message
from judge.backends.labels import LabelTrie


def encode_chat(tokenizer: Any, messages: Sequence[Message]) -> list[int]:
    """Token ids of ``messages`` under the tokenizer's chat template, ready for the reply.

    The template's own text carries any BOS token, so no special tokens are added.
    """
    text = tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
    ids: list[int] = tokenizer(text, add_special_tokens=False)["input_ids"]
    return ids


def label_trie(tokenizer: Any, labels: Sequence[str]) -> LabelTrie:
    """The token trie of ``labels`` as they would start the assistant's reply."""
    return LabelTrie(
        {label: tuple(tokenizer(label, add_special_tokens=False)["input_ids"]) for label in labels}
    )


class LabelTries:
    """The label trie of each label tuple, built once; the latest ``keep`` are kept.

    Verdict labels repeat on every call, but a reply scored as a label
    (`judge.protocols.pmi`) is seen once or twice, so the memo is bounded.
    """

    def __init__(self, tokenizer: Any, keep: int = 256) -> None:
        self._tokenizer = tokenizer
        self._keep = keep
        self._tries: dict[tuple[str, ...], LabelTrie] = {}

    def __call__(self, labels: tuple[str, ...]) -> LabelTrie:
        """The trie of ``labels`` (built on first use)."""
        trie = self._tries.get(labels)
        if trie is None:
            trie = label_trie(self._tokenizer, labels)
            if len(self._tries) >= self._keep:
                del self._tries[next(iter(self._tries))]
            self._tries[labels] = trie
        return trie


def directory_revision(path: Path) -> str:
    """A cheap content stamp for a local model directory: weight file sizes and mtimes."""
    stamps = sorted(
        f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}"
        for p in path.iterdir()
        if p.suffix in {".safetensors", ".bin", ".json"}
    )
    return "dir:" + ";".join(stamps)
