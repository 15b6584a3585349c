"""The judgment cache: a diskcache store shared safely by several processes.

The key covers everything that can change a backend's output — backend kind, model
id and revision, rendered messages, template digest, method, labels or schema,
sampling parameters — plus a format version. Timeouts, retries, concurrency and API
keys are not part of it, and no secret is ever stored. Only outputs that parsed into a
verdict are stored: a failure is never cached as a result. Values are JSON text, not
pickles.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from judge.errors import UserError
from judge.paths import judgments_dir

CACHE_FORMAT = 1


def cache_key(fingerprint: Mapping[str, str], request: Mapping[str, Any]) -> str:
    """SHA-256 over the backend fingerprint, the request and the cache format version."""
    blob = json.dumps(
        {"format": CACHE_FORMAT, "backend": dict(fingerprint), "request": dict(request)},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class JudgmentCache:
    """Persistent store of backend outputs, keyed by `cache_key`.

    Args:
        directory: where the store lives; defaults to ``$JUDGE_CACHE_DIR/judgments``
            (else the XDG cache directory).
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory else judgments_dir()
        self._store: Any = None

    def _open(self) -> Any:
        if self._store is None:
            import diskcache

            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                self._store = diskcache.Cache(str(self.directory))
            except OSError as exc:
                raise UserError(
                    f"cannot open the judgment cache at {self.directory}: "
                    f"{exc.strerror or exc}; point JUDGE_CACHE_DIR at a writable directory, "
                    "or run without the cache (--no-cache, Judge(cache=False))"
                ) from exc
        return self._store

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored payload for ``key``, or None."""
        raw = self._open().get(key)
        return None if raw is None else dict(json.loads(raw))

    def set(self, key: str, payload: Mapping[str, Any]) -> None:
        """Store ``payload`` (JSON-serializable) under ``key``."""
        self._open().set(key, json.dumps(payload, ensure_ascii=False))

    def __len__(self) -> int:
        return len(self._open())

    def clear(self) -> int:
        """Remove every entry; returns how many were removed."""
        return int(self._open().clear())

    def close(self) -> None:
        """Close the underlying store (it reopens on next use)."""
        if self._store is not None:
            self._store.close()
            self._store = None


class NoCache(JudgmentCache):
    """A cache that stores nothing (``cache=False``, ``--no-cache``)."""

    def __init__(self) -> None:
        super().__init__(directory=".")

    def get(self, key: str) -> dict[str, Any] | None:
        """Always a miss."""
        return None

    def set(self, key: str, payload: Mapping[str, Any]) -> None:
        """Stores nothing."""

    def __len__(self) -> int:
        return 0

    def clear(self) -> int:
        """Nothing to clear."""
        return 0
