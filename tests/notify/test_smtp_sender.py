"""The SMTP sender on its own: what it refuses, and how a TLS failure reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from sharepack.errors import NotificationError
from sharepack.notify.smtp import SmtpSender
from sharepack.settings import Settings
from tests.notify.conftest import SMTP_PASSWORD, SMTP_USER, SmtpServer

MakeSettings = Callable[..., Settings]


def _sender(make_settings: MakeSettings, port: int, **values: object) -> SmtpSender:
    return SmtpSender(
        make_settings(
            smtp_host="localhost",
            smtp_port=port,
            smtp_username=SMTP_USER,
            smtp_password=SecretStr(SMTP_PASSWORD),
            **values,
        )
    )


def test_a_certificate_no_trusted_ca_signed_fails_as_tls(
    tls_smtp_server: SmtpServer, make_settings: MakeSettings
) -> None:
    sender = _sender(make_settings, tls_smtp_server.port)  # the system CAs only

    with pytest.raises(NotificationError) as failed:
        sender.send("ana@example.com", "s", "text", "<p>html</p>")

    assert str(failed.value).startswith(
        f"SMTP server localhost:{tls_smtp_server.port}: TLS failed: CERTIFICATE_VERIFY_FAILED"
    )
    assert tls_smtp_server.mailbox.messages() == []


def test_a_ca_file_that_cannot_be_read_is_named(
    tls_smtp_server: SmtpServer, make_settings: MakeSettings, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-ca.pem"
    sender = _sender(make_settings, tls_smtp_server.port, sharepack_smtp_ca_file=missing)

    with pytest.raises(NotificationError) as failed:
        sender.send("ana@example.com", "s", "text", "<p>html</p>")

    assert str(failed.value) == (
        f"SMTP server localhost:{tls_smtp_server.port}: TLS failed: SHAREPACK_SMTP_CA_FILE "
        f"{missing} cannot be read as certificates: No such file or directory"
    )


def test_a_login_is_never_sent_to_a_server_that_offers_no_starttls(
    smtp_server: SmtpServer, make_settings: MakeSettings
) -> None:
    sender = _sender(make_settings, smtp_server.port)

    with pytest.raises(NotificationError) as refused:
        sender.send("ana@example.com", "s", "text", "<p>html</p>")

    assert str(refused.value) == (
        f"SMTP server localhost:{smtp_server.port}: the server does not offer STARTTLS, and "
        f"the login as {SMTP_USER} would go out unencrypted; refused"
    )
    assert smtp_server.mailbox.messages() == []
