"""The worker loop: claim a queued pack with a lease, process it, acknowledge it."""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sharepack.errors import LeaseLostError, LostLeaseError
from sharepack.observability.tracing import record_failure, run_span
from sharepack.queue.protocol import ClaimedMessage
from sharepack.runtime import Runtime
from sharepack.workspace.guarded import guarded

log = logging.getLogger(__name__)

Processor = Callable[[Runtime, uuid.UUID], None]
GiveUp = Callable[[Runtime, uuid.UUID, str], None]
MAX_ATTEMPTS = 5


def process_identity() -> str:
    """`host:pid:nonce`: who holds a lease, as operators read it in the queue table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Processes one message at a time; any number of workers may share a queue."""

    def __init__(
        self,
        runtime: Runtime,
        processor: Processor,
        *,
        give_up: GiveUp | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.processor = processor
        self.give_up = give_up
        self.worker_id = worker_id or process_identity()

    def run_once(self) -> bool:
        """Claim and process one message; False when the queue had none to give."""
        lease = self.runtime.settings.sharepack_lease_seconds
        claimed = self.runtime.queue.claim(worker_id=self.worker_id, lease_seconds=lease)
        if claimed is None:
            return False
        if (wait := seconds_until(claimed.body.get("not_before"))) > 0:
            # A scheduled pack seen early: a queue that caps its delay (Azure, 7 days)
            # shows it again before its time, and it is delayed once more.
            log.info("Message %s waits %.0f s more for its not_before", claimed.message_id, wait)
            self.runtime.queue.release(claimed, delay_seconds=wait)
            return True
        with (
            run_span(claimed.body, message_id=claimed.message_id, attempt=claimed.attempts),
            LeaseKeeper(self.runtime, claimed, lease) as keeper,
        ):
            self._process(claimed, keeper)
        return True

    def _process(self, claimed: ClaimedMessage, keeper: LeaseKeeper) -> None:
        pack_id = _share_pack_id(claimed.body)
        if pack_id is None:
            log.error(
                "Message %s names no share pack: %r; dropped", claimed.message_id, claimed.body
            )
            self.runtime.queue.complete(claimed)
            return
        runtime = keeper.guarding(_as_asked(self.runtime, claimed.body))
        try:
            self.processor(runtime, pack_id)
        except LeaseLostError:
            # Another worker holds the run now: leave the message and the pack to it.
            log.warning("Share pack %s: the lease was lost; stopped, writing nothing", pack_id)
            return
        except Exception as exc:
            record_failure(exc)
            log.exception("Processing share pack %s failed (attempt %d)", pack_id, claimed.attempts)
            if claimed.attempts < MAX_ATTEMPTS:
                self.runtime.queue.release(claimed, delay_seconds=2.0**claimed.attempts)
                return
            log.error("Share pack %s: giving up after %d attempts", pack_id, claimed.attempts)
            if self.give_up is not None:
                message = f"Gave up after {claimed.attempts} attempts: {exc}"
                self.give_up(runtime, pack_id, message)
        self.runtime.queue.complete(claimed)

    def run_forever(self, stop: threading.Event) -> None:
        """Poll until `stop` is set; idle waits are interrupted by `stop` at once."""
        poll = self.runtime.settings.sharepack_worker_poll_seconds
        while not stop.is_set():
            try:
                worked = self.run_once()
            except Exception:
                log.exception("Worker %s: claiming from the queue failed", self.worker_id)
                worked = False
            if not worked:
                stop.wait(poll)


def _as_asked(runtime: Runtime, body: dict[str, object]) -> Runtime:
    """The runtime with what the message's sender chose over the settings: `auto_rollback`
    (`sharepack apply --no-rollback`, whose run a worker may take over)."""
    choice = body.get("auto_rollback")
    if not isinstance(choice, bool) or choice == runtime.settings.sharepack_auto_rollback:
        return runtime
    settings = runtime.settings.model_copy(update={"sharepack_auto_rollback": choice})
    return dataclasses.replace(runtime, settings=settings)


def seconds_until(not_before: object) -> float:
    """Seconds from now until `not_before` (an ISO 8601 time, as messages carry it);
    0 when it has passed or is not a time."""
    if not isinstance(not_before, str):
        return 0.0
    try:
        moment = datetime.fromisoformat(not_before)
    except ValueError:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _share_pack_id(body: dict[str, object]) -> uuid.UUID | None:
    """The pack a message is for; None if it names none (not written by sharepack)."""
    value = body.get("share_pack_id")
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class LeaseKeeper:
    """Extends a claimed message's lease in the background while it is being processed,
    and tells the holder when it may no longer act (`check`)."""

    def __init__(self, runtime: Runtime, claimed: ClaimedMessage, lease_seconds: float) -> None:
        self._runtime = runtime
        self._claimed = claimed
        self._lease = lease_seconds
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._extending = threading.Lock()
        self._confirmed_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def check(self) -> None:
        """Raise `LeaseLostError` if the lease is lost. When it has not been confirmed for
        half a lease (the process was paused, say), it is extended now, before the caller
        acts: a holder paused past its lease finds out before its next call."""
        if not self._lost.is_set() and time.monotonic() - self._confirmed_at >= self._lease / 2:
            self._extend()
        if self._lost.is_set():
            raise LeaseLostError(
                f"The lease of message {self._claimed.message_id} was lost to another worker"
            )

    def guarding(self, runtime: Runtime) -> Runtime:
        """`runtime` whose workspaces call `check` before every call."""
        make = runtime.workspace_for
        return dataclasses.replace(
            runtime, workspace_for=lambda url: guarded(make(url), self.check)
        )

    def _extend(self) -> None:
        with self._extending:
            started = time.monotonic()
            try:
                self._runtime.queue.extend(self._claimed, lease_seconds=self._lease)
            except LostLeaseError:
                log.error(
                    "Message %s: the lease was lost to another worker", self._claimed.message_id
                )
                self._lost.set()
                return
            except Exception:
                log.exception("Extending the lease of message %s failed", self._claimed.message_id)
                return
            self._confirmed_at = started

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._lease / 3) and not self._lost.is_set():
            self._extend()
