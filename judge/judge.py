"""`Judge`: the Python entry point. Compare two responses, or score one.

Every other entry point (the CLI, reward adapters, annotation jobs, benchmarks) goes
through this class, so the engine's steps exist once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from judge.backends.base import Backend
from judge.backends.registry import load_backend
from judge.cache import JudgmentCache, NoCache
from judge.calibration import Calibrator
from judge.engine.executor import Outcome, Progress, Steps, execute, run_async, run_sync
from judge.engine.fit import OnOverflow
from judge.engine.tasks import (
    PAIRWISE,
    POINTWISE,
    InputT,
    Plan,
    PlanT,
    ResultT,
    Setup,
    TaskKind,
    TaskName,
)
from judge.errors import TemplateError, UserError, describe_validation
from judge.inputs import PairInput, PointInput
from judge.templates import JudgeTemplate
from judge.verdicts import (
    Method,
    PairwiseResult,
    PairwiseVerdict,
    PointwiseResult,
    SwapMode,
    Usage,
)

RESERVED_VARIABLES = ("rubric", "method")  # filled in by the engine, never by an item
DEFAULT_RUBRIC = "helpfulness"  # the shipped rubric a `Judge` judges by unless told


class JudgeConfig(BaseModel):
    """Validated settings of a `Judge`; an unknown or mistyped setting is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Method = "logprob"
    swap: SwapMode = "both"
    seed: int = Field(default=0, ge=0)
    on_overflow: OnOverflow = "fail"
    max_new_tokens: int = Field(default=400, gt=0)
    temperature: float = Field(default=0.0, ge=0.0)
    allow_fallback: bool = False
    batch_size: int | None = Field(default=None, gt=0)
    calibration: Calibrator | None = None

    @field_validator("calibration", mode="before")
    @classmethod
    def _load_calibration(cls, value: Any) -> Any:
        return Calibrator.load(value) if isinstance(value, str | Path) else value


_DEFAULT = JudgeConfig()  # the one source of every setting's default (the CLI reads it too)


@dataclass(frozen=True)
class JudgeRecipe:
    """What rebuilds a `Judge` elsewhere (a Ray actor, a worker process): never a loaded model.

    Attributes:
        model: the ``backend/model`` string, or None for the embedded judge.
        rubric: the rubric template (its text travels with it).
        templates: the task template of each task.
        config: every setting.
        backend_options: the backend factory's options.
        cache: the cache directory, or None for no cache.
    """

    model: str | None
    rubric: JudgeTemplate
    templates: Mapping[str, JudgeTemplate]
    config: JudgeConfig
    backend_options: Mapping[str, Any] = field(default_factory=dict)
    cache: str | None = None

    def build(self) -> Judge:
        """A fresh `Judge`; its backend loads on first use."""
        judge = Judge(
            self.model,
            rubric=self.rubric,
            cache=self.cache if self.cache is not None else False,
            backend_options=self.backend_options or None,
            **self.config.model_dump(exclude={"calibration"}),
            calibration=self.config.calibration,
        )
        judge._templates.update(self.templates)
        return judge


def _template(value: str | JudgeTemplate, kind: Literal["rubrics", "prompts"]) -> JudgeTemplate:
    return value if isinstance(value, JudgeTemplate) else JudgeTemplate.shipped(kind, value)


