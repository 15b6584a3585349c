"""Run a judge over a preference set: accuracy per subset and overall, with its behaviour.

Every judgment goes through `Judge.compare_batch` or `Judge.score_batch`, so any judge
configuration (model, backend, rubric, template, method, swap) is measured as a user
would run it. In pairwise comparisons the chosen completion is placed first or second
by a hash of the seed and the item, so a judge that always prefers one position scores
about chance, not 100% or 0%, whatever ``swap`` is; where the benchmark fixes the order
(JudgeBench's published A and B, a human-labelled pair's A and B) it is kept, so a
one-order run (``swap="none"``) is that benchmark's one-order protocol.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from judge.bench.human import HumanPair
from judge.bench.scoring import (
    GroupReport,
    Item,
    ItemOutcome,
    Strategy,
    pairwise_outcome,
    pointwise_outcome,
    summarize,
)
from judge.inputs import PairInput, PointInput
from judge.jsonable import JsonKeys, to_jsonable
from judge.judge import Judge
from judge.protocols import JudgeLike, with_protocol

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BenchReport:
    """The harness's result.

    Attributes:
        strategy: ``"pairwise"`` or ``"pointwise"`` (see `judge.bench.scoring`).
        judge: the judge configuration measured.
        subsets: one report per subset, in order of first appearance.
        overall: all items together (accuracy is the mean over items, not subsets).
        outcomes: every item's outcome, for per-item output.
    """

    strategy: Strategy
    judge: dict[str, Any]
    subsets: list[GroupReport]
    overall: GroupReport
    outcomes: list[ItemOutcome]

    # `judge.jsonable`: the summary; the per-item outcomes go to ``--output`` records.
    json_keys: ClassVar[JsonKeys] = ("strategy", "judge", "overall", "subsets")


def describe(
    judge: Judge, protocol: str = "plain", panel_rubrics: Sequence[str] = ()
) -> dict[str, Any]:
    """The settings that identify a judge configuration in a report.

    A panel of rubrics (``panel_rubrics``) is named by ``panel_rubrics``, the judge's own
    rubric first; a report of one judge has no such key.
    """
    config = judge.config
    panel = {"panel_rubrics": [judge.rubric.name, *panel_rubrics]} if panel_rubrics else {}
    return {
        "model": judge.backend.name,
        "judging_protocol": protocol,
        **panel,
        "rubric": judge.rubric.name,
        "pairwise_template": judge.template("pairwise").name,
        "pointwise_template": judge.template("pointwise").name,
        "method": config.method,
        "swap": config.swap,
        "seed": config.seed,
        "max_new_tokens": config.max_new_tokens,
        "calibration": None
        if config.calibration is None
        else config.calibration.model_dump(mode="json", exclude={"points"}),
    }


def chosen_label(seed: int, item_id: str, index: int) -> str:
    """Where the chosen completion goes in comparison ``index`` of an item: A or B."""
    digest = hashlib.sha256(f"{seed}\0{item_id}\0{index}".encode()).digest()
    return "A" if digest[0] & 1 else "B"


def run_bench(
    judge: Judge,
    items: Sequence[Item],
    *,
    strategy: Strategy = "pairwise",
    seed: int = 0,
    progress: Progress | None = None,
    protocol: str = "plain",
    samples: int = 3,
    panel_rubrics: Sequence[str] = (),
) -> BenchReport:
    """Judge every item and report accuracy per subset and overall.

    Args:
        judge: the judge configuration to measure.
        items: the preference set (`load_preferences`, or any layout `load_benchmark`
            reads, human-labelled pairs included).
        strategy: ``"pairwise"`` (chosen compared with each rejected; it must win all)
            or ``"pointwise"`` (every completion scored; the chosen must score highest).
        seed: places the chosen completion in each comparison and seeds the intervals.
        progress: called as ``progress(done, total)`` within each subset.
        protocol: how the judge judges (`judge.protocols.with_protocol`): ``"plain"``,
            ``"reason-then-read"``, ``"self-consistency"``, ``"commit-first"``,
            ``"one-order"``, ``"by-scores"``, ``"hybrid"`` or ``"split-merge"``.
        samples: rationales per order for ``"self-consistency"``.
        panel_rubrics: more shipped rubrics: a panel of the judge and one judge by each
            (`judge.protocols.with_protocol`), its mean verdict measured.
    """
    judging = with_protocol(judge, protocol, samples=samples, panel_rubrics=panel_rubrics)
    described = describe(judge, protocol, panel_rubrics)  # loads the backend: no subset pays
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(item.subset, []).append(item)
    reports, outcomes = [], []
    for name, members in groups.items():
        start = time.perf_counter()
        done = (
            _pairwise(judging, members, seed, progress)
            if strategy == "pairwise"
            else _pointwise(judging, members, progress)
        )
        reports.append(summarize(name, done, seconds=time.perf_counter() - start, seed=seed))
        outcomes.extend(done)
    overall = summarize("overall", outcomes, seconds=sum(r.seconds for r in reports), seed=seed)
    return BenchReport(strategy, described, reports, overall, outcomes)


def _comparisons(item: Item, seed: int) -> list[tuple[str, PairInput]]:
    """(label of the chosen, pair shown) for each chosen × rejected comparison."""
    if isinstance(item, HumanPair):
        return [("A", PairInput(item.prompt, item.response_a, item.response_b))]
    out = []
    for k, (chosen, rejected) in enumerate((c, r) for c in item.all_chosen for r in item.rejected):
        label = item.chosen_label or chosen_label(seed, item.id, k)
        a, b = (chosen, rejected) if label == "A" else (rejected, chosen)
        out.append((label, PairInput(item.prompt, a, b)))
    return out


def _pairwise(
    judge: JudgeLike, items: Sequence[Item], seed: int, progress: Progress | None
) -> list[ItemOutcome]:
    planned = [_comparisons(item, seed) for item in items]
    pairs = [pair for plan in planned for _, pair in plan]
    results = judge.compare_batch(pairs, progress=progress)
    outcomes, at = [], 0
    for item, plan in zip(items, planned, strict=True):
        labels = [label for label, _ in plan]
        outcomes.append(pairwise_outcome(item, labels, results[at : at + len(plan)]))
        at += len(plan)
    return outcomes


def _texts(item: Item) -> tuple[str, ...]:
    if isinstance(item, HumanPair):
        return item.response_a, item.response_b
    return (*item.all_chosen, *item.rejected)


def _pointwise(
    judge: JudgeLike, items: Sequence[Item], progress: Progress | None
) -> list[ItemOutcome]:
    points = [PointInput(item.prompt, text) for item in items for text in _texts(item)]
    results = judge.score_batch(points, progress=progress)
    outcomes, at = [], 0
    for item in items:
        outcomes.append(pointwise_outcome(item, results[at : at + item.completions]))
        at += item.completions
    return outcomes


def outcome_record(outcome: ItemOutcome) -> dict[str, Any]:
    """One item's outcome as a JSON-ready record (for ``--output``)."""
    item = outcome.item
    record: dict[str, Any] = {
        "id": item.id,
        "subset": item.subset,
        "protocol": item.protocol,
        "strategy": outcome.strategy,
        "completions": item.completions,
        "score": outcome.score,
        "tie": outcome.tie,
        "chosen_labels": list(outcome.chosen_labels),
        "cells": [list(r) for r in outcome.cells],
        "published": outcome.published,
        "results": [to_jsonable(r) for r in outcome.results],
    }
    if isinstance(item, HumanPair):
        record["votes"] = list(item.votes)
    return record
