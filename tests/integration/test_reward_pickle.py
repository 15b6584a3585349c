"""A `JudgeReward` that crosses into a spawned process, as TRL's AsyncGRPOTrainer needs.

AsyncGRPOTrainer (TRL 1.16, ``trl/experimental/async_grpo/async_rollout_worker.py``)
pickles its reward functions into a ``multiprocessing`` *spawn* child and there calls
each one as ``reward_func(**kwargs)`` when ``is_async_callable`` says so, else in a
thread. Here the reward (and its ``as_async()`` form) is pickled, unpickled in a real
spawned process, which rebuilds the judge from its settings and judges through litellm
against a real OpenAI-compatible server on 127.0.0.1 (the oracle of `tests.faults`).
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from judge import Judge
from judge.reward import JudgeReward
from tests.faults.cases import API_KEY
from tests.faults.server import MARK, FaultServer

PROMPTS = ["Name a colour."] * 2
COMPLETIONS = [f"{MARK}: blue.", "a chair"]


@pytest.fixture(scope="module")
def faults() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


def _child(blob: bytes, out: Any) -> None:
    import asyncio

    from trl.trainer.utils import get_callable_name, is_async_callable

    got = {}
    fns = pickle.loads(blob)
    assert fns[0].judge._backend is None  # not carried over: rebuilt here on first use
    for fn in fns:
        kwargs = {"prompts": PROMPTS, "completions": COMPLETIONS, "trainer_state": None}
        if is_async_callable(fn):  # what the rollout worker's _score_group does
            got[get_callable_name(fn)] = asyncio.run(fn(**kwargs))
        else:
            got[get_callable_name(fn)] = fn(**kwargs)
    out.put(got)


def test_reward_and_its_async_form_judge_in_a_spawned_process(
    faults: FaultServer, tmp_path: Any
) -> None:
    judge = Judge(
        "openai/fault-test",
        cache=tmp_path / "cache",
        backend_options={"api_base": faults.api_base, "api_key": API_KEY},
    )
    reward = JudgeReward(judge, mode="groupwise", name="judge_group")
    here = reward(PROMPTS, COMPLETIONS)  # loads the backend here; pickling drops it
    assert here[0] > 0 > here[1]
    blob = pickle.dumps([reward, reward.as_async()])
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=_child, args=(blob, out))
    child.start()
    got = out.get(timeout=180)
    child.join(timeout=30)
    assert child.exitcode == 0
    assert set(got) == {"judge_group"}  # both forms log under the reward's name
    assert got["judge_group"] == pytest.approx(here, abs=1e-9)


def test_a_judge_on_a_built_backend_says_why_it_does_not_pickle(faults: FaultServer) -> None:
    from judge.backends.litellm import LiteLLMBackend

    backend = LiteLLMBackend("openai/fault-test", api_base=faults.api_base, api_key=API_KEY)
    with pytest.raises(TypeError, match="backend/model' string"):
        pickle.dumps(JudgeReward(Judge(backend)))
