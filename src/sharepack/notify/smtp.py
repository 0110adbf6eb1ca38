"""Email over SMTP: one message per recipient, plain text with an HTML alternative."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sharepack.errors import NotificationError
from sharepack.settings import Settings


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode(errors="replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(said.split())}"


class SmtpSender:
    """Sends through SMTP_HOST:SMTP_PORT: STARTTLS when the server offers it (and
    `sharepack_smtp_starttls` asks), login when SMTP_USERNAME is set; never in clear."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host or not settings.notification_from_email:
            raise NotificationError(
                "Email notifications need SMTP_HOST and NOTIFICATION_FROM_EMAIL to be set"
            )
        self._host = settings.smtp_host
        self._port = settings.smtp_port
        self._sender = settings.notification_from_email
        self._starttls = settings.sharepack_smtp_starttls
        self._ca_file = settings.sharepack_smtp_ca_file
        self._timeout = settings.sharepack_smtp_timeout_seconds
        self._username = settings.smtp_username
        self._password = settings.smtp_password
        self.server = f"SMTP server {self._host}:{self._port}"

    def send(self, to: str, subject: str, text: str, html: str) -> None:
        """Deliver one message to `to`; `NotificationError` naming the server and what failed."""
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        with (
            self._failures(to),
            smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp,
        ):
            smtp.ehlo()
            self._secure(smtp)
            if self._username:
                password = self._password.get_secret_value() if self._password else ""
                smtp.login(self._username, password)
            smtp.send_message(message, from_addr=self._sender, to_addrs=[to])

    def _secure(self, smtp: smtplib.SMTP) -> None:
        """STARTTLS when offered and asked for; a login must not go out in clear."""
        if self._starttls and smtp.has_extn("starttls"):
            smtp.starttls(context=self._tls_context())
            smtp.ehlo()
        elif self._username:
            reason = (
                "SHAREPACK_SMTP_STARTTLS is off"
                if not self._starttls
                else "the server does not offer STARTTLS"
            )
            raise NotificationError(
                f"{self.server}: {reason}, and the login as {self._username} would go out "
                "unencrypted; refused"
            )

    def _tls_context(self) -> ssl.SSLContext:
        """Certificates checked against the system CAs, or SHAREPACK_SMTP_CA_FILE's alone."""
        if self._ca_file is None:
            return ssl.create_default_context()
        try:
            return ssl.create_default_context(cafile=str(self._ca_file))
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise NotificationError(
                f"{self.server}: TLS failed: SHAREPACK_SMTP_CA_FILE {self._ca_file} cannot be "
                f"read as certificates: {reason}"
            ) from None

    @contextmanager
    def _failures(self, to: str) -> Iterator[None]:
        """smtplib's and the socket's errors as `NotificationError`s a reader can act on."""
        where = self.server
        try:
            yield
        except smtplib.SMTPRecipientsRefused as exc:
            said = "; ".join(_reply(code, text) for code, text in exc.recipients.values())
            raise NotificationError(f"{where} refused the recipient {to}: {said}") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise NotificationError(
                f"{where}: login as {self._username} failed: "
                f"{_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            raise NotificationError(
                f"{where} refused the sender {self._sender}: "
                f"{_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise NotificationError(
                f"{where} refused the message to {to}: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            raise NotificationError(f"{where} closed the connection: {exc}") from None
        except smtplib.SMTPException as exc:  # an OSError too: before the socket's errors
            raise NotificationError(f"{where}: {exc}") from None
        except ssl.SSLError as exc:
            raise NotificationError(f"{where}: TLS failed: {exc.reason or exc}") from None
        except TimeoutError:
            raise NotificationError(f"{where} did not answer within {self._timeout:g} s") from None
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise NotificationError(f"{where}: connection failed: {reason}") from None
