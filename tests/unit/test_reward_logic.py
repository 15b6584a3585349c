"""Pure logic of the reward interface: Bradley–Terry, shaping, item reading, query splitting."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from judge.errors import UserError
from judge.reward.bradley_terry import fit_bradley_terry
from judge.reward.items import Item, RewardFailure, check_lengths, message_text, read_item
from judge.reward.model import RewardError, logit
from judge.reward.shaping import Shaping, apply_shaping, normalize, residualize_length
from judge.reward.split import prompt_messages, split_query


def test_bt_two_items_recovers_the_logit_up_to_the_ridge() -> None:
    s = fit_bradley_terry(2, [(0, 1, 0.8)], ridge=1e-9)
    assert s[0] - s[1] == pytest.approx(math.log(4), abs=1e-6)
    assert s.sum() == pytest.approx(0.0, abs=1e-12)


def test_bt_recovers_known_strengths_from_exact_probabilities() -> None:
    truth = np.array([1.5, 0.2, -0.3, -1.4])
    comps = [
        (i, j, 1 / (1 + math.exp(-(truth[i] - truth[j]))))
        for i in range(4)
        for j in range(4)
        if i < j
    ]
    fitted = fit_bradley_terry(4, comps, ridge=1e-9)
    assert fitted == pytest.approx(truth - truth.mean(), abs=1e-6)


def test_bt_all_wins_stays_finite_and_ridge_shrinks() -> None:
    comps = [(0, 1, 1.0), (0, 2, 1.0), (1, 2, 0.5)]
    small = fit_bradley_terry(3, comps, ridge=1e-3)
    big = fit_bradley_terry(3, comps, ridge=1e-1)
    assert np.all(np.isfinite(small)) and small[0] > 3
    assert small[1] == pytest.approx(small[2])
    assert 0 < big[0] < small[0]


def test_bt_rejects_bad_comparisons() -> None:
    with pytest.raises(UserError, match="different items"):
        fit_bradley_terry(2, [(0, 0, 0.5)])
    with pytest.raises(UserError, match="outside"):
        fit_bradley_terry(2, [(0, 1, 1.5)])
    assert list(fit_bradley_terry(3, [])) == [0, 0, 0]


def test_residualize_removes_a_linear_length_effect_and_keeps_the_mean() -> None:
    lengths = [10, 20, 30, 40]
    rewards = [1.0 + 0.1 * n + e for n, e in zip(lengths, [0.5, -0.5, -0.5, 0.5], strict=True)]
    out = residualize_length(rewards, lengths)
    assert np.mean(out) == pytest.approx(np.mean(rewards))
    assert np.polyfit(lengths, out, 1)[0] == pytest.approx(0.0, abs=1e-12)
    assert residualize_length([1.0, 2.0], [5, 5]) == [1.0, 2.0]  # no spread: unchanged


def test_shaping_skips_none_and_works_per_group() -> None:
    rewards = [1.0, 3.0, None, 10.0, 30.0]
    out = apply_shaping(
        Shaping(normalize="group"), rewards, lengths=[1] * 5, groups=[0, 0, 0, 1, 1]
    )
    assert out[2] is None
    assert out[0] == pytest.approx(-1.0, abs=1e-5) and out[1] == pytest.approx(1.0, abs=1e-5)
    assert out[3] == pytest.approx(-1.0, abs=1e-5) and out[4] == pytest.approx(1.0, abs=1e-5)
    whole = apply_shaping(Shaping(normalize="batch"), rewards, lengths=[1] * 5, groups=[0] * 5)
    assert np.mean([r for r in whole if r is not None]) == pytest.approx(0.0, abs=1e-9)
    assert normalize([2.0]) == [0.0]


def test_length_penalty_charges_only_the_excess_over_the_reference() -> None:
    out = apply_shaping(
        Shaping(length_penalty=0.5),
        [1.0, 1.0, 1.0],
        lengths=[50, 100, 300],
        groups=[0, 0, 0],
        reference_lengths=[100, 100, 100],
    )
    assert out == pytest.approx([1.0, 1.0, 0.0])
    with pytest.raises(UserError, match="reference"):
        apply_shaping(Shaping(length_penalty=0.5), [1.0], lengths=[1], groups=[0])
    with pytest.raises(UserError):
        Shaping(normalize="prompt")  # type: ignore[arg-type]
    assert not Shaping().active


def test_logit_clips() -> None:
    assert logit(0.5, 1e-4) == 0.0
    assert logit(1.0, 1e-4) == pytest.approx(math.log(9999))
    assert logit(0.0, 1e-4) == pytest.approx(-math.log(9999))


def test_message_lists_become_text() -> None:
    assert message_text("hi", "prompt") == "hi"
    assert message_text([{"role": "user", "content": "Q?"}], "prompt") == "Q?"
    assert (
        message_text(
            [{"role": "system", "content": "S"}, {"role": "user", "content": "Q?"}], "prompt"
        )
        == "Q?"
    )
    assert message_text([{"role": "assistant", "content": "A."}], "completion") == "A."
    multi = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2"},
    ]
    assert message_text(multi, "prompt") == "user: Q1\n\nassistant: A1\n\nuser: Q2"
    with pytest.raises(UserError, match="content"):
        message_text([{"role": "user", "content": 42}], "prompt")


def test_bad_items_fail_alone() -> None:
    assert read_item(0, "p", "c", None, False) == Item("p", "c", None)
    empty = read_item(3, "p", "  ", None, False)
    assert isinstance(empty, RewardFailure) and empty.reason == "empty_completion"
    assert "item 3" in empty.message
    wrong = read_item(4, "p", 7, None, False)
    assert isinstance(wrong, RewardFailure) and wrong.reason == "invalid_input"
    no_ref = read_item(5, "p", "c", None, True)
    assert isinstance(no_ref, RewardFailure) and "reference" in no_ref.message
    with pytest.raises(UserError, match="prompts has 2, completions has 3"):
        check_lengths(prompts=[1, 2], completions=[1, 2, 3], references=None)


def test_reward_error_names_items() -> None:
    err = RewardError([RewardFailure(2, "context_overflow", "too long")], 8)
    assert "1 of 8" in str(err) and "item 2: context_overflow" in str(err)
    assert "on_failure='none'" in str(err)


def test_query_split_and_chat_formats() -> None:
    prompt = "<|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\n"
    assert split_query(prompt + "Hello!<|im_end|>\n<|endoftext|>", prompt) == "Hello!"
    assert split_query(prompt + "x</s></s>", prompt) == "x"
    assert prompt_messages(prompt) == [{"role": "user", "content": "Hi?"}]
    llama = (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    assert prompt_messages(llama) == [{"role": "user", "content": "Hi?"}]
    assert prompt_messages("plain text") == "plain text"
    with pytest.raises(UserError, match="does not start"):
        split_query("other", prompt)


def test_async_variant_is_async_for_trl_and_pickles() -> None:
    import pickle

    from trl.trainer.utils import get_callable_name, is_async_callable

    from judge.judge import Judge
    from judge.reward import JudgeReward

    reward = JudgeReward(Judge(cache=False), mode="pointwise", name="my_judge")
    fn = reward.as_async()
    # TRL 1.16 (GRPO, RLOO, AsyncGRPO) detects async rewards by is_async_callable.
    assert is_async_callable(fn) and get_callable_name(fn) == "my_judge"
    assert inspect.iscoroutinefunction(fn.__call__)
    assert not is_async_callable(reward)
    again = pickle.loads(pickle.dumps(fn))
    assert get_callable_name(again) == "my_judge" and again.reward.mode == "pointwise"
    assert reward.__name__ == "my_judge"
    with pytest.raises(UserError, match="mode"):
        JudgeReward(Judge(cache=False), mode="listwise")  # type: ignore[arg-type]


def test_a_built_reward_refuses_a_change_its_strategy_would_not_follow() -> None:
    from judge.judge import Judge
    from judge.reward import JudgeReward

    reward = JudgeReward(Judge(cache=False), mode="pointwise")
    with pytest.raises(UserError, match=r"JudgeReward\.mode is fixed.*JudgeReward\(\.\.\., mode="):
        reward.mode = "groupwise"
    assert reward.mode == "pointwise" and reward.strategy.__class__.__name__ == "PointwiseMode"
    reward.__name__ = "renamed"  # names and the judge are not strategy settings
    assert reward.__name__ == "renamed"
