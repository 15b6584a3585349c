"""``annotate`` on Ray Data: a local Ray cluster started by the test, the real embedded
model loaded inside each actor; the rows must equal a local run's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from judge import Judge
from judge.annotate import Fields, RayOptions, annotate

pytestmark = pytest.mark.slow

RECORDS = [
    {"prompt": "Name a fruit.", "candidates": ["An apple.", "A carrot.", "Apple"], "best": 0},
    {"prompt": "What is 3 + 4?", "candidates": ["7", "3 + 4 = 7.", "It is 8."], "best": 1},
]


@pytest.fixture(scope="module")
def ray_cluster(model_home: dict[str, Any]) -> Any:
    """A local two-CPU Ray cluster; its workers inherit JUDGE_CACHE_DIR (the model)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False)
    yield ray
    ray.shutdown()


def _judge() -> Judge:
    """No cache (each run really judges); one order per pair keeps the test short."""
    return Judge(cache=False, swap="none")


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return {r["key"]: r for r in rows}


def test_ray_job_gives_the_local_rows_and_resumes(ray_cluster: Any, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    fields = Fields(gold="best")
    local = annotate(source, tmp_path / "local.jsonl", judge=_judge(), fields=fields)
    on_ray = annotate(
        source,
        tmp_path / "ray.jsonl",
        judge=_judge(),
        fields=fields,
        ray=RayOptions(actors=2),
        chunk_size=3,
    )
    assert local.rows == on_ray.rows == on_ray.judged == 6
    expected, got = _rows(tmp_path / "local.jsonl"), _rows(tmp_path / "ray.jsonl")
    assert got.keys() == expected.keys()
    for key, row in got.items():
        mine = expected[key]
        assert (row["prompt"], row["chosen"], row["rejected"], row["gold"]) == (
            mine["prompt"],
            mine["chosen"],
            mine["rejected"],
            mine["gold"],
        )
        assert row["judge"]["p_chosen"] == pytest.approx(mine["judge"]["p_chosen"], abs=1e-4)
    assert on_ray.stats.p_first == pytest.approx(local.stats.p_first, abs=1e-4)
    # Done is done: the same job again judges nothing and leaves the rows alone.
    before = (tmp_path / "ray.jsonl").read_bytes()
    again = annotate(
        source,
        tmp_path / "ray.jsonl",
        judge=_judge(),
        fields=fields,
        ray=RayOptions(actors=2),
        chunk_size=3,
    )
    assert (again.judged, again.resumed, again.rows) == (0, 6, 6)
    assert (tmp_path / "ray.jsonl").read_bytes() == before


def test_a_panel_job_on_ray_gives_the_local_panel_rows(ray_cluster: Any, tmp_path: Path) -> None:
    """Each actor builds the panel of rubrics itself, from the job's settings."""
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(RECORDS[1]) + "\n")
    panel = ["instruction_following"]
    local = annotate(source, tmp_path / "local.jsonl", judge=_judge(), panel_rubrics=panel)
    on_ray = annotate(
        source,
        tmp_path / "ray.jsonl",
        judge=_judge(),
        panel_rubrics=panel,
        ray=RayOptions(actors=2),
        chunk_size=2,
    )
    assert local.rows == on_ray.rows == 3
    expected, got = _rows(tmp_path / "local.jsonl"), _rows(tmp_path / "ray.jsonl")
    assert got.keys() == expected.keys()
    for key, row in got.items():
        members = [(m["rubric"], m["p_chosen"]) for m in row["judge"]["members"]]
        mine = [(m["rubric"], m["p_chosen"]) for m in expected[key]["judge"]["members"]]
        assert [r for r, _ in members] == ["helpfulness", "instruction_following"]
        assert [p for _, p in members] == pytest.approx([p for _, p in mine], abs=1e-4)
    assert on_ray.disagreement == pytest.approx(local.disagreement, abs=1e-4)
    assert local.disagreement is not None
