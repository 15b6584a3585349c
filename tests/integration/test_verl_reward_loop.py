"""verl 0.9's own reward loop calling our reward through ``reward.custom_reward_function``.

Driven through verl's code (installed from PyPI with --no-deps; its reward loop imports
on a CPU): its generated default PPO config (``verl/trainer/config/_generated_ppo_trainer.yaml``)
with the v0.9 keys set, a plain `RewardLoopWorker` (``verl/experimental/reward_loop/
reward_loop.py``: ``load_reward_manager`` → ``get_custom_reward_fn`` → the ``naive``
reward manager), its ``compute_score_batch`` on a `DataProto`, and verl's
``assemble_rm_scores``. Only Ray is left out: `RewardLoopManager` sends chunks to Ray
actors and then gathers ``reward_extra_info`` exactly as `_extra_info` below does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from judge import Judge
from judge.reward import JudgeReward, verl
from tests.faults.server import MARK, FaultServer

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
PROMPT = "What is 2 + 2?"


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    verl.reset()
    yield
    verl.reset()


def _config(model_dir: Path, name: str, reward_kwargs: dict[str, Any]) -> Any:
    import verl as verl_pkg
    from omegaconf import OmegaConf

    config = OmegaConf.load(
        Path(verl_pkg.__file__).parent / "trainer" / "config" / "_generated_ppo_trainer.yaml"
    )
    config.actor_rollout_ref.model.path = str(model_dir)
    config.reward.custom_reward_function.path = str(REPO / "examples" / "verl_reward.py")
    config.reward.custom_reward_function.name = name
    OmegaConf.update(
        config, "reward.custom_reward_function.reward_kwargs", reward_kwargs, force_add=True
    )
    return config


def _data(tokenizer: Any, samples: list[tuple[str, Any, dict[str, Any]]]) -> Any:
    import torch
    from verl import DataProto

    ids = [tokenizer.encode(s, add_special_tokens=False) for s, _, _ in samples]
    width = max(len(i) for i in ids)
    responses = torch.full((len(ids), width), tokenizer.pad_token_id or 0)
    mask = torch.zeros((len(ids), 4 + width), dtype=torch.long)
    mask[:, :4] = 1
    for row, tokens in enumerate(ids):
        responses[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, 4 : 4 + len(tokens)] = 1
    return DataProto.from_dict(
        tensors={
            "prompts": torch.ones((len(ids), 4), dtype=torch.long),
            "responses": responses,
            "attention_mask": mask,
        },
        non_tensors={
            "data_source": np.array(["demo"] * len(ids), dtype=object),
            "reward_model": np.array([{"ground_truth": g} for _, g, _ in samples], dtype=object),
            "extra_info": np.array([e for _, _, e in samples], dtype=object),
        },
    )


def _run(config: Any, data: Any, router: str | None = None) -> tuple[Any, dict[str, Any]]:
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker

    worker = RewardLoopWorker(config, reward_router_address=router)
    outputs = worker.loop.run_until_complete(worker.compute_score_batch(data))
    scores = [o["reward_score"] for o in outputs]
    return worker.reward_manager.assemble_rm_scores(data, scores), _extra_info(outputs)


def _extra_info(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """`RewardLoopManager.compute_rm_score`'s gathering of reward_extra_info (verl 0.9.1)."""
    infos = [o.get("reward_extra_info", {}) for o in outputs]
    return {key: np.array([info[key] for info in infos]) for key in infos[0]}


def test_verl_reward_loop_judges_through_the_v09_key(
    model_home: dict[str, Any], smollm: Any, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_home["model_dir"])
    config = _config(model_home["model_dir"], "compute_score_async", {})
    samples = [
        ("4", "2 + 2 = 4.", {"prompt": PROMPT}),
        ("five " * 12000, "2 + 2 = 4.", {"prompt": PROMPT}),
    ]  # overflows the judge
    rm_scores, extra = _run(config, _data(tokenizer, samples))
    direct = JudgeReward(Judge(smollm, cache=tmp_path), mode="reference")(
        [PROMPT], ["4"], reference=["2 + 2 = 4."]
    )
    assert rm_scores[0].sum().item() == pytest.approx(direct[0], abs=1e-4)
    assert rm_scores[0, len(tokenizer.encode("4", add_special_tokens=False)) - 1] != 0
    # The failed verdict: no crash, a 0.0 that is flagged, with its reason.
    assert rm_scores[1].sum().item() == 0.0
    assert extra["judge_failed"].tolist() == [0.0, 1.0]
    assert extra["judge_reason"].tolist() == ["", "context_overflow"]


@pytest.fixture
def router() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


def test_genrm_router_address_is_where_the_judge_asks(
    model_home: dict[str, Any], router: FaultServer
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_home["model_dir"])
    config = _config(model_home["model_dir"], "compute_score", {})
    config.reward.reward_model.enable = True  # verl's GenRM: it serves the reward model
    config.reward.reward_model.model_path = str(model_home["model_dir"])
    samples = [
        (f"{MARK}: 4", "2 + 2 = 4.", {"prompt": PROMPT}),
        ("22", f"{MARK}: 2 + 2 = 4.", {"prompt": PROMPT}),
    ]
    address = router.api_base.removeprefix("http://").removesuffix("/v1")
    rm_scores, extra = _run(config, _data(tokenizer, samples), router=address)
    totals = rm_scores.sum(dim=1).tolist()
    assert totals[0] > 2.0 and totals[1] < -2.0  # the oracle's verdicts, both orders
    assert extra["judge_failed"].tolist() == [0.0, 0.0]
    models = {seen.body["model"] for seen in router.seen}
    assert models == {str(model_home["model_dir"])}  # verl's reward model, via the router
