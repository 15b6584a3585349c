"""``on_failure="mask"``: a failed item gets the value that gives it no advantage.

Group-baseline estimators (GRPO's group normalization, RLOO, REINFORCE with a group
baseline) turn a reward into an advantage by subtracting its group's mean. An item whose
verdict failed is given the mean of the rewards that its group (the items sharing its
prompt) did get, so its advantage is zero and the others' baseline is unchanged. A group
whose every item failed gets ``empty`` for all of them (any constant leaves all
advantages zero). A critic-based estimator (PPO with GAE) has no such neutral value:
there the masked reward is only the group's average.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def mask_failures(
    values: Sequence[float | None], groups: Sequence[Hashable], *, empty: float = 0.0
) -> list[float]:
    """Each None becomes the mean of the values its group has (``empty`` if none).

    Args:
        values: one value per item; None where the item failed.
        groups: one group key per item (items sharing a prompt share a key).
        empty: the value for the items of a group in which every item failed.
    """
    sums: dict[Hashable, tuple[float, int]] = {}
    for value, key in zip(values, groups, strict=True):
        if value is not None:
            total, count = sums.get(key, (0.0, 0))
            sums[key] = (total + value, count + 1)
    return [
        value if value is not None else (sums[key][0] / sums[key][1] if key in sums else empty)
        for value, key in zip(values, groups, strict=True)
    ]
