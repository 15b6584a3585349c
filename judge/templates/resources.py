"""Locate the shipped ``rubrics/`` and ``prompts/`` directories.

In a source checkout (and an editable install) they sit next to the ``judge``
package; in a built wheel they are copied to ``judge/_data/``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

Kind = Literal["rubrics", "prompts"]

_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def shipped_dir(kind: Kind) -> Path:
    """Return the directory holding the shipped templates of ``kind``."""
    for candidate in (_PACKAGE / "_data" / kind, _PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the shipped {kind}/ directory is missing from this install")


def shipped_names(kind: Kind) -> list[str]:
    """Names (file stems) of the shipped templates of ``kind``, sorted."""
    return sorted(p.stem for p in shipped_dir(kind).glob("*.j2"))
