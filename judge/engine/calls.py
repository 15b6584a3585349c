"""One backend call (one prompt, one order) and how its output is read.

A `Call` carries the backend request and its cache key. `read` turns the backend's
payload (fresh or cached) into a `Reading` — probabilities over the labels as shown —
or a `CallFailure` with a typed reason. No regex scraping: logprob payloads are label
probabilities; generate payloads are validated against the verdict schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from judge.backends.base import (
    GenerateRequest,
    Generation,
    LabelRequest,
    LabelScores,
    Message,
)
from judge.backends.labels import renormalize
from judge.engine.thinking import strip_thinking
from judge.errors import BackendError, describe_validation
from judge.verdicts import FailureReason, Method, Usage


@dataclass(frozen=True)
class Call:
    """A request to the backend, with the schema to validate generated output against."""

    key: str
    method: Method
    request: LabelRequest | GenerateRequest
    labels: tuple[str, ...]
    schema: type[BaseModel] | None = None

    @property
    def messages(self) -> tuple[Message, ...]:
        """The rendered chat messages."""
        return self.request.messages


@dataclass(frozen=True)
class Reading:
    """The verdict read from one call: probabilities over the labels as shown.

    ``logprobs`` keeps a logprob call's label log-probabilities as the backend gave
    them, before renormalizing (`judge.protocols.pmi` reads a whole reply's).
    """

    probs: dict[str, float]
    rationale: str | None = None
    raw_output: str | None = None
    cached: bool = False
    usage: Usage | None = None
    logprobs: dict[str, float] | None = None


@dataclass(frozen=True)
class CallFailure:
    """Why one call produced no reading."""

    reason: FailureReason
    message: str
    retryable: bool = False
    raw_output: str | None = None
    usage: Usage | None = None


def payload_of(result: LabelScores | Generation) -> dict[str, Any]:
    """The JSON-serializable part of a backend result that the cache keeps."""
    if isinstance(result, LabelScores):
        return {"logprobs": result.logprobs}
    return {"text": result.text, "finish_reason": result.finish_reason}


def read(
    call: Call, payload: Mapping[str, Any], *, cached: bool = False, usage: Usage | None = None
) -> Reading | CallFailure:
    """Turn a backend payload into a reading, or a typed failure.

    Args:
        call: the call the payload answers.
        payload: the backend's output (fresh, or from the cache).
        cached: whether the payload came from the cache.
        usage: what the fresh backend call spent.
    """
    if call.method == "logprob":
        probs = renormalize(payload["logprobs"])
        if probs is None:
            return CallFailure(
                FailureReason.NO_LABEL_MASS,
                f"the model gave no probability to any of {list(call.labels)}",
                usage=usage,
            )
        return Reading(probs, cached=cached, usage=usage, logprobs=dict(payload["logprobs"]))
    return _read_generation(call, payload["text"], payload["finish_reason"], cached, usage)


def _read_generation(
    call: Call, text: str, finish: str, cached: bool, usage: Usage | None
) -> Reading | CallFailure:
    assert call.schema is not None
    fields = call.schema.model_fields
    field = next((f for f in ("winner", "score") if f in fields), "answer")
    reply = strip_thinking(text)  # a thinking model's reasoning is not parsed (it is counted)
    truncated = CallFailure(
        FailureReason.TRUNCATED_OUTPUT,
        "generation hit max_new_tokens before the verdict closed",
        raw_output=text,
        usage=usage,
    )
    if reply.unclosed:
        return truncated
    try:
        parsed = call.schema.model_validate_json(reply.visible)
    except ValidationError as exc:
        if finish == "length":
            return truncated
        off_menu = any(e["loc"] == (field,) and e["type"] == "literal_error" for e in exc.errors())
        reason = FailureReason.OFF_MENU_LABEL if off_menu else FailureReason.PARSE_FAILURE
        message = f"output does not match the verdict schema: {describe_validation(exc)}"
        return CallFailure(reason, message, raw_output=text, usage=usage)
    if field == "answer":  # a free-text answer (`judge.protocols.commit`), no verdict
        return Reading(
            {},
            rationale=str(getattr(parsed, "answer")),  # noqa: B009
            raw_output=text,
            cached=cached,
            usage=usage,
        )
    choice = str(getattr(parsed, field))
    return Reading(
        {label: float(label == choice) for label in call.labels},
        rationale=getattr(parsed, "rationale", None),
        raw_output=text,
        cached=cached,
        usage=usage,
    )


def failure_from_error(error: BackendError) -> CallFailure:
    """A backend error as a call failure, keeping its reason and whether it is retryable."""
    return CallFailure(FailureReason(error.reason), str(error), retryable=error.retryable)
