"""A fault-injecting OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

Every request gets one `Reply`. Which one is decided in this order: the queue of a
*plan* whose key appears in the request's messages (`FaultServer.plan`, so concurrent
requests for different items get their own faults whatever order they arrive in), then
the shared ``script`` queue, then ``default``. A reply is a correct answer, an HTTP
error, a delay (a hang past the client's timeout), an undecodable or truncated body, a
verdict that breaks the schema, or a connection reset; the factories below build each
one, and `FAULTS` names them for tables.

A correct answer comes from an oracle that reads the judged texts out of the prompt's
``<response_a>`` / ``<response_b>`` tags: the response containing `MARK` wins (the one
shown first when neither or both do); a pointwise ``<response>`` scores high with it.
Logprob requests (``logprobs: true``) get the label tokens among their
``top_logprobs``; generate requests (a JSON-schema ``response_format``) get a verdict
JSON that satisfies the schema they sent.

Run it standalone with ``python -m tests.faults.server --port 8123 --fault rate_limited``.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

MARK = "RIGHT"
"""The oracle prefers the response that contains this word."""

WIN_LOGPROB, LOSE_LOGPROB = -0.05, -3.0
TOP_K = 20  # what the litellm backend asks for by default
Action = Literal["respond", "reset", "truncate"]


def completion(
    top: list[tuple[str, float]] | None = None,
    content: str = "A",
    finish: str = "length",
    k: int = TOP_K,
) -> dict[str, Any]:
    """An OpenAI chat-completion body; ``top`` are the first token's top_logprobs.

    ``top`` is padded with filler tokens to ``k`` alternatives, as a provider returns.
    """
    choice: dict[str, Any] = {
        "index": 0,
        "finish_reason": finish,
        "message": {"role": "assistant", "content": content},
    }
    if top is not None:
        fillers = [(f"<filler{i}>", -30.0 - i) for i in range(k - len(top))]
        alts = [{"token": t, "logprob": lp, "bytes": None} for t, lp in top + fillers]
        choice["logprobs"] = {
            "content": [
                {"token": top[0][0], "logprob": top[0][1], "bytes": None, "top_logprobs": alts}
            ]
        }
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "test-model",
        "choices": [choice],
        "usage": {"prompt_tokens": 50, "completion_tokens": 1, "total_tokens": 51},
    }


def _tag(text: str, name: str) -> str:
    match = re.search(rf"<{name}>\n(.*?)\n</{name}>", text, flags=re.DOTALL)
    return match.group(1) if match else ""


def oracle_label(request: dict[str, Any]) -> str:
    """ "A" or "B": the shown position whose response contains `MARK` (A if neither or both)."""
    user = _user_text(request)
    first, second = (MARK in _tag(user, "response_a")), (MARK in _tag(user, "response_b"))
    return "B" if second and not first else "A"


def _user_text(request: dict[str, Any]) -> str:
    return str(request.get("messages", [{}])[-1].get("content", ""))


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """The oracle's correct completion body for ``request`` (logprob or generate).

    Pairwise: the label of the response holding `MARK`. Pointwise (a ``<response>``
    tag): a high score for a response holding `MARK`, a low one otherwise (4 or 2 by
    log-probability; the top or bottom of the offered scale when generating).
    """
    pointwise = "<response>" in _user_text(request)
    good = MARK in _tag(_user_text(request), "response")
    fmt = request.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        properties = fmt["json_schema"]["schema"]["properties"]
        verdict: dict[str, Any] = {"rationale": "judged."}
        if "winner" in properties:
            verdict["winner"] = oracle_label(request)
        else:
            scale = properties["score"]["enum"]
            verdict["score"] = max(scale) if good else min(scale)
        return completion(None, content=json.dumps(verdict), finish="stop")
    if pointwise:
        win, lose = ("4", "2") if good else ("2", "4")
    else:
        win = oracle_label(request)
        lose = "B" if win == "A" else "A"
    top = [(win, WIN_LOGPROB), (lose, LOSE_LOGPROB), ("tie", -4.0), ("The", -5.0)]
    return completion(top, k=int(request.get("top_logprobs") or TOP_K))


@dataclass
class Reply:
    """One scripted answer.

    Attributes:
        name: the fault's name, recorded with the request.
        status: HTTP status.
        body: a JSON-able body, raw bytes, or None for the oracle's correct answer.
        headers: extra response headers.
        delay: seconds to wait before answering (a hang, when past the client timeout).
        action: ``"respond"``, ``"reset"`` (close the socket with a TCP RST, no reply)
            or ``"truncate"`` (announce the whole body, send half, close).
    """

    name: str = "ok"
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    action: Action = "respond"


def ok(delay: float = 0.0) -> Reply:
    """The oracle's correct answer."""
    return Reply("ok", delay=delay)


def error_reply(
    status: int,
    headers: dict[str, str] | None = None,
    message: str | None = None,
    name: str | None = None,
) -> Reply:
    """An OpenAI-shaped error body with ``status``."""
    body = {"error": {"message": message or f"scripted {status}", "type": "test"}}
    return Reply(name or f"http_{status}", status=status, headers=headers or {}, body=body)


def rate_limited(retry_after: str = "1") -> Reply:
    """429 with ``Retry-After``."""
    return error_reply(429, {"Retry-After": retry_after}, "Rate limit reached", "rate_limited")


def server_error(status: int = 500) -> Reply:
    """A 5xx server error."""
    return error_reply(status, name="server_error")


def hang(seconds: float = 30.0) -> Reply:
    """No answer for ``seconds`` (past the client's timeout), then a correct one."""
    return Reply("hang", delay=seconds)


