"""Operating notifications: the settings that turn them on, `sharepack notifications`, and
the dispatcher `serve` and `worker` run in the background."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sharepack.cli.main import app
from sharepack.cli.serve import _background_notifications
from sharepack.errors import ConfigurationError
from sharepack.notify.events import NotificationEvent
from sharepack.notify.outbox import NotificationDispatcher
from sharepack.runtime import build_runtime
from sharepack.settings import Settings, load_settings
from sharepack.store import Database
from tests.notify.conftest import REFUSED_DOMAIN, SmtpServer
from tests.notify.helpers import attempts, dispatch_until, make_notice, queue_and_commit

MakeSettings = Callable[..., Settings]


def test_a_webhook_url_without_a_secret_is_refused_naming_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no `.env` but the test's
    monkeypatch.setenv("SHAREPACK_WEBHOOK_URL", "https://hooks.example.com/sharepack")

    with pytest.raises(ConfigurationError) as refused:
        load_settings()

    assert str(refused.value) == (
        "Invalid settings: SHAREPACK_WEBHOOK_SECRET: SHAREPACK_WEBHOOK_URL is set: give the "
        "secret its notices are signed with"
    )


def test_an_smtp_host_without_a_sender_address_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_HOST", "smtp.example.com")

    with pytest.raises(ConfigurationError, match="NOTIFICATION_FROM_EMAIL: SMTP_HOST is set"):
        load_settings()


def test_a_webhook_url_that_is_not_http_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHAREPACK_WEBHOOK_URL", "ftp://hooks.example.com")
    monkeypatch.setenv("SHAREPACK_WEBHOOK_SECRET", "s")

    with pytest.raises(ConfigurationError, match="SHAREPACK_WEBHOOK_URL: 'ftp://hooks"):
        load_settings()


def _deliver_one_sent_and_one_failed(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> tuple[str, str]:
    """Two packs' notices: one delivered, one to a refused address given up; their ids."""
    sent = make_notice(NotificationEvent.COMPLETED, to=("ana@example.com",))
    failed = make_notice(NotificationEvent.FAILED, to=(f"x@{REFUSED_DOMAIN}",))
    dispatcher = NotificationDispatcher(database, settings)
    queue_and_commit(database, sent, settings)
    dispatch_until(dispatcher, lambda: len(attempts(database, sent)) == 1)
    queue_and_commit(database, failed, settings)
    dispatch_until(dispatcher, lambda: len(attempts(database, failed)) == 3)
    return str(sent.share_pack_id), str(failed.share_pack_id)


def test_the_command_lists_the_attempts_newest_first_and_of_one_pack(
    database: Database,
    database_url: str,
    smtp_server: SmtpServer,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    settings = make_settings(smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    sent, failed = _deliver_one_sent_and_one_failed(database, settings, smtp_server)
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", database_url)
    monkeypatch.chdir(tmp_path)

    every = CliRunner().invoke(app, ["notifications", "--json"])
    one = CliRunner().invoke(app, ["notifications", "--pack", sent, "--json"])
    table = CliRunner().invoke(app, ["notifications", "--limit", "2"])

    assert every.exit_code == 0, every.output
    rows = json.loads(every.stdout)
    assert [(r["share_pack_id"], r["status"], r["attempt"]) for r in rows] == [
        (failed, "FAILED", 3),
        (failed, "RETRYING", 2),
        (failed, "RETRYING", 1),
        (sent, "SENT", 1),
    ]
    assert rows[0]["error"].startswith(f"SMTP server 127.0.0.1:{smtp_server.port} refused")
    assert [(r["event"], r["channel"], r["address"]) for r in json.loads(one.stdout)] == [
        ("COMPLETED", "email", "ana@example.com")
    ]
    assert table.exit_code == 0, table.output
    assert "FAILED" in table.stdout
    assert "RETRYING" in table.stdout
    assert "SENT" not in table.stdout


def test_the_command_refuses_a_pack_id_that_is_not_a_uuid(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOMAIN_DB_CONNECTION_STRING", database_url)

    result = CliRunner().invoke(app, ["notifications", "--pack", "acme"])

    assert result.exit_code == 2
    assert "--pack 'acme' is not a share pack id (a UUID)" in result.stderr


def test_serve_and_worker_deliver_in_the_background_when_email_is_configured(
    database: Database,
    database_url: str,
    smtp_server: SmtpServer,
    make_settings: MakeSettings,
) -> None:
    settings = make_settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        domain_db_connection_string=database_url,
        sharepack_worker_poll_seconds=0.02,
    )
    runtime = build_runtime(settings)
    notice = make_notice(to=("ana@example.com",))

    try:
        with _background_notifications(runtime):
            queue_and_commit(runtime.database, notice, settings)
            deadline = time.monotonic() + 20
            while not smtp_server.mailbox.messages():
                assert time.monotonic() < deadline, "not delivered within 20 s"
                time.sleep(0.01)
    finally:
        runtime.close()

    assert [r.delivery_status for r in attempts(database, notice)] == ["SENT"]


def test_without_email_or_webhook_no_dispatcher_runs(
    database_url: str, make_settings: MakeSettings
) -> None:
    runtime = build_runtime(make_settings(domain_db_connection_string=database_url))
    try:
        background = _background_notifications(runtime)
    finally:
        runtime.close()

    assert isinstance(background, nullcontext)
