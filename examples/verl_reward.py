"""verl (0.9) with a judge as its reward function.

Point verl's reward function at this file (the v0.9 keys; the top-level
``custom_reward_function`` of older releases is ignored by ``main_ppo``)::

    reward.custom_reward_function.path=examples/verl_reward.py
    reward.custom_reward_function.name=compute_score_async
    +reward.custom_reward_function.reward_kwargs.judge_url=http://127.0.0.1:8000

Importing it builds nothing: each of verl's ``reward.num_workers`` workers imports it.
With ``judge_url`` every worker sends its samples to one ``judge serve --mode
reference`` (one model, batched there). Without it, ``judge_model`` (a backend/model
string; default $JUDGE_MODEL, else the embedded judge) is loaded once per worker, on
first use, and ``compute_score_async`` batches each worker's concurrent samples. With
verl's own GenRM (``reward.reward_model.enable=True``) the judge talks to verl's router
(``reward_router_address``). Each sample's score is logit P(response ≻ ground_truth);
put the question in the dataset's ``extra_info["prompt"]``. See `judge.reward.verl`.

Try it without verl (the embedded judge)::

    .venv/bin/python examples/verl_reward.py
"""

from __future__ import annotations

from judge.reward.verl import compute_score, compute_score_async

__all__ = ["compute_score", "compute_score_async"]

if __name__ == "__main__":
    info = {"prompt": "What is the capital of France?"}
    for answer in ("Paris.", "Lyon."):
        print(
            answer,
            compute_score("demo", answer, "Paris is the capital of France.", extra_info=info),
        )
