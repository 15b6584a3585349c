"""The pydantic schemas the generate method constrains output to: rationale, then verdict.

The rationale comes first so the model reasons before it commits. Its length is
bounded so that constrained generation always closes the JSON within the token
budget. Labels and scores are `Literal` types: the constraint cannot emit anything
off the menu, and validation rejects it if a backend does.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

RATIONALE_MAX_CHARS = 300


@cache
def pairwise_schema(labels: tuple[str, ...]) -> type[BaseModel]:
    """Schema with a rationale and a ``winner`` drawn from ``labels``."""
    winner: Any = Literal.__getitem__(labels)
    return create_model(
        "PairwiseJudgment",
        __config__=ConfigDict(extra="forbid"),
        rationale=(str, Field(max_length=RATIONALE_MAX_CHARS)),
        winner=(winner, ...),
    )


@cache
def pointwise_schema(low: int, high: int) -> type[BaseModel]:
    """Schema with a rationale and an integer ``score`` from ``low`` to ``high``."""
    score: Any = Literal.__getitem__(tuple(range(low, high + 1)))
    return create_model(
        "PointwiseJudgment",
        __config__=ConfigDict(extra="forbid"),
        rationale=(str, Field(max_length=RATIONALE_MAX_CHARS)),
        score=(score, ...),
    )


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema handed to the backend's constrained decoder."""
    return model.model_json_schema()
