"""Plan forward passes over token rows: shared-prefix groups and length buckets.

Every order and pair of a judged group starts with the same tokens (system prompt,
rubric, user prompt). `group_by_prefix` finds rows that share a long common prefix, so
a backend computes that prefix's key/value cache once and runs only the suffixes.
`length_buckets` cuts rows sorted by length into batches that waste little on padding.
Pure logic on token ids: no model, no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Tokens = Sequence[int]


@dataclass(frozen=True)
class PrefixGroup:
    """Rows that share their first ``prefix_len`` tokens.

    Attributes:
        rows: indices of the rows, into the list given to `group_by_prefix`.
        prefix_len: tokens shared by every row (0: nothing worth reusing).
    """

    rows: tuple[int, ...]
    prefix_len: int


def common_prefix(a: Tokens, b: Tokens) -> int:
    """Length of the longest common prefix of two token rows."""
    n = min(len(a), len(b))
    for k in range(n):
        if a[k] != b[k]:
            return k
    return n


def group_by_prefix(
    rows: Sequence[Tokens], *, keep: int = 1, min_share: float = 0.5
) -> list[PrefixGroup]:
    """Group rows whose common prefix is at least ``min_share`` of each row's length.

    Rows are sorted lexicographically, so rows with a long common prefix are adjacent
    and the prefix shared with a group's first row only shrinks along the run; a row
    joins the current group while the group's prefix stays at least ``min_share`` of
    its longest row. A group of one row has ``prefix_len`` 0.

    Args:
        rows: token ids of each row.
        keep: the last ``keep`` tokens of every row stay outside the prefix (the
            positions whose next-token logits are read).
        min_share: the least fraction of a row that must be shared, in (0, 1].

    Returns:
        Groups covering every row once, rows of a group in sorted order.
    """
    if not 0.0 < min_share <= 1.0:
        raise ValueError(f"min_share must be in (0, 1], got {min_share}")
    order = sorted(range(len(rows)), key=lambda i: list(rows[i]))
    groups: list[PrefixGroup] = []
    members: list[int] = []
    shared = 0
    for index in order:
        if members:
            candidate = min(
                shared, common_prefix(rows[members[0]], rows[index]), len(rows[index]) - keep
            )
            longest = max(len(rows[index]), *(len(rows[m]) for m in members))
            if candidate > 0 and candidate >= min_share * longest:
                members.append(index)
                shared = candidate
                continue
            groups.append(_group(members, shared))
        members, shared = [index], len(rows[index]) - keep
    if members:
        groups.append(_group(members, shared))
    return groups


def _group(members: list[int], shared: int) -> PrefixGroup:
    return PrefixGroup(tuple(members), max(shared, 0) if len(members) > 1 else 0)


def length_buckets(
    lengths: Sequence[int], batch_size: int, *, slack: float = 0.1
) -> list[list[int]]:
    """Batches of row indices, shortest first, each padded by little.

    A batch holds at most ``batch_size`` rows, and a row joins it only while the
    batch's shortest row is within ``slack`` of its longest (at least 8 tokens), so a
    batch's padding stays near ``slack`` of its width.

    Args:
        lengths: tokens each row will run through the model.
        batch_size: rows per batch at most (>= 1).
        slack: padding allowed, as a fraction of the batch's longest row.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    batches: list[list[int]] = []
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        current = batches[-1] if batches else None
        if (
            current is not None
            and len(current) < batch_size
            and lengths[index] - lengths[current[0]] <= max(8.0, slack * lengths[index])
        ):
            current.append(index)
        else:
            batches.append([index])
    return batches
