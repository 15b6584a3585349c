"""Where `judge` keeps its files: ``$JUDGE_CACHE_DIR``, else the XDG cache directory."""

from __future__ import annotations

import os
import sys
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


def install_command(extra: str | None = None) -> str:
    """The exact command that installs ``judge`` with ``extra`` into this interpreter.

    From a source checkout (a ``pyproject.toml`` beside the package) it is an editable
    install of that checkout with this interpreter's pip, with paths relative to the
    working directory where they lie below it; otherwise the distribution from PyPI.
    """
    root = Path(__file__).resolve().parents[1]
    suffix = f"[{extra}]" if extra else ""
    if not (root / "pyproject.toml").is_file():
        return f"pip install 'judge-rm{suffix}'"
    return f"{_shown(Path(sys.executable))} -m pip install -e '{_shown(root)}{suffix}'"


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return str(path.absolute().relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)


def judgments_dir() -> Path:
    """Directory of the judgment cache (a diskcache store)."""
    return cache_root() / "judgments"


def models_dir() -> Path:
    """Directory where converted models are kept."""
    return cache_root() / "models"