class Judge:
    """An LLM judge: pairwise comparisons and pointwise scores with typed verdicts.

    Args:
        model: a `Backend`, a ``backend/model`` string, or None for the embedded
            SmolLM2 judge. The backend is loaded on first use.
        rubric: a shipped rubric name (see ``judge rubrics``) or a `JudgeTemplate`.
        template: a task template (shipped name or `JudgeTemplate`) for the task it
            declares; the other task keeps its default. Defaults: ``pairwise`` and
            ``pointwise_10``, or their ``_reference`` variants when the rubric needs
            a reference.
        method: ``"logprob"`` (probabilities of the verdict tokens, one forward pass)
            or ``"generate"`` (rationale then verdict, schema-constrained).
        swap: position debiasing for pairs: ``"both"``, ``"random"`` or ``"none"``.
        seed: seeds the order chosen by ``swap="random"``.
        cache: True for the default cache directory, False for none, a directory, or
            a `JudgmentCache`.
        backend_options: passed to the backend factory when ``model`` is a string,
            e.g. ``{"api_base": "http://127.0.0.1:8000/v1", "concurrency": 32}``.
        on_overflow: ``"fail"`` (typed failure) or ``"truncate"`` (recorded) when a
            prompt exceeds the model's context.
        max_new_tokens: generation budget for the generate method.
        temperature: sampling temperature for the generate method (0 = greedy).
        allow_fallback: if the backend cannot read log-probabilities, use the generate
            method instead of raising; verdicts record the method used.
        batch_size: requests per backend batch (default: the backend's).
        calibration: a `Calibrator` or the path of one saved by ``judge bench
            --fit-calibration``; pairwise verdicts then carry the calibrated P(A ≻ B) as
            ``prob_a`` (and the judge's own as ``raw_prob_a``), and so do rewards and
            annotation margins built from them.

    Raises:
        UserError: an invalid setting, unknown rubric or template.
    """

    def __init__(
        self,
        model: str | Backend | None = None,
        *,
        rubric: str | JudgeTemplate = DEFAULT_RUBRIC,
        template: str | JudgeTemplate | None = None,
        cache: bool | str | Path | JudgmentCache = True,
        backend_options: Mapping[str, Any] | None = None,
        method: Method = _DEFAULT.method,
        swap: SwapMode = _DEFAULT.swap,
        seed: int = _DEFAULT.seed,
        on_overflow: OnOverflow = _DEFAULT.on_overflow,
        max_new_tokens: int = _DEFAULT.max_new_tokens,
        temperature: float = _DEFAULT.temperature,
        allow_fallback: bool = _DEFAULT.allow_fallback,
        batch_size: int | None = _DEFAULT.batch_size,
        calibration: Calibrator | str | Path | None = None,
    ) -> None:
        try:
            self.config = JudgeConfig(
                method=method,
                swap=swap,
                seed=seed,
                on_overflow=on_overflow,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                allow_fallback=allow_fallback,
                batch_size=batch_size,
                calibration=calibration,
            )  # a path is loaded by the validator
        except ValidationError as exc:
            fields = sorted(JudgeConfig.model_fields)
            raise UserError(f"invalid Judge settings: {describe_validation(exc, fields)}") from exc
        self._model = model
        self._backend_options = dict(backend_options or {})
        if isinstance(model, Backend) and self._backend_options:
            raise UserError("backend_options apply to a model string; this backend is built")
        self._backend: Backend | None = model if isinstance(model, Backend) else None
        self.rubric = _template(rubric, "rubrics")
        if self.rubric.spec.verdict != "rubric":
            raise TemplateError(
                f"{self.rubric.name} is a {self.rubric.spec.verdict} template, not a rubric"
            )
        self._templates = self._default_templates()
        if template is not None:
            chosen = _template(template, "prompts")
            if chosen.spec.verdict == "rubric":
                raise TemplateError(f"{chosen.name} is a rubric; pass it as rubric=")
            self._templates[chosen.spec.verdict] = chosen
        self.cache = self._open_cache(cache)
        self.usage = Usage()
        """Tokens and cost spent by this judge so far (cache hits are free)."""

    def _default_templates(self) -> dict[str, JudgeTemplate]:
        suffix = "_reference" if "reference" in self.rubric.spec.requires else ""
        return {
            "pairwise": JudgeTemplate.shipped("prompts", f"pairwise{suffix}"),
            "pointwise": JudgeTemplate.shipped("prompts", f"pointwise{suffix or '_10'}"),
        }

    @staticmethod
    def _open_cache(cache: bool | str | Path | JudgmentCache) -> JudgmentCache:
        if isinstance(cache, JudgmentCache):
            return cache
        if cache is True:
            return JudgmentCache()
        if cache is False:
            return NoCache()
        return JudgmentCache(cache)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the settings, not a loaded backend: it is built again on first use.

        This is what lets a reward built on this judge cross into a spawned worker
        (TRL's ``AsyncGRPOTrainer`` pickles its reward functions).

        Raises:
            TypeError: the judge was given a built `Backend` object, which another
                process cannot rebuild; pass a ``backend/model`` string instead.
        """
        if isinstance(self._model, Backend):
            raise TypeError(
                f"a Judge built on a Backend object ({self._model.name!r}) does "
                "not pickle; build it from a 'backend/model' string (it is loaded "
                "again in the other process), or serve it with `judge serve`"
            )
        return {**self.__dict__, "_backend": None}

    @property
    def model(self) -> str | Backend | None:
        """The model as given: a ``backend/model`` string, a built `Backend`, or None."""
        return self._model

    @property
    def backend_options(self) -> dict[str, Any]:
        """A copy of the options the backend factory is given."""
        return dict(self._backend_options)

    def recipe(self) -> JudgeRecipe:
        """What rebuilds this judge elsewhere (`JudgeRecipe.build`), without its model.

        Raises:
            UserError: the judge wraps a built `Backend`, which another process cannot
                rebuild; give a ``backend/model`` string instead.
        """
        if isinstance(self._model, Backend):
            raise UserError(
                f"a judge built on a Backend object ({self._model.name!r}) cannot "
                "be rebuilt elsewhere; give a 'backend/model' string instead"
            )
        cache = None if isinstance(self.cache, NoCache) else str(self.cache.directory)
        return JudgeRecipe(
            self._model,
            self.rubric,
            dict(self._templates),
            self.config,
            dict(self._backend_options),
            cache,
        )

    @property
    def backend(self) -> Backend:
        """The backend, loaded on first use."""
        if self._backend is None:
            options = dict(self._backend_options)
            if self.config.batch_size:
                options.setdefault("batch_size", self.config.batch_size)
            self._backend = load_backend(self._model, **options)
        return self._backend

    def template(self, task: TaskName) -> JudgeTemplate:
        """The task template used for ``task``."""
        return self._templates[task]

    def with_settings(self, **settings: Any) -> Judge:
        """A judge sharing this one's backend, rubric, templates and cache; some settings changed.

        Protocols in `judge.protocols` build their steps this way; ``rubric=`` gives a
        judge of another rubric on the same model (a panel of rubrics, see `with_backend`).

        Raises:
            UserError: an invalid setting, or an unknown rubric.
        """
        other = self.with_backend(self.backend, **settings)
        other._model = self._model  # still pickles from the model string
        return other

    def with_backend(self, backend: Backend, **settings: Any) -> Judge:
        """A judge like this one (rubric, templates, cache, settings) judging through ``backend``.

        For a backend built around the same model by other means, e.g. a
        `judge.backends.router.RoutedBackend` over several endpoints. Like any judge
        given a built `Backend`, the new one does not pickle.

        Args:
            backend: the backend to judge through.
            **settings: settings to change, as `Judge` takes them; ``rubric`` among them
                changes the rubric, and with it the task templates that were this
                judge's defaults (a template chosen with ``template=`` is kept).

        Raises:
            UserError: an invalid setting, an unknown rubric, or another rubric on a
                calibrated judge without a ``calibration`` of its own.
        """
        rubric = settings.pop("rubric", self.rubric)
        other = Judge(
            backend,
            rubric=rubric,
            cache=self.cache,
            **({k: getattr(self.config, k) for k in JudgeConfig.model_fields} | settings),
        )
        inherited = self.config.calibration and "calibration" not in settings
        if inherited and other.rubric.source != self.rubric.source:
            raise UserError(
                "a calibrator is fitted on one rubric's verdicts; a judge of another rubric "
                "cannot share it (pass calibration= for it, or judge without --calibration)"
            )
        defaults = self._default_templates()
        chosen = {
            task: t
            for task, t in self._templates.items()
            if (t.name, t.source) != (defaults[task].name, defaults[task].source)
        }
        other._templates |= chosen
        return other

    def setup(self, task: TaskName) -> Setup:
        """Resolve the method against the backend's capabilities and fix the run settings.

        Raises:
            UserError: the backend cannot do the method and fallback was not allowed,
                or the template cannot show an input the rubric requires.
        """
        template = self._templates[task]
        missing = [
            v
            for v in self.rubric.spec.requires
            if v not in template.spec.variables + template.spec.optional
        ]
        if missing:
            raise TemplateError(
                f"rubric {self.rubric.name!r} needs {', '.join(missing)} but "
                f"template {template.name!r} does not show it"
            )
        c = self.config
        return Setup(
            self.backend,
            template,
            self.rubric,
            self._method(),
            c.swap,
            c.seed,
            c.on_overflow,
            c.max_new_tokens,
            c.temperature,
        )

    def _method(self) -> Method:
        can = self.backend.capabilities
        wanted = self.config.method
        if wanted == "logprob" and not can.logprobs:
            if self.config.allow_fallback and can.structured:
                return "generate"
            raise UserError(
                f"backend {self.backend.name!r} cannot read log-probabilities; "
                "use method='generate' or allow_fallback=True"
            )
        if wanted == "generate" and not can.structured:
            raise UserError(
                f"backend {self.backend.name!r} cannot constrain generation; use method='logprob'"
            )
        return wanted

    def _check_extras(self, template: JudgeTemplate, extra: Mapping[str, str]) -> None:
        reserved = sorted(set(extra) & set(RESERVED_VARIABLES))
        if reserved:
            raise UserError(
                f"{', '.join(map(repr, reserved))} is set by the judge, not per "
                "item: choose the rubric with rubric= and the method with method="
            )
        known = set(template.spec.variables) | set(template.spec.optional)
        unknown = sorted(set(extra) - known)
        if unknown:
            raise UserError(
                f"template {template.name!r} has no variable "
                f"{', '.join(map(repr, unknown))}; it takes {', '.join(sorted(known))}"
            )

    # Pairwise ---------------------------------------------------------------------

    def compare(
        self, prompt: str, response_a: str, response_b: str, **extra: str
    ) -> PairwiseResult:
        """Judge which of two responses to ``prompt`` is better.

        Args:
            prompt: the user prompt.
            response_a: the first response.
            response_b: the second response.
            **extra: further template variables, e.g. ``reference``.

        Returns:
            A `PairwiseVerdict`, or a `JudgmentFailure` saying why there is none.
        """
        return self.compare_batch([PairInput(prompt, response_a, response_b, extra)])[0]

    def compare_batch(
        self, items: Iterable[PairInput | Mapping[str, Any]], *, progress: Progress | None = None
    ) -> list[PairwiseResult]:
        """Judge many pairs in batches; results are in input order.

        Args:
            items: `PairInput` objects or mappings with prompt, response_a, response_b.
            progress: called as ``progress(done, total)`` in backend calls.
        """
        return self._run(PAIRWISE, items, progress)

    async def acompare(
        self, prompt: str, response_a: str, response_b: str, **extra: str
    ) -> PairwiseResult:
        """Async `compare`."""
        return (await self.acompare_batch([PairInput(prompt, response_a, response_b, extra)]))[0]

    async def acompare_batch(
        self, items: Iterable[PairInput | Mapping[str, Any]], *, progress: Progress | None = None
    ) -> list[PairwiseResult]:
        """Async `compare_batch`."""
        return await self._arun(PAIRWISE, items, progress)

    # Pointwise --------------------------------------------------------------------

    def score(self, prompt: str, response: str, **extra: str) -> PointwiseResult:
        """Score one response to ``prompt`` on the pointwise template's scale.

        Returns:
            A `PointwiseVerdict`, or a `JudgmentFailure` saying why there is none.
        """
        return self.score_batch([PointInput(prompt, response, extra)])[0]

    def score_batch(
        self, items: Iterable[PointInput | Mapping[str, Any]], *, progress: Progress | None = None
    ) -> list[PointwiseResult]:
        """Score many responses in batches; results are in input order."""
        return self._run(POINTWISE, items, progress)

    async def ascore(self, prompt: str, response: str, **extra: str) -> PointwiseResult:
        """Async `score`."""
        return (await self.ascore_batch([PointInput(prompt, response, extra)]))[0]

    async def ascore_batch(
        self, items: Iterable[PointInput | Mapping[str, Any]], *, progress: Progress | None = None
    ) -> list[PointwiseResult]:
        """Async `score_batch`."""
        return await self._arun(POINTWISE, items, progress)

    # Shared -----------------------------------------------------------------------

    def _plan(
        self, kind: TaskKind[InputT, PlanT, ResultT], items: Iterable[Any]
    ) -> tuple[Setup, list[PlanT]]:
        inputs = [kind.convert(item) for item in items]
        for item in inputs:
            self._check_extras(self._templates[kind.name], item.extra)
        setup = self.setup(kind.name)
        return setup, [kind.plan(setup, item) for item in inputs]

    def _run(
        self,
        kind: TaskKind[InputT, PlanT, ResultT],
        items: Iterable[Any],
        progress: Progress | None,
    ) -> list[ResultT]:
        setup, plans = self._plan(kind, items)
        outcomes = run_sync(self._steps(plans, progress), setup.backend)
        return self._finish(kind, setup, plans, outcomes)

    async def _arun(
        self,
        kind: TaskKind[InputT, PlanT, ResultT],
        items: Iterable[Any],
        progress: Progress | None,
    ) -> list[ResultT]:
        setup, plans = self._plan(kind, items)
        outcomes = await run_async(self._steps(plans, progress), setup.backend)
        return self._finish(kind, setup, plans, outcomes)

    def _finish(
        self,
        kind: TaskKind[InputT, PlanT, ResultT],
        setup: Setup,
        plans: list[PlanT],
        outcomes: Mapping[str, Outcome],
    ) -> list[ResultT]:
        for outcome in outcomes.values():
            if outcome.usage is not None:
                self.usage += outcome.usage
        return [self._calibrated(kind.finish(setup, plan, outcomes)) for plan in plans]

    def _calibrated(self, result: ResultT) -> ResultT:
        calibrator = self.config.calibration
        if calibrator is None or not isinstance(result, PairwiseVerdict):
            return result
        return result.model_copy(
            update={"prob_a": calibrator.apply(result.prob_a), "raw_prob_a": result.prob_a}
        )

    def _steps(self, plans: Sequence[Plan], progress: Progress | None) -> Steps:
        calls = [call for plan in plans for call in plan.calls]
        # A backend that reuses shared prefixes across requests asks for larger chunks.
        chunk = max(self.config.batch_size or self.backend.batch_size, self.backend.chunk_size or 0)
        return execute(calls, self.cache, chunk, progress)
