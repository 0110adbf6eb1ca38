"""A worker's attempt at a pack, measured: how it ended (`sharepack_runs_total`), how long
it took, and that it is going on (`sharepack_runs_in_progress`).

Each pack a worker ends is counted once, `completed` or `failed` with its RollbackStatus:
by the attempt that ended it, or by the give-up after the last attempt raised (that attempt
is counted `error`). A message naming a pack that is not IN_PROGRESS is no run.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable
from typing import Concatenate, ParamSpec

from sharepack.errors import LeaseLostError, NotFoundError, StoreError
from sharepack.observability.metrics import RunOutcome, record_run, run_in_progress
from sharepack.running.status import PackStatus
from sharepack.runtime import Runtime

log = logging.getLogger(__name__)
P = ParamSpec("P")
_ENDED = {
    PackStatus.COMPLETED.value: RunOutcome.COMPLETED,
    PackStatus.FAILED.value: RunOutcome.FAILED,
}


def measured(
    step: Callable[Concatenate[Runtime, uuid.UUID, P], None],
) -> Callable[Concatenate[Runtime, uuid.UUID, P], None]:
    """`step` (processing a pack, or giving it up), its attempts measured."""

    @functools.wraps(step)
    def attempt(
        runtime: Runtime, share_pack_id: uuid.UUID, /, *args: P.args, **kwargs: P.kwargs
    ) -> None:
        started = time.perf_counter()
        try:
            if _current(runtime, share_pack_id)[0] != PackStatus.IN_PROGRESS.value:
                step(runtime, share_pack_id, *args, **kwargs)  # it says why it does nothing
                return
            with run_in_progress():
                step(runtime, share_pack_id, *args, **kwargs)
        except LeaseLostError:
            record_run(RunOutcome.LEASE_LOST, None, time.perf_counter() - started)
            raise
        except Exception:
            record_run(RunOutcome.ERROR, None, time.perf_counter() - started)
            raise
        _record_end(runtime, share_pack_id, time.perf_counter() - started)

    return attempt


def _current(runtime: Runtime, share_pack_id: uuid.UUID) -> tuple[str | None, str | None]:
    """The pack's Status and RollbackStatus; (None, None) for a pack that does not exist."""
    try:
        with runtime.database.unit_of_work() as uow:
            record = uow.share_packs.get_current(share_pack_id)
    except NotFoundError:
        return None, None
    return record.share_pack_status, record.rollback_status


def _record_end(runtime: Runtime, share_pack_id: uuid.UUID, seconds: float) -> None:
    try:
        status, rollback = _current(runtime, share_pack_id)
    except StoreError as exc:  # the run is over; only its measure is lost
        log.warning("Share pack %s: its outcome could not be read: %s", share_pack_id, exc)
        return
    record_run(_ENDED.get(status or "", RunOutcome.ERROR), rollback, seconds)
