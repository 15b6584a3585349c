"""Whether the judge ranked the chosen completion first, item by item, and per subset.

Two strategies, RewardBench style:

* ``pairwise``: every chosen completion is compared with each rejected one. On a plain
  pair (one rejected) a win counts 1, a tie ½ and a loss 0, as `preference_stats`
  scores gold accuracy. With several rejected (best-of-N) the chosen must win every
  comparison: a tie or a loss in any of them makes the item wrong.
* ``pointwise``: every completion is scored on its own; the chosen must score
  strictly highest (``expected_score``, which is the generated score for the generate
  method). A tie for the top counts as wrong and is counted in the tie rate.

Benchmarks with their own definitions (RM-Bench's matrix, RewardBench 2 Ties, JudgeBench's
double order) are scored by `judge.bench.protocols`, and human-labelled pairs by
`judge.bench.human`; every report adds agreement (Cohen's kappa) and, for pairwise
verdicts, calibration (Brier score, ECE) of P(A ≻ B) against the labels.

An item with any failed judgment is a failure: counted, never scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np

from judge.bench import protocols
from judge.bench.data import PreferenceItem
from judge.bench.human import HumanPair, agreement, human_human, kappas
from judge.metrics import brier, cohen_kappa, expected_calibration_error
from judge.stats import bootstrap_interval, preference_stats
from judge.verdicts import PairwiseResult, PairwiseVerdict, PointwiseResult, PointwiseVerdict

Strategy = Literal["pairwise", "pointwise"]
Item = PreferenceItem | HumanPair


@dataclass(frozen=True)
class ItemOutcome:
    """What the judge did with one item.

    Attributes:
        item: the item.
        strategy: ``"pairwise"`` or ``"pointwise"``.
        score: 1 ranked first, 0 not, ½ a tie on a plain pair (pairwise), the share of
            an RM-Bench matrix won, or the share of human votes agreed with; None failed.
        tie: whether the chosen tied (a tie verdict, or a shared top score).
        chosen_labels: pairwise: the label (A or B) the chosen had in each comparison.
        results: pairwise: one result per chosen × rejected comparison, row by row;
            pointwise: each chosen's score, then each rejected's.
        cells: chosen × rejected matrix of wins (1), ties (½ pairwise) and losses (0).
        published: the item's scores under the benchmark's published protocol where it
            differs from ``score`` (e.g. ``judgebench``), by name.
    """

    item: Item
    strategy: Strategy
    score: float | None
    tie: bool
    chosen_labels: tuple[str, ...]
    results: tuple[PairwiseResult, ...] | tuple[PointwiseResult, ...]
    cells: protocols.Cells = ()
    published: dict[str, float] = field(default_factory=dict)


def _cell(winner: str, label: str) -> float:
    return 1.0 if winner == label else 0.5 if winner == "tie" else 0.0


def _rows(flat: Sequence[float], width: int) -> protocols.Cells:
    return tuple(tuple(flat[i : i + width]) for i in range(0, len(flat), width))


def pairwise_outcome(
    item: Item, labels: Sequence[str], results: Sequence[PairwiseResult]
) -> ItemOutcome:
    """Score one item from its comparisons (each chosen vs each rejected, row by row)."""
    verdicts = [r for r in results if isinstance(r, PairwiseVerdict)]
    tie = any(v.winner == "tie" for v in verdicts)
    base = ItemOutcome(item, "pairwise", None, tie, tuple(labels), tuple(results))
    if len(verdicts) != len(results):
        return base
    if isinstance(item, HumanPair):
        winner = verdicts[0].winner
        return _replace(base, score=sum(v == winner for v in item.votes) / len(item.votes))
    cells = _rows(
        [_cell(v.winner, lab) for v, lab in zip(verdicts, labels, strict=True)], len(item.rejected)
    )
    return _replace(
        base,
        score=protocols.item_score(item.protocol, cells, pairwise=True),
        cells=cells,
        published=_published(item, cells, verdicts, labels),
    )


def _published(
    item: PreferenceItem,
    cells: protocols.Cells,
    verdicts: Sequence[PairwiseVerdict],
    labels: Sequence[str],
) -> dict[str, float]:
    if item.protocol == "judgebench":
        return {
            "judgebench": protocols.judgebench(verdicts[0], labels[0]),
            "judgebench_one_order": protocols.judgebench_first_order(verdicts[0], labels[0]),
        }
    if item.protocol == "rm-bench":
        return cast(dict[str, float], protocols.rm_bench([cells]))
    return {}


def _published_points(
    item: PreferenceItem, good: Sequence[float], bad: Sequence[float], cells: protocols.Cells
) -> dict[str, float]:
    if item.protocol == "rm-bench":
        return cast(dict[str, float], protocols.rm_bench([cells]))
    if item.protocol == "generic" and len(bad) > 1:
        return {"rewardbench2": protocols.rewardbench2_argmax(good[0], bad)}
    return {}


def _replace(outcome: ItemOutcome, **changes: Any) -> ItemOutcome:
    return ItemOutcome(**{**outcome.__dict__, **changes})


def pointwise_outcome(item: Item, results: Sequence[PointwiseResult]) -> ItemOutcome:
    """Score one item from the scores of its chosen (first) and rejected completions."""
    verdicts = [r for r in results if isinstance(r, PointwiseVerdict)]
    if len(verdicts) != len(results):
        return ItemOutcome(item, "pointwise", None, False, (), tuple(results))
    scores = [v.expected_score for v in verdicts]
    if isinstance(item, HumanPair):
        winner = "tie" if scores[0] == scores[1] else "A" if scores[0] > scores[1] else "B"
        return ItemOutcome(
            item,
            "pointwise",
            sum(v == winner for v in item.votes) / len(item.votes),
            winner == "tie",
            (),
            tuple(results),
        )
    good, bad = scores[: len(item.all_chosen)], scores[len(item.all_chosen) :]
    cells = tuple(tuple(float(g > b) for b in bad) for g in good)
    tie = (
        any(g == b for g in good for b in bad)
        if item.protocol != "generic"
        else good[0] == max(bad)
    )
    published = _published_points(item, good, bad, cells)
    return ItemOutcome(
        item,
        "pointwise",
        protocols.item_score(item.protocol, cells, pairwise=False),
        tie,
        (),
        tuple(results),
        cells,
        published,
    )


@dataclass(frozen=True)
class GroupReport:
    """Accuracy and behaviour of the judge on one subset (or on all items).

    Attributes:
        name: the subset, or ``"overall"``.
        items: items given.
        judged: items every judgment of which has a verdict.
        failures: items with a failed judgment.
        failure_reasons: failed judgments counted by reason.
        judgments: judgments asked for (comparisons or scores).
        accuracy: share of judged items whose chosen completion ranked first.
        accuracy_ci: 95% bootstrap interval of ``accuracy``.
        tie_rate: share of judged items where the chosen tied.
        consistency: pairwise: share of swapped comparisons whose orders agreed.
        p_first: pairwise: P(judge prefers the completion shown first).
        p_longer: pairwise: P(judge prefers the longer completion).
        seconds: wall-clock time of the judgments.
        cached: judgment orders (pairwise) or scores served from the judgment cache.
        kappa: Cohen's kappa of the judge's winners against the labels (the gold label
            of each comparison, or each human vote; ties are a label).
        brier: Brier score of the verdicts' P(A ≻ B) against the labels (pairwise).
        ece: expected calibration error of the same (10 equal-width bins).
        raw_brier: Brier score of the judge's own P(A ≻ B) when it was calibrated.
        raw_ece: ECE of the judge's own P(A ≻ B) when it was calibrated.
        published: scores under the benchmark's published protocol (RM-Bench hard /
            normal / easy, RewardBench 2 Ties score, JudgeBench both orders, agreement
            with humans and of humans with each other), by name.
    """

    name: str
    items: int
    judged: int
    failures: int
    failure_reasons: dict[str, int]
    judgments: int
    accuracy: float | None
    accuracy_ci: tuple[float, float] | None
    tie_rate: float | None
    consistency: float | None = None
    p_first: float | None = None
    p_longer: float | None = None
    seconds: float = 0.0
    cached: int = 0
    kappa: float | None = None
    brier: float | None = None
    ece: float | None = None
    raw_brier: float | None = None
    raw_ece: float | None = None
    published: dict[str, float | None] = field(default_factory=dict)


def summarize(
    name: str, outcomes: Sequence[ItemOutcome], *, seconds: float = 0.0, seed: int = 0
) -> GroupReport:
    """Aggregate item outcomes; pairwise behaviour comes from `preference_stats`."""
    judged = [o for o in outcomes if o.score is not None]
    scores = [o.score for o in judged if o.score is not None]
    results = [r for o in outcomes for r in o.results]
    reasons: dict[str, int] = {}
    for r in results:
        if not r.ok:
            reasons[str(r.reason)] = reasons.get(str(r.reason), 0) + 1
    accuracy = sum(scores) / len(scores) if scores else None
    interval = bootstrap_interval(scores, seed=seed) if scores else None
    behaviour: dict[str, Any] = {}
    pairwise = [o for o in outcomes if o.strategy == "pairwise"]
    if pairwise:
        behaviour, stats = _behaviour(pairwise, seed)
        plain = all(
            isinstance(o.item, PreferenceItem) and o.item.completions == 2 for o in outcomes
        )
        if plain and len(pairwise) == len(outcomes):
            accuracy, interval = stats.accuracy, stats.accuracy_ci  # the one shared definition
    return GroupReport(
        name=name,
        items=len(outcomes),
        judged=len(judged),
        failures=len(outcomes) - len(judged),
        failure_reasons=reasons,
        judgments=len(results),
        accuracy=accuracy,
        accuracy_ci=interval,
        tie_rate=(sum(o.tie for o in judged) / len(judged)) if judged else None,
        seconds=seconds,
        cached=sum(_cached(r) for r in results),
        **behaviour,
        **calibration(pairwise),
        published=_published_scores(judged),
    )


def _behaviour(pairwise: Sequence[ItemOutcome], seed: int) -> tuple[dict[str, Any], Any]:
    comparisons = [cast(PairwiseResult, r) for o in pairwise for r in o.results]
    gold = [
        None if isinstance(o.item, HumanPair) else label
        for o in pairwise
        for label in o.chosen_labels
    ]
    lengths = [
        _lengths(o.item, label, k) for o in pairwise for k, label in enumerate(o.chosen_labels)
    ]
    stats = preference_stats(comparisons, lengths=lengths, gold=gold, seed=seed)
    behaviour = {
        "consistency": stats.consistency,
        "p_first": stats.p_first,
        "p_longer": stats.p_longer,
        "kappa": _kappa(pairwise),
    }
    return behaviour, stats


def _kappa(pairwise: Sequence[ItemOutcome]) -> float | None:
    """Judge against the labels: the gold label per comparison, or each human vote."""
    judged = [o for o in pairwise if o.score is not None]
    humans = [o for o in judged if isinstance(o.item, HumanPair)]
    if humans:
        return kappas([_winner(o) for o in humans], [_votes(o) for o in humans])["kappa"]
    winners = [cast(PairwiseVerdict, r).winner for o in judged for r in o.results]
    return cohen_kappa(winners, [lab for o in judged for lab in o.chosen_labels])


def _winner(outcome: ItemOutcome) -> str:
    return cast(PairwiseVerdict, outcome.results[0]).winner


def _votes(outcome: ItemOutcome) -> tuple[str, ...]:
    return cast(HumanPair, outcome.item).votes


def calibration_points(
    outcomes: Sequence[ItemOutcome], *, raw: bool = False
) -> tuple[list[float], list[float]]:
    """(P(A ≻ B), outcome) of every pairwise verdict against its label.

    The outcome is 1 when the chosen was shown as A, else 0; for human-labelled pairs,
    the share of votes for A (ties half). ``raw``: the judge's own probability where a
    calibrator changed it.
    """
    probs, ys = [], []
    for o in outcomes:
        if o.strategy != "pairwise":
            continue
        for r, label in zip(o.results, o.chosen_labels, strict=True):
            if isinstance(r, PairwiseVerdict):
                probs.append(r.raw_prob_a if raw and r.raw_prob_a is not None else r.prob_a)
                ys.append(
                    o.item.soft_label if isinstance(o.item, HumanPair) else float(label == "A")
                )
    return probs, ys


def calibration(outcomes: Sequence[ItemOutcome]) -> dict[str, float | None]:
    """Brier score and ECE of the verdicts' P(A ≻ B), and of the raw ones if calibrated."""
    probs, ys = calibration_points(outcomes)
    out = {"brier": brier(probs, ys), "ece": expected_calibration_error(probs, ys)}
    if any(
        isinstance(r, PairwiseVerdict) and r.raw_prob_a is not None
        for o in outcomes
        for r in o.results
    ):
        raw, _ = calibration_points(outcomes, raw=True)
        out |= {"raw_brier": brier(raw, ys), "raw_ece": expected_calibration_error(raw, ys)}
    return out


