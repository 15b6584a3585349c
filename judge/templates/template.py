"""Jinja templates with declared variables and a declared verdict shape.

A template file starts with a TOML header inside a Jinja comment::

    {#---
    description = "Pairwise comparison, A or B"
    verdict = "pairwise"          # "pairwise", "pointwise" or "rubric"
    labels = ["A", "B"]           # pairwise: the verdict labels offered
    variables = ["rubric", "prompt", "response_a", "response_b"]
    ---#}

Task templates put each chat message in a block (``{% block system %}``,
``{% block user %}``); a template without blocks is one user message. Rendering uses a
sandboxed environment with ``StrictUndefined``; a missing variable is an error that
names it. Rubric templates hold the criteria text and list in ``requires`` the inputs
the task must supply (``reference`` for reference-guided rubrics).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2 import meta
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from judge.errors import MissingVariableError, TemplateError, UnknownNameError, describe_validation
from judge.templates.resources import Kind, shipped_dir, shipped_names

MESSAGE_ROLES = ("system", "user")
_HEADER_START, _HEADER_END = "{#---", "---#}"


class TemplateSpec(BaseModel):
    """The header of a template: what it needs and what verdict it asks for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    verdict: Literal["pairwise", "pointwise", "rubric"]
    variables: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    scale: tuple[int, int] | None = None
    requires: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check_shape(self) -> TemplateSpec:
        if self.verdict == "pairwise" and not {"A", "B"} <= set(self.labels):
            raise ValueError("a pairwise template must offer at least the labels A and B")
        if self.verdict == "pairwise" and not set(self.labels) <= {"A", "B", "tie"}:
            raise ValueError("pairwise labels must be drawn from A, B and tie")
        if self.verdict == "pointwise" and (self.scale is None or self.scale[0] >= self.scale[1]):
            raise ValueError("a pointwise template needs scale = [low, high] with low < high")
        return self

    @property
    def score_labels(self) -> tuple[str, ...]:
        """For pointwise templates, the score labels ``"low"`` … ``"high"``."""
        assert self.scale is not None
        return tuple(str(s) for s in range(self.scale[0], self.scale[1] + 1))


def _render_block(block: Callable[[Context], Iterator[str]], context: Context) -> str:
    return "".join(block(context)).strip()


def _environment() -> jinja2.Environment:
    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False
    )


def _split_header(text: str, origin: str) -> tuple[dict[str, object], str, int]:
    """Split off the TOML header; also return how many file lines precede the body."""
    stripped = text.lstrip()
    if not stripped.startswith(_HEADER_START):
        return {}, text, 0
    end = stripped.find(_HEADER_END)
    if end < 0:
        raise TemplateError(f"{origin}: header opened with {_HEADER_START!r} is never closed")
    try:
        header = tomllib.loads(stripped[len(_HEADER_START) : end])
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{origin}: header is not valid TOML: {exc}") from exc
    rest = stripped[end + len(_HEADER_END) :]
    body = rest.lstrip("\n")
    consumed = text[: len(text) - len(body)]
    return header, body, consumed.count("\n")


