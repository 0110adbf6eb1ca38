"""The Unit of Work: one transaction, the repositories that write in it, and nothing else."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sharepack.errors import LeaseLostError, StoreError
from sharepack.store import tables
from sharepack.store.api_keys import ApiKeyRepository
from sharepack.store.approvals import ApprovalDecisionRepository
from sharepack.store.batches import BatchRepository
from sharepack.store.claims import Claim, RunClaimRepository
from sharepack.store.entities import AppendOnlyLog, VersionedRepository
from sharepack.store.locks import ResourceLockRepository
from sharepack.store.logs import AuditTrailRepository, NotificationRepository
from sharepack.store.queries import AuditQueries
from sharepack.store.resources import PipelineRepository, RecipientRepository, ShareRepository
from sharepack.store.runs import RunJournalRepository, SnapshotRepository
from sharepack.store.share_packs import SharePackRepository
from sharepack.store.sync_ticks import SyncTickRepository
from sharepack.store.tenancy import Tenancy
from sharepack.store.versions import VersionRepository
from sharepack.store.workspaces import WorkspaceIdentities


class UnitOfWork:
    """Owns one transaction; exits with a rollback unless `commit()` was called.

    Repositories never commit: everything written through one Unit of Work (a pack's row
    and its queue message, say) is committed together or not at all.
    """

    def __init__(
        self, engine: Engine, claim: Claim | None = None, *, read_only: bool = False
    ) -> None:
        self._where = engine.url.render_as_string(hide_password=True)
        self._claim = claim
        self._read_only = read_only
        self.session = Session(engine, expire_on_commit=False)
        self.run_claims = RunClaimRepository(self.session)
        self.share_packs = SharePackRepository(self.session)
        self.recipients = RecipientRepository(self.session)
        self.shares = ShareRepository(self.session)
        self.pipelines = PipelineRepository(self.session)
        self.audit_trail = AuditTrailRepository(self.session)
        self.notifications = NotificationRepository(self.session)
        self.approval_decisions = ApprovalDecisionRepository(self.session)
        self.run_journal = RunJournalRepository(self.session)
        self.snapshots = SnapshotRepository(self.session)
        self.locks = ResourceLockRepository(self.session)
        self.workspaces = WorkspaceIdentities(self.session)
        self.queries = AuditQueries(self.session)
        self.api_keys = ApiKeyRepository(self.session)
        self.tenancy = Tenancy(self.session)
        self.batches = BatchRepository(self.session)
        self.versions = VersionRepository(self.session)
        self.sync_ticks = SyncTickRepository(self.session)
        # The seeds' other tables that this round's identity, drift and sync work writes;
        # `tenant_regions` and `project_costs` have no writer planned and no repository.
        session = self.session
        self.tenants = VersionedRepository(session, tables.tenants, "tenant_id")
        self.projects = VersionedRepository(session, tables.projects, "project_id")
        self.requests = VersionedRepository(session, tables.requests, "request_id")
        self.users = VersionedRepository(session, tables.users, "user_id")
        self.ad_groups = VersionedRepository(session, tables.ad_groups, "group_id")
        self.databricks_objects = VersionedRepository(
            session, tables.databricks_objects, "object_id"
        )
        self.job_metrics = AppendOnlyLog(session, tables.job_metrics, "metric_id")
        self.sync_jobs = AppendOnlyLog(session, tables.sync_jobs, "sync_job_id")

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed; database errors leave as `StoreError`."""
        try:
            self.session.rollback()
        finally:
            self.session.close()
        if isinstance(exc, SQLAlchemyError):
            raise StoreError(f"Database operation failed on {self._where}: {exc}") from exc

    def commit(self) -> None:
        """Make everything written in this Unit of Work durable, at once; opened for a
        claim, only while the claim is the run's newest (`LeaseLostError` otherwise).
        A Unit of Work made for reading (`Database.reading`) refuses with `StoreError`."""
        if self._read_only:
            raise StoreError(f"A Unit of Work for reading commits nothing (on {self._where})")
        try:
            if self._claim is not None and not self.run_claims.holds(self._claim):
                self.session.rollback()
                raise LeaseLostError(
                    f"Run {self._claim.run_id} was claimed by another holder since this one's "
                    f"claim {self._claim.fence}; its writes are refused"
                )
            self.session.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"Commit failed on {self._where}: {exc}") from exc

    def rollback(self) -> None:
        self.session.rollback()
