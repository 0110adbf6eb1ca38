"""The webhook: a signed JSON POST to a local HTTP server, retried until it is given up."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable

import pytest
from pydantic import SecretStr

from sharepack.notify.events import NotificationEvent
from sharepack.notify.outbox import NotificationDispatcher
from sharepack.settings import Settings
from sharepack.store import Database
from tests.notify.conftest import WEBHOOK_SECRET, WebhookReceiver
from tests.notify.helpers import attempts, dispatch_until, make_notice, queue_and_commit

MakeSettings = Callable[..., Settings]


def _webhook(make_settings: MakeSettings, url: str) -> Settings:
    return make_settings(
        sharepack_webhook_url=url, sharepack_webhook_secret=SecretStr(WEBHOOK_SECRET)
    )


def test_the_receiver_gets_the_notice_as_json_signed_with_the_shared_secret(
    database: Database, webhook_receiver: WebhookReceiver, make_settings: MakeSettings
) -> None:
    settings = _webhook(make_settings, webhook_receiver.url)
    notice = make_notice(
        NotificationEvent.APPROVED, actor="lead@example.com", detail="2 of 2 approvals"
    )

    assert queue_and_commit(database, notice, settings) == 1  # no SMTP: the webhook alone
    dispatch_until(
        NotificationDispatcher(database, settings), lambda: len(webhook_receiver.requests) == 1
    )

    [request] = webhook_receiver.requests
    timestamp = request.headers["X-Sharepack-Timestamp"]
    expected = hmac.new(
        WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(request.headers["X-Sharepack-Signature"], f"sha256={expected}")
    assert abs(int(timestamp) - time.time()) < 300
    body = request.json()
    assert body.pop("sent_at")
    assert body == {
        "event": "APPROVED",
        "share_pack_id": str(notice.share_pack_id),
        "share_pack_name": "acme-sales",
        "project_name": "atlas",
        "business_line": "retail",
        "workspace_url": "https://adb-1.example.net",
        "requestor": "ana@example.com",
        "summary": ["+ create recipient acme", "+ create share sales"],
        "detail": "2 of 2 approvals",
        "next_step": notice.next_step,
        "actor": "lead@example.com",
    }
    [row] = attempts(database, notice)
    assert (row.channel, row.delivery_status, row.recipient_email) == (
        "webhook",
        "SENT",
        webhook_receiver.url,
    )


def test_a_receiver_answering_500_is_retried_then_failed_and_no_secret_is_recorded(
    database: Database,
    webhook_receiver: WebhookReceiver,
    make_settings: MakeSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    webhook_receiver.status[0] = 500
    settings = _webhook(make_settings, f"{webhook_receiver.url}?token=query-secret")
    notice = make_notice(NotificationEvent.FAILED, detail="share sales: permission denied")
    queue_and_commit(database, notice, settings)

    with caplog.at_level(logging.INFO):
        dispatch_until(
            NotificationDispatcher(database, settings),
            lambda: any(r.delivery_status == "FAILED" for r in attempts(database, notice)),
        )

    rows = attempts(database, notice)
    assert [(r.delivery_status, r.attempt) for r in rows] == [
        ("RETRYING", 1),
        ("RETRYING", 2),
        ("FAILED", 3),
    ]
    assert len(webhook_receiver.requests) == 3
    assert rows[0].error is not None
    assert rows[0].error.startswith(
        f"Webhook {webhook_receiver.url} answered 500 Internal Server Error"
    )
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("sharepack")]
    recorded = repr(rows) + "\n".join(ours)
    assert WEBHOOK_SECRET not in recorded
    assert "query-secret" not in recorded


def test_a_receiver_that_is_down_is_recorded_as_a_transport_failure(
    database: Database, make_settings: MakeSettings
) -> None:
    settings = _webhook(make_settings, "http://127.0.0.1:9/hooks")  # discard: nothing listens
    notice = make_notice(NotificationEvent.CANCELLED)
    queue_and_commit(database, notice, settings)

    dispatcher = NotificationDispatcher(database, settings)
    dispatch_until(dispatcher, lambda: len(attempts(database, notice)) == 1)

    [row] = attempts(database, notice)
    assert row.delivery_status == "RETRYING"
    assert row.error is not None
    assert row.error.startswith("Webhook http://127.0.0.1:9/hooks: ConnectError")
