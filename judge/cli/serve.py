"""``judge serve``: an HTTP reward server speaking OpenRLHF's remote reward contract."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from judge.cli import options as opt
from judge.cli.output import stderr
from judge.errors import MissingDependencyError, UserError
from judge.judge import Judge
from judge.paths import install_command
from judge.protocols import with_protocol
from judge.reward.model import Mode, OnFailure, check_reward_options
from judge.reward.shaping import Scope, Shaping

TOKEN_ENV = "JUDGE_SERVE_TOKEN"


def serve(
    host: Annotated[
        str, typer.Option(help="address to bind; 127.0.0.1 keeps it local")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 5000,
    mode: Annotated[
        Mode,
        typer.Option(
            help="pointwise (expected score), reference (logit P(y ≻ label)) or groupwise "
            "(Bradley–Terry within each prompt's group)"
        ),
    ] = "pointwise",
    token: Annotated[
        str | None,
        typer.Option(help=f"require 'Authorization: Bearer TOKEN' (default: ${TOKEN_ENV} if set)"),
    ] = None,
    capacity: Annotated[
        int,
        typer.Option(
            help="requests (groups, with --group-size) that may wait for the engine; more get "
            "HTTP 503 with Retry-After"
        ),
    ] = 256,
    max_batch: Annotated[int, typer.Option(help="judge requests per engine batch")] = 64,
    normalize_score: Annotated[
        bool, typer.Option(help="pointwise: map the expected score to [0, 1]")
    ] = False,
    normalize: Annotated[
        Scope | None,
        typer.Option(help="standardize rewards per 'batch' (request) or per prompt 'group'"),
    ] = None,
    length_penalty: Annotated[
        float, typer.Option(help="α of the length penalty relative to the label (reference) length")
    ] = 0.0,
    residualize_length: Annotated[
        Scope | None, typer.Option(help="remove the length-explained part per 'batch' or 'group'")
    ] = None,
    group_size: Annotated[
        int | None,
        typer.Option(
            help="hold one-sample requests until N share a prompt, judge them as one group "
            "(OpenRLHF: its --rollout.n_samples_per_prompt)"
        ),
    ] = None,
    group_timeout: Annotated[
        float,
        typer.Option(
            help="seconds a group waits for its last samples; then it is judged with those "
            "that came (extra_logs.judge_group_size says how many)"
        ),
    ] = 30.0,
    on_failure: Annotated[
        OnFailure,
        typer.Option(
            help="a failed verdict: mask (its group's mean reward: zero advantage; flagged in "
            "extra_logs.judge_failed, counted in /health), none (null: OpenRLHF crashes "
            "on it) or raise (HTTP 502)"
        ),
    ] = "mask",
    batch_wait: Annotated[
        float,
        typer.Option(
            help="seconds the engine worker waits after the first waiting group, gathering the "
            "groups that complete with it into one engine batch"
        ),
    ] = 0.02,
    schedule: Annotated[
        str,
        typer.Option(
            help="groupwise: the pairs of a group to judge: all, ring (G pairs), regular:K "
            "(about K·G/2 pairs) or swiss:R (R adaptive rounds of G/2 pairs each)"
        ),
    ] = "all",
    engine: Annotated[
        list[str] | None,
        typer.Option(
            help="fan judge requests out to this OpenAI-compatible endpoint (repeatable) "
            "through litellm's Router; needs --model <provider>/<name>"
        ),
    ] = None,
    model: opt.Model = None,
    rubric: opt.Rubric = opt.DEFAULT_RUBRIC,
    rubric_file: opt.RubricFile = None,
    template: opt.Template = None,
    template_file: opt.TemplateFile = None,
    method: opt.Method = opt.DEFAULT.method,
    protocol: opt.Protocol = "plain",
    samples: opt.Samples = 3,
    panel_rubric: opt.PanelRubric = None,
    disagreement_penalty: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="with --panel-rubric, pointwise and reference modes: subtract this times the "
            "panel's disagreement from each reward",
        ),
    ] = 0.0,
    swap: opt.Swap = opt.DEFAULT.swap,
    seed: opt.Seed = opt.DEFAULT.seed,
    temperature: opt.Temperature = opt.DEFAULT.temperature,
    max_new_tokens: opt.MaxNewTokens = opt.DEFAULT.max_new_tokens,
    no_cache: opt.NoCache = False,
    batch_size: opt.BatchSize = opt.DEFAULT.batch_size,
    on_overflow: opt.OnOverflow = opt.DEFAULT.on_overflow,
    calibration: opt.Calibration = None,
    api_base: opt.ApiBase = None,
    backend_option: opt.BackendOption = None,
) -> None:
    """Serve the judge as a reward model: POST /get_reward, GET /health.

    OpenRLHF (v0.10+): --reward.remote_url http://127.0.0.1:5000/get_reward
    --data.label_key <reference column> (reference mode); groupwise or group shaping
    need --group-size equal to its --rollout.n_samples_per_prompt.
    """
    check_reward_options(mode, on_failure, disagreement_penalty=disagreement_penalty)
    if disagreement_penalty and not panel_rubric:
        raise UserError("--disagreement-penalty needs a panel: add --panel-rubric NAME")
    judge = opt.JudgeOptions(
        model=model,
        rubric=rubric,
        rubric_file=rubric_file,
        template=template,
        template_file=template_file,
        method=method,
        swap=swap,
        seed=seed,
        temperature=temperature,
        max_new_tokens=max_new_tokens,
        no_cache=no_cache,
        batch_size=batch_size,
        on_overflow=on_overflow,
        calibration=calibration,
        api_base=api_base,
        backend_option=backend_option,
    ).build()
    try:
        import uvicorn

        from judge.reward.model import JudgeReward
        from judge.reward.server import create_app
    except ImportError as exc:
        raise MissingDependencyError(
            exc.name or "fastapi", install_command("serve"), "judge serve"
        ) from exc
    shaping = Shaping(
        length_penalty=length_penalty,
        normalize=normalize,
        residualize_length=residualize_length,
    )
    if engine:
        judge = _route(judge, engine)
    reward = JudgeReward(
        with_protocol(judge, protocol, samples=samples, panel_rubrics=panel_rubric or ()),
        mode=mode,
        disagreement_penalty=disagreement_penalty,
        normalize_score=normalize_score,
        shaping=shaping,
        on_failure=on_failure,
        schedule=schedule,
    )
    token = token or os.environ.get(TOKEN_ENV) or None
    app = create_app(
        reward,
        token=token,
        capacity=capacity,
        max_batch=max_batch,
        group_size=group_size,
        group_timeout=group_timeout,
        batch_wait=batch_wait,
    )
    where = f"http://{host}:{port}"
    grouping = f", groups of {group_size}" if group_size else ""
    grouping += "" if protocol == "plain" else f", {protocol}"
    grouping += f", panel of {judge.rubric.name}, {', '.join(panel_rubric)}" if panel_rubric else ""
    stderr.print(
        f"judge reward server ({mode}{grouping}, failures: {on_failure}, "
        f"{judge.backend.name}) on {where}/get_reward"
        + (" — bearer token required" if token else ""),
        highlight=False,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _route(judge: Judge, engines: list[str]) -> Judge:
    """``judge`` through litellm's Router over ``engines`` (the --model and -o options kept)."""
    from judge.backends.router import route_judge

    options = judge.backend_options
    options.pop("api_base", None)
    return route_judge(judge, str(judge.model), engines, **options)
