"""Run the ``judge`` command line as if some packages were not installed.

    python -m tests.without_packages litellm,vllm compare --prompt ...

Every import system finder is wrapped so that the named top-level packages (and their
submodules) are not found, exactly as on a machine without them: ``import x`` raises
ModuleNotFoundError and ``importlib.util.find_spec("x")`` returns None.
"""

from __future__ import annotations

import sys
from typing import Any


class _Without:
    """A finder that hides some top-level packages and defers to ``inner`` otherwise."""

    def __init__(self, inner: Any, hidden: set[str]) -> None:
        self.inner, self.hidden = inner, hidden

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name.partition(".")[0] in self.hidden:
            return None
        find = getattr(self.inner, "find_spec", None)
        return find(name, path, target) if find else None

    def find_distributions(self, *args: Any, **kwargs: Any) -> Any:
        # importlib.metadata asks the finders too; the hidden ones have no metadata.
        find = getattr(self.inner, "find_distributions", None)
        found = find(*args, **kwargs) if find else ()
        return (d for d in found if d.metadata["Name"].lower() not in self.hidden)

    def invalidate_caches(self) -> None:
        if hasattr(self.inner, "invalidate_caches"):
            self.inner.invalidate_caches()


def main() -> None:
    """Hide the packages named in the first argument, then run ``judge`` on the rest."""
    hidden = set(sys.argv[1].split(","))
    sys.meta_path[:] = [_Without(finder, hidden) for finder in sys.meta_path]
    sys.argv = ["judge", *sys.argv[2:]]
    from judge.cli import main as judge_main

    judge_main()


if __name__ == "__main__":
    main()
