"""Reliability diagram of a judge's P(A ≻ B): one line per benchmark file, as a PNG.

Needs matplotlib (the ``report`` extra); it draws with the Agg backend, so no display
is needed, and the process-wide backend choice is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from judge.figures import new_figure
from judge.metrics import expected_calibration_error, reliability

Series = tuple[str, Sequence[float], Sequence[float]]  # (label, probabilities, outcomes)


def reliability_png(series: Sequence[Series], path: str | Path, *, title: str) -> None:
    """Draw observed frequency against mean predicted probability per bin.

    Raises:
        MissingDependencyError: matplotlib is not installed.
    """
    figure = new_figure("drawing the reliability diagram", figsize=(5, 5), dpi=110)
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
    for label, probs, outcomes in series:
        bins = [b for b in reliability(probs, outcomes) if b.count]
        ece = expected_calibration_error(probs, outcomes) or 0.0
        ax.plot(
            [float(b.mean_prob or 0.0) for b in bins],
            [float(b.mean_outcome or 0.0) for b in bins],
            marker="o",
            label=f"{label} (n={len(probs)}, ECE {ece:.3f})",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("judge's P(A ≻ B), mean per bin")
    ax.set_ylabel("share of pairs where A is better")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    figure.savefig(path)
