"""The accuracy harness: how a judge does on the benchmarks the field reports.

Reads benchmark files in their published layouts (`load_benchmark`: RewardBench,
RewardBench 2, LLMBar, RM-Bench, JudgeBench, MT-Bench human judgments, human-labelled
pairs; `load_preferences` for the RewardBench layout alone), runs any `Judge` over them
(`run_bench`) and reports accuracy per subset and overall, position consistency, tie
rate, agreement (Cohen's kappa, agreement with humans), calibration (Brier, ECE),
each benchmark's own published scores, failures and time (`BenchReport`).
"""

from judge.bench.data import PreferenceItem, load_preferences
from judge.bench.formats import FORMATS, load_benchmark
from judge.bench.human import HumanPair
from judge.bench.runner import BenchReport, run_bench
from judge.bench.scoring import GroupReport, ItemOutcome, Strategy

__all__ = [
    "FORMATS",
    "BenchReport",
    "GroupReport",
    "HumanPair",
    "ItemOutcome",
    "PreferenceItem",
    "Strategy",
    "load_benchmark",
    "load_preferences",
    "run_bench",
]
