"""Backends: one small abstract class, one module per engine, a lazy registry."""

from judge.backends.base import (
    Backend,
    Capabilities,
    GenerateRequest,
    Generation,
    LabelRequest,
    LabelScores,
)
from judge.backends.registry import load_backend, register_backend

__all__ = [
    "Backend",
    "Capabilities",
    "GenerateRequest",
    "Generation",
    "LabelRequest",
    "LabelScores",
    "load_backend",
    "register_backend",
]
