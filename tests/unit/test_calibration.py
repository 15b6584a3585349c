"""Calibrators: fitting, saving, loading into a Judge; metrics they are judged by."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from judge import Judge
from judge.calibration import Calibrator, fit
from judge.errors import InputError, UserError
from judge.metrics import brier, cohen_kappa, expected_calibration_error, reliability
from judge.reward.model import JudgeReward
from judge.verdicts import PairwiseVerdict
from tests.unit.test_engine_fake import FakeBackend


def overconfident(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes drawn with P = σ(z/3) while the judge reports σ(z): T = 3 is right."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 3.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-z / 3))).astype(float)
    return 1 / (1 + np.exp(-z)), y


def test_temperature_recovers_the_true_scale_and_lowers_ece_on_held_out_items() -> None:
    p, y = overconfident()
    cal = fit(p[:2000], y[:2000])
    assert cal.temperature == pytest.approx(3.0, rel=0.15)
    before = expected_calibration_error(list(p[2000:]), list(y[2000:]))
    after = expected_calibration_error(cal.apply_all(list(p[2000:])), list(y[2000:]))
    assert before is not None and after is not None and after < before / 3


def test_isotonic_is_monotone_and_calibrates() -> None:
    p, y = overconfident(seed=1)
    cal = fit(p[:2000], y[:2000], "isotonic")
    xs = [x for x, _ in cal.points]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    mapped = cal.apply_all(list(np.linspace(0, 1, 50)))
    assert mapped == sorted(mapped)
    after = expected_calibration_error(cal.apply_all(list(p[2000:])), list(y[2000:]))
    assert after is not None and after < 0.05


def test_isotonic_pools_equal_probabilities() -> None:
    cal = fit([0.5, 0.5, 0.9, 0.9], [0.0, 1.0, 1.0, 1.0], "isotonic")
    assert cal.points == ((0.5, 0.5), (0.9, 1.0))


def test_save_load_and_bad_files(tmp_path: Path) -> None:
    cal = fit([0.9, 0.8, 0.2, 0.7], [1.0, 0.0, 0.0, 1.0], source={"data": "x"})
    cal.save(tmp_path / "cal.json")
    assert Calibrator.load(tmp_path / "cal.json") == cal
    (tmp_path / "bad.json").write_text('{"kind": "platt"}')
    with pytest.raises(InputError, match=r"bad\.json: not a calibrator"):
        Calibrator.load(tmp_path / "bad.json")
    with pytest.raises(InputError, match="cannot open calibrator"):
        Calibrator.load(tmp_path / "missing.json")
    with pytest.raises(UserError, match="at least 2"):
        fit([0.5], [1.0])


def test_judge_verdicts_and_rewards_carry_calibrated_probabilities(tmp_path: Path) -> None:
    cal = Calibrator(kind="temperature", temperature=2.0, fitted_on=10)
    cal.save(tmp_path / "cal.json")
    plain = Judge(FakeBackend(prefer="GOOD"), swap="none", cache=False)
    calibrated = Judge(
        FakeBackend(prefer="GOOD"), swap="none", cache=False, calibration=str(tmp_path / "cal.json")
    )
    raw = plain.compare("q", "GOOD answer", "bad answer")
    got = calibrated.compare("q", "GOOD answer", "bad answer")
    assert isinstance(raw, PairwiseVerdict) and isinstance(got, PairwiseVerdict)
    assert raw.raw_prob_a is None and got.raw_prob_a == pytest.approx(raw.prob_a)
    expected = 1 / (1 + math.exp(-math.log(raw.prob_a / (1 - raw.prob_a)) / 2))
    assert got.prob_a == pytest.approx(expected) and got.winner == raw.winner
    assert got.orders[0].prob_a == raw.orders[0].prob_a  # each order keeps its reading
    reward = JudgeReward(calibrated, mode="reference")
    (value,) = reward(["q"], ["GOOD answer"], reference=["bad answer"])
    assert value == pytest.approx(math.log(expected / (1 - expected)), rel=1e-3)


def test_bad_calibration_setting_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot open calibrator"):
        Judge(FakeBackend(), cache=False, calibration=str(tmp_path / "nope.json"))


def test_metrics_on_known_values() -> None:
    assert brier([1.0, 0.0], [1.0, 0.0]) == 0.0 and brier([], []) is None
    assert brier([0.5, 0.5], [1.0, 0.0]) == 0.25
    assert expected_calibration_error([0.9] * 10, [1.0] * 9 + [0.0]) == pytest.approx(0.0)
    assert expected_calibration_error([0.9, 0.1], [0.0, 1.0]) == pytest.approx(0.9)
    bins = reliability([0.05, 0.95, 1.0], [0.0, 1.0, 1.0])
    assert bins[0].count == 1 and bins[-1].count == 2 and bins[5].mean_prob is None
    assert cohen_kappa(["A", "B", "A", "B"], ["A", "B", "B", "A"]) == pytest.approx(0.0)
    assert cohen_kappa(["A", "B"], ["A", "B"]) == 1.0 and cohen_kappa([], []) is None
    with pytest.raises(ValueError, match="2 labels against 1"):
        cohen_kappa(["A", "B"], ["A"])
