"""Calibration of the embedded judge's P(A ≻ B) on LLMBar, before and after fitting.

One run of `judge.bench.run_bench` (the code behind ``judge bench``) with the default
judge (logprob, swap both) on the first ``--limit`` items of each LLMBar subset; the
same items with ``swap="none"`` (its calls are the first order of the swapped run, so
they come from the judgment cache). For each, a temperature and an isotonic calibrator
are fitted on the items not held apart (`judge.bench.calibrate.fit_held_apart`, split
by item) and the Brier score and ECE are measured on the held-apart items before and
after. Last, the temperature calibrator is saved and loaded into a ``Judge(calibration=)``
that judges the held-apart items again (from the cache), to show the loaded path gives
the figure reported.

    python benchmarks/bench_calibration.py --limit 40
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import DATA
from benchmarks.report import write_section
from judge import Judge
from judge.bench import load_preferences, run_bench
from judge.bench.calibrate import CalibrationFit, fit_held_apart, held_apart
from judge.bench.figure import Series, reliability_png
from judge.bench.scoring import calibration_points
from judge.metrics import expected_calibration_error

FIGURE = Path(__file__).resolve().parent / "results" / "calibration.png"


def row(name: str, fitted: CalibrationFit) -> str:
    c = fitted.calibrator
    what = f"T = {c.temperature:.2f}" if c.temperature else f"{len(c.points)} steps"
    b, a = fitted.before, fitted.after
    return (
        f"| {name} | {c.kind} ({what}) | {fitted.fit_items} / {fitted.held_items} | "
        f"{fitted.held_comparisons} | {b['ece']:.3f} | {a['ece']:.3f} | "
        f"{b['brier']:.3f} | {a['brier']:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=40, help="items per LLMBar subset")
    parser.add_argument("--held-out", type=float, default=0.5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    items = load_preferences(DATA, limit=args.limit)
    lines = [
        "| judge | calibrator | items fit / held apart | held comparisons | ECE before | "
        "ECE after | Brier before | Brier after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    fits: dict[str, CalibrationFit] = {}
    runs: list[str] = []
    series: list[Series] = []
    load = os.getloadavg()[0]
    for swap in ("both", "none"):
        report = run_bench(Judge(swap=swap), items)
        g = report.overall
        runs.append(
            f"swap {swap}: accuracy {g.accuracy:.3f}, consistency "
            f"{'—' if g.consistency is None else f'{g.consistency:.2f}'}, P(first) "
            f"{g.p_first:.2f}, model calls from the cache {g.cached}"
        )
        print(runs[-1], flush=True)
        for kind in ("temperature", "isotonic"):
            fitted = fit_held_apart(report.outcomes, kind=kind, held=args.held_out)  # type: ignore[arg-type]
            fits[f"{swap}/{kind}"] = fitted
            lines.append(row(f"logprob, swap {swap}", fitted))
        held = [o for o in report.outcomes if held_apart(0, o.item.id, args.held_out)]
        probs, ys = calibration_points(held)
        calibrated = fits[f"{swap}/temperature"].calibrator.apply_all(probs)
        series += [(f"swap {swap}, raw", probs, ys), (f"swap {swap}, temperature", calibrated, ys)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "temperature.json"
        fits["both/temperature"].calibrator.save(path)
        apart = [i for i in items if held_apart(0, i.id, args.held_out)]
        loaded = run_bench(Judge(calibration=str(path)), apart)
    after = calibration_points(loaded.outcomes)
    check = (
        f"Loaded into `Judge(calibration=...)` and run again on the {len(apart)} "
        f"held-apart items (cache hits {loaded.overall.cached}/"
        f"{2 * loaded.overall.judgments} orders): ECE {expected_calibration_error(*after):.3f}"
        f", raw {loaded.overall.raw_ece:.3f}."
    )
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    reliability_png(series, FIGURE, title="SmolLM2-135M on LLMBar, logprob, held-apart items")
    body = "\n".join(
        [
            "## Calibration of P(A ≻ B) on LLMBar (embedded SmolLM2-135M)",
            "",
            f"First {args.limit} items of each of the 5 LLMBar subsets "
            f"({len(items)} items); fitted on the items not held apart, measured "
            f"on the {args.held_out:.0%} held apart (split by item, never the "
            "same items). ECE: 10 equal-width bins; outcome 1 when the chosen "
            "response was shown as A (its position is drawn per item).",
            "",
            *lines,
            "",
            "; ".join(runs) + ".",
            "",
            check,
            "",
            "The temperature search spans T in [e^-7, e^7]; T at the upper end "
            "means the fit flattened P(A ≻ B) to ½: the judge's probability "
            "carries no information about which response is better.",
            "",
            f"Load average (1 min) at start → end: {load:.1f} → {os.getloadavg()[0]:.1f}.",
            "Reliability diagram: `benchmarks/results/calibration.png`.",
        ]
    )
    print(body)
    if not args.no_write:
        write_section("calibration", body)


if __name__ == "__main__":
    main()
