"""The published layouts ``judge bench`` reads, chosen by ``--format`` or by content.

========================  ==========================================================
format                    record (the benchmark's own fields)
========================  ==========================================================
``generic``               ``prompt``, ``chosen``, ``rejected`` (one or a list),
                          ``subset``, ``id``: RewardBench, RewardBench 2 (its Ties
                          subset included), LLMBar (`judge.bench.data`)
``rm-bench``              ``prompt``, ``chosen`` and ``rejected`` with three style
                          variants each, ``domain``, ``id`` (THU-KEG/RM-Bench)
``judgebench``            ``question``, ``response_A``, ``response_B``, ``label``
                          (``A>B`` / ``B>A``), ``source``, ``pair_id``
                          (ScalerLab/JudgeBench)
``mt-bench-human``        one vote per record (lmsys/mt_bench_human_judgments)
``human``                 ``prompt``, ``response_a``, ``response_b``, ``labels``
========================  ==========================================================

Detection reads the first record's fields. Scoring per format: `judge.bench.protocols`
and `judge.bench.human`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from judge.bench.data import Fields, PreferenceItem, load_preferences, records, select
from judge.bench.human import HumanPair, human_pairs, mt_bench_pairs
from judge.errors import InputError, UserError

FORMATS = ("auto", "generic", "rm-bench", "judgebench", "mt-bench-human", "human")
BenchItem = PreferenceItem | HumanPair
RM_BENCH_STYLES = 3
# JudgeBench reports four categories; its records name the source they came from.
_JUDGEBENCH_CATEGORY = (
    ("mmlu-pro", "knowledge"),
    ("livebench-reasoning", "reasoning"),
    ("livebench-math", "math"),
    ("livecodebench", "coding"),
)


def detect(record: dict[str, Any]) -> str:
    """The layout of a record, from its fields."""
    keys = set(record)
    if {"question", "response_A", "response_B", "label"} <= keys:
        return "judgebench"
    if {"conversation_a", "conversation_b", "winner", "judge"} <= keys:
        return "mt-bench-human"
    if {"response_a", "response_b", "labels"} <= keys:
        return "human"
    chosen, rejected = record.get("chosen"), record.get("rejected")
    if (
        isinstance(chosen, list)
        and isinstance(rejected, list)
        and "domain" in keys
        and len(chosen) == len(rejected) == RM_BENCH_STYLES
    ):
        return "rm-bench"
    return "generic"


def load_benchmark(
    path: str | Path,
    *,
    format: str = "auto",
    subsets: Sequence[str] | None = None,
    limit: int | None = None,
) -> tuple[str, list[BenchItem]]:
    """Read a benchmark file in its published layout: ``(format, items)``.

    Args:
        path: a ``.jsonl``, ``.json`` or ``.parquet`` file.
        format: one of `FORMATS`; ``auto`` detects it from the first record.
        subsets: keep only these subsets.
        limit: at most this many items per subset, in file order.

    Raises:
        UserError: an unknown format.
        InputError: the file cannot be read or a record does not fit the layout; the
            message names the file and the line or record.
    """
    if format not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, got {format!r}")
    path = Path(path)
    if format == "auto":
        first = next(records(path), None)
        if first is None:
            raise InputError("no records", path=str(path))
        format = detect(first[1])
    if format == "generic":
        return format, list(load_preferences(path, subsets=subsets, limit=limit))
    items: list[BenchItem] = list(_read(format, path))
    return format, select(items, path, subsets=subsets, limit=limit)


def _read(format: str, path: Path) -> list[BenchItem]:
    rows = records(path)
    if format == "rm-bench":
        return [rm_bench_item(Fields(r, path, w)) for w, r in rows]
    if format == "judgebench":
        return [judgebench_item(Fields(r, path, w)) for w, r in rows]
    if format == "human":
        return list(human_pairs(rows, path))
    pairs, _skipped = mt_bench_pairs(rows, path)
    if not pairs:
        raise InputError(
            "no expert votes (judge expert_*): MT-Bench agreement is with the "
            "experts' votes, as in FastChat's compute_agreement.py",
            path=str(path),
        )
    return list(pairs)


def rm_bench_item(fields: Fields) -> PreferenceItem:
    """An RM-Bench record: three chosen and three rejected style variants."""
    fields.require("prompt", "chosen", "rejected")
    chosen, rejected = fields.texts("chosen"), fields.texts("rejected")
    if len(chosen) != RM_BENCH_STYLES or len(rejected) != RM_BENCH_STYLES:
        raise fields.bad(
            f"RM-Bench records have {RM_BENCH_STYLES} chosen and "
            f"{RM_BENCH_STYLES} rejected style variants, got {len(chosen)} "
            f"and {len(rejected)}"
        )
    return PreferenceItem(
        fields.ident(),
        fields.subset("domain"),
        fields.text("prompt"),
        chosen[0],
        rejected,
        also_chosen=chosen[1:],
        protocol="rm-bench",
    )


def judgebench_item(fields: Fields) -> PreferenceItem:
    """A JudgeBench pair, the chosen response kept in its published position."""
    fields.require("question", "response_A", "response_B", "label")
    label = fields.text("label")
    if label not in ("A>B", "B>A"):
        raise fields.bad(f"field 'label' must be A>B or B>A, got {label!r}")
    a, b = fields.text("response_A"), fields.text("response_B")
    chosen, rejected = (a, b) if label == "A>B" else (b, a)
    ident = fields.record.get("pair_id")
    return PreferenceItem(
        str(ident) if ident is not None else fields.ident(),
        _category(fields),
        fields.text("question"),
        chosen,
        (rejected,),
        protocol="judgebench",
        chosen_label=label[0],
    )


def _category(fields: Fields) -> str:
    source = fields.subset("source")
    return next(
        (name for prefix, name in _JUDGEBENCH_CATEGORY if source.startswith(prefix)), source
    )
