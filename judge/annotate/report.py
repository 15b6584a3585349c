"""The job report: what was written, dropped and failed, and how the judge behaved.

Every judged pair (kept or dropped) goes into `judge.stats.preference_stats`, in the
chosen/rejected labelling of its row: tie rate, position consistency, P(judge prefers
the response shown first), P(judge prefers the longer response) from the completions'
lengths in characters, and agreement with gold labels when the input had them; over
records with three or more candidates, the share of 3-cycles (A ≻ B ≻ C ≻ A) and the
Bradley–Terry residual (`judge.reward.bradley_terry.consistency`). The report is
rebuilt from the output files, so a resumed job reports on all its rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from judge.annotate.rows import lengths_of, verdict_of
from judge.annotate.store import OutputStore
from judge.jsonable import JsonKeys
from judge.reward.bradley_terry import consistency, fit_bradley_terry
from judge.stats import PreferenceStats, preference_stats
from judge.verdicts import FailureReason, JudgmentFailure, PairwiseResult

_GOLD = {"chosen": "A", "rejected": "B"}


@dataclass(frozen=True)
class AnnotationReport:
    """The outcome of an annotation job.

    Attributes:
        output: the preference data file.
        source: the input.
        pairs: pairs the input defines under the pairing strategy.
        rows: preference rows in the output.
        dropped: rows removed by filters, by reason.
        failures: pairs without a verdict (in the failures file).
        resumed: pairs already done when this run started.
        judged: pairs judged by this run.
        elapsed_s: wall time of this run.
        stats: the judge's behaviour over every judged pair, kept or dropped.
        consistency: intransitivity over the records with three or more candidates
            judged: ``triads`` whose three pairs were judged, ``cycles`` among them
            (A ≻ B ≻ C ≻ A), ``cycle_share``, and ``residual`` (mean over records of
            the Bradley–Terry fit's root mean square residual).
        disagreement: a panel's mean disagreement over the judged pairs (the standard
            deviation of its members' P(chosen ≻ rejected)); None without a panel.
    """

    output: str
    source: str
    pairs: int
    rows: int
    dropped: dict[str, int]
    failures: int
    resumed: int
    judged: int
    elapsed_s: float
    stats: PreferenceStats
    consistency: dict[str, float | int | None] = field(default_factory=dict)
    disagreement: float | None = None
    json_keys: ClassVar[JsonKeys] = (..., "pairs_per_s")  # `judge.jsonable`

    @property
    def pairs_per_s(self) -> float | None:
        """Pairs judged by this run per second of wall time."""
        return self.judged / self.elapsed_s if self.judged and self.elapsed_s > 0 else None


def build_report(
    store: OutputStore,
    *,
    source: str,
    planned: int,
    resumed: int,
    judged: int,
    elapsed: float,
    seed: int = 0,
) -> AnnotationReport:
    """Read the job's files back (streamed) and summarize them."""
    results: list[PairwiseResult] = []
    lengths: list[tuple[int, int]] = []
    gold: list[str | None] = []
    dropped: dict[str, int] = {}
    spreads: list[float] = []
    rows = 0
    groups: dict[str, list[tuple[int, int, float]]] = {}
    for kind in ("rows", "dropped"):
        for row in store.read(kind):
            groups.setdefault(str(row["source"]), []).append(
                (row["chosen_index"], row["rejected_index"], row["judge"]["p_chosen"])
            )
            results.append(verdict_of(row))
            lengths.append(lengths_of(row))
            gold.append(_GOLD.get(row["gold"] or ""))
            if "disagreement" in row["judge"]:
                spreads.append(row["judge"]["disagreement"])
            if kind == "rows":
                rows += 1
            else:
                dropped[row["dropped"]] = dropped.get(row["dropped"], 0) + 1
    failures = 0
    for row in store.read("failures"):
        results.append(
            JudgmentFailure(
                kind="pairwise", reason=FailureReason(row["reason"]), message=row["message"]
            )
        )
        lengths.append((0, 0))
        gold.append(None)
        failures += 1
    stats = preference_stats(results, lengths=lengths, gold=gold if any(gold) else None, seed=seed)
    return AnnotationReport(
        output=str(store.output),
        source=source,
        pairs=planned,
        rows=rows,
        dropped=dropped,
        failures=failures,
        resumed=resumed,
        judged=judged,
        elapsed_s=elapsed,
        stats=stats,
        consistency=intransitivity(groups.values()),
        disagreement=sum(spreads) / len(spreads) if spreads else None,
    )


def intransitivity(groups: Iterable[list[tuple[int, int, float]]]) -> dict[str, float | int | None]:
    """3-cycles and Bradley–Terry residual over groups of ``(i, j, P(i ≻ j))`` comparisons."""
    triads = cycles = 0
    residuals: list[float] = []
    for comparisons in groups:
        n = 1 + max(max(i, j) for i, j, _ in comparisons)
        if n < 3:
            continue
        found = consistency(n, comparisons, fit_bradley_terry(n, comparisons))
        triads, cycles = triads + found.triads, cycles + found.cycles
        residuals.append(found.residual)
    if not residuals:
        return {}
    return {
        "triads": triads,
        "cycles": cycles,
        "cycle_share": cycles / triads if triads else None,
        "residual": sum(residuals) / len(residuals),
    }
