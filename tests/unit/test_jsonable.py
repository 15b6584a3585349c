"""`judge.jsonable.to_jsonable`: the one serialization path of every command's JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import ClassVar

import pytest

from judge.bench.calibrate import CalibrationFit
from judge.calibration import Calibrator
from judge.jsonable import JsonKeys, to_jsonable
from judge.verdicts import FailureReason, JudgmentFailure


class Colour(Enum):
    RED = "red"


@dataclass(frozen=True)
class Inner:
    span: tuple[float, float]
    colour: Colour


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner
    parts: list[Inner]
    where: Path
    hidden: int = 0
    json_keys: ClassVar[JsonKeys] = ("twice", ..., "name")

    @property
    def twice(self) -> int:
        return 2 * self.hidden


def test_dataclasses_nest_by_fields_and_json_keys_orders_derives_and_repeats() -> None:
    value = Outer("x", Inner((0.1, 0.2), Colour.RED), [Inner((1, 2), Colour.RED)], Path("a/b"), 3)
    assert to_jsonable(value) == {
        "twice": 6,
        "name": "x",
        "inner": {"span": [0.1, 0.2], "colour": "red"},
        "parts": [{"span": [1, 2], "colour": "red"}],
        "where": "a/b",
        "hidden": 3,
    }
    assert list(to_jsonable(value)) == ["twice", "name", "inner", "parts", "where", "hidden"]


def test_pydantic_models_dump_in_json_mode() -> None:
    failure = JudgmentFailure(kind="pairwise", reason=FailureReason.PARSE_FAILURE, message="m")
    assert to_jsonable(failure) == failure.model_dump(mode="json")
    assert to_jsonable({"result": failure})["result"]["reason"] == "parse_failure"


def test_a_report_that_omits_and_derives_fields_writes_what_it_declares() -> None:
    fit = CalibrationFit(
        Calibrator(kind="temperature", temperature=1.5, fitted_on=4), 2, 2, 4, {}, {}
    )
    keys = list(to_jsonable(fit))
    assert keys[:2] == ["kind", "temperature"] and "calibrator" not in keys
    assert to_jsonable(fit)["temperature"] == 1.5


def test_nan_and_infinity_stay_floats_and_json_writes_them_as_before() -> None:
    assert (
        json.dumps(to_jsonable({"a": math.nan, "b": (math.inf,)})) == '{"a": NaN, "b": [Infinity]}'
    )


def test_a_value_json_has_no_form_for_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="cannot write a set as JSON"):
        to_jsonable({"s": {1, 2}})
