"""Output rows in TRL's preference format, with the judge's metadata.

A row has ``prompt``, ``chosen`` and ``rejected`` — plain strings, or, in the
conversational form, message lists (the prompt's turns, and the completion as
assistant messages) — plus:

- ``key``: stable id of the row (input record content, pair, job settings);
- ``source``: where the record was read (``file:line`` or ``file#row N``);
- ``chosen_index`` / ``rejected_index``: the candidates' positions in the record;
- ``gold``: ``"chosen"`` or ``"rejected"`` — the one the gold label prefers — or null;
- ``margin``: the column TRL's ``RewardTrainer`` reads (its loss is
  −log σ(r_chosen − r_rejected − margin), so the margin is in reward units): the
  Bradley–Terry reward gap the judge implies, logit(p_chosen) = log(p / (1 − p)) with p
  clipped to [1e-4, 1 − 1e-4] (≥ 0, at most 9.21; 0 on a tie). Not the same number as
  ``judge.margin`` below, which is in probability units;
- ``judge``: ``p_chosen`` (P(chosen ≻ rejected), swap-averaged, ties half),
  ``margin`` (2·p_chosen − 1), ``tie``, ``consistent`` (every order shown picked the
  same winner; null with one order), ``method``, ``rubric``, ``model``, ``template``,
  ``swap``, ``orders`` (each order shown: which response came ``first``, its
  ``p_chosen``, its ``winner`` and the label probabilities as shown) and ``scores``
  (every candidate's pointwise expected score; ``best-worst`` pairing only); a panel's
  verdict (``--panel-rubric``, ``--protocol hybrid``) adds ``disagreement`` (the
  standard deviation of its members' P(chosen ≻ rejected)) and ``members`` (each one's
  ``rubric``, ``model``, ``template`` and ``p_chosen``), and its ``orders`` are every
  member's, in panel order (a hybrid's: its mixed readings, one per order).

The chosen response is the one the judge gives the higher probability; on an exact
tie the pair's first candidate is chosen and ``tie`` is true.
"""

from __future__ import annotations

from typing import Any

from judge.annotate.pairing import Pair
from judge.annotate.text import Text, as_completion_messages, as_prompt_messages
from judge.protocols.panel import PanelPairwiseVerdict
from judge.reward.model import logit
from judge.verdicts import JudgmentFailure, OrderResult, PairwiseVerdict, Winner

MARGIN_EPS = 1e-4  # the probability clip of the top-level (RewardTrainer) margin
_SIDE: dict[Winner, str] = {"A": "chosen", "B": "rejected", "tie": "tie"}
_LABEL: dict[str, Winner] = {"chosen": "A", "rejected": "B", "tie": "tie"}


def _flip(winner: Winner) -> Winner:
    return "B" if winner == "A" else "A" if winner == "B" else "tie"


def _texts(prompt: Text, chosen: Text, rejected: Text, conversational: bool) -> dict[str, Any]:
    if not conversational:
        return {"prompt": prompt, "chosen": chosen, "rejected": rejected}
    return {
        "prompt": as_prompt_messages(prompt),
        "chosen": as_completion_messages(chosen),
        "rejected": as_completion_messages(rejected),
    }


def _order(order: OrderResult, a_chosen: bool) -> dict[str, Any]:
    """One order shown, relabelled so that A is the chosen response."""
    first_is_a = order.shown == "AB"
    return {
        "first": "chosen" if first_is_a == a_chosen else "rejected",
        "p_chosen": _chosen(order, a_chosen),
        "winner": _SIDE[order.winner if a_chosen else _flip(order.winner)],
        "label_probs": dict(order.label_probs),
    }


def preference_row(
    pair: Pair, verdict: PairwiseVerdict, key: str, conversational: bool
) -> dict[str, Any]:
    """The TRL preference row for a judged pair (see the module docstring)."""
    a_chosen = verdict.prob_a >= 0.5
    chosen, rejected = (pair.first, pair.second) if a_chosen else (pair.second, pair.first)
    record = pair.record
    gold = (
        None
        if record.best is None
        else "chosen"
        if record.best == chosen
        else "rejected"
        if record.best == rejected
        else None
    )
    return {
        **_texts(
            record.prompt, record.candidates[chosen], record.candidates[rejected], conversational
        ),
        "key": key,
        "source": record.where,
        "chosen_index": chosen,
        "rejected_index": rejected,
        "gold": gold,
        "margin": logit(_chosen(verdict, a_chosen), MARGIN_EPS),
        "judge": {
            "p_chosen": _chosen(verdict, a_chosen),
            "margin": 2.0 * _chosen(verdict, a_chosen) - 1.0,
            "tie": verdict.winner == "tie" or verdict.prob_a == 0.5,
            "consistent": verdict.consistent,
            "method": verdict.method,
            "rubric": verdict.rubric,
            "model": verdict.model,
            "template": verdict.template,
            "swap": verdict.swap,
            "orders": [_order(o, a_chosen) for o in verdict.orders],
            "scores": list(pair.scores) if pair.scores is not None else None,
            **(_panel(verdict, a_chosen) if isinstance(verdict, PanelPairwiseVerdict) else {}),
        },
    }


def _chosen(verdict: PairwiseVerdict | OrderResult, a_chosen: bool) -> float:
    """P(chosen ≻ rejected) by ``verdict`` (or by one order it showed)."""
    return verdict.prob_a if a_chosen else 1.0 - verdict.prob_a


def _panel(verdict: PanelPairwiseVerdict, a_chosen: bool) -> dict[str, Any]:
    """A panel's spread and its members' readings, in the row's chosen/rejected terms."""
    return {
        "disagreement": verdict.disagreement,
        "members": [
            {
                "rubric": m.rubric,
                "model": m.model,
                "template": m.template,
                "p_chosen": _chosen(m, a_chosen),
            }
            for m in verdict.members
        ],
    }


def failure_row(key: str, where: str, slot: str, failure: JudgmentFailure) -> dict[str, Any]:
    """A side-file row for a pair that got no verdict: its key, place and reason."""
    return {
        "key": key,
        "source": where,
        "pair": slot,
        "reason": failure.reason.value,
        "message": failure.message,
        "retryable": failure.retryable,
    }


def verdict_of(row: dict[str, Any]) -> PairwiseVerdict:
    """The verdict behind a written row, with A = chosen and B = rejected (for reports)."""
    meta = row["judge"]
    orders = tuple(
        OrderResult(
            shown="AB" if o["first"] == "chosen" else "BA",
            label_probs=o["label_probs"],
            prob_a=o["p_chosen"],
            winner=_LABEL[o["winner"]],
        )
        for o in meta["orders"]
    )
    return PairwiseVerdict(
        method=meta["method"],
        model=meta["model"],
        template=meta["template"],
        rubric=meta["rubric"],
        winner="tie" if meta["tie"] else "A",
        prob_a=meta["p_chosen"],
        consistent=meta["consistent"],
        orders=orders,
        swap=meta["swap"],
    )


def lengths_of(row: dict[str, Any]) -> tuple[int, int]:
    """Characters of the chosen and the rejected completion."""
    return _chars(row["chosen"]), _chars(row["rejected"])


def _chars(value: Text) -> int:
    return len(value) if isinstance(value, str) else sum(len(m["content"]) for m in value)
