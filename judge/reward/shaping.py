"""Optional reward shaping: per-batch normalization, length penalty, length residualization.

All three are off by default. Each works on the rewards that exist: an item whose
verdict failed (``None``) is left as ``None`` and takes no part in any mean, spread or
regression. Lengths are measured in characters of the completion text.

Formulas (applied in this order):

- **length penalty** (needs a reference answer per item), with coefficient α ≥ 0:
  ``r' = r − α · max(0, len(y) / max(len(ref), 1) − 1)`` — a completion pays α per
  reference-length of text beyond the reference's length; shorter ones pay nothing.
- **length residualization** within each set (the batch, or each GRPO group): fit the
  least-squares line ``r ≈ a + b · len(y)`` and remove the part explained by length,
  ``r' = r − b · (len(y) − mean(len))``. The set's mean reward is unchanged; a set with
  fewer than two rewards or with equal lengths is left as is.
- **normalization** within each set: ``r' = (r − mean(r)) / (std(r) + ε)`` with the
  population standard deviation and ε = 1e-6; a set with a single reward becomes 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from judge.errors import UserError
from judge.reward.items import Rewards

Scope = Literal["batch", "group"]
EPS = 1e-6


@dataclass(frozen=True)
class Shaping:
    """Which shaping steps to apply; the default applies none.

    Attributes:
        length_penalty: α of the length penalty relative to the reference (0 = off).
        residualize_length: ``"batch"`` or ``"group"`` to remove the length-explained
            part of the rewards within that set; None = off.
        normalize: ``"batch"`` or ``"group"`` to standardize rewards within that set;
            None = off.
    """

    length_penalty: float = 0.0
    residualize_length: Scope | None = None
    normalize: Scope | None = None

    def __post_init__(self) -> None:
        if self.length_penalty < 0:
            raise UserError(f"length_penalty must be ≥ 0, got {self.length_penalty}")
        for name in ("residualize_length", "normalize"):
            value = getattr(self, name)
            if value not in (None, "batch", "group"):
                raise UserError(f"{name} must be 'batch', 'group' or None, got {value!r}")

    @property
    def active(self) -> bool:
        """Whether any step is on."""
        return bool(self.length_penalty or self.residualize_length or self.normalize)


def length_penalty(
    rewards: Sequence[float | None],
    lengths: Sequence[int],
    reference_lengths: Sequence[int],
    alpha: float,
) -> Rewards:
    """``r − α · max(0, len / max(ref_len, 1) − 1)`` per item; None stays None."""
    return [
        None if r is None else r - alpha * max(0.0, n / max(m, 1) - 1.0)
        for r, n, m in zip(rewards, lengths, reference_lengths, strict=True)
    ]


def residualize_length(rewards: Sequence[float | None], lengths: Sequence[int]) -> Rewards:
    """Remove the least-squares length slope from one set: ``r − b · (len − mean len)``."""
    idx = [i for i, r in enumerate(rewards) if r is not None]
    out = list(rewards)
    x = np.array([lengths[i] for i in idx], dtype=np.float64)
    if len(idx) < 2 or np.ptp(x) == 0:
        return out
    y = np.array([rewards[i] for i in idx], dtype=np.float64)
    xc = x - x.mean()
    slope = float(xc @ (y - y.mean()) / (xc @ xc))
    for i, value in zip(idx, y - slope * xc, strict=True):
        out[i] = float(value)
    return out


def normalize(rewards: Sequence[float | None]) -> Rewards:
    """Standardize one set: ``(r − mean) / (std + ε)``; None stays None."""
    idx = [i for i, r in enumerate(rewards) if r is not None]
    out = list(rewards)
    y = np.array([rewards[i] for i in idx], dtype=np.float64)
    if not idx:
        return out
    for i, value in zip(idx, (y - y.mean()) / (y.std() + EPS), strict=True):
        out[i] = float(value)
    return out


def _per_set(
    step: Scope,
    groups: Sequence[int],
    rewards: Rewards,
    fn: Callable[..., Rewards],
    *extra: Sequence[int],
) -> Rewards:
    sets = (
        [list(range(len(rewards)))]
        if step == "batch"
        else [[i for i, g in enumerate(groups) if g == key] for key in dict.fromkeys(groups)]
    )
    out = list(rewards)
    for members in sets:
        shaped = fn([rewards[i] for i in members], *[[e[i] for i in members] for e in extra])
        for i, value in zip(members, shaped, strict=True):
            out[i] = value
    return out


def apply_shaping(
    shaping: Shaping,
    rewards: Sequence[float | None],
    *,
    lengths: Sequence[int],
    groups: Sequence[int],
    reference_lengths: Sequence[int] | None = None,
) -> Rewards:
    """Apply the steps ``shaping`` turns on, in the documented order.

    Args:
        shaping: which steps.
        rewards: one reward per item (None where the verdict failed).
        lengths: completion length of each item, in characters.
        groups: a group key per item (items with the same prompt share one).
        reference_lengths: reference length per item; required by ``length_penalty``.

    Raises:
        UserError: a length penalty without references.
    """
    out: Rewards = list(rewards)
    if shaping.length_penalty:
        if reference_lengths is None:
            raise UserError(
                "length_penalty is relative to a reference answer; "
                "pass references (e.g. a `reference` dataset column)"
            )
        out = length_penalty(out, lengths, reference_lengths, shaping.length_penalty)
    if shaping.residualize_length:
        out = _per_set(shaping.residualize_length, groups, out, residualize_length, lengths)
    if shaping.normalize:
        out = _per_set(shaping.normalize, groups, out, normalize)
    return out
