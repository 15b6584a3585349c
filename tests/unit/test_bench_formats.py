"""Reading the published layouts: detection by content, --format, and errors that say where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judge.bench.formats import detect, load_benchmark
from judge.bench.human import HumanPair
from judge.errors import InputError, UserError
from tests.conftest import DATA as LLMBAR
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "bench"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("judgebench_small.jsonl", "judgebench"),
        ("rmbench_small.jsonl", "rm-bench"),
        ("mtbench_human_small.jsonl", "mt-bench-human"),
        ("human_small.jsonl", "human"),
        ("rb2_small.jsonl", "generic"),
        ("rb2_ties_small.jsonl", "generic"),
        ("rewardbench_small.jsonl", "generic"),
    ],
)
def test_layout_is_detected_from_the_first_record(name: str, expected: str) -> None:
    fmt, items = load_benchmark(DATA / name)
    assert fmt == expected and items
    first = json.loads((DATA / name).read_text().splitlines()[0])
    assert detect(first) == expected


def test_llmbar_reads_as_generic() -> None:
    fmt, items = load_benchmark(LLMBAR, limit=2)
    assert fmt == "generic" and {i.subset for i in items} >= {"llmbar-natural"}


def test_judgebench_keeps_published_order_and_category() -> None:
    _, items = load_benchmark(DATA / "judgebench_small.jsonl")
    first, second = items[0], items[1]
    assert first.id == "jb-1" and first.subset == "knowledge" and first.chosen_label == "A"
    assert first.chosen.startswith("GOOD") and first.protocol == "judgebench"
    assert second.chosen_label == "B" and second.chosen == "GOOD: 56" and second.subset == "math"
    assert [i.subset for i in items] == ["knowledge", "math", "reasoning", "coding"]


def test_rm_bench_three_by_three() -> None:
    _, items = load_benchmark(DATA / "rmbench_small.jsonl")
    item = items[0]
    assert item.protocol == "rm-bench" and item.subset == "chat"
    assert len(item.all_chosen) == 3 and len(item.rejected) == 3 and item.completions == 6


def test_rewardbench2_ties_has_several_chosen() -> None:
    _, items = load_benchmark(DATA / "rb2_ties_small.jsonl")
    assert [i.protocol for i in items] == ["rewardbench2-ties"] * 2
    assert items[1].all_chosen == ("Red.", "Blue.", "Yellow.")


def test_mt_bench_votes_grouped_flipped_and_experts_only() -> None:
    _, pairs = load_benchmark(DATA / "mtbench_human_small.jsonl")
    assert all(isinstance(p, HumanPair) for p in pairs)
    turn1, turn2 = pairs
    assert turn1.subset == "turn 1" and turn1.votes == ("B", "B", "tie")  # author vote skipped
    assert turn1.response_b.startswith("GOOD") and not turn1.response_a.startswith("GOOD")
    assert turn2.votes == ("B", "tie")
    assert turn2.prompt.startswith("[Turn 1] Write a haiku") and "[Turn 2] Now make" in turn2.prompt
    assert "[Turn 2] GOOD Quiet snow" in turn2.response_b


def test_human_layout_and_soft_label() -> None:
    _, pairs = load_benchmark(DATA / "human_small.jsonl", subsets=["all"])
    assert pairs[0].votes == ("A", "A", "tie")
    assert pairs[0].soft_label == pytest.approx(2.5 / 3)


def _write(tmp_path: Path, *records: object) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.mark.parametrize(
    ("record", "fmt", "message"),
    [
        (
            {"question": "q", "response_A": "a", "response_B": "b", "label": "A=B"},
            "judgebench",
            "set.jsonl:1: field 'label' must be A>B or B>A",
        ),
        (
            {"prompt": "p", "chosen": ["a", "b"], "rejected": ["c", "d", "e"], "domain": "chat"},
            "rm-bench",
            "set.jsonl:1: RM-Bench records have 3 chosen and 3 rejected",
        ),
        (
            {"prompt": "p", "response_a": "a", "response_b": "b", "labels": ["A", "maybe"]},
            "human",
            "set.jsonl:1: field 'labels' must be a non-empty list",
        ),
        (
            {
                "question_id": 1,
                "model_a": "x",
                "model_b": "y",
                "winner": "x",
                "judge": "expert_0",
                "turn": 1,
                "conversation_a": [],
                "conversation_b": [],
            },
            "mt-bench-human",
            "set.jsonl:1: field 'winner' must be model_a",
        ),
        (
            {
                "question_id": 1,
                "model_a": "x",
                "model_b": "y",
                "winner": "tie",
                "judge": "author_1",
                "turn": 1,
                "conversation_a": [],
                "conversation_b": [],
            },
            "mt-bench-human",
            "no expert votes",
        ),
        (
            {"question": "q", "response_A": "a"},
            "judgebench",
            "set.jsonl:1: missing field 'response_B', 'label' (has question, response_A)",
        ),
    ],
)
def test_bad_records_say_where(tmp_path: Path, record: object, fmt: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        load_benchmark(_write(tmp_path, record), format=fmt)
    assert message in str(info.value)


def test_a_judgebench_file_read_as_generic_names_its_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, {"question": "q", "response_A": "a", "response_B": "b", "label": "A>B"})
    with pytest.raises(InputError, match="missing field 'prompt', 'chosen', 'rejected'"):
        load_benchmark(path, format="generic")


def test_unknown_format_is_a_user_error() -> None:
    with pytest.raises(UserError, match="--format must be one of auto, generic"):
        load_benchmark(DATA / "human_small.jsonl", format="csv")
