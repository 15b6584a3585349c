"""Reading JSONL input with errors that name the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from judge.errors import InputError


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSONL file.

    Raises:
        InputError: the file is missing or unreadable, a line is not valid UTF-8 or
            JSON, or a line is not a JSON object; the message names file and line.
    """
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}", path=str(path)) from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            yield number, _decode(raw, str(path), number)


def _decode(raw: bytes, path: str, line: int) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 (byte {exc.start})", path=path, line=line) from exc
    if line == 1:
        text = text.removeprefix("\ufeff")  # the byte-order mark spreadsheet exports write
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = "" if raw.endswith(b"\n") else "; the line has no newline: was the file cut off?"
        raise InputError(
            f"invalid JSON: {exc.msg} at column {exc.colno}{cut}", path=path, line=line
        ) from exc
    if not isinstance(value, dict):
        raise InputError(
            f"expected a JSON object, got {type(value).__name__}", path=path, line=line
        )
    return value


def text_field(record: dict[str, Any], name: str, path: str, line: int) -> str:
    """``record[name]`` as a string, or an `InputError` naming the field and place."""
    if name not in record:
        have = ", ".join(sorted(record)) or "no fields"
        raise InputError(f"missing field {name!r} (has {have})", path=path, line=line)
    value = record[name]
    if not isinstance(value, str):
        raise InputError(
            f"field {name!r} must be a string, got {type(value).__name__}", path=path, line=line
        )
    return value
