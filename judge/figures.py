"""Figures for the reports (PNG), drawn with matplotlib's Agg canvas: no display needed.

matplotlib is the ``report`` extra; a report asked for a figure without it gets an error
that names the install command, and the process-wide backend choice is left alone.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from judge.errors import MissingDependencyError
from judge.paths import install_command


def available() -> bool:
    """Whether matplotlib, which draws the figures, is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def missing(purpose: str) -> MissingDependencyError:
    """The error for drawing ``purpose`` without matplotlib."""
    return MissingDependencyError("matplotlib", install_command("report"), purpose)


def new_figure(purpose: str, **options: Any) -> Any:
    """A matplotlib ``Figure`` on an Agg canvas.

    Raises:
        MissingDependencyError: matplotlib is not installed.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise missing(purpose) from exc
    figure = Figure(**options)
    FigureCanvasAgg(figure)
    return figure
