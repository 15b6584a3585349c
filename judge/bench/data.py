"""Preference sets in the RewardBench layout, from JSONL, JSON or Parquet.

Each record has ``prompt``, ``chosen`` and ``rejected`` and, optionally, ``subset`` and
``id``. ``rejected`` is one completion (RewardBench, LLMBar) or a list of them
(RewardBench 2: one chosen against several rejected, the chosen must rank first).
``chosen`` may be a list of exactly one completion, as RewardBench 2 stores it, or of
several in RewardBench 2's ``Ties`` subset (every correct answer against every incorrect
one; see `judge.bench.protocols`). Anything else is an `InputError` naming the file and
the line or row. Other published layouts (JudgeBench, RM-Bench, human judgments) are
read by `judge.bench.formats`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from judge.errors import InputError, MissingDependencyError
from judge.io import read_jsonl
from judge.paths import install_command

DEFAULT_SUBSET = "all"
TIES_SUBSET = "ties"  # RewardBench 2's subset with several correct answers (lower-cased)


@dataclass(frozen=True)
class PreferenceItem:
    """One prompt, the completion people preferred, and the completions they did not.

    Attributes:
        id: the record's ``id``, or ``<file name>:<line or row>`` when it has none.
        subset: the record's ``subset`` (``"all"`` when it has none).
        prompt: the user prompt.
        chosen: the preferred completion.
        rejected: the other completions, at least one.
        also_chosen: further completions as good as ``chosen`` (RM-Bench's other style
            variants, RewardBench 2 Ties' other correct answers); each is compared with
            every rejected one.
        protocol: how the benchmark scores the item (`judge.bench.protocols`):
            ``generic``, ``rewardbench2-ties``, ``rm-bench`` or ``judgebench``.
        chosen_label: where the chosen completion is shown (``"A"``/``"B"``) when the
            benchmark fixes it (JudgeBench's published order); None: placed by a hash.
    """

    id: str
    subset: str
    prompt: str
    chosen: str
    rejected: tuple[str, ...]
    also_chosen: tuple[str, ...] = ()
    protocol: str = "generic"
    chosen_label: str | None = None

    @property
    def all_chosen(self) -> tuple[str, ...]:
        """Every preferred completion, ``chosen`` first."""
        return (self.chosen, *self.also_chosen)

    @property
    def completions(self) -> int:
        """How many completions the judge must rank (2 for a plain pair)."""
        return len(self.all_chosen) + len(self.rejected)


def load_preferences(
    path: str | Path, *, subsets: Sequence[str] | None = None, limit: int | None = None
) -> list[PreferenceItem]:
    """Read a preference set.

    Args:
        path: a ``.jsonl``, ``.json`` (an array of records) or ``.parquet`` file.
        subsets: keep only these subsets (all when None).
        limit: keep at most this many items of each subset, in file order.

    Raises:
        InputError: the file cannot be read, has no records left after filtering, or a
            record lacks a field or has the wrong type; the message says where.
        MissingDependencyError: a Parquet file without pyarrow installed.
    """
    path = Path(path)
    items = [_item(record, path, where) for where, record in records(path)]
    return select(items, path, subsets=subsets, limit=limit)


ItemT = TypeVar("ItemT", bound=Any)


def select(
    items: Sequence[ItemT],
    path: Path,
    *,
    subsets: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[ItemT]:
    """Keep ``subsets`` and at most ``limit`` items of each, in file order.

    Raises:
        InputError: nothing is left.
    """
    kept: list[ItemT] = []
    per_subset: dict[str, int] = {}
    for item in items:
        if subsets is not None and item.subset not in subsets:
            continue
        if limit is not None and per_subset.get(item.subset, 0) >= limit:
            continue
        per_subset[item.subset] = per_subset.get(item.subset, 0) + 1
        kept.append(item)
    if not kept:
        wanted = f" in subset(s) {', '.join(subsets)}" if subsets else ""
        raise InputError(f"no records{wanted}", path=str(path))
    return kept


def records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line or row number, record)``; rows of JSON and Parquet count from 1."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from read_jsonl(path)
    elif suffix == ".json":
        yield from enumerate(_json_array(path), start=1)
    elif suffix == ".parquet":
        yield from enumerate(_parquet_rows(path), start=1)
    else:
        raise InputError("unknown format: expected .jsonl, .json or .parquet", path=str(path))


def _json_array(path: Path) -> list[dict[str, Any]]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}", path=str(path)) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not valid JSON: {exc}", path=str(path)) from exc
    if not isinstance(value, list):
        raise InputError(
            f"expected a JSON array of records, got {type(value).__name__}", path=str(path)
        )
    for row, record in enumerate(value, start=1):
        if not isinstance(record, dict):
            raise InputError(
                f"record {row}: expected an object, got {type(record).__name__}", path=str(path)
            )
    return value


def _parquet_rows(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingDependencyError(
            "pyarrow", install_command("data"), "reading Parquet preference sets"
        ) from exc
    try:
        table = pq.read_table(path)
    except OSError as exc:  # pyarrow's errors for missing and malformed files
        raise InputError(f"cannot read Parquet: {exc}", path=str(path)) from exc
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


class Fields:
    """Typed access to one record's fields, with errors that say where the record is."""

    def __init__(self, record: dict[str, Any], path: Path, where: int) -> None:
        self.record, self.path, self.where = record, path, where

    def bad(self, message: str) -> InputError:
        """An `InputError` at this record: ``file:line:`` for JSONL, ``record N`` else."""
        if self.path.suffix.lower() == ".jsonl":
            return InputError(message, path=str(self.path), line=self.where)
        return InputError(f"record {self.where}: {message}", path=str(self.path))

    def require(self, *names: str) -> None:
        """Raise naming every missing field and the fields the record has."""
        missing = [k for k in names if k not in self.record]
        if missing:
            have = ", ".join(sorted(self.record)) or "no fields"
            raise self.bad(f"missing field {', '.join(map(repr, missing))} (has {have})")

    def text(self, name: str, value: Any = None) -> str:
        """Field ``name`` (or ``value``, reported as that field) as a string."""
        value = self.record[name] if value is None else value
        if not isinstance(value, str):
            raise self.bad(f"field {name!r} must be a string, got {type(value).__name__}")
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        """Field ``name`` as one or more strings (a string or a non-empty list)."""
        value = self.record[name]
        values = value if isinstance(value, list | tuple) else [value]
        if not values:
            raise self.bad(f"field {name!r} is an empty list")
        return tuple(self.text(name, v) for v in values)

    def ident(self) -> str:
        """The record's ``id``, or ``<file name>:<line or row>``."""
        ident = self.record.get("id")
        return f"{self.path.name}:{self.where}" if ident is None else str(ident)

    def subset(self, name: str = "subset") -> str:
        """The record's subset field, or ``"all"``."""
        value = self.record.get(name)
        return DEFAULT_SUBSET if value is None else self.text(name, value)


def _item(record: dict[str, Any], path: Path, where: int) -> PreferenceItem:
    fields = Fields(record, path, where)
    fields.require("prompt", "chosen", "rejected")
    chosen = fields.texts("chosen")
    subset = fields.subset()
    ties = subset.lower() == TIES_SUBSET
    if len(chosen) != 1 and not ties:
        raise fields.bad(
            f"'chosen' has {len(chosen)} completions; the harness ranks one chosen against "
            "the rejected, or several in RewardBench 2's Ties subset (three style variants: "
            "--format rm-bench; or leave such subsets out with --subset)"
        )
    return PreferenceItem(
        id=fields.ident(),
        subset=subset,
        prompt=fields.text("prompt"),
        chosen=chosen[0],
        rejected=fields.texts("rejected"),
        also_chosen=chosen[1:],
        protocol="rewardbench2-ties" if ties else "generic",
    )
