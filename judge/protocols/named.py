"""Protocols by name, as the command line and reports spell them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

from judge.backends.base import Backend
from judge.errors import UserError
from judge.judge import Judge
from judge.protocols.base import JudgeLike
from judge.protocols.commit import CommitFirst
from judge.protocols.panel import Panel
from judge.protocols.pmi import ByPMI
from judge.protocols.prior import OneOrder
from judge.protocols.reason import ReasonThenRead, rationale_label
from judge.protocols.scores import ByScores, Hybrid
from judge.protocols.split import SplitMerge

ProtocolName = Literal[
    "plain",
    "reason-then-read",
    "self-consistency",
    "commit-first",
    "one-order",
    "by-scores",
    "hybrid",
    "split-merge",
    "pmi",
    "pmi-hybrid",
]
PROTOCOL_NAMES: tuple[str, ...] = get_args(ProtocolName)


def with_protocol(
    judge: Judge, name: str, *, samples: int = 3, panel_rubrics: Sequence[str] = ()
) -> JudgeLike:
    """``judge`` behind the protocol ``name`` (``"plain"``: the judge itself).

    Args:
        judge: the judge the protocol runs on.
        name: one of `PROTOCOL_NAMES`.
        samples: rationales per order for ``"self-consistency"`` (at least 2).
        panel_rubrics: more shipped rubrics to judge by: a `Panel` of ``judge`` and a
            judge of each of these on the same model, each behind the protocol (the CLI's
            ``--panel-rubric``).

    Raises:
        UserError: as `check_protocol`; ``"one-order"`` on a judge that does not read
            log-probabilities or is calibrated; ``"split-merge"`` on a calibrated judge;
            an unknown or repeated panel rubric, a panel of rubrics on a calibrated
            judge (`Judge.with_settings`) or behind ``"pmi"`` (which reads no rubric).
    """
    check_protocol(name, samples=samples)
    if panel_rubrics and name == "pmi":
        raise UserError(
            "pmi reads no rubric, so a panel of rubrics would repeat one verdict: drop "
            "--panel-rubric, or use --protocol pmi-hybrid (its pairwise half reads the rubric)"
        )
    if panel_rubrics:
        rubrics = [judge.rubric.name, *panel_rubrics]
        if len(set(rubrics)) < len(rubrics):
            raise UserError(f"a panel judges by each rubric once; got {', '.join(rubrics)}")
        members = [judge] + [judge.with_settings(rubric=rubric) for rubric in panel_rubrics]
        return Panel([with_protocol(member, name, samples=samples) for member in members])
    if name == "reason-then-read":
        return ReasonThenRead(judge)
    if name == "self-consistency":
        return ReasonThenRead(judge, samples=samples)
    if name == "commit-first":
        return CommitFirst(judge)
    if name == "one-order":
        return OneOrder(judge)
    if name == "by-scores":
        return ByScores(judge)
    if name == "hybrid":
        return Hybrid(judge)
    if name == "split-merge":
        return SplitMerge(judge)
    if name == "pmi":
        return ByPMI(judge)
    if name == "pmi-hybrid":
        return Hybrid(judge, ByPMI(judge))
    return judge


def check_protocol(name: str, *, samples: int = 3) -> None:
    """Check a protocol's name and samples without building it (nothing is loaded).

    Raises:
        UserError: an unknown name, or fewer than 2 samples for self-consistency.
    """
    if name not in PROTOCOL_NAMES:
        raise UserError(f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOL_NAMES)}")
    if name == "self-consistency" and samples < 2:
        raise UserError(f"self-consistency needs at least 2 samples, got {samples}")


def protocol_label(name: str, *, samples: int = 3) -> str:
    """How reports and job configs name protocol ``name``.

    Self-consistency carries its samples (``"self-consistency-3"``); any other protocol
    is named as given.
    """
    return rationale_label(samples) if name == "self-consistency" else name


def backends_of(judging: JudgeLike) -> list[Backend]:
    """The backends ``judging`` sends its calls to, loaded: a panel's members' in order.

    Raises:
        TypeError: ``judging`` is none of `Judge`, `Panel` or the protocols of
            `with_protocol`, so which backend it uses cannot be told.
    """
    if isinstance(judging, Judge):
        return [judging.backend]
    if isinstance(judging, Panel):
        return [b for member in judging.judges for b in backends_of(member)]
    if isinstance(
        judging, ReasonThenRead | CommitFirst | OneOrder | ByScores | Hybrid | SplitMerge | ByPMI
    ):
        return backends_of(judging.judge)
    raise TypeError(f"cannot tell which backend a {type(judging).__name__} judges with")
