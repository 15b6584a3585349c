"""Speed and agreement side by side with the peers: same pairs, same model, same machine.

One run starts an embedded judge model (``--model``: SmolLM2-135M by default, or a
packaged Qwen2.5-Coder judge) behind vLLM's OpenAI-compatible server on 127.0.0.1
(float32, or ``--dtype bfloat16`` for the server and our embedded rows alike; ours keeps
a float32 output head, `judge.backends.precision`) and judges the same LLMBar pairs
(``--subset``: Natural, or Adversarial's four subsets in turn; chosen response as A) with:

  * ours, default config (logprob, swap both), embedded (transformers) and through
    the same vLLM server via litellm (``hosted_vllm/<name>``);
  * ours, ``method="generate"``, embedded and through the server;
  * ours, one-order (``judge.protocols.OneOrder``): logprob, each pair shown once after
    the first 16, which are judged both ways to fit the position prior, embedded;
  * ours, by-scores (``judge.protocols.ByScores``): each response scored alone (logprob,
    1-10), P(A ≻ B) from the two score distributions, embedded;
  * ours, hybrid (``judge.protocols.Hybrid``): the default averaged with by-scores,
    order by order, embedded;
  * ours, pmi (``judge.protocols.ByPMI``): each response's PMI with the prompt per
    character (its log-probability after the prompt less after a neutral request),
    embedded; and the pmi-hybrid, the default averaged with it order by order;
  * prometheus-eval relative grading, in its own venv, via its LiteLLM model class;
  * vllm-judge's ``compare``, in its own venv;
  * a FastChat-style loop (our own wording): generate, then scan for [[A]]/[[B]]/[[C]].

Every tool judges every pair in both orders (ours: ``swap="both"``; the peers: each
pair twice, swapped), so position consistency is measured the same way for all, and
one "judgment" is one pair shown in one order; one-order shows most pairs once, so its
pairs/s (verdicts per second) is the rate to compare. Every tool that talks to the server
keeps the same number of requests in flight (``--concurrency``, default 1: each tool
through its own mechanism, see benchmarks/peers/protocol.py), the vLLM prefix cache is
emptied before each tool, our judgment cache is off, and every generative tool gets the
same token cap. Generative tools judge the first
``--generative-pairs`` pairs; the logprob rows judge ``--pairs`` (their accuracy and
consistency in the side-by-side table are taken on the common first pairs).

    bash benchmarks/peers/setup.sh      # the peers' venvs, from PyPI
    python benchmarks/bench_peers.py --pairs 100 --generative-pairs 20 --max-tokens 256
    python benchmarks/bench_peers.py --model embedded/qwen2.5-coder-0.5b --generative-pairs 30
    python benchmarks/bench_peers.py --model embedded/qwen2.5-coder-0.5b --subset adversarial \
        --pairs 30 --generative-pairs 30 --concurrency 16
    python benchmarks/bench_peers.py --model embedded/qwen2.5-coder-0.5b --pairs 100 \
        --generative-pairs 30 --concurrency 16 --tag one-order --skip "ours: default via vLLM" \
        "ours: generate" "ours: generate via vLLM" prometheus-eval vllm-judge
    python benchmarks/bench_peers.py --model embedded/qwen2.5-coder-1.5b --pairs 30 \
        --generative-pairs 30 --concurrency 16 --eager --dtype bfloat16 --tag by-scores-bf16 \
        --skip "ours: default via vLLM" "ours: generate" "ours: generate via vLLM" \
        "ours: one-order" prometheus-eval vllm-judge   # by-scores and hybrid vs FastChat
    python benchmarks/bench_peers.py --model embedded/qwen2.5-coder-1.5b --pairs 30 \
        --generative-pairs 30 --concurrency 16 --eager --dtype bfloat16 --tag pmi-bf16 \
        --skip "ours: default via vLLM" "ours: generate" "ours: generate via vLLM" \
        "ours: one-order" "ours: by-scores" "ours: hybrid" prometheus-eval vllm-judge
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import load_pairs, timed
from benchmarks.peers.results import failed_orders, peer_results, shown_orders
from benchmarks.report import write_section
from judge import Judge
from judge.backends import Backend, embedded
from judge.backends.vllm import embedded_key
from judge.inputs import PairInput
from judge.protocols import PanelPairwiseVerdict, with_protocol
from judge.stats import PreferenceStats, bootstrap_interval, preference_stats
from judge.verdicts import PairwiseResult, PairwiseVerdict
from tests.integration.server_fixtures import SERVED_NAME, VLLMServer

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".peers"
DRIVERS = HERE / "peers"
FIGURE = HERE / "results" / "peers.png"
RAW = HERE / "results" / "peers_runs.json"
WARM_UP = PairInput("Say hello.", "Hello!", "Goodbye.")
SETUPS = {  # each tool's row label and the setup it runs
    "ours: default": "logprob, swap both, embedded",
    "ours: default via vLLM": "logprob, swap both, litellm → vLLM server",
    "ours: generate": "generate, swap both, embedded",
    "ours: generate via vLLM": "generate, swap both, litellm → vLLM server",
    "ours: one-order": "logprob, one order a pair after 16 fitted both ways, embedded",
    "ours: by-scores": "logprob 1-10 score of each response, P(S_A > S_B), embedded",
    "ours: hybrid": "default + by-scores averaged order by order, embedded",
    "ours: pmi": "logprob of each response after the prompt and a neutral one, embedded",
    "ours: pmi-hybrid": "default + pmi averaged order by order, embedded",
    "prometheus-eval": "relative grading, LiteLLM class → vLLM server",
    "vllm-judge": "Judge.compare → vLLM server",
    "FastChat-style": "generate, scan [[A]]/[[B]] → vLLM server",
}


@dataclass
class Run:
    """One tool's run: what it judged, how long it took, how many requests it sent."""

    tool: str
    setup: str
    results: list[PairwiseResult]
    seconds: float
    requests: int | None
    error: str | None = None


