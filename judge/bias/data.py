"""Pairwise sets for the bias report: user JSONL files and the shipped probe sets.

A line holds a ``prompt`` and either ``chosen`` and ``rejected`` (labelled; the better
response goes to position A or B by a seeded coin per item, so a set where the better
response always came first cannot pass for accuracy) or ``response_a`` and
``response_b`` with an optional ``gold`` of ``"A"``, ``"B"`` or ``"tie"``. An ``id``
field is kept when present.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np

from judge.errors import InputError, UnknownNameError
from judge.inputs import PairInput
from judge.io import read_jsonl, text_field

Gold = Literal["A", "B", "tie"]
PROBES = ("identical", "padded", "short_correct")
"""The shipped probe sets, each isolating one bias (see `probe_set`)."""

PROBE_DESCRIPTIONS = {
    "identical": "the same answer shown twice (a fair judge gives 50% or a tie)",
    "padded": "an answer vs the same answer padded with irrelevant, harmless text "
    "(gold: the unpadded one)",
    "short_correct": "a correct short answer vs a wrong long one (gold: the correct one)",
}


@dataclass(frozen=True)
class PairSet:
    """A named list of pairs with optional gold labels (one per pair)."""

    name: str
    pairs: list[PairInput]
    gold: list[Gold | None]
    ids: list[str]

    def __post_init__(self) -> None:
        if not len(self.pairs) == len(self.gold) == len(self.ids):
            raise ValueError("a PairSet needs one gold label and one id per pair")

    @property
    def labelled(self) -> bool:
        """Whether any pair has an A/B gold label."""
        return any(g in ("A", "B") for g in self.gold)

    def lengths(self) -> list[tuple[int, int]]:
        """(characters of A, characters of B) per pair."""
        return [(len(p.response_a), len(p.response_b)) for p in self.pairs]

    def head(self, n: int | None) -> PairSet:
        """The first ``n`` pairs (all when None)."""
        if n is None:
            return self
        return PairSet(self.name, self.pairs[:n], self.gold[:n], self.ids[:n])


def load_pair_set(path: str | Path, *, name: str | None = None, seed: int = 0) -> PairSet:
    """Read a pairwise JSONL file (see the module docstring for the fields).

    Args:
        path: the JSONL file.
        name: how the report names the set (default: the file stem).
        seed: seeds the coin that places ``chosen`` at A or B.

    Raises:
        InputError: unreadable file, bad line, missing or mistyped field, bad gold;
            the message names file and line.
    """
    path = Path(path)
    rng = np.random.default_rng(seed)
    pairs: list[PairInput] = []
    gold: list[Gold | None] = []
    ids: list[str] = []
    for line, record in read_jsonl(path):
        pair, label = _pair(record, str(path), line, chosen_first=bool(rng.random() < 0.5))
        pairs.append(pair)
        gold.append(label)
        ids.append(str(record.get("id", f"{path.stem}:{line}")))
    if not pairs:
        raise InputError("no pairs", path=str(path))
    return PairSet(name or path.stem, pairs, gold, ids)


def _pair(
    record: dict[str, object], path: str, line: int, *, chosen_first: bool
) -> tuple[PairInput, Gold | None]:
    prompt = text_field(record, "prompt", path, line)
    if "chosen" in record or "rejected" in record:
        chosen = text_field(record, "chosen", path, line)
        rejected = text_field(record, "rejected", path, line)
        if chosen_first:
            return PairInput(prompt, chosen, rejected), "A"
        return PairInput(prompt, rejected, chosen), "B"
    a = text_field(record, "response_a", path, line)
    b = text_field(record, "response_b", path, line)
    label = record.get("gold")
    if label not in (None, "A", "B", "tie"):
        raise InputError(
            f'field \'gold\' must be "A", "B" or "tie", got {label!r}', path=path, line=line
        )
    return PairInput(prompt, a, b), label


def probe_set(name: str) -> PairSet:
    """A shipped probe set: ``identical``, ``padded`` or ``short_correct``.

    Raises:
        UnknownNameError: no probe set has this name.
    """
    if name not in PROBES:
        raise UnknownNameError("probe set", name, list(PROBES))
    source = resources.files("judge") / "probes" / f"{name}.jsonl"
    with resources.as_file(source) as path:
        return load_pair_set(path, name=f"probe:{name}")
