"""Preference sets in the RewardBench layout, from JSONL, JSON or Parquet.

Each record has ``prompt``, ``chosen`` and ``rejected`` and, optionally, ``subset`` and
``id``. ``rejected`` is one completion (RewardBench, LLMBar) or a list of them
(RewardBench 2: one chosen against several rejected, the chosen must rank first).
``chosen`` may be a list of exactly one completion, as RewardBench 2 stores it.
Anything else is an `InputError` naming the file and the line or row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judge.errors import InputError, MissingDependencyError
from judge.io import read_jsonl
from judge.paths import install_command

DEFAULT_SUBSET = "all"


@dataclass(frozen=True)
class PreferenceItem:
    """One prompt, the completion people preferred, and the completions they did not.

    Attributes:
        id: the record's ``id``, or ``<file name>:<line or row>`` when it has none.
        subset: the record's ``subset`` (``"all"`` when it has none).
        prompt: the user prompt.
        chosen: the preferred completion.
        rejected: the other completions, at least one.
    """

    id: str
    subset: str
    prompt: str
    chosen: str
    rejected: tuple[str, ...]

    @property
    def completions(self) -> int:
        """How many completions the judge must rank (2 for a plain pair)."""
        return 1 + len(self.rejected)


def load_preferences(path: str | Path, *, subsets: Sequence[str] | None = None,
                     limit: int | None = None) -> list[PreferenceItem]:
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
    items: list[PreferenceItem] = []
    per_subset: dict[str, int] = {}
    for where, record in _records(path):
        item = _item(record, path, where)
        if subsets is not None and item.subset not in subsets:
            continue
        if limit is not None and per_subset.get(item.subset, 0) >= limit:
            continue
        per_subset[item.subset] = per_subset.get(item.subset, 0) + 1
        items.append(item)
    if not items:
        wanted = f" in subset(s) {', '.join(subsets)}" if subsets else ""
        raise InputError(f"no records{wanted}", path=str(path))
    return items


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
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
        raise InputError(f"expected a JSON array of records, got {type(value).__name__}",
                         path=str(path))
    for row, record in enumerate(value, start=1):
        if not isinstance(record, dict):
            raise InputError(f"record {row}: expected an object, got {type(record).__name__}",
                             path=str(path))
    return value


def _parquet_rows(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingDependencyError("pyarrow", install_command("data"),
                                     "reading Parquet preference sets") from exc
    try:
        table = pq.read_table(path)
    except OSError as exc:  # pyarrow's errors for missing and malformed files
        raise InputError(f"cannot read Parquet: {exc}", path=str(path)) from exc
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _item(record: dict[str, Any], path: Path, where: int) -> PreferenceItem:
    jsonl = path.suffix.lower() == ".jsonl"

    def bad(message: str) -> InputError:
        if jsonl:
            return InputError(message, path=str(path), line=where)
        return InputError(f"record {where}: {message}", path=str(path))

    def text(name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise bad(f"field {name!r} must be a string, got {type(value).__name__}")
        return value

    def texts(name: str, value: Any) -> tuple[str, ...]:
        values = value if isinstance(value, list | tuple) else [value]
        if not values:
            raise bad(f"field {name!r} is an empty list")
        return tuple(text(name, v) for v in values)

    missing = [k for k in ("prompt", "chosen", "rejected") if k not in record]
    if missing:
        have = ", ".join(sorted(record)) or "no fields"
        raise bad(f"missing field {', '.join(map(repr, missing))} (has {have})")
    chosen = texts("chosen", record["chosen"])
    if len(chosen) != 1:
        raise bad(f"'chosen' has {len(chosen)} completions; the harness ranks one chosen "
                  "against the rejected (leave such subsets out with --subset)")
    subset = record.get("subset")
    ident = record.get("id")
    return PreferenceItem(
        id=f"{path.name}:{where}" if ident is None else str(ident),
        subset=DEFAULT_SUBSET if subset is None else text("subset", subset),
        prompt=text("prompt", record["prompt"]), chosen=chosen[0],
        rejected=texts("rejected", record["rejected"]),
    )
