"""The bias report as markdown a user can paste into a paper or an issue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from judge.bias.run import BiasReport


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_num(v, digits) for v in value) + "]"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_num(c) for c in row) + " |" for row in rows]
    return lines


def _modes(entry: dict[str, Any]) -> list[str]:
    rows = [
        [
            mode,
            s["judged"],
            s["failures"],
            s["p_first"],
            s["consistency"],
            s["tie_rate"],
            s["accuracy"],
            s["accuracy_ci"],
            s["p_longer"],
            s["longer_is_better"],
        ]
        for mode, s in entry["modes"].items()
    ]
    return _table(
        [
            "swap",
            "judged",
            "failed",
            "P(first shown)",
            "consistency",
            "tie rate",
            "accuracy",
            "95% CI",
            "P(prefers longer)",
            "longer is better",
        ],
        rows,
    )


def _ratio(bucket: dict[str, Any]) -> str:
    high = bucket["ratio_high"]
    return f"{bucket['ratio_low']:g}–{'∞' if high is None else f'{high:g}'}"


def _length(entry: dict[str, Any]) -> list[str]:
    length = entry["length"]
    lines = [
        f"Length (swap={length['mode']}): fitted β of logit P(A≻B) on tanh(Δlen/s), "
        f"s = {_num(length['length_scale'], 0)} chars: judge β = "
        f"{_num(length['judge_coef'])}, gold β = {_num(length['gold_coef'])}.",
        "",
    ]
    rows = [
        [_ratio(b), b["n"], b["accuracy"], b["p_longer"], b["longer_is_better"]]
        for b in length["buckets"]
    ]
    return lines + _table(
        [
            "length ratio (longer/shorter)",
            "pairs",
            "accuracy",
            "P(prefers longer)",
            "longer is better",
        ],
        rows,
    )


def _headline(entry: dict[str, Any]) -> list[str]:
    h = entry["headline"]
    if h is None:
        return []
    modes = ", ".join(f"swap={m}: {_num(v)}" for m, v in h["by_mode"].items())
    return [f"**{h['measure']}** — {modes} (fair judge: {_num(h['fair'], 1)}).", ""]


def to_markdown(report: BiasReport) -> str:
    """Render the report: the judge, then one section per set, then stability."""
    j = report.judge
    lines = [
        "# Bias report",
        "",
        f"Judge: `{j['model']}`, rubric `{j['rubric']}`, template `{j['template']}`, "
        f"method `{j['method']}` (temperature {j['temperature']}). "
        "P(first shown) averages every order shown (a tie counts half; fair: 0.5); "
        "consistency is the share of swapped pairs whose two orders agree; accuracy "
        "counts a tie half; P(prefers longer) is the mean P(longer ≻ shorter).",
        "",
    ]
    for entry in report.sets:
        lines += [f"## {entry['name']} ({entry['n']} pairs)", ""]
        if entry["description"]:
            lines += [entry["description"] + ".", ""]
        lines += _headline(entry) + _modes(entry) + [""] + _length(entry) + [""]
    s = report.stability
    lines += ["## Stability across sampling seeds", ""]
    if s.get("applicable"):
        lines += [
            f"{s['runs']} seeds {s['seeds']} on {s['set']} (swap=none), {s['pairs']} "
            f"pairs judged in every run: winners agree for {_num(s['pairwise_agreement'])} "
            f"of seed pairs; unanimous on {_num(s['unanimous'])} of pairs; failures per "
            f"run {s['failures']}.",
            "",
        ]
    else:
        lines += [f"Not measured: {s.get('reason', 'no seeds given')}.", ""]
    return "\n".join(lines)