def ours(
    name: str,
    setup: str,
    pairs: list[PairInput],
    model: str | None,
    api_base: str | None,
    server: VLLMServer,
    concurrency: int = 1,
    protocol: str = "plain",
    dtype: str = "float32",
    **settings: Any,
) -> Run:
    """Our Judge on ``pairs``: warmed up first, cache off, ``concurrency`` requests at once.

    ``dtype`` is the embedded rows' precision; the server's rows get the server's.
    """
    options = {"api_base": api_base, "concurrency": concurrency} if api_base else {"dtype": dtype}
    judge = Judge(model, cache=False, backend_options=options, **settings)
    judge.compare_batch([WARM_UP])  # loads the model, builds any structured-output index
    judge.score(WARM_UP.prompt, WARM_UP.response_a)
    judging = with_protocol(judge, protocol)  # after the warm-up: it fits nothing on it
    before = server.metric("vllm:request_success_total") if api_base else None
    calls = None if api_base else counted(judge.backend)
    server.reset_prefix_cache()
    seconds, results = timed(lambda: judging.compare_batch(pairs))
    requests = (
        int(server.metric("vllm:request_success_total") - before)
        if before is not None
        else sum(calls or [])
    )
    return Run(name, setup, results, seconds, requests)


def counted(backend: Backend) -> list[int]:
    """Count ``backend``'s forward passes from now on: one per prompt read or generated.

    Returns the list the counts are appended to (one entry per batch).
    """
    calls: list[int] = []
    for method in ("score_labels", "generate"):
        inner = getattr(backend, method)

        def counting(requests: Any, inner: Any = inner) -> Any:
            calls.append(len(requests))
            return inner(requests)

        setattr(backend, method, counting)
    return calls


