"""Tool calls, content blocks and images: what the judge reads (pure logic, no model)."""

from __future__ import annotations

import pytest

from judge.errors import UserError
from judge.reward.items import IMAGE_PLACEHOLDER, message_text, read_item

TOOL_TURNS = [
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "type": "function",
                "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
            }
        ],
    },
    {"role": "tool", "name": "get_weather", "content": "22 C"},
    {"role": "assistant", "content": "It is 22 C in Paris."},
]


def test_a_tool_call_is_rendered_not_empty() -> None:
    only_call = message_text(TOOL_TURNS[:1], "completion")
    assert only_call == '[tool call] get_weather({"city": "Paris"})'
    item = read_item(0, "Weather in Paris?", TOOL_TURNS[:1], None, False)
    assert not hasattr(item, "reason") and item.completion == only_call  # type: ignore[union-attr]


def test_a_tool_conversation_becomes_a_transcript() -> None:
    assert message_text(TOOL_TURNS, "completion") == (
        'assistant: [tool call] get_weather({"city": "Paris"})\n\n'
        "tool (get_weather): 22 C\n\nassistant: It is 22 C in Paris."
    )


def test_string_arguments_are_kept_as_given() -> None:
    call = {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [{"function": {"name": "f", "arguments": '{"x": 1}'}}],
    }
    assert message_text([call], "completion") == 'Let me check.\n[tool call] f({"x": 1})'


def test_text_blocks_are_joined() -> None:
    blocks = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Line one."},
                {"type": "text", "text": "Line two."},
            ],
        }
    ]
    assert message_text(blocks, "prompt") == "Line one.\nLine two."


def test_an_image_in_the_prompt_is_a_visible_placeholder() -> None:
    prompt = [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is shown?"}]}
    ]
    assert message_text(prompt, "prompt") == f"{IMAGE_PLACEHOLDER}\nWhat is shown?"


def test_an_image_in_the_completion_is_a_typed_failure() -> None:
    completion = [{"role": "assistant", "content": [{"type": "image_url", "image_url": "x"}]}]
    failure = read_item(3, "Draw a cat.", completion, None, False)
    assert failure.reason == "unsupported_content"  # type: ignore[union-attr]
    assert "item 3" in failure.message and "image" in failure.message  # type: ignore[union-attr]


@pytest.mark.parametrize("content", [[{"type": "audio"}], [{"type": "text", "text": 3}], 7])
def test_unreadable_content_says_where(content: object) -> None:
    with pytest.raises(UserError, match="completion message 0"):
        message_text([{"role": "assistant", "content": content}], "completion")


def test_a_tool_call_without_a_name_is_invalid() -> None:
    failure = read_item(
        0,
        "Q",
        [{"role": "assistant", "content": "", "tool_calls": [{"function": {}}]}],
        None,
        False,
    )
    assert failure.reason == "invalid_input"  # type: ignore[union-attr]
