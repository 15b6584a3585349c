"""Calibrators for a judge's P(A ≻ B): temperature on the verdict logit, or isotonic.

A judge's probability is only useful as a reward if it is calibrated: among pairs where
it says 0.8, A should be better about 80% of the time. A `Calibrator` is fitted on
labelled pairs (``judge bench --fit-calibration OUT``), saved as JSON, and loaded into a
`Judge` (``Judge(calibration="OUT")``), which then reports calibrated ``prob_a`` in its
verdicts, and so in rewards and annotation margins.

* ``temperature``: p' = σ(logit(p) / T), one parameter fitted by minimizing the log
  loss (Guo et al., 2017). It keeps the ranking and the side of ½ of every verdict.
* ``isotonic``: a monotone step map fitted by pool-adjacent-violators, interpolated
  linearly between the fitted points (Zadrozny & Elkan, 2002). More flexible; needs
  more pairs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from judge.errors import InputError, UserError

CalibrationKind = Literal["temperature", "isotonic"]
_EPS = 1e-6
_FORMAT = 1


class Calibrator(BaseModel):
    """A fitted map from a judge's raw P(A ≻ B) to a calibrated one.

    Attributes:
        kind: ``"temperature"`` or ``"isotonic"``.
        temperature: T of the temperature map (temperature only).
        points: (raw, calibrated) knots of the isotonic map, raw ascending.
        fitted_on: how many labelled comparisons it was fitted on.
        source: what it was fitted on (data, model, template), for the record.
        format: the file format version.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: CalibrationKind
    temperature: float | None = Field(default=None, gt=0.0)
    points: tuple[tuple[float, float], ...] = ()
    fitted_on: int = Field(ge=0)
    source: dict[str, object] = Field(default_factory=dict)
    format: int = _FORMAT

    def apply(self, prob: float) -> float:
        """The calibrated probability for a raw P(A ≻ B)."""
        if self.kind == "temperature":
            assert self.temperature is not None
            return _sigmoid(_logit(prob) / self.temperature)
        xs, ys = zip(*self.points, strict=True)
        return float(np.interp(prob, xs, ys))

    def apply_all(self, probs: Sequence[float]) -> list[float]:
        """`apply` to each probability."""
        return [self.apply(p) for p in probs]

    def save(self, path: str | Path) -> None:
        """Write the calibrator as JSON."""
        Path(path).write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Calibrator:
        """Read a calibrator written by `save`.

        Raises:
            InputError: the file is missing, not JSON, or not a calibrator.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(
                f"cannot open calibrator: {exc.strerror or exc}", path=str(path)
            ) from exc
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise InputError(
                f"not a calibrator written by `judge bench --fit-calibration`: "
                f"{exc.errors()[0]['msg']}",
                path=str(path),
            ) from exc


def fit(
    probs: Sequence[float],
    outcomes: Sequence[float],
    kind: CalibrationKind = "temperature",
    *,
    source: dict[str, object] | None = None,
) -> Calibrator:
    """Fit a calibrator on raw probabilities and outcomes (1 A better, 0 B, ½ a tie).

    Raises:
        UserError: fewer than two comparisons, mismatched lengths, or an unknown kind.
    """
    if len(probs) != len(outcomes):
        raise UserError(f"{len(probs)} probabilities against {len(outcomes)} outcomes")
    if len(probs) < 2:
        raise UserError(
            f"fitting a calibrator needs at least 2 labelled comparisons, got {len(probs)}"
        )
    p, y = np.asarray(probs, dtype=float), np.asarray(outcomes, dtype=float)
    extra = {"source": source or {}, "fitted_on": len(p)}
    if kind == "temperature":
        return Calibrator(kind=kind, temperature=fit_temperature(p, y), **extra)
    if kind == "isotonic":
        return Calibrator(kind=kind, points=fit_isotonic(p, y), **extra)
    raise UserError(f"calibration must be temperature or isotonic, got {kind!r}")


def fit_temperature(probs: np.ndarray, outcomes: np.ndarray) -> float:
    """T minimizing the log loss of σ(logit(p) / T); golden-section search on log(1/T).

    The log loss is convex in the scale 1/T, so the search over its logarithm, a
    monotone change of variable, finds the one minimum.
    """
    z = np.array([_logit(float(v)) for v in probs])

    def loss(log_scale: float) -> float:
        q = np.clip(1.0 / (1.0 + np.exp(-z * math.exp(log_scale))), _EPS, 1.0 - _EPS)
        return float(-np.mean(outcomes * np.log(q) + (1.0 - outcomes) * np.log(1.0 - q)))

    low, high = -7.0, 7.0
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(80):
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        if loss(a) < loss(b):
            high = b
        else:
            low = a
    return 1.0 / math.exp((low + high) / 2.0)


def fit_isotonic(probs: np.ndarray, outcomes: np.ndarray) -> tuple[tuple[float, float], ...]:
    """Pool-adjacent-violators: (mean raw, mean outcome) of each monotone block.

    Equal raw probabilities are pooled first, so the knots' raw values strictly increase.
    """
    values, inverse, counts = np.unique(probs, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=outcomes)
    blocks: list[list[float]] = []  # [sum of raw, sum of outcomes, count]
    for value, total, count in zip(values, sums, counts, strict=True):
        blocks.append([float(value) * count, float(total), float(count)])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            blocks[-1] = [blocks[-1][k] + last[k] for k in range(3)]
    return tuple((raw / n, total / n) for raw, total, n in blocks)


def _logit(p: float) -> float:
    q = min(max(p, _EPS), 1.0 - _EPS)
    return math.log(q / (1.0 - q))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
