"""Where `judge` keeps its files: ``$JUDGE_CACHE_DIR``, else the XDG cache directory."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """Return the root directory for judgments and converted models.

    ``$JUDGE_CACHE_DIR`` wins; otherwise ``$XDG_CACHE_HOME/judge``, else
    ``~/.cache/judge``. The directory is not created here.
    """
    explicit = os.environ.get("JUDGE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "judge"


def judgments_dir() -> Path:
    """Directory of the judgment cache (a diskcache store)."""
    return cache_root() / "judgments"


def models_dir() -> Path:
    """Directory where converted models are kept."""
    return cache_root() / "models"
