"""A real two-process TRL GRPO run (torchrun, gloo on the CPU) with a groupwise judge.

One prompt, a group of four completions, two processes: each process holds half of the
group (TRL 1.16 splits a generation batch across processes). The groupwise rewards each
process returned must equal what one process computes for the whole group, and the
trainer's own gathered per-completion rewards must be those numbers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from judge import Judge
from judge.reward import JudgeReward

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent


def test_two_process_grpo_groupwise_rewards_equal_the_one_process_rewards(
    model_home: dict[str, Any], smollm: Any, tmp_path: Path
) -> None:
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    assert torchrun, "torchrun comes with torch"
    env = dict(
        os.environ,
        JUDGE_CACHE_DIR=str(model_home["root"]),
        OMP_NUM_THREADS="1",
        PYTHONPATH=str(HERE.parents[1]),
    )
    run = subprocess.run(
        [
            torchrun,
            "--standalone",
            "--nproc_per_node",
            "2",
            str(HERE / "grpo_ranks.py"),
            str(tmp_path),
            str(model_home["model_dir"]),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["world"] == 2 and len(r["calls"]) == 1 for r in ranks)
    calls = [r["calls"][0] for r in ranks]
    assert all(len(c["completions"]) == 2 for c in calls)  # half a group each
    prompts = calls[0]["prompts"] + calls[1]["prompts"]
    completions = calls[0]["completions"] + calls[1]["completions"]
    assert len({json.dumps(p) for p in prompts}) == 1  # one group, split across ranks
    whole = JudgeReward(Judge(smollm, cache=False), mode="groupwise")(prompts, completions)
    assert all(r is not None for r in whole)
    assert calls[0]["rewards"] + calls[1]["rewards"] == pytest.approx(whole, abs=1e-4)
    assert ranks[0]["trainer_rewards"] == pytest.approx(whole, abs=1e-4)
