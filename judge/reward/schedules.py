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
- ``swiss``: adaptive, in R rounds (``swiss:R``, default 3). Round 1 is a seeded random
  perfect matching (⌊G/2⌋ pairs; with G odd one completion sits out); each later round
  fits Bradley–Terry strengths to the verdicts so far and pairs neighbours in that order
  among pairs not yet judged (`swiss_round`), spending comparisons where strengths are
  close. At most R·⌊G/2⌋ pairs (``swiss:2`` = G pairs for G = 8, ``swiss:4`` = 2G); all
  pairs when that is not fewer. A few rounds need not connect the group (the ridge of
  the fit keeps strengths finite). It needs a round's verdicts before it picks the
  next, so a caller judges it round by round (`Schedule.next_pairs`); a static
  schedule is one round.

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
from judge.reward.bradley_terry import fit_bradley_terry

KINDS = ("all", "ring", "regular", "swiss")
DEGREED = ("regular", "swiss")  # kinds that take a number after ':'
Comparisons = list[tuple[int, int, float]]  # (i, j, P(i ≻ j)) judged so far
Pairs = list[tuple[int, int]]


@dataclass(frozen=True)
class Schedule:
    """Which pairs of a group are compared.

    Attributes:
        kind: ``"all"``, ``"ring"``, ``"regular"`` or ``"swiss"`` (see the module doc).
        k: comparisons per completion for ``"regular"`` (rounded up to even); rounds
            for ``"swiss"``.
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
        if self.kind == "regular" and self.k < 2:
            raise UserError(
                f"a regular schedule compares each completion at least twice, got k={self.k}"
            )
        if self.kind == "swiss" and self.k < 1:
            raise UserError(f"a swiss schedule plays at least one round, got {self.k}")

    @classmethod
    def parse(cls, text: str, seed: int = 0) -> Schedule:
        """Read ``"all"``, ``"ring"``, ``"regular:K"`` or ``"swiss:R"`` (as the CLI takes it).

        Raises:
            UserError: an unknown kind, or a K (R) that is not an integer ≥ 2 (≥ 1).
        """
        kind, _, k = text.strip().partition(":")
        if k and kind not in DEGREED:
            raise UserError(
                f"only the regular (degree) and swiss (rounds) schedules take a number, "
                f"got {text!r}"
            )
        try:
            return cls(kind, int(k) if k else (3 if kind == "swiss" else 4), seed)
        except ValueError as exc:
            raise UserError(
                f"schedule {text!r}: the degree or rounds after ':' must be an integer"
            ) from exc

    def __str__(self) -> str:
        return f"{self.kind}:{self.k}" if self.kind in DEGREED else self.kind

    @property
    def rounds(self) -> int:
        """Rounds of judging a group needs: R for ``swiss``, 1 for a static schedule."""
        return self.k if self.kind == "swiss" else 1

    def pairs(self, n: int, key: str = "") -> Pairs:
        """The compared pairs ``(shown first, shown second)`` of a group of ``n``.

        For ``swiss`` the first round only (then `next_pairs`, round by round).

        Args:
            n: the group's size.
            key: what identifies the group (its prompt); seeds the draw with ``seed``.
        """
        every = list(itertools.combinations(range(n), 2))
        if self.kind == "all" or n <= 3 or (self.kind == "swiss" and self.cost(n) >= len(every)):
            return every
        rng = np.random.default_rng([self.seed, _digest(key)])
        if self.kind == "swiss":
            order = [int(i) for i in rng.permutation(n)]
            return [(order[i], order[i + 1]) for i in range(0, n - 1, 2)]
        cycles = (self.k + 1) // 2 if self.kind == "regular" else 1
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

    def next_pairs(self, n: int, key: str, judged: Comparisons, done: int) -> Pairs:
        """The pairs of round ``done + 1`` given the verdicts so far; [] when finished.

        Args:
            n: the group's size.
            key: what identifies the group (as for `pairs`).
            judged: every comparison of the group judged so far, ``(i, j, P(i ≻ j))``
                (a failed one is simply absent).
            done: rounds already judged (≥ 1).
        """
        if done >= self.rounds or self.cost(n) >= n * (n - 1) // 2:
            return []
        return swiss_round(n, judged)

    def cost(self, n: int) -> int:
        """Pairs compared in a group of ``n``, at most (judged orders: twice that with swap both).

        A swiss round may pair fewer, when neighbours have all met already.
        """
        every = n * (n - 1) // 2
        if self.kind == "swiss":
            return min(every, self.rounds * (n // 2)) if n > 3 else every
        if self.kind == "all" or n <= 3:
            return every
        return len(self.pairs(n))


def swiss_round(n: int, judged: Comparisons) -> Pairs:
    """Pair neighbours in the current Bradley–Terry order, never a pair already judged.

    Strengths are fitted to ``judged``; walking from the strongest down, each unpaired
    completion meets the nearest unpaired one below it that it has not met yet (the one
    left over sits out). The stronger of a pair is shown first in even positions of the
    order and second in odd ones, so position bias does not always favour the leader.
    """
    strengths = fit_bradley_terry(n, judged)
    order = sorted(range(n), key=lambda i: (-strengths[i], i))
    met = {frozenset((i, j)) for i, j, _ in judged}
    free, chosen = list(order), Pairs()
    while free:
        top = free.pop(0)
        rival = next((c for c in free if frozenset((top, c)) not in met), None)
        if rival is None:
            continue
        free.remove(rival)
        chosen.append((top, rival) if len(chosen) % 2 == 0 else (rival, top))
    return chosen


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