def _published_scores(judged: Sequence[ItemOutcome]) -> dict[str, float | None]:
    names = sorted({k for o in judged for k in o.published})
    out: dict[str, float | None] = {
        k: float(np.mean([o.published[k] for o in judged if k in o.published])) for k in names
    }
    humans = [o for o in judged if isinstance(o.item, HumanPair)]
    if humans:
        out |= _human_scores(humans)
    ties = [
        o
        for o in judged
        if isinstance(o.item, PreferenceItem)
        and o.item.protocol == "rewardbench2-ties"
        and o.strategy == "pointwise"
    ]
    if ties:
        out |= protocols.ties_score({o.item.id: _ties_stats(o) for o in ties})
    return out


def _ties_stats(outcome: ItemOutcome) -> tuple[bool, float | None, float]:
    scores = [cast(PointwiseVerdict, r).expected_score for r in outcome.results]
    return protocols.ties_prompt(scores, len(cast(PreferenceItem, outcome.item).all_chosen))


def _human_scores(humans: Sequence[ItemOutcome]) -> dict[str, float | None]:
    """FastChat-style agreement, vote-weighted, and the humans' own beside it."""
    winners = [_verdict_label(o) for o in humans]
    votes = [_votes(o) for o in humans]
    out: dict[str, float | None] = {}
    for ties, suffix in ((True, "with_ties"), (False, "without_ties")):
        agree, total = agreement(winners, votes, ties=ties)
        out[f"agreement_{suffix}"] = agree / total if total else None
        agree, total = human_human(votes, ties=ties)
        out[f"human_human_{suffix}"] = agree / total if total else None
    out["human_human_kappa"] = kappas(winners, votes)["human_human_kappa"]
    out["human_vote_pairs"] = float(human_human(votes, ties=True)[1])
    return out


def _verdict_label(outcome: ItemOutcome) -> str:
    if outcome.strategy == "pairwise":
        return _winner(outcome)
    a, b = (cast(PointwiseVerdict, r).expected_score for r in outcome.results)
    return "tie" if a == b else "A" if a > b else "B"


def _lengths(item: Item, chosen_label: str, k: int) -> tuple[int, int]:
    if isinstance(item, HumanPair):
        return len(item.response_a), len(item.response_b)
    width = len(item.rejected)
    chosen, rejected = len(item.all_chosen[k // width]), len(item.rejected[k % width])
    return (chosen, rejected) if chosen_label == "A" else (rejected, chosen)


def _cached(result: PairwiseResult | PointwiseResult) -> int:
    if isinstance(result, PairwiseVerdict):
        return sum(o.cached for o in result.orders)
    if isinstance(result, PointwiseVerdict):
        return int(result.cached)
    return 0