def peer(
    name: str,
    setup: str,
    venv: Path,
    driver: str,
    pairs: list[PairInput],
    server: VLLMServer,
    max_tokens: int,
    work: Path,
    retries: int,
    concurrency: int = 1,
) -> Run:
    """A peer's driver in its own venv, on both orders of every pair."""
    python = venv / "bin" / "python"
    if not python.exists():
        return Run(name, setup, [], 0.0, None, f"{venv} missing: run benchmarks/peers/setup.sh")
    rows = work / f"{driver}.rows.jsonl"
    out = work / f"{driver}.out.json"
    with rows.open("w") as handle:
        for i, p in enumerate(pairs):
            handle.write(
                json.dumps(
                    {"key": f"{i}:AB", "prompt": p.prompt, "a": p.response_a, "b": p.response_b}
                )
                + "\n"
            )
            handle.write(
                json.dumps(
                    {"key": f"{i}:BA", "prompt": p.prompt, "a": p.response_b, "b": p.response_a}
                )
                + "\n"
            )
    server.reset_prefix_cache()
    before = server.metric("vllm:request_success_total")
    command = [
        str(python),
        str(DRIVERS / f"{driver}.py"),
        "--rows",
        str(rows),
        "--out",
        str(out),
        "--api-base",
        server.api_base,
        "--model",
        SERVED_NAME,
        "--max-tokens",
        str(max_tokens),
        "--concurrency",
        str(concurrency),
    ]
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "TOKENIZERS_PARALLELISM": "false",
        "PROMETHEUS_MAX_RETRIES": str(retries),
    }
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    requests = int(server.metric("vllm:request_success_total") - before)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        return Run(name, setup, [], 0.0, requests, f"exit {done.returncode}: {tail}")
    data = json.loads(out.read_text())
    return Run(name, setup, peer_results(name, data["rows"], len(pairs)), data["seconds"], requests)


@dataclass
class Row:
    """One line of the side-by-side table."""

    run: Run
    stats: PreferenceStats
    judgments_per_s: float
    pairs_per_s: float
    failed_rate: float
    strict: list[float]  # per common pair: 1 right, ½ tie, 0 wrong or no verdict


def row(run: Run, common: int) -> Row:
    """Measures of a run: speed over its whole run, behaviour on the common pairs."""
    results = run.results[:common]
    stats = preference_stats(results, gold=["A"] * len(results))
    rate = (lambda count: count / run.seconds) if run.seconds else (lambda count: 0.0)
    return Row(
        run,
        stats,
        rate(shown_orders(run.results)),
        rate(len(run.results)),
        failed_orders(results) / shown_orders(results) if results else 0.0,
        [
            (1.0 if r.winner == "A" else 0.5 if r.winner == "tie" else 0.0)
            if isinstance(r, PairwiseVerdict)
            else 0.0
            for r in results
        ],
    )


def ratio(value: float | None, base: float | None) -> str:
    """``value / base`` as ``×r``, or a dash."""
    if value is None or not base:
        return "—"
    return f"×{value / base:.2f}"


def fmt(value: float | None, digits: int = 3) -> str:
    """A table cell; a dash for missing."""
    return "—" if value is None else f"{value:.{digits}f}"


