"""Hosted APIs through litellm: OpenAI, Anthropic, a `vllm serve` endpoint and the rest.

litellm is imported lazily, on the first request, and only ever used with per-call
settings: no litellm module global is assigned. Before the import two environment
defaults are set (only if unset): ``LITELLM_LOCAL_MODEL_COST_MAP=True``, so importing
litellm reads its bundled price list instead of downloading one, and
``LITELLM_MODE=PRODUCTION``, so it does not load a ``.env`` file from the working
directory.

Requests run concurrently (at most ``concurrency`` in flight per event loop), under
optional requests-per-minute and tokens-per-minute budgets (`judge.backends.limits`),
and are retried with exponential backoff and jitter by the shared
`judge.backends.retry` (litellm's own retries are off) on rate limits, server errors,
timeouts and connection errors, waiting ``Retry-After`` when the server sends it. This
module only classifies litellm's exceptions, by type and status code.
A provider's context-window error (litellm's ``ContextWindowExceededError``) is not
retried and ends as a ``context_overflow`` failure.

Logprob method: one completion of one token with ``top_logprobs=k``. The provider
reveals only its top-k next tokens, so a label absent from them gets log-probability
-inf; with k=20 its true probability is below the 20th token's. Token text is stripped
of surrounding whitespace and duplicates (" A", "A") are combined. When one label is a
string prefix of another ("1" and "10" on a 1-10 scale), the first token cannot tell
them apart. A vLLM server (``hosted_vllm/``) resolves this like a token trie: it is asked
for the next token after the shared prefix (vLLM's ``continue_final_message``), and
P("1") = P(first "1")·(1 − P(next "0")), P("10") = P(first "1")·P(next "0"). Other
providers cannot continue a reply, so such label sets fail with a message pointing to
``method="generate"``; and where a provider splits a label into several tokens, only
tokens that spell the whole label are counted.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import os
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from judge.backends.base import (
    Backend,
    Capabilities,
    GenerateRequest,
    Generation,
    LabelRequest,
    LabelScores,
    Message,
)
from judge.backends.limits import Limits
from judge.backends.retry import RetryPolicy, is_retryable_status, status_code, with_retries
from judge.engine.progress import finished
from judge.errors import BackendError, UserError
from judge.verdicts import Usage

T = TypeVar("T")

_CONTINUABLE_PROVIDERS = ("hosted_vllm/",)  # accept vLLM's continue_final_message
_CONTINUE = {"continue_final_message": True, "add_generation_prompt": False}
_LOGGING_FLUSH_S = 5.0


def import_litellm() -> Any:
    """The litellm module, imported on first use without network access or .env loading."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_MODE", "PRODUCTION")
    import litellm

    return litellm


class _Secret:
    """An API key that never shows up in repr(), vars() dumps or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"


def _field(obj: Any, name: str) -> Any:
    """Attribute or key ``name`` of a response object (litellm returns either)."""
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _first_choice(response: Any) -> Any:
    choices = _field(response, "choices")
    if not choices:
        raise BackendError("the response has no choices", retryable=False)
    return choices[0]


def _top_logprobs(response: Any, k: int) -> list[tuple[str, float]]:
    """(token text, logprob) of the first generated position's ``k`` top alternatives."""
    content = _field(_field(_first_choice(response), "logprobs"), "content")
    top = _field(content[0], "top_logprobs") if content else None
    if not top:
        raise BackendError(
            "the response carries no top_logprobs for its first token", retryable=False
        )
    if len(top) < k:  # fewer alternatives would silently hide more labels
        raise BackendError(
            f"asked for the top {k} alternatives, the provider returned "
            f"{len(top)}: pass top_logprobs={len(top)} to accept that",
            retryable=False,
        )
    pairs = [(_field(t, "token"), _field(t, "logprob")) for t in top]
    if any(not isinstance(tok, str) or not isinstance(lp, int | float) for tok, lp in pairs):
        raise BackendError("the response's top_logprobs are malformed", retryable=False)
    return [(tok, float(lp)) for tok, lp in pairs]


