"""A workspace whose every call first asks a guard: a holder that lost its claim on a run
stops before its next call instead of acting beside the worker that took the run over."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sharepack.workspace.protocol import Workspace

Guard = Callable[[], None]


class _Guarded:
    def __init__(self, inner: Workspace, guard: Guard) -> None:
        self._inner = inner
        self._guard = guard

    @property
    def url(self) -> str:
        return self._inner.url

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def guarded(*args: Any, **kwargs: Any) -> Any:
            self._guard()  # raises when the holder may no longer act
            return attribute(*args, **kwargs)

        return guarded


def guarded(workspace: Workspace, guard: Guard) -> Workspace:
    """`workspace`, with `guard()` called before each of its methods."""
    return cast(Workspace, _Guarded(workspace, guard))
