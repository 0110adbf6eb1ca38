"""The transactional outbox: notices queued in the transaction that decided them, delivered
after it commits by a dispatcher, each attempt recorded in `notifications`.

A notice is rendered when it is queued, one message per address (channel "email") and one
for the webhook (channel "webhook"), in the database's own queue table whatever queue the
packs use: a transaction that rolls back takes its notices with it. Delivery is at least
once: a dispatcher that dies after sending and before completing the message sends it again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sharepack.errors import NotificationError
from sharepack.notify.events import Notice
from sharepack.notify.smtp import SmtpSender
from sharepack.notify.templates import render_notice
from sharepack.notify.webhook import WebhookSender, displayed_url
from sharepack.queue.protocol import ClaimedMessage
from sharepack.queue.table import TableQueue
from sharepack.settings import Settings
from sharepack.store import Database, UnitOfWork
from sharepack.store.dialect import database_now

log = logging.getLogger(__name__)

#: The outbox's queue in the `queue_messages` table.
NOTIFICATION_QUEUE = "sharepack-notifications"
EMAIL, WEBHOOK = "email", "webhook"
SENT, RETRYING, FAILED = "SENT", "RETRYING", "FAILED"
#: `notifications.recipient_email` holds 255 characters.
MAX_ADDRESS = 255


def queue_notice(uow: UnitOfWork, notice: Notice, settings: Settings, *, database: Database) -> int:
    """Write `notice`'s messages into the outbox in `uow`'s transaction (they go out once it
    commits): one per address when SMTP is configured, one for the webhook when it is.
    Returns how many were written; 0 when notifications are off."""
    channels = []
    if settings.smtp_host:
        channels += [(EMAIL, address) for address in notice.to]
    if settings.sharepack_webhook_url:
        channels.append((WEBHOOK, displayed_url(settings.sharepack_webhook_url)))
    if not channels:
        return 0
    rendered = render_notice(notice)
    outbox = TableQueue(database, NOTIFICATION_QUEUE)
    for channel, address in channels:
        body = {
            "delivery_id": str(uuid.uuid4()),
            "channel": channel,
            "address": address,
            "event": notice.event.value,
            "share_pack_id": str(notice.share_pack_id),
            "subject": rendered.subject,
            "text": rendered.text,
            "html": rendered.html,
            "payload": notice.payload(),
        }
        outbox.enqueue(body, uow=uow)
    return len(channels)


@dataclass(frozen=True)
class Delivery:
    """One outbox message: a rendered notice for one address on one channel."""

    delivery_id: uuid.UUID
    channel: str
    address: str
    event: str
    share_pack_id: uuid.UUID | None
    subject: str
    text: str
    html: str
    payload: dict[str, Any]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Delivery:
        """The message's delivery; `ValueError` or `KeyError` if sharepack did not write it."""
        pack = body.get("share_pack_id")
        return cls(
            delivery_id=uuid.UUID(str(body["delivery_id"])),
            channel=str(body["channel"]),
            address=str(body["address"]),
            event=str(body["event"]),
            share_pack_id=uuid.UUID(str(pack)) if pack else None,
            subject=str(body["subject"]),
            text=str(body["text"]),
            html=str(body["html"]),
            payload=dict(body["payload"]),
        )


