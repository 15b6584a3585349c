"""Annotation inputs: JSONL, Parquet and datasets readers, fields, gold labels, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from judge.annotate import Fields, Source
from judge.errors import InputError, UserError


def _jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = [
    {"prompt": f"q{i}", "candidates": [f"a{i}", f"bb{i}", f"ccc{i}"], "best": i % 3}
    for i in range(150)
]


def test_jsonl_list_column_with_gold_index(tmp_path: Path) -> None:
    records = list(Source(_jsonl(tmp_path / "in.jsonl", ROWS[:3]), Fields(gold="best")))
    assert [r.prompt for r in records] == ["q0", "q1", "q2"]
    assert records[1].candidates == ("a1", "bb1", "ccc1")
    assert [r.best for r in records] == [0, 1, 2]
    assert records[2].where == "in.jsonl:3"


def test_named_columns_and_gold_by_column_name_or_scores(tmp_path: Path) -> None:
    rows = [
        {"q": "x", "good": "g", "bad": "b", "label": "good"},
        {"q": "y", "good": "g", "bad": "b", "label": [1.0, 3.0]},
        {"q": "z", "good": "g", "bad": "b", "label": [2, 2]},
    ]
    fields = Fields(prompt="q", candidate_columns=("good", "bad"), gold="label")
    a, b, c = Source(_jsonl(tmp_path / "in.jsonl", rows), fields)
    assert (a.candidates, a.best) == (("g", "b"), 0)
    assert (b.best, b.gold_scores) == (1, (1.0, 3.0))
    assert (c.best, c.gold_scores) == (None, (2.0, 2.0))  # tied gold scores: no best


def test_gold_column_marks_one_column_as_always_better(tmp_path: Path) -> None:
    rows = [{"prompt": "p", "chosen": "c", "rejected": "r"}]
    fields = Fields(candidate_columns=("chosen", "rejected"), gold_column="rejected")
    (record,) = Source(_jsonl(tmp_path / "in.jsonl", rows), fields)
    assert record.best == 1
    with pytest.raises(UserError, match="not one of the candidate columns"):
        Fields(candidate_columns=("chosen", "rejected"), gold_column="better")


def test_conversational_prompt_and_candidates(tmp_path: Path) -> None:
    convo = [{"role": "user", "content": "hi"}]
    rows = [{"prompt": convo, "candidates": [[{"role": "assistant", "content": "a"}], "b"]}]
    (record,) = Source(_jsonl(tmp_path / "in.jsonl", rows))
    assert record.prompt == convo
    assert record.conversational


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"candidates": ["a", "b"]}, "missing field 'prompt'"),
        ({"prompt": "p", "candidates": ["a"]}, "at least two candidates"),
        ({"prompt": "p", "candidates": "ab"}, "must be a list of candidates"),
        ({"prompt": 3, "candidates": ["a", "b"]}, "'prompt' must be a string"),
        ({"prompt": "p", "candidates": ["a", {"x": 1}]}, r"candidates\[1\]"),
        ({"prompt": "p", "candidates": ["a", "b"], "best": 2}, "candidate index 0..1"),
        ({"prompt": "p", "candidates": ["a", "b"], "best": True}, "gold field 'best'"),
    ],
)
def test_bad_jsonl_record_names_file_and_line(
    tmp_path: Path, row: dict[str, Any], message: str
) -> None:
    path = _jsonl(tmp_path / "in.jsonl", [ROWS[0], row])
    with pytest.raises(InputError, match=message) as info:
        list(Source(path, Fields(gold="best")))
    assert info.value.path == str(path) and info.value.line == 2
    assert f"{path}:2:" in str(info.value)


def test_missing_input_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        Source(tmp_path / "nope.jsonl")


def test_parquet_is_read_in_batches_and_errors_name_the_row(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), path)
    records = list(Source(path, Fields(gold="best")))
    assert len(records) == 150  # more than one 64-row batch
    assert records[149].candidates == ("a149", "bb149", "ccc149")
    assert records[70].where == "in.parquet#row 70"
    bad = [*ROWS[:100], {"prompt": "p", "candidates": ["only one"], "best": 0}]
    pq.write_table(pa.Table.from_pylist(bad), path)
    with pytest.raises(InputError, match="row 100: needs at least two") as info:
        list(Source(path, Fields(gold="best")))
    assert info.value.path == str(path)


def test_datasets_directory_is_read_by_slices(tmp_path: Path) -> None:
    import datasets

    data = datasets.Dataset.from_list(ROWS[:70])
    data.save_to_disk(str(tmp_path / "ds"))
    records = list(Source(tmp_path / "ds", Fields(gold="best")))
    assert [r.prompt for r in records] == [f"q{i}" for i in range(70)]
    assert records[65].best == 65 % 3
    datasets.DatasetDict({"train": data}).save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(InputError, match=r"DatasetDict \(splits: train\); give one split"):
        list(Source(tmp_path / "dd"))
