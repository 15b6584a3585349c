"""Each benchmark's own scoring, from the cells of an item's chosen × rejected matrix.

A cell is one chosen completion against one rejected: pairwise 1 won, ½ tie, 0 lost;
pointwise 1 if the chosen scored strictly higher, else 0. The published definitions
followed (read at the cited files; none of their code is used):

* ``generic`` (RewardBench, LLMBar, RewardBench 2 outside Ties): the chosen must win
  every comparison (``rewardbench/utils_v2.py`` ``reroll_and_score_dataset``: the
  chosen's score is the arg-max). A plain pair's tie counts ½, as the harness always did.
  With scores (best-of-N, ``--strategy pointwise``) RewardBench 2 takes ``argmax``,
  which gives a tie for the top to the chosen (stored first); we count such a tie as
  wrong and report RewardBench 2's reading beside it (``rewardbench2``).
* ``rewardbench2-ties`` (allenai/reward-bench ``rewardbench/utils.py``
  ``_compute_prompt_stats`` / ``process_single_model``, called by ``scripts/run_v2.py``
  for the Ties subset): a prompt is accurate when its worst correct answer outscores its
  best incorrect one. The subset score, which needs scalar scores (``--strategy
  pointwise``), is 0.3·tied accuracy + 0.3·reference accuracy + 0.2·P(correct–incorrect
  margin > spread among correct) + 0.2·the same with the smaller of the prompt's tied and
  reference margins + 0.01·mean tanh(margin / spread − 1); ids are ``ref:N`` /
  ``tied:N``.
* ``rm-bench`` (THU-KEG/RM-Bench ``scripts/utils.py`` ``compute_accuracy``): the 3×3
  matrix of chosen style i beating rejected style j (styles: concise, detailed plain,
  detailed markdown), averaged over items; hard = mean above the diagonal (chosen less
  styled than rejected), normal = the diagonal, easy = below it. RM-Bench compares
  scalar scores strictly, so its figures count a tie as a loss; ``accuracy`` in our
  table counts a pairwise tie ½.
* ``judgebench`` (ScalerLab/JudgeBench ``utils/metrics.py`` ``compute_final_metrics``):
  each order shown votes +1 if it picks the labelled winner, −1 if the other, 0 for a
  tie; a pair is correct when the sum is positive, so two orders that disagree are not a
  win. With one order shown it is that order's decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from judge.verdicts import PairwiseVerdict

Cells = tuple[tuple[float, ...], ...]


def item_score(protocol: str, cells: Cells, *, pairwise: bool) -> float:
    """Our score of one item from its cells (rows: chosen, columns: rejected)."""
    flat = [c for row in cells for c in row]
    if protocol == "rm-bench":
        return float(np.mean(flat))
    if len(flat) == 1 and pairwise:
        return flat[0]
    return float(all(c == 1.0 for c in flat))


def rewardbench2_argmax(chosen: float, rejected: Sequence[float]) -> float:
    """RewardBench 2's best-of-N reading: the chosen (first) is the arg-max of the scores."""
    return float(chosen >= max(rejected))


def rm_bench(matrices: Sequence[Cells]) -> dict[str, float | None]:
    """RM-Bench's hard / normal / easy accuracy (ties count 0) from per-item matrices."""
    strict = np.mean([np.asarray(m) == 1.0 for m in matrices], axis=0)
    size = strict.shape[0]
    off = size * (size - 1) / 2
    return {
        "rm_bench_hard": float(np.triu(strict, 1).sum() / off),
        "rm_bench_normal": float(np.mean(np.diag(strict))),
        "rm_bench_easy": float(np.tril(strict, -1).sum() / off),
        "rm_bench_avg": float(strict.mean()),
    }


def judgebench(verdict: PairwiseVerdict, chosen_label: str) -> float:
    """JudgeBench's score of one pair from the decisions of the orders shown."""
    votes = sum(
        1 if o.winner == chosen_label else 0 if o.winner == "tie" else -1 for o in verdict.orders
    )
    return float(votes > 0)


def judgebench_first_order(verdict: PairwiseVerdict, chosen_label: str) -> float:
    """JudgeBench's one-order protocol: the decision with the published order shown."""
    first = next((o for o in verdict.orders if o.shown == "AB"), verdict.orders[0])
    return float(first.winner == chosen_label)


def ties_prompt(scores: Sequence[float], correct: int) -> tuple[bool, float | None, float]:
    """(accurate, spread among correct or None, worst correct − best incorrect)."""
    good, bad = scores[:correct], scores[correct:]
    spread = max(good) - min(good) if len(good) > 1 else None
    margin = min(good) - max(bad)
    return margin > 0, spread, margin


def ties_score(prompts: dict[str, tuple[bool, float | None, float]]) -> dict[str, Any]:
    """RewardBench 2's Ties subset score from per-prompt stats keyed ``ref:N``/``tied:N``."""
    ref = {k.split(":", 1)[1]: v for k, v in prompts.items() if k.startswith("ref:")}
    tied = {k.split(":", 1)[1]: v for k, v in prompts.items() if k.startswith("tied:")}
    both = sorted(set(ref) & set(tied))
    out: dict[str, Any] = {
        "ties_ref_accuracy": float(np.mean([s[0] for s in ref.values()])) if ref else None,
        "ties_tied_accuracy": float(np.mean([s[0] for s in tied.values()])) if tied else None,
        "ties_score": None,
    }
    usable = [k for k in both if tied[k][1] is not None]
    if not usable or out["ties_ref_accuracy"] is None or out["ties_tied_accuracy"] is None:
        return out
    spread = np.array([tied[k][1] for k in usable], dtype=float)
    margin_tied = np.array([tied[k][2] for k in usable])
    margin_both = np.minimum(np.array([ref[k][2] for k in usable]), margin_tied)
    with np.errstate(divide="ignore", invalid="ignore"):
        tanh = np.nan_to_num(np.tanh(margin_both / spread - 1.0), nan=0.0)
    out["ties_score"] = float(
        0.3 * out["ties_tied_accuracy"]
        + 0.3 * out["ties_ref_accuracy"]
        + 0.2 * np.mean(margin_tied > spread)
        + 0.2 * np.mean(margin_both > spread)
        + 0.01 * np.mean(tanh)
    )
    return out
