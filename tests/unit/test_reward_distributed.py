"""Whole GRPO groups across two real torch.distributed (gloo) processes, fake judge.

Each process is given half of one prompt's group, as TRL's GRPOTrainer does with two
processes. Gathered, the groupwise rewards equal the one-process rewards of the whole
group; judged locally (``across_processes="local"``) they do not — the partial-group
fit even flips signs, which is why gathering is the default.
"""

from __future__ import annotations

import multiprocessing as mp
import socket
from typing import Any

import pytest

from judge import Judge
from judge.reward import JudgeReward, Shaping

GROUP = ["great", "good", "ok", "bad"]  # strengths 2, 1, 0, -1.5
HALVES = ([*GROUP[:2], "good"], [*GROUP[2:], "FAIL"])  # each rank also holds one of "q2"
PROMPTS = (["q1", "q1", "q2"], ["q1", "q1", "q2"])


def _reward(**options: Any) -> JudgeReward:
    from test_reward_fake import FakeStrengthBackend

    return JudgeReward(Judge(FakeStrengthBackend(), cache=False), on_failure="none", **options)


def _rank(rank: int, port: int, out: Any) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        got = {}
        for name, options in OPTIONS.items():
            reward = _reward(**options)
            got[name] = reward(PROMPTS[rank], HALVES[rank])
            if name == "groupwise":
                from judge.reward.distributed import compute_across, current_world

                world = current_world()
                assert world is not None and world.rank == rank
                batch = compute_across(reward, PROMPTS[rank], HALVES[rank], None, world)
                got["failures"] = [(f.index, f.reason) for f in batch.failures]
        out.put((rank, got))
    finally:
        dist.destroy_process_group()


OPTIONS: dict[str, dict[str, Any]] = {
    "groupwise": {"mode": "groupwise"},
    "local": {"mode": "groupwise", "across_processes": "local"},
    "swiss": {"mode": "groupwise", "schedule": "swiss:2"},  # judged in two rounds
    "pointwise_group_normalized": {"shaping": Shaping(normalize="group")},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def two_ranks() -> dict[int, dict[str, Any]]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_rank, args=(r, port, out)) for r in (0, 1)]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return results


def test_gathered_groupwise_rewards_equal_the_one_process_run(
    two_ranks: dict[int, dict[str, Any]],
) -> None:
    whole = _reward(mode="groupwise")(
        PROMPTS[0][:2] + PROMPTS[1][:2] + ["q2", "q2"], [*GROUP, "good", "FAIL"]
    )
    assert whole[:4] == pytest.approx([1.62, 0.62, -0.37, -1.87], abs=0.01)
    gathered = two_ranks[0]["groupwise"][:2] + two_ranks[1]["groupwise"][:2]
    assert gathered == pytest.approx(whole[:4], abs=1e-9)
    # "q2" is split too: its only comparison failed, so neither half has a reward.
    assert two_ranks[0]["groupwise"][2] is two_ranks[1]["groupwise"][2] is None
    assert whole[4:] == [None, None]
    assert two_ranks[1]["failures"] == [(2, "backend_error")]  # local index, typed reason


def test_gathered_swiss_rounds_equal_the_one_process_run(
    two_ranks: dict[int, dict[str, Any]],
) -> None:
    whole = _reward(mode="groupwise", schedule="swiss:2")(
        PROMPTS[0][:2] + PROMPTS[1][:2] + ["q2", "q2"], [*GROUP, "good", "FAIL"]
    )
    gathered = two_ranks[0]["swiss"][:2] + two_ranks[1]["swiss"][:2]
    assert gathered == pytest.approx(whole[:4], abs=1e-9)
    assert sorted(whole[:4], reverse=True) == whole[:4]  # the order of the strengths


def test_local_judging_fits_partial_groups(two_ranks: dict[int, dict[str, Any]]) -> None:
    local = two_ranks[0]["local"][:2] + two_ranks[1]["local"][:2]
    assert local == pytest.approx([0.5, -0.5, 0.75, -0.75], abs=0.01)  # "ok" > 0: wrong


def test_group_shaping_also_sees_whole_groups(two_ranks: dict[int, dict[str, Any]]) -> None:
    whole = _reward(shaping=Shaping(normalize="group"))(["q1"] * 4, GROUP)
    gathered = [
        *two_ranks[0]["pointwise_group_normalized"][:2],
        *two_ranks[1]["pointwise_group_normalized"][:2],
    ]
    assert gathered == pytest.approx(whole, abs=1e-9)
