"""The exception hierarchy: one root, user mistakes kept apart from backend failures.

A `UserError` is something the caller can fix (an unknown rubric, a missing template
variable, a malformed input line); its message says what, where and how. A
`BackendError` is the engine failing to get an answer; it says whether retrying may help
and carries the original exception as ``__cause__``.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pydantic import ValidationError


class JudgeError(Exception):
    """Root of every error raised by `judge`."""


class UserError(JudgeError):
    """A mistake the caller can fix: bad arguments, unknown names, malformed input."""


class TemplateError(UserError):
    """A template could not be found, parsed or rendered."""


class MissingVariableError(TemplateError):
    """A template was rendered without a variable it declares."""

    def __init__(self, template: str, missing: list[str], given: list[str]) -> None:
        self.template = template
        self.missing = missing
        names = ", ".join(repr(m) for m in missing)
        have = ", ".join(repr(g) for g in given) or "none"
        super().__init__(
            f"template {template!r} needs {names} but was not given it (variables given: {have})"
        )


class UnknownNameError(UserError):
    """A rubric, template or backend name that does not exist."""

    def __init__(self, kind: str, name: str, available: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.available = available
        listing = ", ".join(available) or "(none)"
        close = difflib.get_close_matches(name, available, n=1, cutoff=0.7)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        super().__init__(f"unknown {kind} {name!r}{hint}; available: {listing}")


def describe_validation(exc: ValidationError, fields: list[str] | None = None) -> str:
    """Pydantic's errors as one line each naming the field, the problem and the bad value.

    Args:
        exc: the validation error.
        fields: the valid field names, listed after an unknown one.
    """
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "value"
        if error["type"] == "extra_forbidden" and fields:
            parts.append(f"unknown setting {where!r}; valid settings: {', '.join(fields)}")
        else:
            parts.append(f"{where}: {error['msg']}, got {error.get('input')!r}")
    return "; ".join(parts)


class InputError(UserError):
    """Malformed input data; the message names the file and line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(f"{where}{message}")


class MissingDependencyError(UserError):
    """An optional package is not installed; the message names the command to install it."""

    def __init__(self, package: str, install: str, purpose: str) -> None:
        self.package = package
        self.install = install
        super().__init__(f"{purpose} needs the package {package!r}: run `{install}`")


BackendErrorReason = Literal["backend_error", "context_overflow"]


class BackendError(JudgeError):
    """The backend could not produce an answer.

    Attributes:
        retryable: whether the same request may succeed if tried again.
        reason: the `judge.FailureReason` value a judgment that met this error gets:
            ``"context_overflow"`` when the engine or provider refused the prompt as
            longer than the model's context, else ``"backend_error"``.
    """

    def __init__(
        self, message: str, *, retryable: bool = False, reason: BackendErrorReason = "backend_error"
    ) -> None:
        self.retryable = retryable
        self.reason: BackendErrorReason = reason
        super().__init__(message)