def malformed_json() -> Reply:
    """200 with a body that is not JSON."""
    return Reply("malformed_json", body=b'{"choices": [ {nope')


def truncated_body() -> Reply:
    """200 announcing a full correct body, of which only half arrives."""
    return Reply("truncated_body", action="truncate")


def connection_reset() -> Reply:
    """The connection is reset (TCP RST) before any reply."""
    return Reply("connection_reset", action="reset")


def schema_violation() -> Reply:
    """200 with a verdict JSON missing its required field (a parse failure)."""
    return Reply("schema_violation", body=completion(None, '{"verdict": "A"}', finish="stop"))


def off_menu_verdict() -> Reply:
    """200 with a verdict naming a label that was not offered."""
    text = '{"rationale": "neither", "winner": "C"}'
    return Reply("off_menu_verdict", body=completion(None, text, finish="stop"))


def no_label_tokens() -> Reply:
    """200 whose top_logprobs contain no verdict label."""
    return Reply("no_label_tokens", body=completion([("The", -0.3), ("I", -1.2)]))


def context_overflow() -> Reply:
    """400 with the error OpenAI (and vLLM) send for a prompt longer than the context."""
    message = (
        "This model's maximum context length is 2048 tokens. However, your messages "
        "resulted in 5120 tokens. Please reduce the length of the messages."
    )
    reply = error_reply(400, message=message, name="context_overflow")
    reply.body["error"].update(type="invalid_request_error", code="context_length_exceeded")
    return reply


FAULTS: dict[str, Callable[[], Reply]] = {
    "rate_limited": rate_limited,
    "server_error": server_error,
    "hang": hang,
    "malformed_json": malformed_json,
    "truncated_body": truncated_body,
    "connection_reset": connection_reset,
    "schema_violation": schema_violation,
    "off_menu_verdict": off_menu_verdict,
    "no_label_tokens": no_label_tokens,
    "context_overflow": context_overflow,
}
"""Every fault by name (each factory with its default arguments)."""


@dataclass
class Seen:
    """A request as the server received it, and the reply it was given."""

    at: float
    body: dict[str, Any]
    headers: dict[str, str]
    reply: str = ""


class FaultServer:
    """The server's state and thread; use as a context manager.

    Attributes:
        script: replies for the next requests not matched by a plan, in order.
        default: the reply once the script is used up.
        seen: every request received, in arrival order.
        peak: the most requests handled at once.
    """

    def __init__(self, port: int = 0) -> None:
        self.script: deque[Reply] = deque()
        self.default = ok()
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.peak = 0
        self._plans: dict[str, deque[Reply]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._http = _Listener(("127.0.0.1", port), _handler_for(self))
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._http.server_address[1])

    @property
    def api_base(self) -> str:
        """The base URL to give a client (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def plan(self, key: str, *replies: Reply) -> None:
        """Answer the next requests whose messages contain ``key`` with ``replies``, in order."""
        with self._lock:
            self._plans.setdefault(key, deque()).extend(replies)

    def clear(self) -> None:
        """Drop every planned and scripted reply (requests get ``default`` from now on)."""
        with self._lock:
            self._plans.clear()
            self.script.clear()

    def requests_for(self, key: str) -> list[Seen]:
        """The requests received whose messages contain ``key``."""
        with self._lock:
            return [s for s in self.seen if key in _text_of(s.body)]

    def _take(self, seen: Seen) -> Reply:
        with self._lock:
            text = _text_of(seen.body)
            queue = next((q for key, q in self._plans.items() if q and key in text), None)
            if queue is not None:
                reply = queue.popleft()
            else:
                reply = self.script.popleft() if self.script else self.default
            seen.reply = reply.name
            self.seen.append(seen)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            return reply

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, waking early when the server stops."""
        self._stopping.wait(seconds)

    def start(self) -> FaultServer:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wake every hanging handler."""
        self._stopping.set()
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Listener(ThreadingHTTPServer):
    # The default backlog of 5 overflows when many clients connect while the CPU is
    # busy; a dropped connection would cost the client an attempt this server never saw.
    request_queue_size = 1024
    daemon_threads = True  # a hanging handler never blocks teardown


def _text_of(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content", "")) for m in body.get("messages", []))


def _handler_for(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real providers do

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # /v1/models, for clients that probe
            self._send(200, json.dumps({"object": "list", "data": []}).encode(), {})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server._take(Seen(time.monotonic(), body, headers))
            try:
                server.wait(reply.delay)
                if reply.action == "reset":
                    self._reset()
                    return
                data = (
                    reply.body
                    if isinstance(reply.body, bytes)
                    else json.dumps(answer(body) if reply.body is None else reply.body).encode()
                )
                if reply.action == "truncate":
                    self._send(reply.status, data[: len(data) // 2], reply.headers, len(data))
                    self.close_connection = True
                    return
                self._send(reply.status, data, reply.headers)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)
            finally:
                server._done()

        def _send(
            self, status: int, data: bytes, headers: dict[str, str], length: int | None = None
        ) -> None:
            self.send_response(status)
            for name, value in {"content-type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data) if length is None else length))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        def _reset(self) -> None:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

    return Handler


def main() -> None:
    """Serve until interrupted, answering every request with one named fault (or ok)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--fault", choices=["ok", *FAULTS], default="ok")
    args = parser.parse_args()
    with FaultServer(args.port) as server:
        server.default = ok() if args.fault == "ok" else FAULTS[args.fault]()
        print(f"serving {args.fault} on {server.api_base}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
