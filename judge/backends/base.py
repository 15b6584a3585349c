"""The backend contract: one small abstract class with declared capabilities.

A backend turns chat messages into either log-probabilities of complete verdict labels
(`score_labels`, for the logprob method) or schema-constrained text (`generate`, for
the generate method). It does no parsing and no caching: that is the engine's job.
Per-item failures come back as `BackendError` values in the result list, so one bad
item never poisons a batch.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from judge.errors import BackendError
from judge.verdicts import Usage

Message = dict[str, str]


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do.

    Attributes:
        logprobs: can score complete verdict labels (`score_labels`).
        structured: can constrain generation to a JSON schema (`generate`).
        reply_logprobs: scores a long label (a whole reply) in one forward pass, so
            `score_labels` can measure a response's log-probability (`judge.protocols.pmi`).
    """

    logprobs: bool
    structured: bool
    reply_logprobs: bool = False


@dataclass(frozen=True)
class LabelRequest:
    """Score each label as the complete reply to ``messages``."""

    messages: tuple[Message, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class LabelScores:
    """Log-probability of each label as the complete reply (not renormalized)."""

    logprobs: dict[str, float]
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class GenerateRequest:
    """Generate a reply to ``messages`` constrained to the JSON ``schema``.

    ``seed`` (set by the engine only when ``temperature > 0``) seeds the sampling, on
    backends that can take one (transformers, vLLM); others sample unseeded.
    """

    messages: tuple[Message, ...]
    schema: dict[str, Any]
    max_new_tokens: int
    temperature: float = 0.0
    seed: int | None = None


@dataclass(frozen=True)
class Generation:
    """Generated text and why generation stopped."""

    text: str
    finish_reason: Literal["stop", "length"]
    usage: Usage = field(default_factory=Usage)


class Backend(ABC):
    """Base class of every engine adapter.

    Subclasses implement `fingerprint` and whichever of `score_labels` / `generate`
    their `capabilities` declare. Async variants default to running the sync method
    in a worker thread; API backends override them with real async I/O.

    Attributes:
        name: ``backend/model`` string, as shown in verdicts.
        capabilities: what the backend supports.
        batch_size: how many requests the engine hands over at once.
        chunk_size: when set and larger than ``batch_size``, the engine hands over
            this many requests at once (a backend that reuses shared prefixes across
            requests batches them itself).
        context_length: the model's context in tokens, when known.
        special_tokens: tokenizer control tokens to defuse inside judged text.
    """

    name: str
    capabilities: Capabilities
    batch_size: int = 8
    chunk_size: int | None = None
    context_length: int | None = None
    special_tokens: tuple[str, ...] = ()

    @abstractmethod
    def fingerprint(self) -> dict[str, str]:
        """Identify everything about the backend that can change its outputs.

        Returns:
            Backend kind, model id and revision; part of every cache key.
        """

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        """Score verdict labels for a batch (logprob method)."""
        raise BackendError(f"backend {self.name!r} cannot read label log-probabilities")

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation | BackendError]:
        """Generate schema-constrained replies for a batch (generate method)."""
        raise BackendError(f"backend {self.name!r} cannot generate structured output")

    async def ascore_labels(
        self, requests: Sequence[LabelRequest]
    ) -> list[LabelScores | BackendError]:
        """Async `score_labels`; by default the sync method in a worker thread."""
        return await asyncio.to_thread(self.score_labels, requests)

    async def agenerate(
        self, requests: Sequence[GenerateRequest]
    ) -> list[Generation | BackendError]:
        """Async `generate`; by default the sync method in a worker thread."""
        return await asyncio.to_thread(self.generate, requests)

    def count_tokens(self, messages: Sequence[Message]) -> int | None:
        """Prompt length in tokens after the chat template, or None when unknown."""
        return None
