"""The inputs of one judgment, validated at the door so errors say which field is wrong."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from judge.errors import UserError

_CORE = {"pair": ("prompt", "response_a", "response_b"), "point": ("prompt", "response")}


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise UserError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _validate(item: PairInput | PointInput) -> None:
    """Every text field, and every extra, must be a string."""
    for f in fields(item):
        if f.name != "extra":
            _text(f.name, getattr(item, f.name))
    for name, value in item.extra.items():
        _text(name, value)


@dataclass(frozen=True)
class PairInput:
    """A prompt and two responses to compare; ``extra`` holds e.g. a ``reference``."""

    prompt: str
    response_a: str
    response_b: str
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validate(self)

    def judged(self, shown: str = "AB") -> dict[str, str]:
        """The untrusted texts in display order, responses swapped for ``"BA"``."""
        first, second = (
            (self.response_a, self.response_b)
            if shown == "AB"
            else (self.response_b, self.response_a)
        )
        return {"prompt": self.prompt, **self.extra, "response_a": first, "response_b": second}

    def digest(self) -> str:
        """Stable content hash (seeds the random swap order)."""
        return _digest([self.prompt, self.response_a, self.response_b, dict(self.extra)])


@dataclass(frozen=True)
class PointInput:
    """A prompt and one response to score; ``extra`` holds e.g. a ``reference``."""

    prompt: str
    response: str
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validate(self)

    def judged(self) -> dict[str, str]:
        """The untrusted texts in display order."""
        return {"prompt": self.prompt, **self.extra, "response": self.response}


def _digest(parts: list[Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def as_pair(item: PairInput | Mapping[str, Any]) -> PairInput:
    """Accept a `PairInput` or a mapping with prompt, response_a, response_b (+ extras)."""
    if isinstance(item, PairInput):
        return item
    return PairInput(**_split(item, _CORE["pair"]))


def as_point(item: PointInput | Mapping[str, Any]) -> PointInput:
    """Accept a `PointInput` or a mapping with prompt, response (+ extras)."""
    if isinstance(item, PointInput):
        return item
    return PointInput(**_split(item, _CORE["point"]))


def _split(item: Mapping[str, Any], core: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise UserError(f"expected a mapping with {', '.join(core)}, got {type(item).__name__}")
    missing = [k for k in core if k not in item]
    if missing:
        has = ", ".join(item) or "nothing"
        raise UserError(f"item is missing {', '.join(missing)} (has {has})")
    return {**{k: item[k] for k in core}, "extra": {k: v for k, v in item.items() if k not in core}}
