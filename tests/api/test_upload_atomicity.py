"""An upload writes its `share_packs` row and its queue message in one transaction.

Whichever of the two writes fails, or anything after both, neither is left behind: the
upload answers 500 (with an error id; the failure is logged under it) and the database
holds no row and no message. Runs on SQLite and
PostgreSQL with the database-table queue, the one that joins the transaction.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from sharepack.errors import QueueError, StoreError
from sharepack.runtime import Runtime
from sharepack.store import UnitOfWork
from sharepack.store.own_tables import queue_messages
from sharepack.store.share_packs import SharePackRepository
from sharepack.store.tables import share_packs
from tests.conftest import REPO_ROOT

EXAMPLE = (REPO_ROOT / "examples" / "sharepack.yaml").read_bytes()


def _upload(client: httpx.Client, runtime: Runtime) -> httpx.Response:
    return client.post(
        "/workflow/sharepack/upload",
        headers={"X-Workspace-URL": runtime.settings.sharepack_workspace_urls[0]},
        files={"file": ("sharepack.yaml", EXAMPLE)},
    )


def _counts(uow: UnitOfWork) -> tuple[int, int]:
    """(share_packs rows, queue messages) as `uow`'s transaction sees them."""
    rows = uow.session.execute(select(func.count()).select_from(share_packs)).scalar_one()
    messages = uow.session.execute(select(func.count()).select_from(queue_messages)).scalar_one()
    return int(rows), int(messages)


def _stored(runtime: Runtime) -> tuple[int, int]:
    with runtime.database.unit_of_work() as uow:
        return _counts(uow)


def _logged_failure(
    response: httpx.Response, caplog: pytest.LogCaptureFixture, status: int = 500
) -> str:
    """The failure the log holds under the answer's error id (the answer does not show it)."""
    assert response.status_code == status
    error_id = response.json()["ErrorId"]
    (record,) = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.exc_info is not None
    return str(record.exc_info[1])


def test_successful_upload_stores_one_row_and_one_message(
    client: httpx.Client, runtime: Runtime
) -> None:
    response = _upload(client, runtime)

    assert response.status_code == 202, response.text
    assert _stored(runtime) == (1, 1)


def test_failure_after_the_enqueue_leaves_no_row_and_no_message(
    client: httpx.Client,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen_inside: list[tuple[int, int]] = []
    enqueue = runtime.queue.enqueue

    def enqueue_then_fail(
        body: dict[str, Any], *, uow: UnitOfWork | None = None, delay_seconds: float = 0
    ) -> str:
        enqueue(body, uow=uow, delay_seconds=delay_seconds)
        assert uow is not None, "the upload must enqueue in its own transaction"
        seen_inside.append(_counts(uow))
        raise StoreError("the database went away after the enqueue")

    monkeypatch.setattr(runtime.queue, "enqueue", enqueue_then_fail)

    with caplog.at_level(logging.ERROR, logger="sharepack"):
        response = _upload(client, runtime)

    assert "went away after the enqueue" in _logged_failure(response, caplog)
    assert seen_inside == [(1, 1)]  # both were written, in the one transaction
    assert _stored(runtime) == (0, 0)
    assert runtime.queue.depth() == 0


def test_failing_enqueue_leaves_no_row(
    client: httpx.Client,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(
        body: dict[str, Any], *, uow: UnitOfWork | None = None, delay_seconds: float = 0
    ) -> str:
        raise QueueError("the queue refused the message")

    monkeypatch.setattr(runtime.queue, "enqueue", refuse)

    with caplog.at_level(logging.ERROR, logger="sharepack"):
        response = _upload(client, runtime)

    assert "queue refused the message" in _logged_failure(response, caplog, status=503)
    assert response.json()["ErrorCode"] == "QUEUE_UNAVAILABLE"
    assert _stored(runtime) == (0, 0)


def test_failing_row_write_leaves_no_message(
    client: httpx.Client,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    create = SharePackRepository.create

    def write_then_fail(self: SharePackRepository, **fields: Any) -> Any:
        create(self, **fields)
        raise StoreError("the share_packs row could not be stored")

    monkeypatch.setattr(SharePackRepository, "create", write_then_fail)

    with caplog.at_level(logging.ERROR, logger="sharepack"):
        response = _upload(client, runtime)

    assert "could not be stored" in _logged_failure(response, caplog)
    assert _stored(runtime) == (0, 0)
    assert runtime.queue.depth() == 0
