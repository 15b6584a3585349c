"""Judge templates: headers, declared variables, blocks, sandbox and errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from judge.errors import MissingVariableError, TemplateError, UnknownNameError, UserError
from judge.templates import JudgeTemplate
from judge.templates.resources import shipped_dir, shipped_names

HEADER = """{#---
description = "test"
verdict = "pairwise"
labels = ["A", "B"]
variables = ["rubric", "prompt", "response_a", "response_b"]
---#}
"""
BODY = """{% block system %}You are a judge.{% endblock %}
{% block user %}Criteria: {{ rubric }}
{{ prompt }}
{{ response_a }}
{{ response_b }}{% endblock %}"""
VARIABLES = {"rubric": "R", "prompt": "P", "response_a": "X", "response_b": "Y"}


# Shipped templates ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rubrics", "prompts"])
def test_shipped_names_match_files(kind: str) -> None:
    names = shipped_names(kind)  # type: ignore[arg-type]
    assert names == sorted(p.stem for p in shipped_dir(kind).glob("*.j2"))  # type: ignore[arg-type]
    assert names


def test_expected_shipped_templates_exist() -> None:
    assert {"helpfulness", "reference_correctness"} <= set(shipped_names("rubrics"))
    assert {"pairwise", "pairwise_tie", "pointwise_10", "pointwise_5"} <= set(
        shipped_names("prompts")
    )


@pytest.mark.parametrize("name", shipped_names("rubrics"))
def test_every_shipped_rubric_loads_and_renders(name: str) -> None:
    template = JudgeTemplate.shipped("rubrics", name)
    assert template.name == name
    assert template.spec.verdict == "rubric"
    assert template.spec.variables == ()
    text = template.render_text({})
    assert text.strip()
    assert "{{" not in text
    assert "{#" not in text


@pytest.mark.parametrize("name", shipped_names("prompts"))
def test_every_shipped_prompt_loads_and_renders(name: str) -> None:
    template = JudgeTemplate.shipped("prompts", name)
    assert template.spec.verdict in {"pairwise", "pointwise"}
    variables = {v: f"<<{v}>>" for v in template.spec.variables} | {"method": "logprob"}
    messages = template.render_messages(variables)
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    for v in template.spec.variables:
        if v != "method":
            assert f"<<{v}>>" in user
    if template.spec.verdict == "pointwise":
        assert template.spec.scale is not None
        low, high = template.spec.scale
        assert template.spec.score_labels == tuple(str(s) for s in range(low, high + 1))
    else:
        assert {"A", "B"} <= set(template.spec.labels)


def test_pointwise_10_scale_labels() -> None:
    spec = JudgeTemplate.shipped("prompts", "pointwise_10").spec
    assert spec.scale == (1, 10)
    assert spec.score_labels == ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10")


def test_reference_rubric_requires_reference() -> None:
    spec = JudgeTemplate.shipped("rubrics", "reference_correctness").spec
    assert spec.requires == ("reference",)


def test_unknown_shipped_name_lists_available() -> None:
    with pytest.raises(UnknownNameError) as info:
        JudgeTemplate.shipped("rubrics", "no_such_rubric")
    message = str(info.value)
    assert "no_such_rubric" in message
    for name in shipped_names("rubrics"):
        assert name in message
    assert info.value.available == shipped_names("rubrics")
    assert isinstance(info.value, UserError)


def test_unknown_shipped_prompt() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown prompt 'nope'.*pairwise_tie"):
        JudgeTemplate.shipped("prompts", "nope")


# from_string -----------------------------------------------------------------------


def test_from_string_with_header() -> None:
    template = JudgeTemplate.from_string(HEADER + BODY, name="mine")
    assert template.name == "mine"
    assert template.spec.description == "test"
    assert template.spec.verdict == "pairwise"
    assert template.spec.labels == ("A", "B")
    assert template.spec.variables == ("rubric", "prompt", "response_a", "response_b")


def test_blocks_give_system_and_user_messages() -> None:
    template = JudgeTemplate.from_string(HEADER + BODY)
    assert template.render_messages(VARIABLES) == [
        {"role": "system", "content": "You are a judge."},
        {"role": "user", "content": "Criteria: R\nP\nX\nY"},
    ]


def test_empty_system_block_is_dropped() -> None:
    body = "{% block system %}  {% endblock %}{% block user %}hi {{ x }}{% endblock %}"
    template = JudgeTemplate.from_string(body, verdict="rubric")
    assert template.render_messages({"x": "there"}) == [{"role": "user", "content": "hi there"}]


def test_no_blocks_gives_one_user_message() -> None:
    template = JudgeTemplate.from_string("Hello {{ name }}!", verdict="rubric")
    assert template.spec.variables == ("name",)
    assert template.render_messages({"name": "Ada"}) == [{"role": "user", "content": "Hello Ada!"}]
    assert template.render_text({"name": "Ada"}) == "Hello Ada!"


def test_spec_keywords_override_header() -> None:
    template = JudgeTemplate.from_string(HEADER + BODY, description="overridden")
    assert template.spec.description == "overridden"


def test_variables_default_to_those_used() -> None:
    text = '{#---\nverdict = "rubric"\noptional = ["b"]\n---#}\n{{ a }}{{ b }}{{ c }}'
    template = JudgeTemplate.from_string(text)
    assert template.spec.variables == ("a", "c")
    assert template.spec.optional == ("b",)


def test_undeclared_variable_raises() -> None:
    text = HEADER + BODY.replace("{{ response_b }}", "{{ response_b }}{{ secret }}")
    with pytest.raises(TemplateError, match="secret"):
        JudgeTemplate.from_string(text)


@pytest.mark.parametrize(
    "header",
    [
        '{#---\nverdict = "pairwise"\nlabels = ["A"]\n---#}\n',  # no B
        '{#---\nverdict = "pairwise"\nlabels = ["A", "B", "C"]\n---#}\n',  # off-menu label
        '{#---\nverdict = "pointwise"\n---#}\n',  # no scale
        '{#---\nverdict = "pointwise"\nscale = [5, 1]\n---#}\n',  # low >= high
        '{#---\nverdict = "verdict"\n---#}\n',  # unknown verdict kind
        '{#---\nverdict = "rubric"\nunknown_field = 1\n---#}\n',  # extra key
        '{#---\nverdict = "rubric\n---#}\n',  # bad TOML
        '{#---\nverdict = "rubric"\n',  # never closed
    ],
)
def test_invalid_headers_raise(header: str) -> None:
    with pytest.raises(TemplateError):
        JudgeTemplate.from_string(header + "text")


def test_missing_variable_names_it() -> None:
    template = JudgeTemplate.from_string(HEADER + BODY, name="mine")
    given = {k: v for k, v in VARIABLES.items() if k != "response_b"}
    with pytest.raises(MissingVariableError) as info:
        template.render_messages(given)
    assert info.value.missing == ["response_b"]
    assert "'response_b'" in str(info.value)
    assert "mine" in str(info.value)


def test_missing_variables_all_named() -> None:
    template = JudgeTemplate.from_string(HEADER + BODY)
    with pytest.raises(MissingVariableError) as info:
        template.render_messages({"rubric": "R"})
    assert info.value.missing == ["prompt", "response_a", "response_b"]


@pytest.mark.parametrize(
    ("source", "variables"),
    [
        ("{{ ''.__class__.__mro__ }}", {}),
        ("{{ x.__globals__ }}", {"x": lambda: None}),
        ("{{ x.__class__.__subclasses__() }}", {"x": 1}),
        ("{% block user %}{{ ''.__class__ }}{% endblock %}", {}),
    ],
)
def test_sandbox_refuses_escape(source: str, variables: dict[str, object]) -> None:
    template = JudgeTemplate.from_string(source, verdict="rubric", variables=list(variables))
    with pytest.raises(TemplateError, match="sandbox"):
        template.render_messages(variables)


def test_sandbox_refuses_mutation() -> None:
    template = JudgeTemplate.from_string("{{ items.append(1) }}", verdict="rubric")
    with pytest.raises(TemplateError):
        template.render_messages({"items": []})


def test_runtime_error_in_template_is_template_error() -> None:
    template = JudgeTemplate.from_string("{{ 1 + x }}", verdict="rubric")
    with pytest.raises(TemplateError):
        template.render_messages({"x": "a"})


def test_undefined_attribute_is_template_error() -> None:
    template = JudgeTemplate.from_string("{{ x.missing }}", verdict="rubric")
    with pytest.raises(TemplateError):
        template.render_messages({"x": "a"})


def test_syntax_error_reports_line_without_header() -> None:
    with pytest.raises(TemplateError, match=r"^t:3: .*endif"):
        JudgeTemplate.from_string("one\ntwo\n{% endif %}\n", name="t", verdict="rubric")


def test_syntax_error_reports_file_line_with_header() -> None:
    text = '{#---\nverdict = "rubric"\n---#}\none\ntwo\n{% endif %}\n'  # error on line 6
    with pytest.raises(TemplateError, match=r"^t:6: "):
        JudgeTemplate.from_string(text, name="t")


def test_syntax_error_from_file_names_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.j2"
    path.write_text("{{ unclosed", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"broken\.j2:1: "):
        JudgeTemplate.from_file(path, verdict="rubric")


def test_unreadable_file_is_template_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="cannot read"):
        JudgeTemplate.from_file(tmp_path / "absent.j2")


def test_digest_tracks_source() -> None:
    a = JudgeTemplate.from_string(HEADER + BODY)
    b = JudgeTemplate.from_string(HEADER + BODY)
    c = JudgeTemplate.from_string(HEADER + BODY + " ")
    assert a.digest == b.digest
    assert a.digest == hashlib.sha256((HEADER + BODY).encode()).hexdigest()
    assert c.digest != a.digest


def test_shipped_digest_is_file_digest() -> None:
    template = JudgeTemplate.shipped("prompts", "pairwise")
    raw = (shipped_dir("prompts") / "pairwise.j2").read_text(encoding="utf-8")
    assert template.digest == hashlib.sha256(raw.encode()).hexdigest()