class NotificationDispatcher:
    """Delivers the outbox's messages one at a time; any number may share the database.
    `email` and `webhook` default to senders built from the settings, when configured."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        email: SmtpSender | None = None,
        webhook: WebhookSender | None = None,
        worker_id: str | None = None,
    ) -> None:
        self._database = database
        self._settings = settings
        self._outbox = TableQueue(database, NOTIFICATION_QUEUE)
        if email is None and settings.smtp_host:
            email = SmtpSender(settings)
        if webhook is None and settings.sharepack_webhook_url:
            webhook = WebhookSender(settings)
        self._email = email
        self._webhook = webhook
        self.worker_id = worker_id or (
            f"{socket.gethostname()}:{os.getpid()}:notify-{uuid.uuid4().hex[:6]}"
        )

    def run_once(self) -> bool:
        """Claim one message, try to deliver it and record the attempt; False when none was
        visible. A failed delivery is recorded and retried later, never raised."""
        lease = self._settings.sharepack_lease_seconds
        claimed = self._outbox.claim(worker_id=self.worker_id, lease_seconds=lease)
        if claimed is None:
            return False
        try:
            delivery = Delivery.from_body(claimed.body)
        except (KeyError, TypeError, ValueError) as exc:
            log.error("Outbox message %s is not a notice (%s); dropped", claimed.message_id, exc)
            self._outbox.complete(claimed)
            return True
        error = self._deliver(delivery)
        self._conclude(claimed, delivery, error)
        return True

    def _deliver(self, delivery: Delivery) -> str | None:
        """Send the delivery; the reason it failed, or None when it went out."""
        try:
            match delivery.channel:
                case "email" if self._email is not None:
                    self._email.send(
                        delivery.address, delivery.subject, delivery.text, delivery.html
                    )
                case "webhook" if self._webhook is not None:
                    self._webhook.send(delivery.payload)
                case "email":
                    raise NotificationError("Email is not configured here: SMTP_HOST is not set")
                case "webhook":
                    raise NotificationError(
                        "The webhook is not configured here: SHAREPACK_WEBHOOK_URL is not set"
                    )
                case other:
                    raise NotificationError(f"Unknown notification channel '{other}'")
        except NotificationError as exc:
            return exc.message
        except Exception as exc:  # a send failure never stops the dispatcher
            log.exception("Delivering notification %s failed unexpectedly", delivery.delivery_id)
            return f"{type(exc).__name__}: {exc}"
        return None

    def _conclude(self, claimed: ClaimedMessage, delivery: Delivery, error: str | None) -> None:
        """Record the attempt (one row), then complete the message or release it for later."""
        attempt = claimed.attempts
        limit = self._settings.sharepack_notification_max_attempts
        status = SENT if error is None else FAILED if attempt >= limit else RETRYING
        with self._database.unit_of_work() as uow:
            uow.notifications.record(
                share_pack_id=delivery.share_pack_id,
                recipient_email=delivery.address[:MAX_ADDRESS],
                subject=delivery.subject,
                body=delivery.text,
                delivery_status=status,
                sent_at=database_now(uow.session) if status == SENT else None,
                event=delivery.event,
                channel=delivery.channel,
                attempt=attempt,
                error=error,
                delivery_id=delivery.delivery_id,
            )
            uow.commit()
        if status == RETRYING:
            delay = self._settings.sharepack_notification_retry_seconds * 2 ** (attempt - 1)
            log.warning(
                "Notification %s to %s (attempt %d) failed, retried in %g s: %s",
                *(delivery.delivery_id, delivery.address, attempt, delay, error),
            )
            self._outbox.release(claimed, delay_seconds=delay)
            return
        if status == FAILED:
            log.error(
                "Notification %s to %s failed after %d attempts, given up: %s",
                *(delivery.delivery_id, delivery.address, attempt, error),
            )
        self._outbox.complete(claimed)

    def run_forever(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set; idle waits end at once when it is."""
        poll = self._settings.sharepack_worker_poll_seconds
        while not stop.is_set():
            try:
                worked = self.run_once()
            except Exception:
                log.exception("Notifications %s: reading the outbox failed", self.worker_id)
                worked = False
            if not worked:
                stop.wait(poll)

    def drain(self, deadline_seconds: float) -> None:
        """Deliver what is visible now, for at most `deadline_seconds` (a command's own run)."""
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline and self.run_once():
            pass


def deliver_now(database: Database, settings: Settings, seconds: float = 30.0) -> None:
    """For a command that changed a pack itself (`sharepack apply`, `approve`, `cancel`):
    deliver the notices waiting now, for at most `seconds`; what fails is retried by the
    service's workers. Nothing when notifications are not configured."""
    if settings.notifications_configured:
        NotificationDispatcher(database, settings).drain(seconds)
