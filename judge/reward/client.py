"""A small client for ``judge serve`` (sync and async, over httpx).

It sends exactly what OpenRLHF's remote reward client sends (``POST`` JSON with
``query``, ``prompts``, ``labels``) and reads the same reply, so tests and load tests
exercise the real contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from judge.errors import BackendError, UserError


@dataclass(frozen=True)
class RewardReply:
    """The server's answer: rewards (None where the verdict failed) and the rest."""

    rewards: list[float | None]
    scores: list[float | None]
    extra_logs: dict[str, list[float]]
    failures: list[dict[str, Any]]


def _body(
    queries: Sequence[str], prompts: Sequence[str], labels: Sequence[str | None] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"query": list(queries), "prompts": list(prompts)}
    if labels is not None:
        body["labels"] = list(labels)
    return body


def _reply(response: httpx.Response) -> RewardReply:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        message = f"reward server answered {response.status_code}: {detail}"
        if response.status_code in (401, 400, 404, 413, 422):
            raise UserError(message)
        raise BackendError(message, retryable=response.status_code in (502, 503, 504))
    data = response.json()
    return RewardReply(data["rewards"], data["scores"], data["extra_logs"], data["failures"])


class RewardClient:
    """Synchronous client.

    Args:
        base_url: e.g. ``http://127.0.0.1:5000``.
        token: bearer token, if the server wants one.
        timeout: seconds per request.
    """

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 600.0):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def rewards(
        self,
        queries: Sequence[str],
        prompts: Sequence[str],
        labels: Sequence[str | None] | None = None,
    ) -> RewardReply:
        """POST /get_reward.

        Raises:
            UserError: a 4xx answer (its message included).
            BackendError: a 5xx answer; ``retryable`` for 502/503/504.
        """
        return _reply(self._http.post("/get_reward", json=_body(queries, prompts, labels)))

    def health(self) -> dict[str, Any]:
        """GET /health."""
        response = self._http.get("/health")
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> RewardClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncRewardClient:
    """Asynchronous client; one instance can carry many concurrent requests."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 600.0,
        max_connections: int = 100,
    ):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        limits = httpx.Limits(max_connections=max_connections)
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=headers, timeout=timeout, limits=limits
        )

    async def rewards(
        self,
        queries: Sequence[str],
        prompts: Sequence[str],
        labels: Sequence[str | None] | None = None,
    ) -> RewardReply:
        """POST /get_reward (see `RewardClient.rewards`)."""
        response = await self._http.post("/get_reward", json=_body(queries, prompts, labels))
        return _reply(response)

    async def health(self) -> dict[str, Any]:
        """GET /health."""
        response = await self._http.get("/health")
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncRewardClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
