"""OpenRLHF's Python-file reward route, calling a running `judge serve`.

OpenRLHF (v0.10+) loads a file given as ``--reward.remote_url /path/to/file.py`` in each
rollout actor (``SingleTurnAgentExecutor`` in ``openrlhf/utils/agent.py``) and calls its
``reward_func(queries, prompts, labels)`` in a worker thread, one sample per call. This
file forwards each call to a `judge serve` (set ``JUDGE_SERVE_URL``, default
``http://127.0.0.1:5000``; ``JUDGE_SERVE_TOKEN`` if the server wants one) and returns
its reply as OpenRLHF reads it: ``{"rewards", "scores", "extra_logs"}``.

It needs only the standard library, so the actors need no extra package. A 503 is
retried after the server's ``Retry-After``; any other failure raises with the server's
message (OpenRLHF logs it; a failed *verdict* never gets here, the server's
``--on-failure`` policy answers it).

    judge serve --mode groupwise --group-size 4 --port 5000
    python -m openrlhf.cli.train_ppo_ray ... --reward.remote_url examples/openrlhf_reward_func.py \\
        --rollout.n_samples_per_prompt 4
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from typing import Any

URL = os.environ.get("JUDGE_SERVE_URL", "http://127.0.0.1:5000").rstrip("/")
TOKEN = os.environ.get("JUDGE_SERVE_TOKEN")
TIMEOUT_S = float(os.environ.get("JUDGE_SERVE_TIMEOUT", "600"))
BUSY_TRIES = 30  # 503 answers (a full queue) waited out before giving up


def _post(body: dict[str, Any]) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if TOKEN:
        headers["Authorization"] = f"Bearer {TOKEN}"
    data = json.dumps(body).encode()
    for _ in range(BUSY_TRIES):
        request = urllib.request.Request(f"{URL}/get_reward", data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as reply:
                return json.load(reply)  # type: ignore[no-any-return]
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            if exc.code != 503:
                raise RuntimeError(f"judge serve answered {exc.code}: {detail}") from exc
            time.sleep(float(exc.headers.get("Retry-After") or 1))
    raise RuntimeError(f"judge serve at {URL} stayed at capacity for {BUSY_TRIES} tries")


def reward_func(
    queries: list[str], prompts: list[str], labels: list[str], **kwargs: Any
) -> dict[str, Any]:
    """OpenRLHF's reward function: one reward, [0, 1] score and log values per query."""
    reply = _post({"query": list(queries), "prompts": list(prompts), "labels": list(labels)})
    return {
        "rewards": reply["rewards"],
        "scores": reply["scores"],
        "extra_logs": reply["extra_logs"],
    }
