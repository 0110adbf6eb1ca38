"""A notice POSTed as JSON to SHAREPACK_WEBHOOK_URL, signed so the receiver can trust it.

How a receiver verifies a request:

1. Read the header `X-Sharepack-Timestamp` (unix seconds) and refuse the request if it is
   more than a few minutes from the receiver's clock (a replayed request is old).
2. Compute `HMAC-SHA256(secret, f"{timestamp}.{raw_body}")` over the request body's raw
   bytes exactly as received (before any JSON parsing), as lowercase hex.
3. Compare `sha256=<that hex>` with the header `X-Sharepack-Signature` in constant time
   (Python: `hmac.compare_digest`); accept the body only when they are equal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from sharepack.errors import NotificationError
from sharepack.settings import Settings

TIMESTAMP_HEADER = "X-Sharepack-Timestamp"
SIGNATURE_HEADER = "X-Sharepack-Signature"


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The value of `X-Sharepack-Signature` for `body` sent at `timestamp`."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def displayed_url(url: str) -> str:
    """`url` without credentials, query or fragment: what logs and records may show of it
    (many webhook URLs carry a token in their query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class WebhookSender:
    """POSTs a notice's payload to SHAREPACK_WEBHOOK_URL, signed with SHAREPACK_WEBHOOK_SECRET."""

    def __init__(self, settings: Settings) -> None:
        url, secret = settings.sharepack_webhook_url, settings.sharepack_webhook_secret
        if not url or secret is None:
            raise NotificationError(
                "Webhook notifications need SHAREPACK_WEBHOOK_URL and SHAREPACK_WEBHOOK_SECRET"
            )
        self._url = url
        self._secret = secret
        self._timeout = settings.sharepack_webhook_timeout_seconds
        self.address = displayed_url(url)

    def send(self, payload: dict[str, Any]) -> None:
        """POST `payload` with `sent_at` added; `NotificationError` on a transport error or
        an answer that is not 2xx."""
        sent_at = datetime.now(UTC)
        body = json.dumps({**payload, "sent_at": sent_at.isoformat()}).encode()
        timestamp = str(int(sent_at.timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._secret.get_secret_value().encode(), timestamp, body),
        }
        try:
            answer = httpx.post(self._url, content=body, headers=headers, timeout=self._timeout)
        except httpx.TimeoutException:
            raise NotificationError(
                f"Webhook {self.address}: no answer within {self._timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise NotificationError(
                f"Webhook {self.address}: {type(exc).__name__}: {exc}"
            ) from None
        if not answer.is_success:
            raise NotificationError(
                f"Webhook {self.address} answered {answer.status_code} "
                f"{answer.reason_phrase}: {answer.text[:200]}"
            )
