"""Use cases for operators and CI pipelines: plan or apply a file now, in this process.

They use the caller's own credentials (the API's allow-list does not apply) and the
configured database, so a pack applied this way has the same history as an uploaded one.
"""

from __future__ import annotations

import contextlib
import uuid

from sharepack.engine import Plan, names_to_read, plan, read_names
from sharepack.errors import LeaseLostError, QueueError, RunHandedOverError
from sharepack.history.retired import retired_names
from sharepack.identity.principal import Caller
from sharepack.observability.metrics import Phase, phase
from sharepack.packfile import LoadedSharePack, ReadLimits, load_share_pack
from sharepack.running.provision import Observer, process_share_pack
from sharepack.running.worker import LeaseKeeper, process_identity
from sharepack.runtime import Runtime
from sharepack.store import SharePackRecord
from sharepack.usecases.directory_check import directory_rule
from sharepack.usecases.submit import store_share_pack
from sharepack.workspace.urls import normalise_workspace_url


@phase(Phase.VALIDATE)
def read_file(runtime: Runtime, content: bytes, filename: str) -> LoadedSharePack:
    """The file, checked as an upload is (the directory's check too, when Graph is
    configured: an operator's terminal is not told on every run that it is not)."""
    limits = ReadLimits(max_bytes=runtime.settings.sharepack_max_upload_bytes)
    rules = (directory_rule(runtime.directory),) if runtime.directory is not None else ()
    return load_share_pack(content, filename, limits=limits, extra_rules=rules)


def plan_file(runtime: Runtime, loaded: LoadedSharePack, workspace_url: str) -> Plan:
    """The plan against the workspace as it is now; raises `PlanError` if it cannot apply."""
    workspace = runtime.workspace_for(workspace_url)
    url = normalise_workspace_url(workspace_url)
    retired = retired_names(runtime.database, url, loaded.config)
    before = read_names(workspace, names_to_read(loaded.config, retired))
    return plan(loaded.config, before, runtime.plan_options(retired=retired))


def apply_file(
    runtime: Runtime,
    loaded: LoadedSharePack,
    *,
    filename: str,
    workspace_url: str,
    caller: Caller,
    observer: Observer | None = None,
    restores_version: uuid.UUID | None = None,
) -> SharePackRecord:
    """Record the pack and provision it here; the returned version is its final one.

    The pack's queue message is written held by this process, which renews its lease
    while it works. If the process dies, the lease runs out and a worker of the service
    on the same database takes the run over from its journal: it finishes or rolls back.
    Interrupted (or failing outside the run's own handling), it gives the message back at
    once and raises `RunHandedOverError`.
    """
    submitted = store_share_pack(
        runtime,
        loaded,
        loaded.config.metadata.strategy,
        loaded.warnings,
        filename=filename,
        workspace_url=normalise_workspace_url(workspace_url),
        caller=caller,
        held_by=f"cli:{process_identity()}",
        auto_rollback=runtime.settings.sharepack_auto_rollback,
        restores_version=restores_version,
    )
    message = submitted.message
    if message is None:  # scheduled for later: a worker runs it at its time
        with runtime.database.unit_of_work() as uow:
            return uow.share_packs.get_current(submitted.share_pack_id)
    try:
        with LeaseKeeper(runtime, message, runtime.settings.sharepack_lease_seconds) as keeper:
            process_share_pack(keeper.guarding(runtime), submitted.share_pack_id, observer)
    except LeaseLostError as exc:
        # Paused past the lease: a worker took the run over and owns its outcome now.
        raise RunHandedOverError(submitted.share_pack_id, str(exc)) from exc
    except (Exception, KeyboardInterrupt) as exc:
        # Interrupted, or an error outside the run's own handling (the database went
        # away, say): hand the message to the workers now rather than when the lease ends.
        with contextlib.suppress(QueueError):
            runtime.queue.release(message)
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
        raise RunHandedOverError(submitted.share_pack_id, reason) from exc
    runtime.queue.complete(message)
    with runtime.database.unit_of_work() as uow:
        return uow.share_packs.get_current(submitted.share_pack_id)
