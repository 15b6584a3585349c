"""One judge backend over several OpenAI-compatible engines, through litellm's Router.

`RoutedBackend` is the litellm backend (same retries, budgets, logprob reading) whose
completions go through a ``litellm.Router`` built for this instance: one deployment per
endpoint, all serving the same model, chosen per request by the Router's strategy
(``simple-shuffle`` by default). Router retries and cooldowns are off, so a failure is
retried (and classified) once, by the litellm backend. No litellm global is assigned.

The reward server holds each prompt's group whole and fits it in one place; only its
judge requests are spread over the engines (`route_judge`, through `Judge.with_backend`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from judge.backends.litellm import LiteLLMBackend, import_litellm
from judge.errors import UserError
from judge.judge import Judge

_GROUP = "judge"  # the Router's name for the set of deployments


class _Routed:
    """The litellm module, except that ``acompletion`` goes through ``router``."""

    def __init__(self, litellm: Any, router: Any) -> None:
        self._litellm = litellm
        self._router = router

    def __getattr__(self, name: str) -> Any:
        return getattr(self._litellm, name)

    async def acompletion(self, **kwargs: Any) -> Any:
        # The deployment supplies the endpoint; a None here would override it.
        kwargs.pop("api_base", None)
        return await self._router.acompletion(**{**kwargs, "model": _GROUP})


class RoutedBackend(LiteLLMBackend):
    """`LiteLLMBackend` fanned out over ``api_bases`` by a per-instance litellm Router.

    Args:
        model: the litellm model string every endpoint serves, e.g. ``"hosted_vllm/smollm"``.
        api_bases: the endpoints, e.g. ``["http://10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1"]``.
        routing_strategy: a litellm Router strategy (``"simple-shuffle"``, ``"least-busy"``, …).
        **options: as `LiteLLMBackend` (``api_key``, ``timeout``, ``concurrency``, …).

    Raises:
        UserError: no endpoint, or an ``api_base`` option besides ``api_bases``.
    """

    def __init__(
        self,
        model: str,
        api_bases: Sequence[str],
        *,
        routing_strategy: str = "simple-shuffle",
        **options: Any,
    ) -> None:
        if not api_bases or isinstance(api_bases, str):
            raise UserError("RoutedBackend needs a list of endpoints (api_bases)")
        if options.get("api_base"):
            raise UserError("give every endpoint in api_bases, not api_base")
        options.pop("api_base", None)
        super().__init__(model, **options)
        self.api_bases = tuple(api_bases)
        self.routing_strategy = routing_strategy
        self._router: Any = None

    def __repr__(self) -> str:
        return f"RoutedBackend({self.name!r}, api_bases={list(self.api_bases)!r})"

    def fingerprint(self) -> dict[str, str]:
        """As `LiteLLMBackend`, with every endpoint (they serve one model)."""
        return {**super().fingerprint(), "revision": ",".join(sorted(self.api_bases))}

    def router(self) -> Any:
        """This instance's ``litellm.Router`` (built on first use)."""
        if self._router is None:
            key = self._api_key.reveal() if self._api_key is not None else None
            deployments = [
                {
                    "model_name": _GROUP,
                    "litellm_params": {
                        "model": self.name,
                        "api_base": base,
                        **({"api_key": key} if key else {}),
                    },
                }
                for base in self.api_bases
            ]
            self._router = import_litellm().Router(
                model_list=deployments,
                routing_strategy=self.routing_strategy,
                num_retries=0,
                disable_cooldowns=True,
            )
        return self._router

    async def _with_retries(self, litellm: Any, kwargs: dict[str, Any], tokens: int) -> Any:
        return await super()._with_retries(_Routed(litellm, self.router()), kwargs, tokens)


def route_judge(judge: Judge, model: str, api_bases: Sequence[str], **options: Any) -> Judge:
    """``judge`` judging through a `RoutedBackend` over ``api_bases`` (`Judge.with_backend`).

    Args:
        judge: the judge whose rubric, templates, cache and settings to keep.
        model: the litellm model string every endpoint serves.
        api_bases: the endpoints.
        **options: `LiteLLMBackend` options (the CLI's ``-o KEY=VALUE``).

    Returns:
        A new judge; ``judge`` itself is unchanged.

    Raises:
        UserError: ``model`` is not a litellm model string.
    """
    if "/" not in model or model.startswith(("transformers/", "vllm/", "embedded")):
        raise UserError(
            f"--engine needs --model <provider>/<name> as litellm writes it "
            f"(e.g. hosted_vllm/<served name>), got {model!r}"
        )
    if model.startswith("litellm/"):
        model = model.removeprefix("litellm/")
    return judge.with_backend(RoutedBackend(model, api_bases, **options))
