"""The sync jobs sharepack schedules, and where a new one is registered.

To add a job: write `run(runtime) -> records processed` in a module of this package
(or above it) and add a `SyncJob` for it to `known_jobs`, with its interval from a
setting; `serve` and `worker` then schedule it, and `sharepack sync run NAME` runs it
(`usecases.sync_jobs` adds the jobs of the layers above, the drift check).
"""

from __future__ import annotations

from sharepack.settings import Settings
from sharepack.sync import inventory, metrics
from sharepack.sync.jobs import SyncJob


def known_jobs(settings: Settings) -> list[SyncJob]:
    """Every sync job, with its interval from `settings` (0: not scheduled)."""
    return [
        SyncJob(
            inventory.NAME,
            settings.sharepack_sync_inventory_minutes * 60.0,
            inventory.run_inventory,
        ),
        SyncJob(
            metrics.NAME,
            settings.sharepack_sync_metrics_minutes * 60.0,
            metrics.run_job_metrics,
        ),
    ]
