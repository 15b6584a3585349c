"""Comparison schedules: which pairs of a group of G completions the judge compares.

All pairs cost G(G−1)/2 comparisons (G(G−1) judged orders with ``swap="both"``): 28
pairs for G = 8, 120 for G = 16. A sparse schedule compares O(G) pairs and still gives
a connected comparison graph, which is all a Bradley–Terry fit needs for finite,
comparable strengths:

- ``all``: every pair — G(G−1)/2 pairs.
- ``ring``: a seeded random cycle through the group — G pairs (1 for G = 2, 3 for
  G = 3); every completion is compared twice.
- ``regular``: the union of ⌈k/2⌉ seeded random cycles with no pair repeated — about
  ⌈k/2⌉·G pairs, every completion compared about 2⌈k/2⌉ times (``regular:4`` = two
  cycles = 2G pairs); all pairs when that is not fewer.

The first member of a pair is shown as A (with ``swap="none"`` the only order judged);
along a cycle every completion is shown first exactly once per cycle, so a judge's
position bias falls evenly on the group. A group's draw depends only on the seed and a
key (its prompt), so it is the same on every call and every process.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

import numpy as np

from judge.errors import UserError

KINDS = ("all", "ring", "regular")
Pairs = list[tuple[int, int]]


@dataclass(frozen=True)
class Schedule:
    """Which pairs of a group are compared.

    Attributes:
        kind: ``"all"``, ``"ring"`` or ``"regular"`` (see the module doc).
        k: comparisons per completion for ``"regular"`` (rounded up to even).
        seed: seeds the random cycles.
    """

    kind: str = "all"
    k: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UserError(
                f"unknown schedule {self.kind!r}; choose one of "
                f"{', '.join(KINDS)} (e.g. 'regular:4')"
            )
        if self.k < 2:
            raise UserError(
                f"a regular schedule compares each completion at least twice, got k={self.k}"
            )

    @classmethod
    def parse(cls, text: str, seed: int = 0) -> Schedule:
        """Read ``"all"``, ``"ring"`` or ``"regular:K"`` (as the CLI takes it).

        Raises:
            UserError: an unknown kind or a K that is not an integer ≥ 2.
        """
        kind, _, k = text.strip().partition(":")
        if k and kind != "regular":
            raise UserError(f"only the regular schedule takes a degree, got {text!r}")
        try:
            return cls(kind, int(k) if k else 4, seed)
        except ValueError as exc:
            raise UserError(f"schedule {text!r}: the degree after ':' must be an integer") from exc

    def __str__(self) -> str:
        return f"regular:{self.k}" if self.kind == "regular" else self.kind

    def pairs(self, n: int, key: str = "") -> Pairs:
        """The compared pairs ``(shown first, shown second)`` of a group of ``n``.

        Args:
            n: the group's size.
            key: what identifies the group (its prompt); seeds the draw with ``seed``.
        """
        every = list(itertools.combinations(range(n), 2))
        if self.kind == "all" or n <= 3:
            return every
        rng = np.random.default_rng([self.seed, _digest(key)])
        cycles = 1 if self.kind == "ring" else (self.k + 1) // 2
        if cycles * n >= len(every):
            return every
        chosen: Pairs = []
        seen: set[frozenset[int]] = set()
        while len(chosen) < cycles * n:
            cycle = _cycle(rng, n, seen)
            if cycle is None:  # no edge-disjoint cycle left after many draws
                return every
            chosen.extend(cycle)
            seen.update(frozenset(p) for p in cycle)
        return chosen

    def cost(self, n: int) -> int:
        """Pairs compared in a group of ``n`` (judged orders: twice that with swap both)."""
        return len(self.pairs(n))


def _digest(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:15], 16)


def _cycle(
    rng: np.random.Generator, n: int, seen: set[frozenset[int]], tries: int = 200
) -> Pairs | None:
    """A random Hamiltonian cycle that repeats no pair in ``seen``, or None."""
    for _ in range(tries):
        order = [int(i) for i in rng.permutation(n)]
        cycle = [(order[i], order[(i + 1) % n]) for i in range(n)]
        if not any(frozenset(p) in seen for p in cycle):
            return cycle
    return None
