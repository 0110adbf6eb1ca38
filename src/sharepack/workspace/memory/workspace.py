"""`InMemoryWorkspace`: the `Workspace` protocol held in memory, for tests that open no socket.

It answers as `SdkWorkspace` answers against a workspace: the same `WorkspaceError` types
in the same situations, the fields a server fills filled (ids, object aliases, history
status, owners), names folded to lower case where Unity Catalog folds them. A pipeline
update ends at once: it fails, or it materialises the pipeline's target table. The
catalog holds what a test puts in it (`add_tables`, `seed`). One lock guards everything,
so the engine's concurrent actions may share one instance.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace

from sharepack.workspace.memory.held import (
    DEFAULT_URL,
    DEFAULT_USER,
    VIEW,
    FailureRule,
    HeldJob,
    HeldPipeline,
    HeldShare,
    as_added,
    stored_recipient,
)
from sharepack.workspace.memory.pipelines import PipelinesPart
from sharepack.workspace.memory.sharing import SharingPart
from sharepack.workspace.sdk_pipelines import PIPELINE_TAG, mark_tags
from sharepack.workspace.state import (
    CatalogObjectState,
    PipelineState,
    ScheduleJobState,
    ShareState,
    WorkspaceState,
    shared_kind,
)


class InMemoryWorkspace(SharingPart, PipelinesPart):
    """A workspace in memory, answering as the SDK adapter answers; safe across threads."""

    def __init__(
        self,
        *,
        tables: Iterable[str] = (),
        views: Iterable[str] = (),
        schemas: Iterable[str] = (),
        url: str = DEFAULT_URL,
        workspace_id: str | None = None,
        user: str = DEFAULT_USER,
    ) -> None:
        super().__init__(url=url, workspace_id=workspace_id, user=user)
        for schema in schemas:
            self._add_schema(schema)
        self.add_tables(tables)
        self.add_tables(views, table_type=VIEW)

    # --- what a test sets up ------------------------------------------------------------

    def add_tables(self, names: Iterable[str], *, table_type: str = "MANAGED") -> None:
        """Put tables (`catalog.schema.table`) in the catalog, with their schemas."""
        with self._lock:
            for name in names:
                self._add_table(name, table_type)

    def drop_table(self, name: str) -> None:
        """Remove a table from the catalog, as another user dropping it."""
        with self._lock:
            self._tables.pop(name.lower(), None)

    def fail_pipeline_updates(self, name_regex: str, message: str, *, times: int = 1) -> None:
        """The next `times` updates of pipelines whose name matches end FAILED."""
        with self._lock:
            self._failure_rules.append(FailureRule(re.compile(name_regex), times, message))

    def seed(self, state: WorkspaceState) -> None:
        """Put `state`'s resources in place as they are, as another client left them,
        replacing those of the same name; its existing objects go in the catalog."""
        with self._lock:
            for name in state.existing_objects:
                if name.count(".") == 2:
                    self._add_table(name, VIEW if name in state.views else "MANAGED")
                elif name.count(".") == 1:
                    self._add_schema(name)
            for recipient in state.recipients.values():
                self._recipients[recipient.name.lower()] = stored_recipient(
                    recipient, recipient.owner or self._user, self._url
                )
            for share in state.shares.values():
                self._shares[share.name.lower()] = HeldShare(
                    name=share.name.lower(),
                    owner=self._user,
                    comment=share.comment,
                    objects=[as_added(o) for o in share.objects],
                    grantees={g.lower() for g in share.grantees},
                )
            for pipeline in state.pipelines.values():
                self._seed_pipeline(pipeline)
            for job in state.jobs.values():
                self._seed_job(job)

    def _seed_pipeline(self, pipeline: PipelineState) -> None:
        for pipeline_id, held in list(self._pipelines.items()):
            if held.state.name == pipeline.name:
                del self._pipelines[pipeline_id]
        pipeline_id = pipeline.pipeline_id or str(uuid.uuid4())
        seeded = HeldPipeline(replace(pipeline, pipeline_id=pipeline_id, tags=dict(pipeline.tags)))
        if pipeline.target_asset.lower() in self._tables:  # it has run before
            seeded.produced.add(pipeline.target_asset.lower())
        self._pipelines[pipeline_id] = seeded

    def _seed_job(self, job: ScheduleJobState) -> None:
        for job_id, held in list(self._jobs.items()):
            if held.name == job.name:
                del self._jobs[job_id]
        job_id = job.job_id if job.job_id is not None else self._new_job_id()
        if job_id in self._jobs:
            raise ValueError(f"Job id {job_id} is taken: a workspace gives each job its own")
        self._next_job_id = max(self._next_job_id, job_id + 1)
        pipeline_id = job.pipeline_id or self._find_pipeline_id(job.pipeline_name) or ""
        self._jobs[job_id] = HeldJob(
            job_id,
            job.name,
            pipeline_id,
            job.quartz_cron,
            job.timezone,
            {PIPELINE_TAG: job.pipeline_name, **mark_tags(job.created_by)},
        )

    # --- identity -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._url

    @property
    def workspace_id(self) -> str:
        return self._workspace_id

    def current_user(self) -> str:
        return self._user

    # --- reading ------------------------------------------------------------------------

    def read_state(
        self,
        *,
        recipients: Iterable[str] = (),
        shares: Iterable[str] = (),
        pipelines: Iterable[str] = (),
        jobs: Iterable[str] = (),
        objects: Iterable[str] = (),
        recipient_grants: Iterable[str] = (),
    ) -> WorkspaceState:
        with self._lock:
            found_recipients = {
                name: held.state()
                for name in dict.fromkeys(recipients)
                if (held := self._recipients.get(name.lower())) is not None
            }
            found_shares = {
                name: self._share_state(name, share)
                for name in dict.fromkeys(shares)
                if (share := self._shares.get(name.lower())) is not None
            }
            found_pipelines = {
                name: self._pipelines[pipeline_id].state
                for name in dict.fromkeys(pipelines)
                if (pipeline_id := self._find_pipeline_id(name)) is not None
            }
            found_jobs = {
                name: job.state()
                for name in dict.fromkeys(jobs)
                if (job := next(iter(self._jobs_named(name)), None)) is not None
            }
            existing = frozenset(n for n in objects if self._object_type(n) is not None)
            grants = {
                name: frozenset(s.name for s in self._shares.values() if name.lower() in s.grantees)
                for name in dict.fromkeys(recipient_grants)
                if name.lower() in self._recipients
            }
            return WorkspaceState(
                recipients=found_recipients,
                shares=found_shares,
                pipelines=found_pipelines,
                jobs=found_jobs,
                existing_objects=existing,
                views=frozenset(n for n in existing if self._object_type(n) == VIEW),
                object_kinds={
                    n: kind
                    for n in existing
                    if (kind := shared_kind(self._object_type(n) or "")) is not None
                },
                recipient_grants=grants,
            )

    def read_catalog_objects(self, names: Iterable[str]) -> Mapping[str, CatalogObjectState]:
        """Catalogs and schemas are owned by the workspace's user, as are its tables."""
        with self._lock:
            found: dict[str, CatalogObjectState] = {}
            for name in dict.fromkeys(names):
                lowered = name.lower()
                depth = lowered.count(".")
                catalogs = {schema.split(".")[0] for schema in self._schemas}
                if depth == 0 and lowered in catalogs:
                    kind: str | None = "CATALOG"
                elif depth == 1 and lowered in self._schemas:
                    kind = "SCHEMA"
                else:
                    kind = self._tables.get(lowered) if depth == 2 else None
                if kind is not None:
                    found[name] = CatalogObjectState(lowered, kind, self._user)
            return found

    @staticmethod
    def _share_state(name: str, share: HeldShare) -> ShareState:
        return ShareState(
            name=name,
            comment=share.comment,
            objects=tuple(sorted(share.objects, key=lambda o: o.name)),
            grantees=frozenset(share.grantees),
        )

    def _object_type(self, name: str) -> str | None:
        """The table's type, "" for a schema, None when the catalog has neither."""
        if name.count(".") >= 2:
            return self._tables.get(name.lower())
        return "" if name.lower() in self._schemas else None
