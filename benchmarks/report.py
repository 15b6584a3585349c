"""Write a benchmark's section into benchmarks/RESULTS.md, with command, machine and date."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    """CPU model, core count and memory of this machine, as one line."""
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = re.findall(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = names[0].strip() if names else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(re.findall(r"MemTotal:\s*(\d+)", meminfo.read_text())[0])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    return f"{cpu}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section ``name`` of RESULTS.md with ``body``."""
    command = " ".join(shlex.quote(a) for a in ["python", *sys.argv])
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"<!-- {name}:begin -->\n{body.strip()}\n\n"
        f"Command: `{command}`  \nMachine: {machine()}  \nDate: {stamp}\n"
        f"<!-- {name}:end -->"
    )
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"<!-- {name}:begin -->.*?<!-- {name}:end -->", re.S)
    text = (
        pattern.sub(lambda _: section, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + section + "\n"
    )
    RESULTS.write_text(text)


def publish_rounds(
    name: str, lines: list[str], seconds: Mapping[str, Sequence[float]], *, write: bool
) -> None:
    """Print a table of interleaved rounds with every round's seconds, and write it.

    Args:
        name: the RESULTS.md section.
        lines: the section's heading, text and table.
        seconds: each setting's seconds, round by round.
        write: also write the section (False: print only).
    """
    rounds = "; ".join(f"{k}: " + ", ".join(f"{t:.1f}" for t in ts) for k, ts in seconds.items())
    body = "\n".join([*lines, "", f"Rounds' seconds: {rounds}."])
    print(body)
    if write:
        write_section(name, body)
