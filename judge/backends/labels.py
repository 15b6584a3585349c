"""Probability of each verdict label as a *complete* reply, from next-token log-probs.

Labels may span several tokens and share prefixes: SmolLM2 reads "10" as "1", "0", so
P("1") alone would also count every "10". Labels are arranged in a token trie.
log P(label) = Σ log p(token | prefix) over its tokens, plus, when the label is a
proper prefix of another label, log P(stop here) = log(1 − Σ p(c | label)) over the
tokens c that would continue into a longer label.

The backend runs one forward pass per *probe* (a maximal proper prefix), which yields
the next-token distribution at every shorter prefix too, and hands back the few
log-probabilities `needed`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Prefix = tuple[int, ...]


@dataclass(frozen=True)
class LabelTrie:
    """Token sequences of the labels, and what must be measured to score them."""

    sequences: Mapping[str, tuple[int, ...]]

    def __post_init__(self) -> None:
        seen: dict[tuple[int, ...], str] = {}
        for label, seq in self.sequences.items():
            if not seq:
                raise ValueError(f"label {label!r} tokenizes to nothing")
            if seq in seen:
                raise ValueError(f"labels {seen[seq]!r} and {label!r} tokenize identically")
            seen[seq] = label

    def _prefixes(self) -> set[Prefix]:
        return {seq[:i] for seq in self.sequences.values() for i in range(len(seq))}

    def _children(self, node: Prefix) -> set[int]:
        n = len(node)
        return {s[n] for s in self.sequences.values() if len(s) > n and s[:n] == node}

    def probes(self) -> list[Prefix]:
        """Maximal proper prefixes: one forward pass each covers every prefix."""
        prefixes = self._prefixes()
        maximal = [
            p for p in prefixes if not any(len(q) > len(p) and q[: len(p)] == p for q in prefixes)
        ]
        return sorted(maximal, key=lambda p: (len(p), p))

    def needed(self) -> dict[Prefix, set[int]]:
        """For each prefix, the next tokens whose log-probability is needed."""
        need: dict[Prefix, set[int]] = {}
        for seq in self.sequences.values():
            for i, token in enumerate(seq):
                need.setdefault(seq[:i], set()).add(token)
        return need

    def combine(self, logprobs: Mapping[tuple[Prefix, int], float]) -> dict[str, float]:
        """Log P(label is the complete reply) for each label.

        Args:
            logprobs: log p(token | prefix) for every pair listed by `needed`.
        """
        out: dict[str, float] = {}
        for label, seq in self.sequences.items():
            total = sum(logprobs[(seq[:i], t)] for i, t in enumerate(seq))
            continuing = self._children(seq)
            if continuing:
                mass = sum(math.exp(logprobs[(seq, c)]) for c in continuing)
                total += math.log(1.0 - mass) if mass < 1.0 else -math.inf
            out[label] = total
        return out


def renormalize(logprobs: Mapping[str, float]) -> dict[str, float] | None:
    """Softmax over the labels; None when every label has zero probability."""
    finite = [v for v in logprobs.values() if math.isfinite(v)]
    if not finite:
        return None
    top = max(finite)
    weights = {k: (math.exp(v - top) if math.isfinite(v) else 0.0) for k, v in logprobs.items()}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}