def table(rows: list[Row], common: int) -> str:
    """The markdown table, ratios against the first row (our default)."""
    base = rows[0]
    lines = [
        f"| tool | setup | pairs timed | requests | judgments/s | pairs/s | ratio | consistency "
        "| ratio "
        f"| parse failures | accuracy on pairs with a verdict (of the first {common}; 95% CI) "
        "| ratio | accuracy, no verdict = wrong (95% CI) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in rows:
        s = r.stats
        if r.run.error:
            lines.append(
                f"| {r.run.tool} | {r.run.setup} | — | {r.run.requests or '—'} | "
                f"failed: {r.run.error.splitlines()[-1][:120]} | | | | | | | | |"
            )
            continue
        ci = f"[{s.accuracy_ci[0]:.2f}, {s.accuracy_ci[1]:.2f}]" if s.accuracy_ci else ""
        judged = f", n = {s.judged}" if s.accuracy is not None else ""
        strict = sum(r.strict) / len(r.strict) if r.strict else None
        low, high = bootstrap_interval(r.strict) if r.strict else (0.0, 0.0)
        lines.append(
            f"| {r.run.tool} | {r.run.setup} | {len(r.run.results)} | {r.run.requests} | "
            f"{r.judgments_per_s:.3f} | {r.pairs_per_s:.3f} | "
            f"{ratio(r.pairs_per_s, base.pairs_per_s)} | "
            f"{fmt(s.consistency, 2)} | {ratio(s.consistency, base.stats.consistency)} | "
            f"{r.failed_rate:.0%} | {fmt(s.accuracy, 2)} {ci}{judged} | "
            f"{ratio(s.accuracy, base.stats.accuracy)} | {fmt(strict, 2)} [{low:.2f}, {high:.2f}] |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Target:
    """The judge model a run serves, and where its results go."""

    key: str | None  # its `judge.backends.embedded.MODELS` key (None: the default)
    label: str  # the upstream model's name
    section: str  # its RESULTS.md section
    raw: Path
    figure: Path
    subset: str  # "Natural" or "Adversarial"


def target(model: str, subset: str = "natural", tag: str | None = None) -> Target:
    """Section, raw file and figure of ``model`` on ``subset``.

    SmolLM2 on Natural keeps the original names; other models add their key, the
    Adversarial subset adds ``-adversarial``, and a ``tag`` adds ``-<tag>``.
    """
    key = embedded_key(model)
    assert key is not False, model  # --model's choices are embedded judges only
    suffix = (
        ("" if key is None else f"-{key}")
        + ("" if subset == "natural" else f"-{subset}")
        + ("" if tag is None else f"-{tag}")
    )
    return Target(
        key,
        embedded.model_info(key).model_id.removesuffix("-Instruct"),
        f"peers{suffix}",
        RAW.with_name(f"peers_runs{suffix}.json"),
        FIGURE.with_name(f"peers{suffix}.png"),
        subset.capitalize(),
    )


def figure(rows: list[Row], path: Path, label: str, subset: str) -> None:
    """Accuracy (with its interval) and judgments/s per tool, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in rows if not r.run.error]
    names = [r.run.tool for r in done]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 0.55 * len(done) + 1.8), sharey=True)
    acc = [r.stats.accuracy or 0.0 for r in done]
    errs = [
        [a - (r.stats.accuracy_ci or (a, a))[0] for a, r in zip(acc, done, strict=True)],
        [(r.stats.accuracy_ci or (a, a))[1] - a for a, r in zip(acc, done, strict=True)],
    ]
    left.barh(names, acc, xerr=errs, color="#4C72B0")
    left.axvline(0.5, color="grey", linestyle=":", linewidth=1)
    for y, r in enumerate(done):
        if r.stats.accuracy is None:
            left.text(0.02, y, f"no verdict ({r.failed_rate:.0%} unreadable)", va="center")
    left.set_xlim(0, 1)
    left.set_xlabel(f"accuracy on LLMBar {subset} (tie = ½; 95% CI)")
    left.invert_yaxis()
    right.barh(names, [r.judgments_per_s for r in done], color="#DD8452")
    right.set_xscale("log")
    right.set_xlabel("judgments/s (one pair in one order; log scale)")
    fig.suptitle(f"{label} as a judge, same pairs and machine (2 CPU cores)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=100, help="pairs for the logprob rows")
    parser.add_argument(
        "--generative-pairs",
        type=int,
        default=20,
        help="the first pairs, for every generative tool",
    )
    parser.add_argument(
        "--max-tokens", type=int, default=256, help="new-token cap for every generative tool"
    )
    parser.add_argument(
        "--prometheus-retries",
        type=int,
        default=10,
        help="prometheus-eval's parse-failure retries (its default: 10)",
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="torch threads for our embedded rows (default: torch's)",
    )
    parser.add_argument(
        "--model",
        choices=["embedded", *(f"embedded/{k}" for k in embedded.MODELS if k != embedded.DEFAULT)],
        default="embedded",
        help="the embedded judge every tool runs on (default: SmolLM2-135M)",
    )
    parser.add_argument(
        "--subset",
        choices=["natural", "adversarial"],
        default="natural",
        help="LLMBar Natural, or Adversarial (its four subsets in turn)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="requests every server-side tool keeps in flight at once (default 1)",
    )
    parser.add_argument("--eager", action="store_true", help="server with --enforce-eager")
    parser.add_argument(
        "--dtype",
        choices=["float32", "bfloat16"],
        default="float32",
        help="precision of the server and of our embedded rows (default float32)",
    )
    parser.add_argument(
        "--skip",
        nargs="+",
        default=[],
        choices=[name for name in SETUPS if name != "ours: default"],
        help="rows not to run (the table's ratios are to 'ours: default', always run)",
    )
    parser.add_argument(
        "--tag",
        default=None,
        help="a name for this run's own section, raw file and figure (e.g. a run with --skip)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--from-raw",
        type=Path,
        default=None,
        help="rebuild table, figure and section from a saved raw file "
        "(written by a measuring run; the other options must match it)",
    )
    args = parser.parse_args()
    if args.from_raw:
        runs, start_s = load_raw(args.from_raw)
        report(runs, args, start_s, args.from_raw)
        return

    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    pairs = load_pairs(args.pairs, args.subset)
    few = pairs[: args.generative_pairs]
    c = args.concurrency
    work = Path(tempfile.mkdtemp(prefix="bench-peers-"))
    server = VLLMServer(
        embedded.ensure_converted(target(args.model).key),
        work / "server.log",
        extra=["--enforce-eager"] if args.eager else [],
        env={"VLLM_SERVER_DEV_MODE": "1"},  # for /reset_prefix_cache
        dtype=args.dtype,
    )
    start_s = server.start(timeout=900)
    hosted = f"hosted_vllm/{SERVED_NAME}"
    gen = {"method": "generate", "max_new_tokens": args.max_tokens}
    try:
        plan: dict[str, Callable[[], Run]] = {
            "ours: default": lambda: ours(
                "ours: default",
                SETUPS["ours: default"],
                pairs,
                args.model,
                None,
                server,
                dtype=args.dtype,
            ),
            "ours: default via vLLM": lambda: ours(
                "ours: default via vLLM",
                SETUPS["ours: default via vLLM"],
                pairs,
                hosted,
                server.api_base,
                server,
                c,
            ),
            "ours: generate": lambda: ours(
                "ours: generate",
                SETUPS["ours: generate"],
                few,
                args.model,
                None,
                server,
                dtype=args.dtype,
                **gen,
            ),
            "ours: generate via vLLM": lambda: ours(
                "ours: generate via vLLM",
                SETUPS["ours: generate via vLLM"],
                few,
                hosted,
                server.api_base,
                server,
                c,
                **gen,
            ),
            "ours: one-order": lambda: ours(
                "ours: one-order",
                SETUPS["ours: one-order"],
                pairs,
                args.model,
                None,
                server,
                protocol="one-order",
                dtype=args.dtype,
            ),
            **{
                f"ours: {name}": (
                    lambda name=name: ours(
                        f"ours: {name}",
                        SETUPS[f"ours: {name}"],
                        pairs,
                        args.model,
                        None,
                        server,
                        protocol=name,
                        dtype=args.dtype,
                    )
                )
                for name in ("by-scores", "hybrid", "pmi", "pmi-hybrid")
            },
            "prometheus-eval": lambda: peer(
                "prometheus-eval",
                SETUPS["prometheus-eval"],
                PEERS / "prometheus-eval",
                "prometheus_driver",
                few,
                server,
                args.max_tokens,
                work,
                args.prometheus_retries,
                c,
            ),
            "vllm-judge": lambda: peer(
                "vllm-judge",
                SETUPS["vllm-judge"],
                PEERS / "vllm-judge",
                "vllm_judge_driver",
                few,
                server,
                args.max_tokens,
                work,
                0,
                c,
            ),
            "FastChat-style": lambda: peer(
                "FastChat-style",
                SETUPS["FastChat-style"],
                Path(sys.prefix),
                "fastchat_style_driver",
                few,
                server,
                args.max_tokens,
                work,
                0,
                c,
            ),
        }
        runs = [run() for name, run in plan.items() if name not in args.skip]
    finally:
        server.stop()
    report(runs, args, start_s, work)


def report(runs: list[Run], args: argparse.Namespace, start_s: float, work: Path) -> None:
    """Print the table, save raw outcomes and the figure, write the RESULTS.md section."""
    common = args.generative_pairs
    rows = [row(r, common) for r in runs]
    text = table(rows, common)
    print(text)
    where = target(args.model, args.subset, args.tag)
    raw = work if args.from_raw else (work / "runs.json" if args.no_write else where.raw)
    if not args.from_raw:
        save_raw(raw, runs, start_s)
        print(f"raw results: {raw}")
    if args.no_write:
        return
    figure(rows, where.figure, where.label, where.subset)
    notes = "\n".join(
        [f"- **{r.tool}** did not run: `{r.error}`" for r in runs if r.error]
        + [failure_note(r) for r in runs if not r.error and failed_orders(r.results)]
        + [f"- Not run in this table (`--skip`): {', '.join(args.skip)}." for _ in args.skip[:1]]
    )
    rebuilt = (
        f"Rebuilt from the measuring run's raw results (`benchmarks/results/{where.raw.name}`, "
        f"written {finished(args.from_raw)}); the measuring command is the one below without "
        "`--from-raw`. "
        if args.from_raw
        else ""
    )
    started = f"vLLM server start: {start_s:.0f} s (not timed). " if start_s else ""
    write_section(
        where.section,
        "\n".join(
            [
                "## Speed and agreement side by side with the peers "
                f"(LLMBar {where.subset}, {where.label})",
                "",
                f"Same machine, same model ({args.dtype}), one run. Logprob rows timed on "
                f"{args.pairs} pairs; "
                f"every generative tool on the first {common} of them, capped at "
                f"{args.max_tokens} new tokens. Every tool judged each pair in both orders "
                "(one-order: only its first 16); a judgment is one pair in one order, pairs/s "
                "counts verdicts. Consistency and accuracy are on the first "
                f"{common} pairs for every row (ties count ½); ratios are to our default "
                "(first row; speed: of pairs/s). Parse failures: judgments with no readable "
                "verdict. Requests: "
                "counted by the vLLM server (embedded rows: forward passes), so retries show. "
                f"Requests in flight at once, for every tool that talks to the server: "
                f"{args.concurrency}. "
                f"{rebuilt}{started}prometheus-eval parse-failure "
                f"retries: {args.prometheus_retries} (its default: 10). Torch threads for our "
                f"embedded rows: {args.torch_threads or 'torch default'}.",
                "",
                text,
                "",
                notes,
                "",
                f"Figure: `benchmarks/results/{where.figure.name}`. Raw verdicts: "
                f"`benchmarks/results/{where.raw.name}`.",
            ]
        ),
    )


def save_raw(path: Path, runs: list[Run], start_s: float) -> None:
    """Every run with its verdicts and failures, for rebuilding the report later."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "finished": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "server_start_s": start_s,
                "runs": [
                    {
                        "tool": r.tool,
                        "setup": r.setup,
                        "seconds": r.seconds,
                        "requests": r.requests,
                        "error": r.error,
                        "results": [x.model_dump(mode="json") for x in r.results],
                    }
                    for r in runs
                ],
            }
        )
    )


