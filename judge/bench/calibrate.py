"""Fit a calibrator on one part of a benchmark run and measure it on the part held apart.

Items, not comparisons, are split (by a hash of the seed and the item id), so the
comparisons of one item never fall on both sides: the ECE after calibration is always
measured on items the calibrator never saw.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from judge.bench.scoring import ItemOutcome, calibration_points
from judge.calibration import CalibrationKind, Calibrator, fit
from judge.errors import UserError
from judge.jsonable import JsonKeys
from judge.metrics import brier, expected_calibration_error


def held_apart(seed: int, item_id: str, fraction: float) -> bool:
    """Whether an item is held apart for measuring (about ``fraction`` of the items)."""
    digest = hashlib.sha256(f"calibration\0{seed}\0{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


@dataclass(frozen=True)
class CalibrationFit:
    """A calibrator fitted on one split, and how it does on the other.

    Attributes:
        calibrator: fitted on the ``fit`` items only.
        fit_items: items it was fitted on.
        held_items: items held apart.
        held_comparisons: comparisons measured on.
        before: Brier score and ECE of the judge's own P(A ≻ B) on the held items.
        after: the same after calibration.
    """

    calibrator: Calibrator
    fit_items: int
    held_items: int
    held_comparisons: int
    before: dict[str, float | None]
    after: dict[str, float | None]

    json_keys: ClassVar[JsonKeys] = (  # `judge.jsonable`: the calibrator's file holds the rest
        "kind",
        "temperature",
        "fit_items",
        "held_items",
        "held_comparisons",
        "before",
        "after",
    )

    @property
    def kind(self) -> CalibrationKind:
        """The calibrator's kind."""
        return self.calibrator.kind

    @property
    def temperature(self) -> float | None:
        """The calibrator's temperature (temperature kind only)."""
        return self.calibrator.temperature


def fit_held_apart(
    outcomes: Sequence[ItemOutcome],
    *,
    kind: CalibrationKind = "temperature",
    seed: int = 0,
    held: float = 0.5,
    source: dict[str, object] | None = None,
) -> CalibrationFit:
    """Fit on the items not held apart; measure before and after on those held apart.

    Raises:
        UserError: ``held`` is not in (0, 1), or a side has fewer than two labelled
            comparisons (pairwise verdicts are needed; pointwise runs have none).
    """
    if not 0.0 < held < 1.0:
        raise UserError(f"--held-out must be between 0 and 1 (exclusive), got {held}")
    apart = [o for o in outcomes if held_apart(seed, o.item.id, held)]
    kept = [o for o in outcomes if not held_apart(seed, o.item.id, held)]
    fit_p, fit_y = calibration_points(kept, raw=True)
    test_p, test_y = calibration_points(apart, raw=True)
    if len(fit_p) < 2 or len(test_p) < 2:
        raise UserError(
            f"fitting and measuring a calibrator needs at least 2 judged pairwise "
            f"comparisons on each side; got {len(fit_p)} to fit and {len(test_p)} "
            "held apart (more items, --strategy pairwise, or another --held-out)"
        )
    calibrator = fit(fit_p, fit_y, kind, source=source)
    after = calibrator.apply_all(test_p)
    return CalibrationFit(
        calibrator,
        len(kept),
        len(apart),
        len(test_p),
        {"brier": brier(test_p, test_y), "ece": expected_calibration_error(test_p, test_y)},
        {"brier": brier(after, test_y), "ece": expected_calibration_error(after, test_y)},
    )
