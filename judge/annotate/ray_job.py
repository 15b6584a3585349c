"""The annotation job on Ray Data: the same chunk function inside an actor pool.

The driver streams the pending pairs (after resume bookkeeping) into part files of one
chunk each, under ``<output>.ray-pending/``. Ray Data reads them (``local://``: the
read runs on the driver's node), and ``map_batches`` sends each chunk to an actor of a
fixed-size pool; every actor builds one `Judge` — one backend instance — from a
picklable recipe when it starts. Results stream back to the driver, which writes them
with the same resume and dedupe logic as the local job, so the rows are the same.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from judge.annotate.chunks import Item, Settings, batched, judge_items
from judge.annotate.sources import Record
from judge.annotate.store import Kind, OutputStore
from judge.errors import MissingDependencyError, UserError
from judge.judge import Judge, JudgeRecipe
from judge.paths import install_command


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide to run the job on Ray.

    Attributes:
        address: an existing cluster (``"auto"`` on a cluster node, or
            ``"ray://head:10001"``); None starts a local cluster, or uses the one this
            process already started with ``ray.init``.
        actors: actor pool size, one judge (one model copy) per actor.
        cpus_per_actor: CPUs reserved per actor (also its torch thread count).
        gpus_per_actor: GPUs reserved per actor (e.g. 1 for a vLLM engine per GPU).
    """

    address: str | None = None
    actors: int = 2
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0

    def __post_init__(self) -> None:
        if self.actors < 1:
            raise UserError(f"Ray actors must be at least 1, got {self.actors}")


def _item_json(item: Item) -> str:
    return json.dumps(
        {"key": item.key, "slot": item.slot, "record": asdict(item.record)}, ensure_ascii=False
    )


def _item_of(text: str) -> Item:
    data = json.loads(text)
    record = data["record"]
    record["candidates"] = tuple(record["candidates"])
    if record["gold_scores"] is not None:
        record["gold_scores"] = tuple(record["gold_scores"])
    return Item(data["key"], Record(**record), data["slot"])


class Annotator:
    """The callable class Ray Data runs in each actor: one judge, many chunks."""

    def __init__(self, recipe: JudgeRecipe, settings: Settings, threads: int) -> None:
        import torch

        torch.set_num_threads(max(1, threads))
        self.judging = settings.judging(recipe.build())
        self.settings = settings

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        """Judge one chunk; returns each line's file and JSON text."""
        lines = judge_items(self.judging, [_item_of(t) for t in batch["text"]], self.settings)
        return {
            "kind": [kind for kind, _ in lines],
            "row": [json.dumps(row, ensure_ascii=False) for _, row in lines],
        }


def _write_parts(pending: Iterable[Item], folder: Path, chunk_size: int) -> int:
    """One file per chunk, so Ray Data gets one block per chunk to spread over actors."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    count = 0
    for number, chunk in enumerate(batched(pending, chunk_size)):
        part = folder / f"part-{number:06d}.jsonl"
        part.write_text("".join(_item_json(i) + "\n" for i in chunk), encoding="utf-8")
        count += len(chunk)
    return count


def _connect(ray: Any, options: RayOptions) -> bool:
    """Join or start a cluster; True when this call started it (and must stop it)."""
    if ray.is_initialized():
        return False
    env = {k: v for k, v in os.environ.items() if k == "JUDGE_CACHE_DIR"}
    ray.init(
        address=options.address,
        include_dashboard=False,
        runtime_env={"env_vars": env} if env else None,
    )
    return True


def run_on_ray(
    pending: Iterable[Item],
    store: OutputStore,
    judge: Judge,
    settings: Settings,
    options: RayOptions,
    chunk_size: int,
    advance: Callable[[int], None],
) -> int:
    """Judge ``pending`` on a Ray actor pool and write the results as they arrive.

    Returns:
        The number of pairs judged.
    """
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise MissingDependencyError("ray", install_command("ray"), "judge annotate --ray") from exc
    recipe = judge.recipe()  # every actor loads its own model from it
    folder = store.output.with_name(store.output.name + ".ray-pending")
    count = _write_parts(pending, folder, chunk_size)
    if count == 0:
        shutil.rmtree(folder, ignore_errors=True)
        return 0
    started = _connect(ray, options)
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False  # the caller shows its own progress
        # Reading a part file is cheap; without num_cpus=0 the read tasks wait for a CPU
        # that the actor pool holds (a deadlock when actors fill the cluster).
        data = ray.data.read_text(f"local://{folder.resolve()}", num_cpus=0).map_batches(
            Annotator,
            batch_size=chunk_size,
            compute=ray.data.ActorPoolStrategy(size=options.actors),
            num_cpus=options.cpus_per_actor,
            num_gpus=options.gpus_per_actor or None,
            fn_constructor_kwargs={
                "recipe": recipe,
                "settings": settings,
                "threads": int(options.cpus_per_actor),
            },
        )
        for batch in data.iter_batches(batch_size=None, batch_format="numpy"):
            lines: list[tuple[Kind, dict[str, Any]]] = [
                (str(kind), json.loads(str(row)))  # type: ignore[misc]
                for kind, row in zip(batch["kind"], batch["row"], strict=True)
            ]
            store.append(lines)
            advance(len(lines))
    finally:
        if started:
            ray.shutdown()
        shutil.rmtree(folder, ignore_errors=True)
    return count
