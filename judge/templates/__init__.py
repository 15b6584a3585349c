"""Judge templates: rubrics (criteria) and task prompts (the judging instructions)."""

from judge.templates.template import JudgeTemplate, TemplateSpec
from judge.templates.untrusted import delimit, neutralize

__all__ = ["JudgeTemplate", "TemplateSpec", "delimit", "neutralize"]
