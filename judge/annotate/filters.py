"""Filters that keep a judged pair out of the preference data, and say why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from judge.errors import UserError


@dataclass(frozen=True)
class Filters:
    """Which judged pairs to drop. Dropped rows go to a side file with the reason.

    Attributes:
        min_margin: drop rows whose margin 2·P(chosen ≻ rejected) − 1 is below this
            (0 keeps every row, 1 keeps only certain ones).
        drop_inconsistent: drop rows whose two orders picked different winners.
        drop_ties: drop rows the judge called a tie.
        max_disagreement: drop rows whose panel members' P(chosen ≻ rejected) have a
            standard deviation above this (None keeps every row; only for a panel).
    """

    min_margin: float = 0.0
    drop_inconsistent: bool = False
    drop_ties: bool = False
    max_disagreement: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_margin <= 1.0:
            raise UserError(f"min margin must be between 0 and 1, got {self.min_margin}")
        if self.max_disagreement is not None and not 0.0 <= self.max_disagreement <= 0.5:
            # the standard deviation of values in [0, 1] is at most 0.5
            raise UserError(
                f"max disagreement must be between 0 and 0.5, got {self.max_disagreement}"
            )

    def reason(self, row: dict[str, Any]) -> str | None:
        """Why ``row`` is dropped, or None to keep it.

        Returns:
            ``"tie"``, ``"position_inconsistent"``, ``"panel_disagreement"``,
            ``"below_min_margin"`` or None.
        """
        meta = row["judge"]
        if self.drop_ties and meta["tie"]:
            return "tie"
        if self.drop_inconsistent and meta["consistent"] is False:
            return "position_inconsistent"
        spread, most = meta.get("disagreement"), self.max_disagreement
        if most is not None and spread is not None and spread > most:
            return "panel_disagreement"
        if meta["margin"] < self.min_margin:
            return "below_min_margin"
        return None
