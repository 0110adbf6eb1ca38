"""The scheduled directory sync: `users` and `ad_groups` kept as Microsoft Graph has them.

`serve` and `worker` run `DirectorySyncSchedule` beside their work when Graph is
configured; `sharepack directory sync` runs it once. However many processes run it, a sync
starts only when the last successful one (any process's, as `sync_jobs` records it) is at
least `SHAREPACK_DIRECTORY_SYNC_MINUTES` old; two that start at once wait for each other
in the database, and the second finds nothing to change.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from sharepack.directory.sync import SUCCEEDED, SYNC_TYPE, SyncResult, sync_directory
from sharepack.errors import ConfigurationError, SharePackError
from sharepack.identity.principal import Caller
from sharepack.runtime import Runtime
from sharepack.store.dialect import as_utc
from sharepack.usecases.audit import Act, record

logger = logging.getLogger(__name__)

#: How often a waiting schedule looks again whether a sync is due.
CHECK_SECONDS = 60.0


def run_directory_sync(runtime: Runtime, *, by: str = "directory-sync") -> SyncResult:
    """One sync now; `ConfigurationError` when Graph is not configured, and what made it
    fail (after its FAILED `sync_jobs` row) otherwise."""
    if runtime.directory is None:
        raise ConfigurationError(
            "The directory sync needs Microsoft Graph: set AZURE_TENANT_ID, GRAPH_CLIENT_ID "
            "and GRAPH_CLIENT_SECRET"
        )
    return sync_directory(runtime.database, runtime.directory, by=by)


def sync_now(runtime: Runtime, caller: Caller) -> SyncResult:
    """One sync asked for by `caller` (an operator), on the audit trail."""
    result = run_directory_sync(runtime, by=caller.name)
    with runtime.database.unit_of_work() as uow:
        record(uow, caller, Act.SYNC_DIRECTORY, entity_type="directory", details=asdict(result))
        uow.commit()
    return result


def last_success(runtime: Runtime) -> datetime | None:
    """When the newest successful directory sync started, by any process."""
    with runtime.database.unit_of_work() as uow:
        newest = uow.sync_jobs.recent(1, sync_type=SYNC_TYPE, sync_status=SUCCEEDED)
    if not newest:
        return None
    started = newest[0].values["started_at"]
    return as_utc(started) if started is not None else newest[0].created_at


def sync_due(runtime: Runtime, now: datetime | None = None) -> bool:
    minutes = runtime.settings.sharepack_directory_sync_minutes
    if runtime.directory is None or minutes <= 0:
        return False
    last = last_success(runtime)
    return last is None or (now or datetime.now(UTC)) - last >= timedelta(minutes=minutes)


class DirectorySyncSchedule:
    """Runs the sync whenever it is due until `stop` is set; a failed run is logged (and
    recorded FAILED) and tried again at the next check."""

    def __init__(self, runtime: Runtime, *, check_seconds: float = CHECK_SECONDS) -> None:
        self._runtime = runtime
        self._check_seconds = check_seconds

    def run_once(self) -> SyncResult | None:
        if not sync_due(self._runtime):
            return None
        try:
            result = run_directory_sync(self._runtime)
        except SharePackError as exc:
            logger.warning("The directory sync failed: %s", exc.message)
            return None
        logger.info("Directory synced: %s", result)
        return result

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # a bug must not end the service's other work
                logger.exception("The directory sync failed unexpectedly")
            stop.wait(self._check_seconds)
