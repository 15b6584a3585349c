"""Pairing strategies: which candidates of a record are compared.

A strategy first names a record's *slots* without judging anything (``"0-2"`` is
candidate 0 shown as A against candidate 2 as B; ``"best-worst"`` is one slot resolved
later), so a resumed job can tell what is done before any model call. `resolve` turns
pending slots into `Pair` objects; only ``best-worst`` needs the judge for that: it
scores every candidate pointwise (`Judge.score_batch`) and pairs the highest expected
score with the lowest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

import numpy as np

from judge.annotate.sources import Record
from judge.annotate.text import as_text
from judge.errors import UserError
from judge.inputs import PointInput
from judge.protocols.base import JudgeLike
from judge.reward.schedules import Schedule
from judge.verdicts import JudgmentFailure, PointwiseVerdict

Strategy = Literal["all", "adjacent", "best-worst", "random", "schedule"]
STRATEGIES: tuple[str, ...] = ("all", "adjacent", "best-worst", "random", "schedule")
BEST_WORST = "best-worst"


@dataclass(frozen=True)
class Pairing:
    """How candidates are paired.

    Attributes:
        strategy: ``"all"`` (every unordered pair), ``"adjacent"`` (0-1, 1-2, …),
            ``"best-worst"`` (highest vs lowest pointwise expected score),
            ``"random"`` (``k`` distinct pairs per record), or ``"schedule"`` (the pairs
            of ``schedule``).
        k: pairs per record for ``"random"`` (fewer when the record has fewer pairs).
        seed: seeds ``"random"`` and ``"schedule"``; the draw for a record depends only
            on the seed and the record's content, so it is the same on every run and
            resume.
        schedule: for ``"schedule"``: a `judge.reward.schedules` schedule, ``"ring"``
            (n pairs for n candidates) or ``"regular:K"`` (about K·n/2 pairs), the
            sparse comparison graphs of the groupwise reward. The adaptive ``swiss:R``
            is refused: it needs verdicts to name its later pairs.
    """

    strategy: Strategy = "all"
    k: int = 1
    seed: int = 0
    schedule: str = "ring"

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise UserError(
                f"unknown pairing {self.strategy!r}; choose one of {', '.join(STRATEGIES)}"
            )
        if self.k < 1:
            raise UserError(f"pairs per prompt must be at least 1, got {self.k}")
        # A bad schedule fails here, before any work; so does an adaptive one.
        if self.strategy == "schedule" and Schedule.parse(self.schedule).rounds > 1:
            raise UserError(
                f"--schedule {self.schedule}: a swiss schedule picks each round from the "
                "verdicts of the last one, but an annotation job names every pair before "
                "judging (so a resumed job knows what is done); use ring or regular:K"
            )

    def slots(self, record: Record) -> list[str]:
        """The record's pairs as slot names, in a fixed order; nothing is judged."""
        n = len(record.candidates)
        if self.strategy == BEST_WORST:
            return [BEST_WORST]
        if self.strategy == "adjacent":
            return [f"{i}-{i + 1}" for i in range(n - 1)]
        if self.strategy == "schedule":
            pairs = Schedule.parse(self.schedule, self.seed).pairs(n, record.digest())
            return [f"{i}-{j}" for i, j in pairs]
        every = [f"{i}-{j}" for i, j in combinations(range(n), 2)]
        if self.strategy == "all":
            return every
        rng = np.random.default_rng([self.seed, int(record.digest()[:15], 16)])
        chosen = rng.choice(len(every), size=min(self.k, len(every)), replace=False)
        return [every[i] for i in sorted(chosen)]

    def describe(self) -> dict[str, Any]:
        """The settings that change which pairs exist (part of the job fingerprint)."""
        if self.strategy == "random":
            return {"strategy": self.strategy, "k": self.k, "seed": self.seed}
        if self.strategy == "schedule":
            return {"strategy": self.strategy, "schedule": self.schedule, "seed": self.seed}
        return {"strategy": self.strategy}


@dataclass(frozen=True)
class Pair:
    """Two candidates of a record to compare: ``first`` is shown as A, ``second`` as B.

    Attributes:
        scores: pointwise expected scores of every candidate (``best-worst`` only).
    """

    record: Record
    first: int
    second: int
    scores: tuple[float, ...] | None = None


def key_of(record: Record, slot: str, fingerprint: str) -> str:
    """The stable key of one output row: record content, slot and job fingerprint."""
    blob = f"{record.digest()}|{slot}|{fingerprint}".encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def resolve(judge: JudgeLike, items: Sequence[tuple[Record, str]]) -> list[Pair | JudgmentFailure]:
    """Turn (record, slot) items into pairs.

    A ``best-worst`` item whose scoring failed becomes the `JudgmentFailure` of its
    first failed candidate.
    """
    scored = [record for record, slot in items if slot == BEST_WORST]
    scores = iter(_score(judge, scored)) if scored else iter(())
    out: list[Pair | JudgmentFailure] = []
    for record, slot in items:
        if slot == BEST_WORST:
            out.append(next(scores))
        else:
            first, _, second = slot.partition("-")
            out.append(Pair(record, int(first), int(second)))
    return out


def _score(judge: JudgeLike, records: Sequence[Record]) -> list[Pair | JudgmentFailure]:
    inputs = [PointInput(as_text(r.prompt), as_text(c)) for r in records for c in r.candidates]
    results = iter(judge.score_batch(inputs))
    out: list[Pair | JudgmentFailure] = []
    for record in records:
        mine = [next(results) for _ in record.candidates]
        failed = [r for r in mine if isinstance(r, JudgmentFailure)]
        if failed:
            out.append(failed[0])
            continue
        values = tuple(r.expected_score for r in mine if isinstance(r, PointwiseVerdict))
        best = values.index(max(values))
        worst = len(values) - 1 - values[::-1].index(min(values))  # differs from best
        out.append(Pair(record, best, worst, values))
    return out
