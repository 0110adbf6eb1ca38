"""Workspaces that let a test act at one call of a run: another owner's change, another
worker taking the run over, or the process dying right after the call."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from sharepack.workspace.protocol import Workspace

if TYPE_CHECKING:
    from sharepack.runtime import Runtime


class Killed(BaseException):
    """The process died here: nothing after this point of the run happens."""


@dataclasses.dataclass
class Hook:
    """At the `nth` call of `call` (of those about the resource named `about`, when it is
    given): `before` runs first, `after` once the call returned."""

    call: str
    nth: int = 1
    before: Callable[[], None] | None = None
    after: Callable[[], None] | None = None
    about: str | None = None
    seen: int = 0

    def counts(self, args: tuple[Any, ...]) -> bool:
        return self.about is None or bool(args and getattr(args[0], "name", None) == self.about)


class _Hooked:
    def __init__(self, inner: Workspace, hook: Hook) -> None:
        self._inner = inner
        self._hook = hook

    @property
    def url(self) -> str:
        return self._inner.url

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        hook = self._hook
        if name != hook.call:
            return attribute

        def hooked(*args: Any, **kwargs: Any) -> Any:
            if not hook.counts(args):
                return attribute(*args, **kwargs)
            hook.seen += 1
            here = hook.seen == hook.nth
            if here and hook.before is not None:
                hook.before()
            result = attribute(*args, **kwargs)
            if here and hook.after is not None:
                hook.after()
            return result

        return hooked


def hooked_workspace(workspace: Workspace, hook: Hook) -> Workspace:
    """`workspace`, running `hook` at its call."""
    return cast(Workspace, _Hooked(workspace, hook))


def hooked(runtime: Runtime, hook: Hook) -> Runtime:
    """`runtime` whose workspaces run `hook` at its call."""
    make = runtime.workspace_for
    return dataclasses.replace(runtime, workspace_for=lambda url: hooked_workspace(make(url), hook))


def expire_leases(runtime: Runtime) -> None:
    """What a pause longer than the lease amounts to: every message claimable again."""
    from sqlalchemy import update

    from sharepack.store.own_tables import queue_messages

    with runtime.database.unit_of_work() as uow:
        uow.session.execute(update(queue_messages).values(visible_at=queue_messages.c.enqueued_at))
        uow.commit()
