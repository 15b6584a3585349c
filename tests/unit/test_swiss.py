"""The adaptive (Swiss) schedule: pure round logic, and rounds through every judging path
(sync, async, the server's batcher) with a fake judge."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from judge import Judge, UserError
from judge.annotate import Pairing
from judge.reward import JudgeReward
from judge.reward.schedules import Schedule, swiss_round
from tests.unit.test_reward_fake import STRENGTH, FakeStrengthBackend
from tests.unit.test_reward_groups import one_by_one

NAMES = ["great", "good", "ok", "bad"]


def test_first_round_is_a_seeded_perfect_matching() -> None:
    swiss = Schedule.parse("swiss:3", seed=2)
    for n in (8, 7):
        first = swiss.pairs(n, "q")
        shown = [i for pair in first for i in pair]
        assert len(first) == n // 2 and len(set(shown)) == len(shown)  # nobody twice
        assert first == Schedule.parse("swiss:3", seed=2).pairs(n, "q")
    assert swiss.pairs(8, "q") != swiss.pairs(8, "another prompt")
    assert str(swiss) == "swiss:3" and swiss.rounds == 3 and Schedule().rounds == 1
    assert str(Schedule.parse("swiss")) == "swiss:3"


def test_a_round_pairs_neighbours_in_strength_order_never_twice() -> None:
    chain = [(i, i + 1, 0.8) for i in range(5)]  # 0 ≻ 1 ≻ … ≻ 5, neighbours met
    # 0 meets 2 (1 it has met); 1 meets 3, shown first in turn; 4 and 5 have met.
    assert swiss_round(6, chain) == [(0, 2), (3, 1)]
    reversed_chain = [(i + 1, i, 0.8) for i in range(5)]  # 5 ≻ 4 ≻ … ≻ 0
    assert swiss_round(6, reversed_chain) == [(5, 3), (2, 4)]


def test_rounds_stop_after_r_and_cost_at_most_r_half_groups() -> None:
    oracle = dict.fromkeys(itertools.permutations(range(8), 2), 0.5)
    for r in (1, 2, 4):
        swiss = Schedule("swiss", r)
        judged = [(i, j, oracle[(i, j)]) for i, j in swiss.pairs(8, "q")]
        done = 1
        while nxt := swiss.next_pairs(8, "q", judged, done):
            judged += [(i, j, oracle[(i, j)]) for i, j in nxt]
            done += 1
        assert done == r
        assert len({frozenset(c[:2]) for c in judged}) == len(judged) <= swiss.cost(8) == 4 * r
    small = Schedule.parse("swiss:3")
    assert small.cost(4) == 6 and len(small.pairs(4)) == 6  # not fewer than all pairs
    assert small.next_pairs(4, "q", [(0, 1, 0.9)], 1) == []


@pytest.mark.parametrize("text", ["swiss:0", "swiss:x", "ring:2"])
def test_bad_swiss_schedules_say_what_is_wrong(text: str) -> None:
    with pytest.raises(UserError, match=r"round|number|integer"):
        Schedule.parse(text)


def _reward() -> tuple[JudgeReward, FakeStrengthBackend]:
    backend = FakeStrengthBackend()
    judge = Judge(backend, cache=False)
    return JudgeReward(judge, mode="groupwise", schedule="swiss:2", ridge=1e-9), backend


def _centred() -> list[float]:
    mean = sum(STRENGTH[n] for n in NAMES) / len(NAMES)
    return [STRENGTH[n] - mean for n in NAMES]


def test_reward_judges_two_rounds_and_recovers_the_strengths() -> None:
    reward, backend = _reward()
    got = reward(["q"] * 4, NAMES)
    # Round 1: two pairs; round 2: the winners meet, the losers meet (a connected path).
    assert backend.requests == 8  # 4 pairs, both orders (all pairs: 12)
    assert got == pytest.approx(_centred(), abs=1e-4)
    again, _ = _reward()
    assert asyncio.run(again.acall(["q"] * 4, NAMES)) == pytest.approx(got, abs=1e-12)


def test_served_groups_come_back_for_their_next_round() -> None:
    reward, backend = _reward()
    outcomes, _, batcher = one_by_one(reward, ["q"] * 4, NAMES, size=4)
    assert [o.reward for o in outcomes] == pytest.approx(_centred(), abs=1e-4)
    assert batcher.batches == 2 and batcher.judged == 4 and backend.requests == 8


def test_annotate_refuses_an_adaptive_schedule_and_says_why() -> None:
    with pytest.raises(UserError, match=r"swiss.*before|ring or regular"):
        Pairing("schedule", schedule="swiss:2")
