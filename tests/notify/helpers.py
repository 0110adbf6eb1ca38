"""Helpers for the notification tests: a notice, the outbox, and driving the dispatcher."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from sharepack.notify.events import Notice, NotificationEvent
from sharepack.notify.outbox import NotificationDispatcher, queue_notice
from sharepack.settings import Settings
from sharepack.store import Database
from sharepack.store.logs import NotificationEntry


def make_notice(event: NotificationEvent = NotificationEvent.COMPLETED, **values: Any) -> Notice:
    """A notice about a pack of project `atlas`, to two addresses, with its plan summary."""
    defaults: dict[str, Any] = {
        "event": event,
        "share_pack_id": uuid.uuid4(),
        "share_pack_name": "acme-sales",
        "project_name": "atlas",
        "business_line": "retail",
        "workspace_url": "https://adb-1.example.net",
        "requestor": "ana@example.com",
        "to": ("ana@example.com", "ops@example.com"),
        "summary": ("+ create recipient acme", "+ create share sales"),
        "detail": "",
        "next_step": "",
        "actor": None,
    }
    return Notice(**{**defaults, **values})


def queue_and_commit(database: Database, notice: Notice, settings: Settings) -> int:
    """Queue `notice` in a transaction of its own, committed."""
    with database.unit_of_work() as uow:
        written = queue_notice(uow, notice, settings, database=database)
        uow.commit()
    return written


def attempts(database: Database, notice: Notice) -> list[NotificationEntry]:
    """The attempts recorded about `notice`'s pack, oldest first."""
    with database.reading() as uow:
        return uow.notifications.for_pack(notice.share_pack_id)


def dispatch_until(
    dispatcher: NotificationDispatcher,
    done: Callable[[], bool],
    *,
    seconds: float = 20.0,
) -> None:
    """Run the dispatcher until `done()`; fail if it is not done within `seconds`."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"not done within {seconds} s"
        if not dispatcher.run_once():
            time.sleep(0.005)  # nothing visible yet: a retry's delay is running
