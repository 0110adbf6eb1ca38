"""The queue as an Azure Storage Queue (production), through the SDK's synchronous client.

A lease is a message's visibility timeout: a claim receives the message invisible for the
lease, and it becomes visible to every claimer again when the lease runs out. Azure counts
seconds in whole numbers, so leases and delays are rounded up (a lease lasts at least one
second) and capped at Azure's seven days; messages never expire. `attempts` is Azure's
dequeue count, plus one for a message written already held (`enqueue_held`), whose holder's
attempt Azure never saw as a dequeue.

Azure proves a lease with a pop receipt that it replaces on every update: the receipt in a
`ClaimedMessage` is the one its lease began with, and this instance keeps the current one
for each lease it holds, so a lease extended any number of times can still be extended,
completed or released. A receipt Azure no longer accepts (the message was claimed again,
or is gone) means the lease was lost.

Azure cannot join the database transaction of a Unit of Work: `enqueue` and `enqueue_held`
send the message at once, whatever becomes of the `uow` passed with it. Callers write the
pack's row in the same Unit of Work and send the message just before committing, so the
message is lost only with the commit; a message whose pack row was rolled back names a pack
that does not exist, and is no work for a worker.

Message text is JSON, `{"body": ..., "held": 0 or 1}`, in the SDK's default (plain text)
encoding.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import AzureError, ResourceExistsError
from azure.storage.queue import QueueClient, QueueMessage

from sharepack.errors import LostLeaseError, QueueError
from sharepack.queue.protocol import ClaimedMessage
from sharepack.store import UnitOfWork

log = logging.getLogger(__name__)
MAX_VISIBILITY_SECONDS = 7 * 24 * 60 * 60  # Azure's limit for a visibility timeout
NEVER_EXPIRES = -1  # a message's time to live: kept until it is completed
_PEEK_MAX = 32  # the most messages one peek returns
_LOST_LEASE_CODES = frozenset({"MessageNotFound", "PopReceiptMismatch"})


def _seconds(value: float, *, at_least: int) -> int:
    """Whole seconds for Azure: rounded up, at least `at_least`, at most seven days."""
    return min(max(math.ceil(value), at_least), MAX_VISIBILITY_SECONDS)


def _error_code(exc: AzureError) -> str | None:
    """The storage service's error code (`MessageNotFound`, ...), which the SDK sets on the
    errors it raises for an answer; None for errors without an answer."""
    code = getattr(exc, "error_code", None)
    if isinstance(code, Enum):
        code = code.value
    return str(code) if code else None


class _LeaseLostError(Exception):
    """Azure refused a pop receipt: the message was claimed again, or is gone."""


@dataclass
class _Lease:
    """The current pop receipt of one lease; its lock keeps one call at a time on it."""

    pop_receipt: str
    lock: threading.Lock = field(default_factory=threading.Lock)


class AzureStorageQueue:
    """The `Queue` protocol over the Azure Storage Queue `queue_name`, created if missing.

    `client_options` go to `QueueClient.from_connection_string` (azure-core's transport and
    retry options, for example `retry_total`)."""

    def __init__(self, connection_string: str, queue_name: str, **client_options: Any) -> None:
        self.queue_name = queue_name
        try:
            self._client = QueueClient.from_connection_string(
                connection_string, queue_name, **client_options
            )
        except (ValueError, AzureError) as exc:
            raise QueueError(
                f"Queue '{queue_name}': the connection string is not usable: {exc}"
            ) from exc
        self._lock = threading.Lock()
        self._created = False
        self._poison: QueueClient | None = None
        self._connection_string = connection_string
        self._client_options = client_options
        self._leases: dict[str, dict[str, _Lease]] = {}  # message id -> first receipt -> lease

    def enqueue(
        self, body: dict[str, Any], *, uow: UnitOfWork | None = None, delay_seconds: float = 0
    ) -> str:
        """Add a message, sent at once: Azure cannot join `uow`'s transaction (see above).
        It stays invisible for `delay_seconds`, at most Azure's 7 days: a consumer that
        wants a later time delays it again when it sees it (`running.worker`)."""
        with self._errors("enqueue"):
            hidden = _seconds(delay_seconds, at_least=0)
            sent = self._send(body, held=False, visibility_timeout=hidden)
        return str(sent.id)

    def enqueue_held(
        self,
        body: dict[str, Any],
        *,
        holder: str,
        lease_seconds: float,
        uow: UnitOfWork | None = None,
    ) -> ClaimedMessage:
        """Add a message invisible for `lease_seconds`, held by this instance for `holder`
        and counted as its first attempt; sent at once, like `enqueue`."""
        with self._errors("enqueue"):
            sent = self._send(
                body, held=True, visibility_timeout=_seconds(lease_seconds, at_least=1)
            )
        receipt = str(sent.pop_receipt)
        self._hold(str(sent.id), receipt)
        return ClaimedMessage(str(sent.id), dict(body), attempts=1, receipt=receipt)

    def claim(self, *, worker_id: str, lease_seconds: float) -> ClaimedMessage | None:
        """Lease a visible message for `lease_seconds`; None if there is none. Azure picks
        the message (roughly, not strictly, the oldest) and never gives it to two claimers."""
        with self._errors("claim"):
            self._ensure_queue()
            received = self._client.receive_message(
                visibility_timeout=_seconds(lease_seconds, at_least=1)
            )
        if received is None:
            return None
        message_id, receipt = str(received.id), str(received.pop_receipt)
        try:
            body, held = self._decode(message_id, received.content)
        except QueueError as exc:
            self._to_poison_queue(received, exc)
            return None
        self._hold(message_id, receipt)
        return ClaimedMessage(
            message_id=message_id,
            body=body,
            attempts=int(received.dequeue_count or 0) + held,
            receipt=receipt,
        )

    def complete(self, message: ClaimedMessage) -> None:
        """Delete the message if this lease still holds it; a lost lease deletes nothing,
        since another worker now owns the message."""

        def delete(pop_receipt: str) -> None:
            self._client.delete_message(message.message_id, pop_receipt)

        self._under_lease(message, "complete", delete)

    def release(self, message: ClaimedMessage, *, delay_seconds: float = 0) -> None:
        """Give the message back, visible again after `delay_seconds` (if still held)."""

        def make_visible(pop_receipt: str) -> None:
            self._client.update_message(
                message.message_id,
                pop_receipt,
                visibility_timeout=_seconds(delay_seconds, at_least=0),
            )

        self._under_lease(message, "release", make_visible)

    def extend(self, message: ClaimedMessage, *, lease_seconds: float) -> None:
        """Keep the lease for `lease_seconds` from now; `QueueError` if it was lost."""

        def keep_hidden(pop_receipt: str) -> str:
            updated = self._client.update_message(
                message.message_id,
                pop_receipt,
                visibility_timeout=_seconds(lease_seconds, at_least=1),
            )
            return str(updated.pop_receipt)

        if not self._under_lease(message, "extend", keep_hidden):
            raise LostLeaseError(
                f"Message {message.message_id} in queue '{self.queue_name}': the lease was "
                "lost to another worker"
            )

    def ping(self) -> bool:
        """Whether the queue's properties can be read, tried once: a health check answers
        at once rather than after the SDK's retries (a minute and more when Azure is down)."""
        try:
            with self._errors("ping"):
                self._ensure_queue(retry_total=0)
                self._client.get_queue_properties(retry_total=0)
        except QueueError:
            return False
        return True

    def depth(self) -> int:
        """Messages not yet completed, visible or leased (Azure's approximate count)."""
        with self._errors("count"):
            self._ensure_queue()
            properties = self._client.get_queue_properties()
        return int(properties.approximate_message_count or 0)

    def oldest_age_seconds(self) -> float:
        """Seconds since the oldest of the first visible messages Azure shows (up to 32, by
        peeking, which leases nothing) was inserted, on Azure's clock to the second."""
        with self._errors("peek"):
            self._ensure_queue()
            peeked = self._client.peek_messages(max_messages=_PEEK_MAX)
        inserted = [m.inserted_on for m in peeked if m.inserted_on is not None]
        if not inserted:
            return 0.0
        return max(0.0, (datetime.now(UTC) - min(inserted)).total_seconds())

    def describe(self) -> str:
        """The storage account's queue endpoint, without credentials (for messages and logs)."""
        url = urlsplit(self._client.url)
        account_path = url.path.rstrip("/").rpartition("/")[0]
        return f"{url.scheme}://{url.netloc}{account_path}"

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()
        if self._poison is not None:
            self._poison.close()

    def _send(self, body: dict[str, Any], *, held: bool, visibility_timeout: int) -> QueueMessage:
        self._ensure_queue()
        return self._client.send_message(
            json.dumps({"body": body, "held": int(held)}),
            visibility_timeout=visibility_timeout,
            time_to_live=NEVER_EXPIRES,
        )

    def _decode(self, message_id: str, content: Any) -> tuple[dict[str, Any], int]:
        """The body and held marker of a message's text; a bare JSON object (a message that
        did not come from this class) is a body that was never held."""
        try:
            decoded = json.loads(content)
        except (TypeError, ValueError) as exc:
            raise QueueError(
                f"Message {message_id} in queue '{self.queue_name}' is not JSON: {exc}"
            ) from exc
        if not isinstance(decoded, dict):
            raise QueueError(
                f"Message {message_id} in queue '{self.queue_name}' is not a JSON object"
            )
        if set(decoded) == {"body", "held"} and isinstance(decoded["body"], dict):
            return dict(decoded["body"]), int(decoded["held"])
        return decoded, 0

    def _to_poison_queue(self, received: QueueMessage, problem: QueueError) -> None:
        """Move a message no worker can read to `<queue>-poison` (Azure's convention), as
        it came, so that it is kept for a person to look at and blocks no one."""
        log.error("%s; moved to queue '%s'", problem.message, self.poison_queue_name)
        with self._errors("move a message to the poison queue"):
            poison = self._poison_client()
            poison.send_message(received.content, time_to_live=NEVER_EXPIRES)
            self._client.delete_message(received.id, received.pop_receipt)

    @property
    def poison_queue_name(self) -> str:
        return f"{self.queue_name}-poison"

    def _poison_client(self) -> QueueClient:
        with self._lock:
            if self._poison is None:
                self._poison = QueueClient.from_connection_string(
                    self._connection_string, self.poison_queue_name, **self._client_options
                )
                with suppress(ResourceExistsError):
                    self._poison.create_queue()
            return self._poison

    def _ensure_queue(self, **options: Any) -> None:
        """Create the queue on first use; one that exists already is fine."""
        if self._created:
            return
        with suppress(ResourceExistsError):
            self._client.create_queue(**options)
        self._created = True

    def _hold(self, message_id: str, receipt: str) -> None:
        """Record a lease that began with `receipt`. Any other lease this instance had on
        the message is over: Azure has just handed the message out again."""
        with self._lock:
            self._leases[message_id] = {receipt: _Lease(receipt)}

    def _lease_of(self, message: ClaimedMessage) -> _Lease:
        with self._lock:
            leases = self._leases.setdefault(message.message_id, {})
            return leases.setdefault(message.receipt, _Lease(message.receipt))

    def _forget(self, message: ClaimedMessage) -> None:
        with self._lock:
            leases = self._leases.get(message.message_id, {})
            leases.pop(message.receipt, None)
            if not leases:
                self._leases.pop(message.message_id, None)

    def _under_lease(
        self,
        message: ClaimedMessage,
        operation: str,
        call: Callable[[str], str | None],
    ) -> bool:
        """Run `call` with the lease's current pop receipt. It returns the next receipt
        while the lease goes on, None when the lease ends. False if the lease was lost."""
        lease = self._lease_of(message)
        with lease.lock:
            try:
                with self._errors(operation, lease=True):
                    next_receipt = call(lease.pop_receipt)
            except _LeaseLostError:
                self._forget(message)
                return False
            if next_receipt is None:
                self._forget(message)
            else:
                lease.pop_receipt = next_receipt
        return True

    @contextmanager
    def _errors(self, operation: str, *, lease: bool = False) -> Iterator[None]:
        """Azure's errors as `QueueError`; with `lease`, a refused pop receipt as
        `_LeaseLostError`."""
        try:
            yield
        except AzureError as exc:
            code = _error_code(exc)
            if lease and code in _LOST_LEASE_CODES:
                raise _LeaseLostError(code) from exc
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            if code and code not in reason:
                reason = f"{reason} ({code})"
            raise QueueError(
                f"Queue '{self.queue_name}' at {self.describe()}: {operation} failed: {reason}"
            ) from exc
