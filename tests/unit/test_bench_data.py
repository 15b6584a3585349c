"""Loading preference sets: RewardBench and RewardBench 2 layouts, JSONL, JSON, Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judge.bench import PreferenceItem, load_preferences
from judge.errors import InputError
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "bench"
LLMBAR = REPO / "benchmarks" / "data" / "llmbar.jsonl"


def test_rewardbench_layout_one_rejected_per_item() -> None:
    items = load_preferences(DATA / "rewardbench_small.jsonl")
    assert [i.subset for i in items] == ["chat", "chat", "math", "math"]
    assert items[0] == PreferenceItem(
        "chat-1",
        "chat",
        "What is the capital of France?",
        "The capital of France is Paris.",
        ("The capital of France is Lyon.",),
    )
    assert all(i.completions == 2 for i in items)


def test_rewardbench2_layout_chosen_list_and_several_rejected() -> None:
    items = load_preferences(DATA / "rb2_small.jsonl")
    assert items[0].chosen == "A spider has eight legs."
    assert len(items[0].rejected) == 3 and items[0].completions == 4
    assert items[1].subset == "Precise IF"


def test_llmbar_file_loads_with_its_five_subsets() -> None:
    items = load_preferences(LLMBAR)
    assert len(items) == 419
    assert len({i.subset for i in items}) == 5


def test_json_and_parquet_read_the_same_items(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [json.loads(line) for line in (DATA / "rb2_small.jsonl").read_text().splitlines()]
    (tmp_path / "set.json").write_text(json.dumps(records))
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "set.parquet")
    jsonl = load_preferences(DATA / "rb2_small.jsonl")
    assert load_preferences(tmp_path / "set.json") == jsonl
    assert load_preferences(tmp_path / "set.parquet") == jsonl


def test_subset_filter_and_limit_per_subset() -> None:
    items = load_preferences(DATA / "rewardbench_small.jsonl", limit=1)
    assert [i.id for i in items] == ["chat-1", "math-1"]
    only = load_preferences(DATA / "rewardbench_small.jsonl", subsets=["math"])
    assert [i.id for i in only] == ["math-1", "math-2"]


def test_missing_id_and_subset_get_defaults(tmp_path: Path) -> None:
    path = tmp_path / "bare.jsonl"
    path.write_text(json.dumps({"prompt": "p", "chosen": "c", "rejected": "r"}) + "\n")
    (item,) = load_preferences(path)
    assert item.id == "bare.jsonl:1" and item.subset == "all"


def _write(tmp_path: Path, *records: object) -> Path:
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"prompt": "p", "chosen": "c"}, "bad.jsonl:2: missing field 'rejected'"),
        ({"prompt": "p", "chosen": "c", "rejected": 3}, "bad.jsonl:2: field 'rejected' must be"),
        (
            {"prompt": "p", "chosen": "c", "rejected": []},
            "bad.jsonl:2: field 'rejected' is an empty",
        ),
        ({"prompt": "p", "chosen": ["c", "d"], "rejected": "r"}, "bad.jsonl:2: 'chosen' has 2"),
        (
            {"prompt": "p", "chosen": "c", "rejected": "r", "subset": 1},
            "bad.jsonl:2: field 'subset' must be a string",
        ),
    ],
)
def test_bad_records_name_file_and_line(tmp_path: Path, record: object, message: str) -> None:
    path = _write(tmp_path, {"prompt": "p", "chosen": "c", "rejected": "r"}, record)
    with pytest.raises(InputError) as info:
        load_preferences(path)
    assert message in str(info.value)


def test_bad_json_record_names_record_number(tmp_path: Path) -> None:
    path = tmp_path / "set.json"
    path.write_text(
        json.dumps(
            [{"prompt": "p", "chosen": "c", "rejected": "r"}, {"prompt": "p", "chosen": "c"}]
        )
    )
    with pytest.raises(InputError, match=r"set\.json: record 2: missing field 'rejected'"):
        load_preferences(path)


def test_unknown_format_empty_result_and_not_an_array(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"expected \.jsonl, \.json or \.parquet"):
        load_preferences(tmp_path / "set.csv")
    with pytest.raises(InputError, match=r"no records in subset\(s\) nope"):
        load_preferences(DATA / "rewardbench_small.jsonl", subsets=["nope"])
    path = tmp_path / "obj.json"
    path.write_text("{}")
    with pytest.raises(InputError, match="expected a JSON array"):
        load_preferences(path)
