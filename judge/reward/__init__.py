"""A judge as a scalar reward model: TRL reward functions, `.score()`, a server, verl.

``from judge.reward import JudgeReward`` — see `judge.reward.model` for the modes and
their formulas. The server (`judge.reward.server`) and its client need the ``serve``
extra; nothing heavy is imported here.
"""

from judge.reward.bradley_terry import fit_bradley_terry
from judge.reward.items import RewardBatch, RewardFailure
from judge.reward.model import AsyncJudgeReward, JudgeReward, RewardError
from judge.reward.shaping import Shaping

__all__ = [
    "AsyncJudgeReward",
    "JudgeReward",
    "RewardBatch",
    "RewardError",
    "RewardFailure",
    "Shaping",
    "fit_bradley_terry",
]