def load_raw(path: Path) -> tuple[list[Run], float]:
    """Runs saved by `save_raw` (or a bare list of runs, which has no start time)."""
    from pydantic import TypeAdapter

    data = json.loads(path.read_text())
    entries = data["runs"] if isinstance(data, dict) else data
    adapter: TypeAdapter[PairwiseResult] = TypeAdapter(PairwiseResult)

    def result(x: dict[str, Any]) -> PairwiseResult:  # a hybrid's verdict is a panel's
        return (
            PanelPairwiseVerdict.model_validate(x) if "members" in x else adapter.validate_python(x)
        )

    runs = [
        Run(
            e["tool"],
            e.get("setup", SETUPS.get(e["tool"], "")),
            [result(x) for x in e["results"]],
            e["seconds"],
            e["requests"],
            e["error"],
        )
        for e in entries
    ]
    return runs, data.get("server_start_s", 0.0) if isinstance(data, dict) else 0.0


def finished(path: Path) -> str:
    """When a raw results file was written: its recorded time, else its modification time."""
    data = json.loads(path.read_text())
    if isinstance(data, dict) and "finished" in data:
        return str(data["finished"])
    stamp = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def failure_note(run: Run) -> str:
    """The most common failure message of a run, with the end of one raw output."""
    failures = [r for r in run.results if not isinstance(r, PairwiseVerdict)]
    messages: dict[str, int] = {}
    for f in failures:
        for part in f.message.split("; "):
            reason = part.split(": ", 1)[-1][:90]
            messages[reason] = messages.get(reason, 0) + 1
    top = max(messages, key=lambda m: messages[m])
    raw = next((f.raw_output for f in failures if f.raw_output), "") or ""
    tail = " ".join(raw.split())[-160:].replace("|", "/").replace("`", "'")
    return (
        f"- **{run.tool}**: {failed_orders(run.results)} of {shown_orders(run.results)} "
        f'judgments unreadable; most common: "{top}" ({messages[top]}×). '
        f'End of one raw output: "…{tail}"'
    )


if __name__ == "__main__":
    main()
