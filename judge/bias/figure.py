"""The bias report as one PNG: position, accuracy per swap mode, length, probes.

Needs matplotlib (the ``report`` extra); it draws with the Agg backend, so no display
is needed, and the process-wide backend choice is left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from judge.bias.run import BiasReport
from judge.figures import new_figure

PURPOSE = "the bias report figure"


def _bars(ax: Any, report: BiasReport, field: str, *, labelled_only: bool) -> None:
    sets = [s for s in report.sets if s["labelled"] or not labelled_only]
    modes = report.judge["swaps"]
    width = 0.8 / max(len(modes), 1)
    for k, mode in enumerate(modes):
        xs = [i + k * width for i in range(len(sets))]
        values = [s["modes"][mode][field] for s in sets]
        errors = None
        if field == "accuracy":
            cis = [s["modes"][mode]["accuracy_ci"] for s in sets]
            errors = [
                [v - c[0] if v is not None and c else 0 for v, c in zip(values, cis, strict=True)],
                [c[1] - v if v is not None and c else 0 for v, c in zip(values, cis, strict=True)],
            ]
        ax.bar(
            xs,
            [v if v is not None else 0 for v in values],
            width,
            yerr=errors,
            label=f"swap={mode}",
            capsize=2,
        )
    ax.set_xticks([i + width * (len(modes) - 1) / 2 for i in range(len(sets))])
    ax.set_xticklabels([s["name"] for s in sets], rotation=20, ha="right", fontsize=8)
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)


def _length(ax: Any, report: BiasReport) -> None:
    entry = next((s for s in report.sets if s["labelled"]), report.sets[0])
    buckets = entry["length"]["buckets"]
    labels = [
        f"{b['ratio_low']:g}–" + ("∞" if b["ratio_high"] is None else f"{b['ratio_high']:g}")
        for b in buckets
    ]
    for field, name in (
        ("accuracy", "accuracy"),
        ("p_longer", "P(prefers longer)"),
        ("longer_is_better", "longer is better (gold)"),
    ):
        values = [b[field] if b[field] is not None else float("nan") for b in buckets]
        ax.plot(range(len(buckets)), values, marker="o", label=name)
    ax.set_xticks(range(len(buckets)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_xlabel("length ratio longer/shorter (chars)")
    ax.set_ylim(0, 1)
    ax.set_title(f"Length: {entry['name']} (swap={entry['length']['mode']})", fontsize=9)
    ax.legend(fontsize=7)


def _probes(ax: Any, report: BiasReport) -> None:
    probes = [s for s in report.sets if s["headline"] is not None]
    modes = report.judge["swaps"]
    width = 0.8 / max(len(modes), 1)
    for k, mode in enumerate(modes):
        values = [p["headline"]["by_mode"].get(mode) for p in probes]
        ax.bar(
            [i + k * width for i in range(len(probes))],
            [v if v is not None else 0 for v in values],
            width,
            label=f"swap={mode}",
        )
    for i, p in enumerate(probes):
        ax.plot(
            [i - width / 2, i + width * len(modes) - width / 2],
            [p["headline"]["fair"]] * 2,
            color="black",
            linewidth=2,
        )
    ax.set_xticks([i + width * (len(modes) - 1) / 2 for i in range(len(probes))])
    ax.set_xticklabels([p["headline"]["measure"] for p in probes], fontsize=7, rotation=10)
    ax.set_ylim(0, 1)
    ax.set_title("Probes (black line: a fair judge)", fontsize=9)
    ax.legend(fontsize=7)


def write_figure(report: BiasReport, path: str | Path) -> Path:
    """Draw the report's figure to ``path`` (PNG).

    Raises:
        MissingDependencyError: matplotlib is not installed.
    """
    figure = new_figure(PURPOSE, figsize=(12, 8.5), layout="constrained")
    axes = figure.subplots(2, 2)
    _bars(axes[0][0], report, "p_first", labelled_only=False)
    axes[0][0].set_title("P(prefers the response shown first); fair = 0.5", fontsize=9)
    _bars(axes[0][1], report, "accuracy", labelled_only=True)
    axes[0][1].set_title("Accuracy against gold, 95% bootstrap CI", fontsize=9)
    _length(axes[1][0], report)
    if any(s["headline"] for s in report.sets):
        _probes(axes[1][1], report)
    else:
        axes[1][1].set_axis_off()
    j = report.judge
    figure.suptitle(
        f"Bias report: {j['model']} · rubric {j['rubric']} · {j['method']}", fontsize=11
    )
    path = Path(path)
    figure.savefig(path, dpi=110)
    return path
