"""Fitting judged text into the model's context: fail, or truncate and record it.

``on_overflow="fail"`` turns an over-long prompt into a typed `context_overflow`
failure. ``"truncate"`` shortens the longest judged texts first (never the rubric or
instructions), keeping each one's head and tail around a visible marker, and records
every cut in the verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

from judge.verdicts import Truncation

OnOverflow = Literal["fail", "truncate"]
_MARKER = "\n[… {n} characters truncated …]\n"
_ROUNDS = 10


def shorten(text: str, keep: int) -> str:
    """Keep about ``keep`` characters of ``text``: its head and tail around a marker."""
    if len(text) <= keep:
        return text
    head = max(keep // 2, 0)
    tail = max(keep - head, 0)
    return text[:head] + _MARKER.format(n=len(text) - keep) + (text[-tail:] if tail else "")


def _caps(lengths: Mapping[str, int], cut: int) -> dict[str, int]:
    """Water-filling: the lowest common cap that removes at least ``cut`` characters."""
    low, high = 0, max(lengths.values(), default=0)
    while low < high:
        mid = (low + high + 1) // 2
        removed = sum(max(0, n - mid) for n in lengths.values())
        low, high = (mid, high) if removed >= cut else (low, mid - 1)
    return {k: min(n, low) for k, n in lengths.items()}


def fit(
    judged: Mapping[str, str],
    measure: Callable[[Mapping[str, str]], int],
    budget: int,
    policy: OnOverflow,
) -> tuple[dict[str, str], tuple[Truncation, ...]] | str:
    """Return judged texts that fit ``budget`` tokens, or a message saying why not.

    Args:
        judged: the untrusted texts, by variable name.
        measure: tokens of the full prompt built from given texts.
        budget: tokens available for the prompt.
        policy: ``"fail"`` or ``"truncate"``.
    """
    used = measure(judged)
    if used <= budget:
        return dict(judged), ()
    if policy == "fail":
        return (
            f"the prompt is {used} tokens but only {budget} fit in the model's context "
            f"after room for the verdict "
            f"(pass on_overflow='truncate' to shorten the judged texts)"
        )
    overhead = measure({k: "" for k in judged})  # template and rubric alone
    if overhead >= budget:
        return (
            f"the template and rubric alone take {overhead} tokens; the model allows "
            f"{budget}, so no truncation of the judged texts can fit"
        )
    lengths = {k: len(v) for k, v in judged.items()}
    total = sum(lengths.values())
    chars_per_token = total / max(used - overhead, 1)
    target = (budget - overhead) * chars_per_token
    for _ in range(_ROUNDS):
        caps = _caps(lengths, total - max(int(target), 0))
        fitted = {k: shorten(v, caps[k]) for k, v in judged.items()}
        used = measure(fitted)
        if used <= budget:
            cuts = tuple(
                Truncation(field=k, original_chars=lengths[k], kept_chars=caps[k])
                for k in judged
                if caps[k] < lengths[k]
            )
            return fitted, cuts
        if target <= 0:
            break
        # Shrink by what was still over, plus the markers the cut fields gained.
        markers = sum(len(_MARKER) + 8 for k in judged if caps[k] < lengths[k])
        target -= (used - budget) * chars_per_token + markers
    return (
        f"the prompt is still {used} tokens after truncating the judged texts; "
        f"the model allows {budget}"
    )