@dataclass(frozen=True)
class JudgeTemplate:
    """A parsed, validated judge template.

    Build one with `from_file`, `from_string` or `shipped`; never from an ambiguous
    string that might be a path.
    """

    name: str
    spec: TemplateSpec
    source: str
    _template: jinja2.Template

    @classmethod
    def from_string(cls, text: str, *, name: str = "<string>", **spec: object) -> JudgeTemplate:
        """Parse a template from text.

        Args:
            text: the template, with or without a TOML header.
            name: how errors refer to it.
            **spec: header fields given here instead of (or overriding) the header.

        Raises:
            TemplateError: invalid header, Jinja syntax error, or undeclared variables.
        """
        header, body, offset = _split_header(text, name)
        header.update(spec)
        env = _environment()
        try:
            ast = env.parse(body)
            template = env.from_string(body)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"{name}:{exc.lineno + offset}: {exc.message}") from exc
        used = sorted(meta.find_undeclared_variables(ast))
        optional = header.get("optional")
        optional_names = set(optional) if isinstance(optional, list | tuple) else set()
        header.setdefault("variables", [v for v in used if v not in optional_names])
        try:
            parsed = TemplateSpec.model_validate(header)
        except ValidationError as exc:
            raise TemplateError(f"{name}: invalid header: {describe_validation(exc)}") from exc
        undeclared = set(used) - set(parsed.variables) - set(parsed.optional)
        if undeclared:
            raise TemplateError(
                f"{name}: uses variables it does not declare: {', '.join(sorted(undeclared))}"
            )
        return cls(name=name, spec=parsed, source=text, _template=template)

    def __reduce__(self) -> tuple[Any, ...]:
        # A compiled Jinja template does not pickle; the text and the final spec rebuild it.
        return _rebuild, (self.source, self.name, self.spec.model_dump())

    @classmethod
    def from_file(cls, path: str | Path, **spec: object) -> JudgeTemplate:
        """Parse a template file (see `from_string`).

        Raises:
            TemplateError: the file cannot be read or parsed.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(f"cannot read template file {str(path)!r}: {exc}") from exc
        return cls.from_string(text, name=str(path), **spec)

    @classmethod
    def shipped(cls, kind: Kind, name: str) -> JudgeTemplate:
        """Load one of the templates shipped in ``rubrics/`` or ``prompts/``.

        Raises:
            UnknownNameError: no such template; the message lists those available.
        """
        available = shipped_names(kind)
        if name not in available:
            raise UnknownNameError(kind.rstrip("s"), name, available)
        template = cls.from_file(shipped_dir(kind) / f"{name}.j2")
        return cls(
            name=name, spec=template.spec, source=template.source, _template=template._template
        )

    @property
    def digest(self) -> str:
        """SHA-256 of the template source, part of every cache key."""
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()

    def check_variables(self, given: Mapping[str, object]) -> None:
        """Raise `MissingVariableError` naming every declared variable not in ``given``."""
        missing = [v for v in self.spec.variables if v not in given]
        if missing:
            raise MissingVariableError(self.name, missing, sorted(given))

    def render_text(self, variables: Mapping[str, object]) -> str:
        """Render the whole template to one string (used for rubrics)."""
        self.check_variables(variables)
        return self._run(lambda: self._template.render(**variables))

    def render_messages(self, variables: Mapping[str, object]) -> list[dict[str, str]]:
        """Render a task template to chat messages, one per non-empty role block.

        Raises:
            MissingVariableError: a declared variable is missing.
            TemplateError: rendering failed (an undefined attribute, a sandbox refusal).
        """
        self.check_variables(variables)
        blocks = self._template.blocks
        if not any(role in blocks for role in MESSAGE_ROLES):
            return [{"role": "user", "content": self.render_text(variables)}]
        context = self._template.new_context(dict(variables))
        messages = []
        for role in MESSAGE_ROLES:
            if role in blocks:
                content = self._run(partial(_render_block, blocks[role], context))
                if content:
                    messages.append({"role": role, "content": content})
        return messages

    def _run(self, render: Callable[[], str]) -> str:
        try:
            return str(render())
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"{self.name}: {exc.message}") from exc
        except jinja2.exceptions.SecurityError as exc:
            raise TemplateError(f"{self.name}: refused by the template sandbox: {exc}") from exc
        except (
            jinja2.TemplateError,
            TypeError,
            ValueError,
            ArithmeticError,
            LookupError,
            AttributeError,
        ) as exc:  # an expression in the template itself failed
            raise TemplateError(f"{self.name}: rendering failed: {exc!r}") from exc


def _rebuild(source: str, name: str, spec: dict[str, object]) -> JudgeTemplate:
    """A template parsed again from its text and validated spec (for unpickling)."""
    return JudgeTemplate.from_string(source, name=name, **spec)
