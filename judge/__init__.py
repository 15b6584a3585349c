"""judge: turn any LLM into a judge, and any judge into a reward model.

Importing this package is fast and offline: no model, network or heavy library is
touched until a judgment is asked for.
"""

from judge.errors import BackendError, JudgeError, TemplateError, UserError
from judge.inputs import PairInput, PointInput
from judge.judge import Judge, JudgeConfig
from judge.templates import JudgeTemplate
from judge.verdicts import (
    FailureReason,
    JudgmentFailure,
    OrderResult,
    PairwiseVerdict,
    PointwiseVerdict,
)

__all__ = [
    "BackendError",
    "FailureReason",
    "Judge",
    "JudgeConfig",
    "JudgeError",
    "JudgeTemplate",
    "JudgmentFailure",
    "OrderResult",
    "PairInput",
    "PairwiseVerdict",
    "PointInput",
    "PointwiseVerdict",
    "TemplateError",
    "UserError",
]
__version__ = "0.1.0"
