"""Shared-prefix groups and length buckets (`judge.backends.prefix`): pure logic."""

from __future__ import annotations

import pytest

from judge.backends.prefix import common_prefix, group_by_prefix, length_buckets


def test_common_prefix() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([5], [6]) == 0


def test_orders_of_one_prompt_share_their_prefix_and_other_prompts_do_not() -> None:
    prompt_a, prompt_b = [1, 2, 3, 4, 5, 6], [1, 2, 9, 9, 9, 9]
    rows = [[*prompt_a, 7, 8], [*prompt_b, 7, 8], [*prompt_a, 8, 7], [*prompt_b, 8, 7]]
    groups = group_by_prefix(rows, keep=1, min_share=0.5)
    assert sorted(g.rows for g in groups) == [(0, 2), (1, 3)]
    assert {g.prefix_len for g in groups} == {6}


def test_prefix_leaves_the_kept_positions_outside() -> None:
    rows = [[1, 2, 3, 4], [1, 2, 3, 4, 5]]
    (group,) = group_by_prefix(rows, keep=2, min_share=0.4)
    assert group.prefix_len == 2  # the shorter row keeps its last 2 tokens as suffix


def test_too_little_shared_means_no_reuse() -> None:
    rows = [[1, 2, 3, 4, 5, 6], [1, 9, 9, 9, 9, 9]]
    groups = group_by_prefix(rows, min_share=0.5)
    assert [g.prefix_len for g in groups] == [0, 0]
    assert sorted(r for g in groups for r in g.rows) == [0, 1]


def test_a_single_row_and_bad_share() -> None:
    assert [(g.rows, g.prefix_len) for g in group_by_prefix([[1, 2, 3]])] == [((0,), 0)]
    with pytest.raises(ValueError, match="min_share"):
        group_by_prefix([[1]], min_share=0.0)


def test_buckets_cap_size_and_padding() -> None:
    lengths = [100, 10, 12, 101, 11, 300]
    buckets = length_buckets(lengths, batch_size=2)
    assert buckets == [[1, 4], [2], [0, 3], [5]]
    assert length_buckets(lengths, batch_size=16) == [[1, 4, 2], [0, 3], [5]]
    assert length_buckets([5, 5, 5], batch_size=1) == [[0], [1], [2]]
    with pytest.raises(ValueError, match="batch_size"):
        length_buckets([1], batch_size=0)
