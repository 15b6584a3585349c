"""Half-precision judges whose verdict logits stay in float32.

A bfloat16 body judges much faster than float32 on a CPU with AVX-512 BF16 (the 1.5B
embedded judge in 0.39x the seconds, `benchmarks/bench_dtype.py`), but bfloat16 logits
keep only 8 bits of mantissa: near 20 nats they step by 0.125, so the log-probabilities
of two verdict labels often round to the same value and the verdict ties. Projecting the
body's last hidden state through a float32 copy of the output embedding keeps the
body's speed and gives the verdict logits their full resolution; the cost is one
vocabulary-sized matrix in float32 (0.9 GB for a 1.5B model with a 152k vocabulary),
applied only to the few positions a verdict reads.
"""

from __future__ import annotations

from typing import Any

import torch

from judge.errors import BackendError

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def torch_dtype(name: str) -> torch.dtype | str:
    """The torch dtype for a ``dtype`` option (``"auto"``: the checkpoint's own).

    Raises:
        BackendError: ``name`` is not one of the choices (the message lists them).
    """
    if name == "auto":
        return name
    if name not in DTYPES:
        choices = ", ".join(["auto", *DTYPES])
        raise BackendError(f"transformers backend: unknown dtype {name!r}: choose one of {choices}")
    return DTYPES[name]


class Float32Head(torch.nn.Module):
    """An output projection that computes in float32 over a half-precision hidden state."""

    def __init__(self, head: Any) -> None:
        super().__init__()
        weight = head.weight.detach()
        self.weight = torch.nn.Parameter(weight.float().clone(), requires_grad=False)
        bias = getattr(head, "bias", None)
        self.bias = (
            None if bias is None else torch.nn.Parameter(bias.detach().float(), requires_grad=False)
        )

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """Float32 logits for ``hidden`` (any floating dtype)."""
        return torch.nn.functional.linear(hidden.float(), self.weight, self.bias)


def give_float32_head(model: Any) -> None:
    """Give a half-precision model a float32 output head, in place.

    Nothing changes for a model that already computes in float32, has no output
    embedding, or has a float32 head already. The new head holds its own float32 copy of
    the weight, so an input embedding tied to the old one keeps the body's dtype.
    """
    head = model.get_output_embeddings()
    if model.dtype == torch.float32 or head is None or isinstance(head, Float32Head):
        return
    model.set_output_embeddings(Float32Head(head))
