"""Run a judge over pairwise sets in every swap mode and assemble the bias report.

Every judgment goes through `judge.Judge`. The modes share one backend and one cache;
the cache is keyed per order shown, so running ``swap="both"`` first makes ``"none"``
and ``"random"`` free (they show orders that ``"both"`` already judged).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from judge.bias.data import PROBE_DESCRIPTIONS, PairSet
from judge.bias.measures import headline, length_buckets, length_coefficients, mode_stats, stability
from judge.engine.executor import Progress
from judge.judge import Judge
from judge.verdicts import PairwiseResult, SwapMode

SWAP_MODES: tuple[SwapMode, ...] = ("both", "random", "none")


@dataclass(frozen=True)
class BiasReport:
    """What `bias_report` measured, ready for JSON, markdown and the figure.

    Attributes:
        judge: the configuration judged (model, rubric, template, method, temperature).
        sets: one entry per pair set: ``name``, ``n``, ``labelled``, ``description``,
            ``modes`` (statistics per swap mode, see `judge.bias.measures.mode_stats`),
            ``length`` (from the first mode run: buckets by length ratio and the
            fitted length coefficients) and ``headline`` (probe sets only).
        stability: agreement across sampling seeds, or why it does not apply.
    """

    judge: dict[str, Any]
    sets: list[dict[str, Any]] = field(default_factory=list)
    stability: dict[str, Any] = field(default_factory=dict)


def variant(judge: Judge, **changes: Any) -> Judge:
    """The same judge (backend, rubric, templates, cache) with some settings changed."""
    settings = judge.config.model_copy(update=changes).model_dump()
    return Judge(
        judge.backend,
        rubric=judge.rubric,
        template=judge.template("pairwise"),
        cache=judge.cache,
        **settings,
    )


def describe(judge: Judge) -> dict[str, Any]:
    """The judge configuration as the report shows it."""
    c = judge.config
    return {
        "model": judge.backend.name,
        "rubric": judge.rubric.name,
        "template": judge.template("pairwise").name,
        "method": c.method,
        "temperature": c.temperature,
        "seed": c.seed,
    }


def judge_set(
    judge: Judge, pairs: PairSet, swaps: Sequence[SwapMode], *, progress: Progress | None = None
) -> dict[SwapMode, list[PairwiseResult]]:
    """Judge every pair of ``pairs`` once per swap mode (``"both"`` first)."""
    ordered = sorted(dict.fromkeys(swaps), key=SWAP_MODES.index)
    return {
        mode: variant(judge, swap=mode).compare_batch(pairs.pairs, progress=progress)
        for mode in ordered
    }


def summarize_set(
    pairs: PairSet, results: dict[SwapMode, list[PairwiseResult]], *, seed: int = 0
) -> dict[str, Any]:
    """The report entry of one set, from its results per swap mode."""
    modes: dict[str, dict[str, Any]] = {
        mode: mode_stats(pairs, rs, seed=seed) for mode, rs in results.items()
    }
    source, first = next(iter(results.items()))
    probe = pairs.name.removeprefix("probe:") if pairs.name.startswith("probe:") else None
    return {
        "name": pairs.name,
        "n": len(pairs.pairs),
        "labelled": pairs.labelled,
        "description": PROBE_DESCRIPTIONS.get(probe) if probe else None,
        "modes": modes,
        "length": {
            "mode": source,
            "buckets": length_buckets(pairs, first, seed=seed),
            **length_coefficients(pairs, first),
        },
        "headline": headline(pairs.name, modes),
    }


def measure_stability(
    judge: Judge, pairs: PairSet, seeds: Sequence[int], *, progress: Progress | None = None
) -> dict[str, Any]:
    """Agreement across sampling seeds, for a judge that samples.

    Each seed judges ``pairs`` with ``swap="none"``, so only the sampling varies.
    A judge that does not sample (logprob method, or temperature 0) is deterministic:
    the result says so instead of running anything.
    """
    c = judge.config
    if c.method != "generate" or c.temperature <= 0:
        return {
            "applicable": False,
            "reason": "the judge does not sample (logprob method or temperature 0), so "
            "repeated runs give identical verdicts",
        }
    if len(seeds) < 2:
        return {"applicable": False, "reason": "give at least two seeds"}
    runs = [
        variant(judge, swap="none", seed=s).compare_batch(pairs.pairs, progress=progress)
        for s in seeds
    ]
    return {**stability(runs), "set": pairs.name, "seeds": list(seeds)}


def bias_report(
    judge: Judge,
    sets: Sequence[PairSet],
    *,
    swaps: Sequence[SwapMode] = SWAP_MODES,
    stability_seeds: Sequence[int] = (),
    stability_set: PairSet | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> BiasReport:
    """Measure a judge's position, length and sampling biases on pairwise sets.

    Args:
        judge: the judge configuration to examine (its ``swap`` is not used: every
            mode in ``swaps`` is run).
        sets: user sets and/or probe sets (`judge.bias.data.probe_set`).
        swaps: the swap modes to compare.
        stability_seeds: seeds for the stability runs (generate method, temperature > 0).
        stability_set: the pairs the stability runs judge (default: the first set).
        seed: seeds the bootstrap intervals.
        progress: called as ``progress(done, total)`` within each batch.
    """
    if not sets:
        raise ValueError("bias_report needs at least one pair set")
    report = BiasReport(describe(judge) | {"swaps": list(swaps)})
    for pairs in sets:
        results = judge_set(judge, pairs, swaps, progress=progress)
        report.sets.append(summarize_set(pairs, results, seed=seed))
    report.stability.update(
        measure_stability(judge, stability_set or sets[0], stability_seeds, progress=progress)
    )
    return report