def _logsumexp(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return -math.inf
    top = max(finite)
    return top + math.log(sum(math.exp(v - top) for v in finite))


# What the provider SDKs say when no key was given; litellm wraps it as a 500
# (InternalServerError), which would otherwise be retried as if the server had failed.
_NO_KEY = ("Missing credentials", "api_key client option must be set")


def _missing_key(exc: Exception) -> bool:
    return any(phrase in str(exc) for phrase in _NO_KEY)


def _is_retryable(litellm: Any, exc: Exception) -> bool | None:
    """True to retry, False to fail now, None when ``exc`` is not an API error at all."""
    if _missing_key(exc):
        return False
    retry = (
        litellm.RateLimitError,
        litellm.Timeout,
        litellm.APIConnectionError,
        litellm.InternalServerError,
        litellm.ServiceUnavailableError,
        litellm.BadGatewayError,
    )
    final = (
        litellm.BadRequestError,
        litellm.AuthenticationError,
        litellm.PermissionDeniedError,
        litellm.NotFoundError,
        litellm.UnprocessableEntityError,
        litellm.APIResponseValidationError,
    )
    if isinstance(exc, retry):
        return True
    if isinstance(exc, final):
        return False
    if isinstance(exc, litellm.APIError | litellm.OpenAIError):
        return is_retryable_status(status_code(exc))
    return None


class LiteLLMBackend(Backend):
    """Judge with any model litellm can call: ``"openai/gpt-4o-mini"``, ``"hosted_vllm/<name>"``.

    Args:
        model: litellm model string, ``<provider>/<model>``.
        api_base: the endpoint, e.g. ``http://127.0.0.1:8000/v1`` for ``vllm serve``.
        api_key: the key; otherwise litellm reads the provider's environment variable.
            It is never stored in verdicts, the cache, logs or error messages.
        timeout: seconds per HTTP request (default 600, litellm's own: a reasoning
            model's reply, or a local CPU server with requests queued, can take
            minutes, and a timed-out request is retried, which sends its work again).
        max_retries: retries after the first attempt, for retryable errors only.
        concurrency: requests in flight at once (per event loop).
        rpm: requests-per-minute budget (None: unlimited).
        tpm: tokens-per-minute budget, prompt plus completion (None: unlimited).
        top_logprobs: how many next-token alternatives to ask for (logprob method).
        batch_size: requests the engine hands over at once; they run concurrently.
        context_length: the model's context in tokens; enables fitting with litellm's
            approximate token counts.
        logprobs: override whether the provider returns log-probabilities.
        structured: override whether the provider accepts a JSON-schema response format.
    """

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout: float = 600.0,
        max_retries: int = 4,
        concurrency: int = 8,
        rpm: int | None = None,
        tpm: int | None = None,
        top_logprobs: int = 20,
        batch_size: int = 64,
        context_length: int | None = None,
        logprobs: bool | None = None,
        structured: bool | None = None,
    ) -> None:
        if concurrency < 1 or max_retries < 0 or top_logprobs < 1 or batch_size < 1:
            raise UserError(
                "concurrency, top_logprobs and batch_size must be ≥ 1 and max_retries ≥ 0"
            )
        self.name = model
        self.api_base = api_base
        self._api_key = _Secret(api_key) if api_key else None
        self.timeout = timeout
        self.retry = RetryPolicy(max_retries=max_retries)
        self.limits = Limits(concurrency, rpm, tpm)
        self.top_logprobs = top_logprobs
        self.batch_size = batch_size
        self.context_length = context_length
        self.continuable = model.startswith(_CONTINUABLE_PROVIDERS)
        self.capabilities = self._capabilities(logprobs, structured)

    def _capabilities(self, logprobs: bool | None, structured: bool | None) -> Capabilities:
        litellm = import_litellm()
        try:
            litellm.get_llm_provider(model=self.name, api_base=self.api_base)
        except litellm.BadRequestError as exc:
            raise UserError(
                f"litellm cannot tell the provider of {self.name!r}: write "
                "'<provider>/<model>', e.g. 'openai/gpt-4o-mini' or "
                "'hosted_vllm/<served name>'"
            ) from exc
        if logprobs is None or structured is None:
            params = set(litellm.get_supported_openai_params(model=self.name) or ())
            if logprobs is None:
                logprobs = {"logprobs", "top_logprobs"} <= params
            if structured is None:
                structured = "response_format" in params
        return Capabilities(logprobs=logprobs, structured=structured)

    def __repr__(self) -> str:
        return f"LiteLLMBackend({self.name!r}, api_base={self.api_base!r})"

    def fingerprint(self) -> dict[str, str]:
        """Backend kind, model, endpoint and top-k (never the key).

        ``top_logprobs`` is part of it: a different k reveals different labels.
        """
        return {
            "backend": "litellm",
            "model": self.name,
            "revision": self.api_base or "",
            "top_logprobs": str(self.top_logprobs),
        }

    def count_tokens(self, messages: Sequence[Message]) -> int | None:
        """Approximate prompt tokens (litellm's count); None unless ``context_length`` is set.

        The count uses litellm's tokenizer for the model, or a generic one, so it is
        approximate: leave headroom in ``context_length``.
        """
        if self.context_length is None:
            return None
        return int(import_litellm().token_counter(model=self.name, messages=list(messages)))

    # Sync entry points --------------------------------------------------------

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        """Blocking `ascore_labels`."""
        return self._run_sync(lambda: self.ascore_labels(requests))

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation | BackendError]:
        """Blocking `agenerate`."""
        return self._run_sync(lambda: self.agenerate(requests))

    def _run_sync(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run a coroutine on a fresh loop; in a worker thread if a loop already runs here."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(_settled(make()))
        context = contextvars.copy_context()  # progress listeners reach the worker thread
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(context.run, lambda: asyncio.run(_settled(make()))).result()

    # Async core ---------------------------------------------------------------

    async def ascore_labels(
        self, requests: Sequence[LabelRequest]
    ) -> list[LabelScores | BackendError]:
        """Log-probability of each label as the complete reply, requests run concurrently."""
        return await self._gather([self._score(r) for r in requests])

    async def agenerate(
        self, requests: Sequence[GenerateRequest]
    ) -> list[Generation | BackendError]:
        """JSON-schema-constrained replies, requests run concurrently."""
        return await self._gather([self._generate(r) for r in requests])

    async def _gather(self, jobs: list[Awaitable[T]]) -> list[T | BackendError]:
        async def settle(job: Awaitable[T]) -> T | BackendError:
            try:
                return await job
            except BackendError as error:
                return error
            finally:
                finished(1)  # progress per request, not per chunk

        return list(await asyncio.gather(*(settle(job) for job in jobs)))

    async def _generate(self, request: GenerateRequest) -> Generation:
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": "verdict", "schema": request.schema, "strict": True},
        }
        response, usage = await self._complete(
            request.messages,
            max_tokens=request.max_new_tokens,
            temperature=request.temperature,
            response_format=response_format,
        )
        choice = _first_choice(response)
        text = _field(_field(choice, "message"), "content")
        if not isinstance(text, str):
            raise BackendError("the response has no text content", retryable=False)
        length = _field(choice, "finish_reason") == "length"
        return Generation(text=text, finish_reason="length" if length else "stop", usage=usage)

    async def _score(self, request: LabelRequest) -> LabelScores:
        labels = request.labels
        if not self.continuable and any(a != b and b.startswith(a) for a in labels for b in labels):
            raise BackendError(
                f"labels {list(labels)} include one that is a prefix of another; "
                f"{self.name!r} cannot continue a reply to tell them apart from the first "
                "token: use method='generate' (or a scale without such labels)",
                retryable=False,
            )
        found: dict[str, list[float]] = {label: [] for label in labels}
        usage = await self._descend(request.messages, labels, "", 0.0, found)
        return LabelScores({label: _logsumexp(v) for label, v in found.items()}, usage=usage)

    async def _descend(
        self,
        messages: Sequence[Message],
        labels: tuple[str, ...],
        prefix: str,
        logp: float,
        found: dict[str, list[float]],
    ) -> Usage:
        """Walk the reply trie below ``prefix``, which the reply starts with at log-mass ``logp``.

        Appends to ``found`` the log-mass of each label completed at or below ``prefix``
        and returns the usage of every request made. A label that is also a prefix of
        others completes here with the mass of every next token that does not extend
        it into a label.
        """
        complete, deeper, usage = await self._next_tokens(messages, labels, prefix)
        if prefix in found:
            taken = math.exp(
                _logsumexp(
                    [lp for group in (complete, deeper) for lps in group.values() for lp in lps]
                )
            )
            found[prefix].append(logp + (math.log1p(-taken) if taken < 1.0 else -math.inf))
        for reply, lps in complete.items():
            found[reply].append(logp + _logsumexp(lps))
        if self.continuable:  # elsewhere only tokens spelling a whole label count
            for reply, lps in deeper.items():
                usage += await self._descend(messages, labels, reply, logp + _logsumexp(lps), found)
        return usage

    async def _next_tokens(
        self, messages: Sequence[Message], labels: tuple[str, ...], prefix: str
    ) -> tuple[dict[str, list[float]], dict[str, list[float]], Usage]:
        """Top next tokens after the reply ``prefix``, grouped by the reply they make.

        Returns the log-probabilities of tokens that complete a label and of tokens
        that lead into a longer label, each keyed by the reply so far, and the usage.
        """
        extra: dict[str, Any] = {}
        if prefix:
            messages = [*messages, {"role": "assistant", "content": prefix}]
            extra["extra_body"] = dict(_CONTINUE)
        response, usage = await self._complete(
            messages,
            max_tokens=1,
            temperature=0,
            logprobs=True,
            top_logprobs=self.top_logprobs,
            **extra,
        )
        complete: dict[str, list[float]] = {}
        deeper: dict[str, list[float]] = {}
        for text, lp in _top_logprobs(response, self.top_logprobs):
            # At the start a leading space belongs to the token (" A"); later it would
            # begin a new word. Trailing whitespace ends the reply.
            core = text.rstrip() if prefix else text.strip()
            if not core:
                continue  # later: the reply stops here; at the start: not followed
            reply, ended = prefix + core, core != (text if prefix else text.lstrip())
            longer = any(label != reply and label.startswith(reply) for label in labels)
            if reply in labels and (ended or not longer):
                complete.setdefault(reply, []).append(lp)
            elif longer and not ended:
                deeper.setdefault(reply, []).append(lp)
        return complete, deeper, usage

    async def _complete(self, messages: Sequence[Message], **params: Any) -> tuple[Any, Usage]:
        """One chat completion with retries; returns the response and what it spent."""
        litellm = import_litellm()
        kwargs = {
            "model": self.name,
            "messages": [dict(m) for m in messages],
            "api_base": self.api_base,
            "timeout": self.timeout,
            "num_retries": 0,
            **params,
        }
        if self._api_key is not None:
            kwargs["api_key"] = self._api_key.reveal()
        tokens = self._estimate(litellm, messages, params.get("max_tokens") or 0)
        async with self.limits.slot():
            response = await self._with_retries(litellm, kwargs, tokens)
        return response, self._usage(litellm, response)

    async def _with_retries(self, litellm: Any, kwargs: dict[str, Any], tokens: int) -> Any:
        return await with_retries(
            lambda: litellm.acompletion(**kwargs),
            self.retry,
            classify=lambda exc: _is_retryable(litellm, exc),
            fail=self._error,
            before=lambda: self.limits.throttle(tokens),
        )

    def _error(
        self, exc: Exception, retryable: bool, attempts: int, note: str = ""
    ) -> BackendError:
        status = status_code(exc)
        detail = str(exc).strip()
        if self._api_key is not None:
            detail = detail.replace(self._api_key.reveal(), "***")
        code = f" (HTTP {status})" if status else ""
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if _missing_key(exc):
            note += (
                "; pass the key as the api_key option (CLI: -o api_key=...) or set the "
                f"provider's variable, e.g. {self.name.split('/')[0].upper()}_API_KEY"
            )
        # litellm maps each provider's "prompt too long" answer to this one type.
        overflow = isinstance(exc, import_litellm().ContextWindowExceededError)
        return BackendError(
            f"{self.name}: {type(exc).__name__}{code}{tries}: {detail}{note}",
            retryable=retryable,
            reason="context_overflow" if overflow else "backend_error",
        )

    def _estimate(self, litellm: Any, messages: Sequence[Message], max_tokens: int) -> int:
        """Prompt plus completion tokens, for the tokens-per-minute budget."""
        if self.limits.tpm is None:
            return 0
        try:
            prompt = int(litellm.token_counter(model=self.name, messages=list(messages)))
        except Exception:  # an estimate only: fall back to ~4 characters per token
            prompt = sum(len(m["content"]) for m in messages) // 4
        return prompt + max_tokens

    def _usage(self, litellm: Any, response: Any) -> Usage:
        usage = _field(response, "usage")
        # A local server answers with its served name ("my-judge"), which litellm's
        # price lookup cannot place: it printed a red "Provider List" line to stdout on
        # every call before raising. The lookup is synchronous, so muting litellm's
        # debug prints around it touches nothing else on the event loop.
        shown = litellm.suppress_debug_info
        litellm.suppress_debug_info = True
        try:
            cost: float | None = float(litellm.completion_cost(completion_response=response))
        except Exception:  # litellm raises for models whose price it does not know
            cost = None
        finally:
            litellm.suppress_debug_info = shown
        return Usage(
            prompt_tokens=int(_field(usage, "prompt_tokens") or 0),
            completion_tokens=int(_field(usage, "completion_tokens") or 0),
            cost_usd=cost,
        )


async def _settled(job: Awaitable[T]) -> T:
    """Await ``job``, then let litellm's background logging finish before the loop closes.

    litellm queues a logging task per call; one left behind when `asyncio.run` closes
    the loop is carried to the next loop with a warning. Draining it here keeps the
    sync entry points quiet.
    """
    try:
        return await job
    finally:
        try:
            from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

            await asyncio.wait_for(GLOBAL_LOGGING_WORKER.flush(), _LOGGING_FLUSH_S)
        except (ImportError, AttributeError, TimeoutError):
            pass  # an internal of litellm; without it the only cost is that warning
