"""The transformers backend: the embedded CPU default, and any Hugging Face model.

Logprob method: one batched forward pass per prompt (more only for labels that share
token prefixes), reading just the last few positions' logits. A prefix that several
prompts share (system, rubric and user prompt, for every order and pair of a group)
runs once; its key/value cache is reused for each suffix (`judge.backends.prefix`).
The head that every prompt of a call shares (chat template, system prompt, the
template's instructions) runs once too, and every other prefix and row starts from it.
Generate method: Outlines constrains generation to the verdict's JSON schema.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from judge.backends.prefix import PrefixGroup, common_prefix, group_by_prefix, length_buckets
from judge.engine.progress import finished
from judge.errors import BackendError
from judge.verdicts import Usage

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

_Row = tuple[int, Prefix, list[int]]  # (request index, probe, token ids)
_Prefix = tuple[int, list[tuple["torch.Tensor", "torch.Tensor"]]]  # (tokens, per-layer K, V)
MIN_HEAD = 16  # tokens: a shorter common head is not worth its own forward pass
LOGIT_BUDGET = 2**28  # logits held by one pass (1 GiB in float32)


@contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    """Seed torch's sampling for one batch, restoring the caller's RNG state after."""
    if seed is None:
        yield
        return
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        yield


class TransformersBackend(Backend):
    """Judge with a transformers causal LM held in this process.

    Build it with `from_pretrained` (a directory or hub id), `embedded` (the default
    SmolLM2 model), or hand in a model and tokenizer you loaded yourself.

    Args:
        batch_size: rows per forward pass among rows that share no prefix (default 1 on
            a CPU, 8 on an accelerator).
        shared_batch_size: suffixes per forward pass after a reused prefix (default: the
            larger of ``batch_size`` and 16 on a CPU, ``batch_size`` on an accelerator).
        generate_batch_size: prompts generated together (default: the larger of
            ``batch_size`` and 8).
        context_length: the model's context (default: its ``max_position_embeddings``).
        prefix_reuse: compute a prefix shared by several requests once and reuse its
            key/value cache (same results to float tolerance, fewer tokens computed).
        min_share: the least fraction of a row its shared prefix must cover to be reused.
        head_reuse: with ``prefix_reuse``, also compute once the head every request of a
            call shares (chat template, system prompt, the template's instructions),
            however short a part of each row it is, and start every other prefix and
            row from it.
        slack: the padding a batch may carry, as a fraction of its longest row.
        float32_head: when the model computes in half precision (bfloat16, float16),
            project its last hidden state through a float32 copy of the output
            embedding, so verdict log-probabilities do not tie under rounding
            (`judge.backends.precision`).
    """

    capabilities = Capabilities(logprobs=True, structured=True, reply_logprobs=True)

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        name: str,
        revision: str = "",
        batch_size: int | None = None,
        shared_batch_size: int | None = None,
        generate_batch_size: int | None = None,
        context_length: int | None = None,
        prefix_reuse: bool = True,
        min_share: float = 0.5,
        head_reuse: bool = True,
        slack: float = 0.1,
        float32_head: bool = True,
    ) -> None:
        self.model = model.eval()  # type: ignore[no-untyped-call]
        from judge.backends.precision import Float32Head, give_float32_head

        if float32_head:
            give_float32_head(model)
        head = model.get_output_embeddings()  # type: ignore[no-untyped-call]
        self.float32_head = isinstance(head, Float32Head)
        """Whether the output head computes in float32 over a half-precision body."""
        self.tokenizer = tokenizer
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"
        self.name = name
        self.revision = revision
        # Measured on a 2-core CPU (benchmarks/RESULTS.md, "Groupwise schedules"): whole
        # prompts batch no faster than one at a time there (padding, and a long row is
        # already a wide matrix), but the short suffixes after a shared prefix do, since
        # each pass carries a fixed cost; GPUs batch both well.
        cpu = model.device.type == "cpu"
        self.batch_size = batch_size or (1 if cpu else 8)
        self.shared_batch_size = shared_batch_size or (
            max(self.batch_size, 16) if cpu else self.batch_size
        )
        # Decoding is one token per pass, so batching pays even on a CPU (measured there:
        # 8 prompts together took 0.69-0.72x the seconds of one at a time).
        self.generate_batch_size = generate_batch_size or max(self.batch_size, 8)
        # Requests per engine chunk: enough to hold every order of a few GRPO groups,
        # so their shared prefixes are computed once (`score_labels`).
        self.chunk_size = max(self.batch_size, self.shared_batch_size, self.generate_batch_size, 64)
        self.context_length = context_length or getattr(
            model.config, "max_position_embeddings", None
        )
        self.special_tokens = tuple(tokenizer.all_special_tokens)
        self.prefix_reuse = prefix_reuse
        self.min_share = min_share
        self.head_reuse = head_reuse
        self.slack = slack
        self.forward_passes = 0
        """Forward passes run so far (shared prefixes included)."""
        self.computed_tokens = 0
        """Token positions run through the model so far, padding included."""
        self._trie = LabelTries(tokenizer)
        self._outlines: Any = None
        self._generators: dict[str, Any] = {}

    @classmethod
    def from_pretrained(
        cls, model_id: str | Path, *, revision: str = "", dtype: str = "auto", **options: Any
    ) -> TransformersBackend:
        """Load a model directory or hub id with `AutoModelForCausalLM`.

        Args:
            model_id: a local directory or a Hugging Face model id.
            revision: the hub revision; recorded in the cache key.
            dtype: ``"auto"`` (the checkpoint's own; the embedded judges are float32),
                ``"float32"``, ``"bfloat16"`` or ``"float16"``. A half-precision body
                keeps a float32 output head unless ``float32_head=False``.
            **options: `batch_size`, `shared_batch_size`, `generate_batch_size`,
                `context_length`, `prefix_reuse`, `min_share`, `head_reuse`, `slack` and
                `float32_head` for the backend (see the class).
        """
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from judge.backends.precision import torch_dtype

        kwargs: dict[str, Any] = {"revision": revision} if revision else {}
        loading = {**kwargs, "dtype": torch_dtype(dtype)}
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(model_id), **kwargs)
            model = AutoModelForCausalLM.from_pretrained(str(model_id), **loading)
        except OSError as exc:
            raise BackendError(f"cannot load transformers model {str(model_id)!r}: {exc}") from exc
        local = Path(model_id)
        if not revision and local.is_dir():
            revision = directory_revision(local)
        return cls(model, tokenizer, name=f"transformers/{model_id}", revision=revision, **options)

    @classmethod
    def embedded(cls, key: str | None = None, **options: Any) -> TransformersBackend:
        """An embedded judge, converted once into the cache (default: SmolLM2-135M-Instruct).

        Args:
            key: an `judge.backends.embedded.MODELS` name, e.g. ``"qwen2.5-coder-0.5b"``.
            **options: as for `from_pretrained`.
        """
        from judge.backends import embedded
        from judge.backends.precision import torch_dtype

        info = embedded.model_info(key)
        torch_dtype(options.get("dtype", "auto"))  # a wrong dtype fails before converting
        backend = cls.from_pretrained(embedded.ensure_converted(key), **options)
        backend.name = f"transformers/{info.model_id}"
        backend.revision = info.revision
        return backend

    def fingerprint(self) -> dict[str, str]:
        """Backend kind, model name, revision and dtype (which change the numbers)."""
        stamp = {
            "backend": "transformers",
            "model": self.name,
            "revision": self.revision,
            "dtype": str(self.model.dtype),
        }
        if self.float32_head:
            stamp["head"] = "float32"
        return stamp

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Prompt length in tokens after the chat template."""
        return len(self._encode(messages))

    def _encode(self, messages: Sequence[Message]) -> list[int]:
        return encode_chat(self.tokenizer, messages)

    def score_labels(self, requests: Sequence[LabelRequest]) -> list[LabelScores | BackendError]:
        """Log-probability of each complete label, batched and left-padded.

        Rows that share a long token prefix (the orders and pairs of one prompt) run
        that prefix once and reuse its key/value cache for every suffix; batches are
        cut by length so they carry little padding.
        """
        tries = [self._trie(r.labels) for r in requests]
        prompts = [self._encode(r.messages) for r in requests]
        rows = [
            (i, probe, prompts[i] + list(probe))
            for i, trie in enumerate(tries)
            for probe in trie.probes()
        ]
        keep = max(len(probe) for _, probe, _ in rows) + 1
        measured: list[dict[tuple[Prefix, int], float]] = [{} for _ in requests]
        failed: dict[int, BackendError] = {}

        def result(i: int) -> LabelScores | BackendError:
            if i in failed:
                return failed[i]
            return LabelScores(
                tries[i].combine(measured[i]), usage=Usage(prompt_tokens=len(prompts[i]))
            )

        settle = _settler(rows, result)
        ids = [ids for _, _, ids in rows]
        head = self._head(ids, keep)
        for group in self._groups(ids, keep):
            members = [rows[k] for k in group.rows]
            try:
                self._measure_group(members, group.prefix_len, tries, measured, settle, head)
            except (RuntimeError, ValueError) as exc:  # e.g. out of memory
                error = BackendError(f"forward pass failed: {exc}", retryable=False)
                error.__cause__ = exc
                failed.update({i: error for i, _, _ in members})
        return [result(i) for i in range(len(requests))]

    def _groups(self, rows: list[list[int]], keep: int) -> list[PrefixGroup]:
        """Rows sharing a prefix, and one group of every other row (batched together)."""
        if not self.prefix_reuse:
            return [PrefixGroup(tuple(range(len(rows))), 0)]
        groups = group_by_prefix(rows, keep=keep, min_share=self.min_share)
        shared = [g for g in groups if g.prefix_len]
        alone = tuple(r for g in groups if not g.prefix_len for r in g.rows)
        return shared + ([PrefixGroup(alone, 0)] if alone else [])

    def _head(self, rows: list[list[int]], keep: int) -> _Prefix | None:
        """The key/value cache of the head every row shares, when it is worth a pass."""
        if not (self.prefix_reuse and self.head_reuse) or len(rows) < 2:
            return None
        length = min(len(r) for r in rows) - keep
        for row in rows[1:]:
            length = min(length, common_prefix(rows[0], row))
        return self._prefix_cache(rows[0][:length]) if length >= MIN_HEAD else None

    def _measure_group(
        self,
        members: list[_Row],
        prefix_len: int,
        tries: list[LabelTrie],
        measured: list[dict[tuple[Prefix, int], float]],
        settle: Callable[[list[_Row]], None],
        head: _Prefix | None = None,
    ) -> None:
        prefix: _Prefix | None = head
        size = self.batch_size
        if prefix_len:
            prefix = self._prefix_cache(members[0][2][:prefix_len], head)
            size = self.shared_batch_size
        # A long label (a whole reply) keeps a vocabulary of logits per token: fewer
        # rows a pass keep them under LOGIT_BUDGET. Verdict labels never hit it.
        keep = max(len(probe) for _, probe, _ in members) + 1
        size = min(size, max(1, LOGIT_BUDGET // (keep * self.model.config.vocab_size)))
        shared = prefix[0] if prefix else 0
        lengths = [len(ids) - shared for _, _, ids in members]
        for bucket in length_buckets(lengths, size, slack=self.slack):
            chunk = [members[k] for k in bucket]
            self._measure(chunk, tries, measured, prefix)
            settle(chunk)

    def _prefix_cache(self, ids: list[int], base: _Prefix | None = None) -> _Prefix:
        """Key/value tensors of one shared prefix (batch 1), per layer.

        With ``base`` (a prefix of ``ids`` already computed), only the tokens after it
        run through the model.
        """
        import torch

        start = base[0] if base else 0
        if base and start >= len(ids):
            return base
        options: dict[str, Any] = {}
        if base:
            options = {
                "past_key_values": self._expand(base, 1),
                "position_ids": torch.arange(start, len(ids)).unsqueeze(0),
            }
        with torch.inference_mode():
            out = self.model(
                input_ids=torch.tensor([ids[start:]]), use_cache=True, logits_to_keep=1, **options
            )
        self.forward_passes += 1
        self.computed_tokens += len(ids) - start
        cache = out.past_key_values
        return len(ids), [(layer.keys, layer.values) for layer in cache.layers]

    def _measure(
        self,
        chunk: list[_Row],
        tries: list[LabelTrie],
        measured: list[dict[tuple[Prefix, int], float]],
        prefix: _Prefix | None = None,
    ) -> None:
        import torch

        keep = max(len(probe) for _, probe, _ in chunk) + 1
        logprobs = self._last_logprobs([ids for _, _, ids in chunk], keep, prefix)
        for row, (i, probe, _) in enumerate(chunk):
            for start, tokens in tries[i].needed().items():
                if probe[: len(start)] != start:
                    continue
                position = keep - 1 - len(probe) + len(start)
                values = logprobs[row, position, torch.tensor(sorted(tokens))]
                measured[i].update(
                    {(start, t): float(v) for t, v in zip(sorted(tokens), values, strict=True)}
                )

    def _last_logprobs(
        self, rows: list[list[int]], keep: int, prefix: _Prefix | None = None
    ) -> torch.Tensor:
        import torch

        shared = prefix[0] if prefix else 0
        suffixes = [r[shared:] for r in rows]
        width = max(len(r) for r in suffixes)
        pad = self.tokenizer.pad_token_id
        ids = torch.tensor([[pad] * (width - len(r)) + r for r in suffixes])
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in suffixes])
        # Left padding shifts positions; pass them explicitly so a padded row scores
        # exactly as it would alone. With a reused prefix the padding sits between the
        # prefix and each suffix, masked out, and positions continue after the prefix.
        positions = (mask.cumsum(-1) - 1).clamp(min=0) + shared
        options: dict[str, Any] = {"use_cache": False}
        if prefix:
            mask = torch.cat([torch.ones(len(rows), shared, dtype=mask.dtype), mask], dim=1)
            options = {"use_cache": True, "past_key_values": self._expand(prefix, len(rows))}
        with torch.inference_mode():
            out = self.model(
                input_ids=ids,
                attention_mask=mask,
                position_ids=positions,
                logits_to_keep=keep,
                **options,
            )
            logits: torch.Tensor = out.logits[:, -keep:, :].float()
            logits -= logits.logsumexp(dim=-1, keepdim=True)  # log-softmax in place
        self.forward_passes += 1
        self.computed_tokens += ids.numel()
        return logits

    def _expand(self, prefix: _Prefix, batch: int) -> Any:
        """A fresh cache holding the prefix once per row (the forward pass extends it)."""
        from transformers import DynamicCache

        layers = [
            (k.expand(batch, -1, -1, -1).contiguous(), v.expand(batch, -1, -1, -1).contiguous())
            for k, v in prefix[1]
        ]
        return DynamicCache(layers, config=self.model.config)

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation | BackendError]:
        """Schema-constrained generation through Outlines, greedy unless temperature > 0."""
        order = sorted(
            range(len(requests)),  # similar lengths together: less padding
            key=lambda i: sum(len(m["content"]) for m in requests[i].messages),
        )
        results: dict[int, Generation | BackendError] = {}
        for start in range(0, len(order), self.generate_batch_size):
            indices = order[start : start + self.generate_batch_size]
            chunk = [requests[i] for i in indices]
            try:
                results.update(zip(indices, self._generate_chunk(chunk), strict=True))
            except (RuntimeError, ValueError) as exc:
                error = BackendError(f"generation failed: {exc}", retryable=False)
                error.__cause__ = exc
                results.update({i: error for i in indices})
            finished(len(indices), {i: results[i] for i in indices})
        return [results[i] for i in range(len(requests))]

    def _generate_chunk(self, chunk: Sequence[GenerateRequest]) -> list[Generation]:
        from outlines.inputs import Chat

        first = chunk[0]
        if any(
            (r.schema, r.max_new_tokens, r.temperature, r.seed)
            != (first.schema, first.max_new_tokens, first.temperature, first.seed)
            for r in chunk
        ):
            return [g for r in chunk for g in self._generate_chunk([r])]
        sampling: dict[str, Any] = {"do_sample": False}
        if first.temperature > 0:
            sampling = {"do_sample": True, "temperature": first.temperature}
        with _seeded(first.seed):
            texts = self._generator(first.schema).batch(
                [Chat(list(r.messages)) for r in chunk],
                max_new_tokens=first.max_new_tokens,
                **sampling,
            )
        return [self._finish(text, r) for text, r in zip(texts, chunk, strict=True)]

    def _finish(self, text: str, request: GenerateRequest) -> Generation:
        used = len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        return Generation(
            text=text,
            finish_reason="length" if used >= request.max_new_tokens else "stop",
            usage=Usage(prompt_tokens=len(self._encode(request.messages)), completion_tokens=used),
        )

    def _generator(self, schema: dict[str, Any]) -> Any:
        import outlines
        from outlines.types import JsonSchema

        key = json.dumps(schema, sort_keys=True)
        if key not in self._generators:
            if self._outlines is None:
                self._outlines = outlines.from_transformers(self.model, self.tokenizer)  # type: ignore[arg-type]
            self._generators[key] = outlines.Generator(self._outlines, JsonSchema(key))
        return self._generators[key]


def _settler(
    rows: list[_Row], result: Callable[[int], LabelScores | BackendError]
) -> Callable[[list[_Row]], None]:
    """Report a request, with its result, once every one of its rows has been measured."""
    left = Counter(i for i, _, _ in rows)

    def settle(done: list[_Row]) -> None:
        complete = []
        for i, _, _ in done:
            left[i] -= 1
            if left[i] == 0:
                complete.append(i)
        finished(len(complete), {i: result(i) for i in complete})

    return settle
