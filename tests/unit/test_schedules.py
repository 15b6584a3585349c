"""Comparison schedules and the intransitivity report (pure logic, and a fake judge)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from judge import Judge, UserError
from judge.reward import JudgeReward
from judge.reward.bradley_terry import consistency, fit_bradley_terry
from judge.reward.schedules import Schedule
from tests.unit.test_reward_fake import STRENGTH, FakeStrengthBackend


def _connected(n: int, pairs: list[tuple[int, int]]) -> bool:
    reach, frontier = {0}, [0]
    while frontier:
        node = frontier.pop()
        for i, j in pairs:
            for a, b in ((i, j), (j, i)):
                if a == node and b not in reach:
                    reach.add(b)
                    frontier.append(b)
    return len(reach) == n


@pytest.mark.parametrize("n", [4, 8, 16])
@pytest.mark.parametrize(("text", "per_item"), [("ring", 2), ("regular:4", 4)])
def test_sparse_schedules_are_connected_balanced_and_cheap(
    n: int, text: str, per_item: int
) -> None:
    pairs = Schedule.parse(text).pairs(n, key="prompt")
    assert len({frozenset(p) for p in pairs}) == len(pairs)  # no pair twice
    assert _connected(n, pairs)
    if n * per_item // 2 < n * (n - 1) // 2:
        assert len(pairs) == n * per_item // 2
        firsts = np.bincount([i for i, _ in pairs], minlength=n)
        assert set(firsts.tolist()) == {per_item // 2}  # each shown first equally often
    else:
        assert len(pairs) == n * (n - 1) // 2  # all pairs are not dearer: use them


def test_draw_depends_on_seed_and_key_only() -> None:
    ring = Schedule("ring", seed=3)
    assert ring.pairs(8, "q") == Schedule("ring", seed=3).pairs(8, "q")
    assert ring.pairs(8, "q") != ring.pairs(8, "another prompt")
    assert Schedule().pairs(4) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    assert Schedule("ring").pairs(3) == [(0, 1), (0, 2), (1, 2)]
    assert str(Schedule.parse("regular:6")) == "regular:6"


@pytest.mark.parametrize("text", ["knockout", "ring:3", "regular:x", "regular:1"])
def test_bad_schedules_say_what_is_wrong(text: str) -> None:
    with pytest.raises(UserError, match=r"schedule|regular|degree"):
        Schedule.parse(text)


def test_three_cycles_and_residual() -> None:
    cyclic = [(0, 1, 0.9), (1, 2, 0.9), (2, 0, 0.9)]
    found = consistency(3, cyclic, fit_bradley_terry(3, cyclic))
    assert (found.triads, found.cycles, found.cycle_share) == (1, 1, 1.0)
    assert found.residual > 0.3  # no strengths explain a cycle
    s = np.array([1.0, 0.0, -1.0])
    exact = [(i, j, float(1 / (1 + np.exp(s[j] - s[i])))) for i, j in [(0, 1), (1, 2), (0, 2)]]
    found = consistency(3, exact, fit_bradley_terry(3, exact, ridge=1e-9))
    assert (found.triads, found.cycles) == (1, 0)
    assert found.residual < 1e-4
    tie = consistency(3, [(0, 1, 0.5), (1, 2, 0.9), (0, 2, 0.9)], s)
    assert tie.triads == 0 and tie.cycle_share is None  # a pair without a winner


def test_groupwise_ring_recovers_strengths_with_fewer_judgments(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = FakeStrengthBackend()
    names = ["great", "good", "ok", "bad"]
    reward = JudgeReward(Judge(backend, cache=False), mode="groupwise", schedule="ring", ridge=1e-9)
    with caplog.at_level(logging.INFO, logger="judge.reward"):
        got = reward(["q"] * 4, names)
    assert backend.requests == 8  # 4 pairs, both orders (all pairs: 12)
    mean = sum(STRENGTH[n] for n in names) / 4
    assert got == pytest.approx([STRENGTH[n] - mean for n in names], abs=1e-4)
    assert "4 comparisons, 3-cycles 0 of" in caplog.text
    with pytest.raises(UserError, match="unknown schedule"):
        JudgeReward(mode="groupwise", schedule="everything")
