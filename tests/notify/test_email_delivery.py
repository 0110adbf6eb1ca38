"""Email through the outbox to a real SMTP server on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sharepack.notify.events import NotificationEvent
from sharepack.notify.outbox import NotificationDispatcher, queue_notice
from sharepack.notify.templates import SUBJECT_LABELS
from sharepack.settings import Settings
from sharepack.store import Database
from tests.notify.conftest import (
    REFUSED_DOMAIN,
    SMTP_PASSWORD,
    SMTP_USER,
    SmtpServer,
    free_port,
    start_tls_smtp,
)
from tests.notify.helpers import attempts, dispatch_until, make_notice, queue_and_commit
from tests.tls import Certificate

MakeSettings = Callable[..., Settings]


def _plain(make_settings: MakeSettings, port: int) -> Settings:
    return make_settings(smtp_host="127.0.0.1", smtp_port=port)


def _tls(make_settings: MakeSettings, port: int, cert: Path, password: str) -> Settings:
    return make_settings(
        smtp_host="localhost",
        smtp_port=port,
        smtp_username=SMTP_USER,
        smtp_password=SecretStr(password),
        sharepack_smtp_ca_file=cert,
    )


@pytest.mark.parametrize("event", list(NotificationEvent))
def test_each_event_arrives_at_every_address_with_its_subject_and_both_parts(
    event: NotificationEvent,
    database: Database,
    smtp_server: SmtpServer,
    make_settings: MakeSettings,
) -> None:
    settings = _plain(make_settings, smtp_server.port)
    notice = make_notice(event, to=("ana@example.com", "ANA@example.com", "ops@example.com"))
    dispatcher = NotificationDispatcher(database, settings)

    assert queue_and_commit(database, notice, settings) == 2
    dispatch_until(dispatcher, lambda: len(smtp_server.mailbox.messages()) == 2)

    received = smtp_server.mailbox.messages()
    assert sorted(rcpt for envelope, _ in received for rcpt in envelope.rcpt_tos) == [
        "ana@example.com",
        "ops@example.com",
    ]
    for envelope, message in received:
        assert envelope.mail_from == "sharepack@example.com"
        assert message["Subject"] == f"[sharepack] {SUBJECT_LABELS[event]}: acme-sales (atlas)"
        assert message.get_content_type() == "multipart/alternative"
        parts = [part.get_content_type() for part in message.iter_parts()]
        assert parts == ["text/plain", "text/html"]
        plain = message.get_body(("plain",))
        assert plain is not None
        assert "+ create recipient acme" in plain.get_content()
        assert str(notice.share_pack_id) in plain.get_content()
    rows = attempts(database, notice)
    assert [(r.delivery_status, r.attempt, r.channel, r.event) for r in rows] == [
        ("SENT", 1, "email", event.value)
    ] * 2
    assert all(r.sent_at is not None and r.error is None for r in rows)


def test_untrusted_text_arrives_escaped_in_the_html_part(
    database: Database, smtp_server: SmtpServer, make_settings: MakeSettings
) -> None:
    settings = _plain(make_settings, smtp_server.port)
    notice = make_notice(
        NotificationEvent.REJECTED,
        to=("ana@example.com",),
        share_pack_name="<script>alert('pack')</script>",
        detail="<img src=x onerror=alert(1)> not this quarter",
    )
    queue_and_commit(database, notice, settings)

    dispatch_until(
        NotificationDispatcher(database, settings),
        lambda: len(smtp_server.mailbox.messages()) == 1,
    )

    [(_, message)] = smtp_server.mailbox.messages()
    html = message.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "<script>" not in content
    assert "<img" not in content
    assert "&lt;script&gt;alert(&#39;pack&#39;)&lt;/script&gt;" in content
    assert "&lt;img src=x onerror=alert(1)&gt; not this quarter" in content


def test_starttls_and_login_deliver_to_a_server_that_requires_both(
    database: Database,
    tls_smtp_server: SmtpServer,
    certificate: Certificate,
    make_settings: MakeSettings,
) -> None:
    settings = _tls(make_settings, tls_smtp_server.port, certificate.cert_file, SMTP_PASSWORD)
    notice = make_notice(to=("ana@example.com",))
    queue_and_commit(database, notice, settings)

    dispatch_until(
        NotificationDispatcher(database, settings),
        lambda: len(tls_smtp_server.mailbox.messages()) == 1,
    )

    assert [r.delivery_status for r in attempts(database, notice)] == ["SENT"]


def _retried_then_failed(database: Database, settings: Settings, notice_to: str) -> list[str]:
    """Queue a notice to `notice_to`, dispatch until it is given up; the errors recorded."""
    notice = make_notice(to=(notice_to,))
    queue_and_commit(database, notice, settings)

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
    assert len({r.delivery_id for r in rows}) == 1
    assert all(r.sent_at is None and r.error for r in rows)
    return [r.error or "" for r in rows]


def test_a_wrong_password_is_retried_then_failed_with_the_servers_answer(
    database: Database,
    tls_smtp_server: SmtpServer,
    certificate: Certificate,
    make_settings: MakeSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = _tls(make_settings, tls_smtp_server.port, certificate.cert_file, "wrong-pw")

    with caplog.at_level(logging.DEBUG):
        errors = _retried_then_failed(database, settings, "ana@example.com")

    server = f"SMTP server localhost:{tls_smtp_server.port}"
    assert errors[0].startswith(f"{server}: login as {SMTP_USER} failed: 535")
    assert "wrong-pw" not in "\n".join(errors) + caplog.text
    assert tls_smtp_server.mailbox.messages() == []


def test_a_server_that_is_down_is_retried_then_failed_naming_it(
    database: Database, make_settings: MakeSettings
) -> None:
    port = free_port()
    settings = _plain(make_settings, port)

    errors = _retried_then_failed(database, settings, "ana@example.com")

    assert errors[0].startswith(f"SMTP server 127.0.0.1:{port}: connection failed: ")
    assert "refused" in errors[0].lower()


def test_a_refused_recipient_is_retried_then_failed_naming_the_address(
    database: Database, smtp_server: SmtpServer, make_settings: MakeSettings
) -> None:
    settings = _plain(make_settings, smtp_server.port)

    errors = _retried_then_failed(database, settings, f"nobody@{REFUSED_DOMAIN}")

    assert errors[-1] == (
        f"SMTP server 127.0.0.1:{smtp_server.port} refused the recipient "
        f"nobody@{REFUSED_DOMAIN}: 550 5.1.1 <nobody@{REFUSED_DOMAIN}>: no such user here"
    )


def test_a_server_back_between_attempts_gets_the_message_on_the_second(
    database: Database, certificate: Certificate, make_settings: MakeSettings
) -> None:
    port = free_port()
    settings = _tls(make_settings, port, certificate.cert_file, SMTP_PASSWORD)
    notice = make_notice(to=("ana@example.com",))
    queue_and_commit(database, notice, settings)
    dispatcher = NotificationDispatcher(database, settings)
    dispatch_until(dispatcher, lambda: len(attempts(database, notice)) == 1)

    server = start_tls_smtp(port, certificate)
    try:
        dispatch_until(dispatcher, lambda: len(server.mailbox.messages()) == 1)
    finally:
        server.controller.stop()

    rows = attempts(database, notice)
    assert [(r.delivery_status, r.attempt) for r in rows] == [("RETRYING", 1), ("SENT", 2)]


def test_a_notice_queued_in_a_transaction_that_rolls_back_sends_nothing(
    database: Database, smtp_server: SmtpServer, make_settings: MakeSettings
) -> None:
    settings = _plain(make_settings, smtp_server.port)
    notice = make_notice()
    with database.unit_of_work() as uow:
        assert queue_notice(uow, notice, settings, database=database) == 2
        # left without commit: the Unit of Work rolls back

    dispatcher = NotificationDispatcher(database, settings)

    assert dispatcher.run_once() is False
    assert smtp_server.mailbox.messages() == []
    assert attempts(database, notice) == []


def test_with_neither_smtp_nor_a_webhook_nothing_is_queued(
    database: Database, make_settings: MakeSettings
) -> None:
    settings = make_settings()

    written = queue_and_commit(database, make_notice(), settings)

    assert written == 0
    assert NotificationDispatcher(database, settings).run_once() is False


def test_the_recorded_attempts_cannot_be_rewritten(
    database: Database, smtp_server: SmtpServer, make_settings: MakeSettings
) -> None:
    settings = _plain(make_settings, smtp_server.port)
    notice = make_notice(to=("ana@example.com",))
    queue_and_commit(database, notice, settings)
    dispatch_until(
        NotificationDispatcher(database, settings),
        lambda: len(attempts(database, notice)) == 1,
    )

    table = "notifications" if database.is_sqlite else "deltashare.notifications"

    refused = pytest.raises(DBAPIError, match="notifications is append-only")
    with refused, database.engine.begin() as connection:
        connection.execute(text(f"UPDATE {table} SET delivery_status = 'FORGED'"))

    assert [r.delivery_status for r in attempts(database, notice)] == ["SENT"]
