"""Real servers on loopback for the notification tests: SMTP (aiosmtpd, plain, or requiring
STARTTLS and a login under a certificate made here) and an HTTP webhook receiver."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from sharepack.settings import Settings
from tests.tls import Certificate, write_certificate

SMTP_USER = "mailer"
SMTP_PASSWORD = "correct horse battery staple"
REFUSED_DOMAIN = "refused.example"
WEBHOOK_SECRET = "webhook-signing-secret"


def free_port() -> int:
    """A loopback port nothing listens on (the kernel's pick, released at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Mailbox:
    """What an SMTP server received: each envelope with its parsed message."""

    received: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower().endswith(f"@{REFUSED_DOMAIN}"):
            return f"550 5.1.1 <{address}>: no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append((envelope, message))
        return "250 Message accepted"

    def messages(self) -> list[tuple[Envelope, EmailMessage]]:
        with self.lock:
            return list(self.received)


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox
    controller: Controller


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=good, handled=False)


def start_smtp(port: int, **smtp_options: Any) -> SmtpServer:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    return SmtpServer(port, mailbox, controller)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server: no TLS, no login."""
    server = start_smtp(free_port())
    yield server
    server.controller.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A certificate for localhost and 127.0.0.1, made for this session."""
    return write_certificate(tmp_path_factory.mktemp("smtp-tls"))


def start_tls_smtp(port: int, certificate: Certificate) -> SmtpServer:
    """An SMTP server that requires STARTTLS and then a login as SMTP_USER."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)
    return start_smtp(
        port,
        tls_context=context,
        require_starttls=True,
        auth_require_tls=True,
        auth_required=True,
        authenticator=_authenticate,
    )


@pytest.fixture
def tls_smtp_server(certificate: Certificate) -> Iterator[SmtpServer]:
    server = start_tls_smtp(free_port(), certificate)
    yield server
    server.controller.stop()


@dataclass(frozen=True)
class WebhookRequest:
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class WebhookReceiver:
    url: str
    requests: list[WebhookRequest]
    #: The status each request is answered with.
    status: list[int]


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A local HTTP server keeping every POST; it answers `status[0]` (200 to start with)."""
    requests: list[WebhookRequest] = []
    status = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            requests.append(WebhookRequest(dict(self.headers.items()), self.rfile.read(length)))
            self.send_response(status[0])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads what arrived."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield WebhookReceiver(
        f"http://127.0.0.1:{server.server_address[1]}/hooks/sharepack", requests, status
    )
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for delivery tests: quick retries, no `.env`, and what the test adds."""

    def make(**values: Any) -> Settings:
        defaults: dict[str, Any] = {
            "sharepack_data_dir": tmp_path / "data",
            "notification_from_email": "sharepack@example.com",
            "sharepack_notification_retry_seconds": 0.01,
            "sharepack_notification_max_attempts": 3,
            "sharepack_smtp_timeout_seconds": 5,
            "sharepack_webhook_timeout_seconds": 5,
        }
        return Settings(_env_file=None, **{**defaults, **values})

    return make
