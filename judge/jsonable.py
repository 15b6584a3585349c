"""One way to turn what the library reports into JSON: `to_jsonable`.

Verdicts are pydantic models; reports are frozen dataclasses. Every JSON a command
prints or writes (``--json``, report files, per-item records) goes through
`to_jsonable`, so the two kinds serialize the same way:

- a pydantic model: its ``model_dump(mode="json")``;
- a dataclass: a dict of its fields, in order, each serialized in turn. A dataclass
  that writes something else declares it in ``json_keys`` (a ``ClassVar``): the
  attribute names to write, in order, fields or properties; ``...`` stands for every
  field. Leaving a field out omits it; naming a property adds a derived value;
- a mapping: a dict with the same keys; a list or tuple: a list;
- an enum: its value; a path: its string;
- ``None``, a string, a bool, an int or a float as it is: NaN and infinities stay
  floats, which ``json.dumps`` writes as ``NaN`` / ``Infinity``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum
from pathlib import PurePath
from types import EllipsisType
from typing import Any

from pydantic import BaseModel

JsonKeys = tuple[str | EllipsisType, ...]
"""A dataclass's ``json_keys``: attribute names in order, ``...`` for every field."""
_SCALARS = (str, int, float, bool, type(None))


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (dict, list, str, int, float, bool, None).

    Raises:
        TypeError: a value of a type JSON has no form for (the message names it).
    """
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: to_jsonable(getattr(value, name)) for name in json_keys(value)}
    if isinstance(value, Mapping):
        return {key: to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"cannot write a {type(value).__name__} as JSON: {value!r:.80}")


def json_keys(value: Any) -> list[str]:
    """The attributes a dataclass writes: its ``json_keys`` (``...`` = every field)."""
    names = [f.name for f in dataclasses.fields(value)]
    declared = getattr(value, "json_keys", (...,))
    return [name for key in declared for name in (names if key is Ellipsis else [key])]
