"""Streaming readers for annotation inputs: JSONL, Parquet, or a Hugging Face dataset directory.

Each reader yields `Record` objects one at a time, reading the file in chunks, so memory
does not grow with the input. A record is a prompt with two or more candidate
completions, taken from a list column or from named columns; field names are
configurable. Prompts and candidates are plain strings or conversations (lists of
``{"role", "content"}`` messages). A malformed record raises an `InputError` naming the
file and the line (JSONL) or row (Parquet, datasets).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judge.annotate.text import Text
from judge.errors import InputError, MissingDependencyError, UserError
from judge.io import read_jsonl
from judge.paths import install_command

READ_CHUNK = 64  # rows per Parquet / datasets slice


@dataclass(frozen=True)
class Fields:
    """Where the prompt, the candidates and the gold label are in each input record.

    Attributes:
        prompt: the prompt field.
        candidates: a list field with the candidate completions (ignored when
            ``candidate_columns`` is given).
        candidate_columns: named fields, one candidate each, e.g. ``("chosen", "rejected")``.
        gold: optional field with the best candidate: its index (int), the name of one
            of ``candidate_columns``, or one numeric score per candidate (higher is
            better). A record without it, or with null, has no gold label.
        gold_column: the candidate column that is the better one in every record
            (e.g. ``"chosen"`` for data that is already labelled); excludes ``gold``.
    """

    prompt: str = "prompt"
    candidates: str = "candidates"
    candidate_columns: tuple[str, ...] | None = None
    gold: str | None = None
    gold_column: str | None = None

    def __post_init__(self) -> None:
        columns = self.candidate_columns
        if columns is not None and len(columns) < 2:
            raise UserError("candidate columns: give at least two column names")
        if self.gold and self.gold_column:
            raise UserError("give a gold field or a gold column, not both")
        if self.gold_column and (not columns or self.gold_column not in columns):
            raise UserError(
                f"gold column {self.gold_column!r} is not one of the candidate "
                f"columns {list(columns or [])}"
            )

    def needed(self) -> list[str]:
        """The input columns a record is built from."""
        names = [self.prompt, *(self.candidate_columns or [self.candidates])]
        return names + ([self.gold] if self.gold else [])


@dataclass(frozen=True)
class Record:
    """One prompt with its candidates, as read from the input.

    Attributes:
        prompt: the prompt, plain or conversational.
        candidates: two or more completions, plain or conversational.
        best: index of the best candidate per the gold label, if known.
        gold_scores: one gold score per candidate, if the gold label gave scores.
        where: ``file:line`` (JSONL) or ``file#row N`` (tables, from 0), for messages.
    """

    prompt: Text
    candidates: tuple[Text, ...]
    where: str
    best: int | None = None
    gold_scores: tuple[float, ...] | None = None

    def digest(self) -> str:
        """Stable hash of the record's content (not of where it was read)."""
        blob = json.dumps(
            [
                self.prompt,
                list(self.candidates),
                self.best,
                list(self.gold_scores) if self.gold_scores else None,
            ],
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    @property
    def conversational(self) -> bool:
        """Whether the prompt or any candidate is a list of messages."""
        return isinstance(self.prompt, list) or any(isinstance(c, list) for c in self.candidates)


def _text(value: Any, name: str, path: str, line: int | None, where: str) -> Text:
    if isinstance(value, str):
        return value
    if (
        isinstance(value, list)
        and value
        and all(
            isinstance(m, Mapping)
            and isinstance(m.get("role"), str)
            and isinstance(m.get("content"), str)
            for m in value
        )
    ):
        return [{"role": m["role"], "content": m["content"]} for m in value]
    raise _error(
        f"field {name!r} must be a string or a list of {{role, content}} messages, "
        f"got {type(value).__name__}",
        path,
        line,
        where,
    )


def _error(message: str, path: str, line: int | None, where: str) -> InputError:
    """An error at a JSONL line (``file:line: ...``) or a table row (``file: row N: ...``)."""
    if line is not None:
        return InputError(message, path=path, line=line)
    return InputError(f"{where.rpartition('#')[2]}: {message}", path=path)


def _gold(
    value: Any, fields: Fields, count: int, path: str, line: int | None, where: str
) -> tuple[int | None, tuple[float, ...] | None]:
    """The best candidate's index and the gold scores, from the gold field's value."""
    if value is None:
        return None, None
    columns = fields.candidate_columns
    if isinstance(value, bool):
        pass  # a bool is an int to Python, never a gold label here
    elif isinstance(value, int) and 0 <= value < count:
        return value, None
    elif isinstance(value, str) and columns and value in columns:
        return columns.index(value), None
    elif (
        isinstance(value, list)
        and len(value) == count
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        scores = tuple(float(v) for v in value)
        top = max(scores)
        return (scores.index(top) if scores.count(top) == 1 else None), scores
    raise _error(
        f"gold field {fields.gold!r} must be a candidate index 0..{count - 1}, "
        f"a candidate column name, or {count} scores; got {value!r}",
        path,
        line,
        where,
    )


def make_record(
    row: Mapping[str, Any], fields: Fields, path: str, line: int | None, where: str
) -> Record:
    """Build a `Record` from one input row, or raise an `InputError` saying what is wrong."""
    missing = [n for n in fields.needed() if n not in row and n != fields.gold]
    if missing:
        have = ", ".join(sorted(row)) or "no fields"
        raise _error(f"missing field {missing[0]!r} (has {have})", path, line, where)
    prompt = _text(row[fields.prompt], fields.prompt, path, line, where)
    if fields.candidate_columns:
        values = [row[c] for c in fields.candidate_columns]
        names = list(fields.candidate_columns)
    else:
        values = row[fields.candidates]
        if not isinstance(values, list):
            raise _error(
                f"field {fields.candidates!r} must be a list of candidates, got "
                f"{type(values).__name__}",
                path,
                line,
                where,
            )
        names = [f"{fields.candidates}[{i}]" for i in range(len(values))]
    if len(values) < 2:
        raise _error(f"needs at least two candidates, got {len(values)}", path, line, where)
    candidates = tuple(_text(v, n, path, line, where) for v, n in zip(values, names, strict=True))
    best, scores = _gold(
        row.get(fields.gold) if fields.gold else None, fields, len(candidates), path, line, where
    )
    if fields.gold_column and fields.candidate_columns:
        best = fields.candidate_columns.index(fields.gold_column)
    return Record(prompt, candidates, where, best, scores)


class Source:
    """An annotation input: a JSONL file, a Parquet file, or a saved `datasets` directory.

    Args:
        path: the input. A directory is read with ``datasets.load_from_disk``; a file
            ending in ``.parquet`` or ``.pq`` with pyarrow; anything else as JSONL.
        fields: where the prompt, candidates and gold label are.

    Raises:
        InputError: the input does not exist.
    """

    def __init__(self, path: str | Path, fields: Fields | None = None) -> None:
        self.path = Path(path)
        self.fields = fields or Fields()
        if not self.path.exists():
            raise InputError("no such file or directory", path=str(self.path))
        self.kind = (
            "datasets"
            if self.path.is_dir()
            else "parquet"
            if self.path.suffix in (".parquet", ".pq")
            else "jsonl"
        )

    def __iter__(self) -> Iterator[Record]:
        """Every record, in input order, read chunk by chunk."""
        reader = {"jsonl": self._jsonl, "parquet": self._parquet, "datasets": self._datasets}
        return reader[self.kind]()

    def _jsonl(self) -> Iterator[Record]:
        path = str(self.path)
        for line, row in read_jsonl(self.path):
            yield make_record(row, self.fields, path, line, f"{self.path.name}:{line}")

    def _rows(self, batches: Iterator[dict[str, list[Any]]]) -> Iterator[Record]:
        """Records from column batches; rows are numbered from 0."""
        number = 0
        for batch in batches:
            columns = list(batch)
            for values in zip(*batch.values(), strict=True):
                where = f"{self.path.name}#row {number}"
                yield make_record(
                    dict(zip(columns, values, strict=True)),
                    self.fields,
                    str(self.path),
                    None,
                    where,
                )
                number += 1

    def _parquet(self) -> Iterator[Record]:
        pq = _import("pyarrow.parquet", "pyarrow", "reading Parquet input")
        try:
            handle = pq.ParquetFile(self.path)
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise InputError(f"cannot read Parquet: {exc}", path=str(self.path)) from exc
        names = set(handle.schema_arrow.names)
        columns = [c for c in self.fields.needed() if c in names]
        batches = (
            b.to_pydict() for b in handle.iter_batches(batch_size=READ_CHUNK, columns=columns)
        )
        return self._rows(batches)

    def _datasets(self) -> Iterator[Record]:
        data = _import("datasets", "datasets", "reading a Hugging Face dataset directory")
        try:
            dataset = data.load_from_disk(str(self.path))
        except (FileNotFoundError, ValueError) as exc:
            raise InputError(f"not a saved datasets directory: {exc}", path=str(self.path)) from exc
        if isinstance(dataset, data.DatasetDict):
            splits = ", ".join(dataset)
            raise InputError(
                f"this is a DatasetDict (splits: {splits}); give one split's "
                f"directory, e.g. {self.path / next(iter(dataset))}",
                path=str(self.path),
            )
        columns = [c for c in self.fields.needed() if c in dataset.column_names]
        dataset = dataset.select_columns(columns)
        # Slicing a memory-mapped Arrow dataset reads only that slice.
        batches = (
            dataset[start : start + READ_CHUNK] for start in range(0, len(dataset), READ_CHUNK)
        )
        return self._rows(batches)


def _import(module: str, package: str, purpose: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(package, install_command("data"), purpose) from exc
