"""The swiss schedule on the real embedded judge: round 2 is picked from round 1's verdicts.

One group of four LLMBar answers, ``swiss:2``: round 1 judges the seeded matching (two
pairs, both orders), round 2 the pairs that `swiss_round` picks from those real
verdicts, and the rewards are the Bradley–Terry fit of all four comparisons. Eight
forward passes of SmolLM2.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from judge import Judge
from judge.reward import JudgeReward
from judge.reward.bradley_terry import fit_bradley_terry
from judge.reward.rounds import judge_rounds, judged_pairs
from judge.reward.schedules import swiss_round
from tests.conftest import DATA

pytestmark = pytest.mark.slow


def test_swiss_rounds_on_real_verdicts(smollm: Any) -> None:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    a, b = sorted(rows, key=lambda r: len(r["chosen"] + r["rejected"]))[:2]
    answers = [a["chosen"], a["rejected"], b["chosen"], b["rejected"]]
    reward = JudgeReward(Judge(smollm, cache=False), mode="groupwise", schedule="swiss:2")
    plan = reward.plan([a["prompt"]] * 4, answers, None)
    assert len(plan.requests) == 2  # round 1: a perfect matching
    results = judge_rounds(reward, plan, reward.judge_requests)
    assert plan.rounds == 2 and len(results) == 4
    first = judged_pairs(plan.owners[:2], results[:2])
    assert plan.owners[2:] == swiss_round(4, first)  # picked from the real verdicts
    assert not {frozenset(p) for p in plan.owners[:2]} & {frozenset(p) for p in plan.owners[2:]}
    rewards = reward.finish(plan, results).rewards
    expected = fit_bradley_terry(4, judged_pairs(plan.owners, results), ridge=reward.ridge)
    assert rewards == pytest.approx(list(expected), abs=1e-9)
    assert abs(float(np.sum(expected))) < 1e-9  # centred strengths
