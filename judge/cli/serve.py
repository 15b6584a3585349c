"""``judge serve``: an HTTP reward server speaking OpenRLHF's remote reward contract."""

from __future__ import annotations

import os
from typing import Annotated, cast

import typer

from judge.cli import options as opt
from judge.cli.output import stderr
from judge.errors import MissingDependencyError, UserError
from judge.judge import Judge
from judge.paths import install_command
from judge.reward.model import Mode
from judge.reward.shaping import Scope, Shaping

TOKEN_ENV = "JUDGE_SERVE_TOKEN"


@opt.with_judge()
def serve(
    judge: Judge,
    host: Annotated[str, typer.Option(help="address to bind; 127.0.0.1 keeps it local")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 5000,
    mode: Annotated[str, typer.Option(
        help="pointwise (expected score), reference (logit P(y ≻ label)) or groupwise "
             "(Bradley–Terry within each prompt's group)")] = "pointwise",
    token: Annotated[str | None, typer.Option(
        help=f"require 'Authorization: Bearer TOKEN' (default: ${TOKEN_ENV} if set)")] = None,
    capacity: Annotated[int, typer.Option(
        help="requests that may wait; more get HTTP 503 with Retry-After")] = 256,
    max_batch: Annotated[int, typer.Option(help="judge requests per engine batch")] = 64,
    normalize_score: Annotated[bool, typer.Option(
        help="pointwise: map the expected score to [0, 1]")] = False,
    normalize: Annotated[str | None, typer.Option(
        help="standardize rewards per 'batch' (request) or per prompt 'group'")] = None,
    length_penalty: Annotated[float, typer.Option(
        help="α of the length penalty relative to the label (reference) length")] = 0.0,
    residualize_length: Annotated[str | None, typer.Option(
        help="remove the length-explained part per 'batch' or 'group'")] = None,
) -> None:
    """Serve the judge as a reward model: POST /get_reward, GET /health.

    OpenRLHF: --remote_rm_url http://127.0.0.1:5000/get_reward
    """
    try:
        import uvicorn

        from judge.reward.model import JudgeReward
        from judge.reward.server import create_app
    except ImportError as exc:
        raise MissingDependencyError(exc.name or "fastapi", install_command("serve"),
                                     "judge serve") from exc
    if mode not in ("pointwise", "reference", "groupwise"):
        raise UserError(f"--mode must be pointwise, reference or groupwise, got {mode!r}")
    shaping = Shaping(length_penalty=length_penalty, normalize=cast(Scope | None, normalize),
                      residualize_length=cast(Scope | None, residualize_length))
    reward = JudgeReward(judge, mode=cast(Mode, mode), normalize_score=normalize_score,
                         shaping=shaping, on_failure="none")
    token = token or os.environ.get(TOKEN_ENV) or None
    app = create_app(reward, token=token, capacity=capacity, max_batch=max_batch)
    where = f"http://{host}:{port}"
    stderr.print(f"judge reward server ({mode}, {judge.backend.name}) on {where}/get_reward"
                 + (" — bearer token required" if token else ""), highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")
