"""prometheus-eval's relative grading (A or B), through its LiteLLM model class.

Runs in benchmarks/.peers/prometheus-eval (see setup.sh). The model is the local vLLM
OpenAI-compatible server, reached as ``hosted_vllm/<name>`` with ``api_base``. The
grading call, prompt, parser and parse-failure retries (up to 10) are the package's
own defaults with two limits so generation fits this CPU: the token cap (its default
is 1024) and the number of parse-failure retries (its default is 10; set with
``PROMETHEUS_MAX_RETRIES``, by wrapping its retry helper with that argument). Its
sampling defaults (temperature 1.0, top_p 0.9) are kept. With ``--concurrency`` N, N
threads each grade one row at a time through the package's synchronous LiteLLM class.
Its ``AsyncLiteLLM`` class is not used: it drops the call's sampling parameters (so
the token cap would not apply) and times requests out after 60 s.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import Row, arguments, run, verdict


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    import prometheus_eval.judge as grading
    from prometheus_eval import PrometheusEval
    from prometheus_eval.litellm import LiteLLM
    from prometheus_eval.prompts import HELPFULNESS_RUBRIC

    retries = os.environ.get("PROMETHEUS_MAX_RETRIES")
    if retries is not None:
        grading.batch_completions_with_retries = functools.partial(  # type: ignore[attr-defined]
            grading.batch_completions_with_retries, max_retries=int(retries)
        )
    judge = PrometheusEval(model=LiteLLM(f"hosted_vllm/{args.model}", api_base=args.api_base))
    params = {"max_tokens": args.max_tokens, "temperature": 1.0, "top_p": 0.9}

    def judge_all(rows: list[Row]) -> list[Row]:
        feedbacks, winners = judge.relative_grade(
            instructions=[r["prompt"] for r in rows],
            responses_A=[r["a"] for r in rows],
            responses_B=[r["b"] for r in rows],
            rubric=HELPFULNESS_RUBRIC,
            params=params,
        )
        return [
            verdict(r["key"], w, f, None if w in ("A", "B") else "no [RESULT] A/B")
            for r, f, w in zip(rows, feedbacks, winners, strict=True)
        ]

    run(args, judge_all)


if __name__ == "__main__":
    main()
