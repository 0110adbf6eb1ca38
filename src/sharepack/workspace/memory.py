"""`InMemoryWorkspace`: the `Workspace` protocol held in memory, for tests that open no socket.

It answers as `SdkWorkspace` answers against a workspace: the same `WorkspaceError` types
in the same situations, the fields a server fills filled (ids, object aliases, history
status, owners), names folded to lower case where Unity Catalog folds them. A pipeline
update ends at once: it fails, or it materialises the pipeline's target table. The
catalog holds what a test puts in it (`add_tables`, `seed`). One lock guards everything,
so the engine's concurrent actions may share one instance.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sharepack.cron import CronError, check_quartz
from sharepack.workspace.errors import (
    InvalidRequestError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
    WorkspaceError,
    WorkspacePermissionError,
)
from sharepack.workspace.sdk_pipelines import ACTION_TAG, PIPELINE_TAG, RUN_TAG, mark_tags
from sharepack.workspace.sdk_sharing import CONTACT_EMAIL_PROPERTY
from sharepack.workspace.state import (
    AuthenticationType,
    CreationMark,
    DataObjectType,
    HistoryDataSharingStatus,
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)

DEFAULT_USER = "sharepack@example.com"
DEFAULT_URL = "https://in-memory.sharepack.invalid"
MAX_OBJECT_UPDATES = 100
MAX_OBJECTS_PER_SHARE = 1000
MAX_RECIPIENTS = 5000
MAX_SHARES = 1000
MAX_IPS = 100
FIRST_JOB_ID = 1001
VIEW = "VIEW"
_TABLE_KINDS = frozenset(
    {
        DataObjectType.TABLE,
        DataObjectType.VIEW,
        DataObjectType.MATERIALIZED_VIEW,
        DataObjectType.STREAMING_TABLE,
    }
)
_BAD_NAME = re.compile(r"[\s./]")
_SHARING_ID = re.compile(
    r"^(aws|azure|gcp):[a-z0-9-]+:"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


@dataclass
class _Recipient:
    """A recipient as the workspace keeps it: its properties hold the contact email."""

    name: str
    authentication_type: AuthenticationType
    owner: str
    comment: str = ""
    allowed_ips: tuple[str, ...] = ()
    metastore_id: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    expiration_time: int | None = None

    def state(self) -> RecipientState:
        properties = dict(self.properties)
        return RecipientState(
            name=self.name,
            authentication_type=self.authentication_type,
            comment=self.comment,
            allowed_ips=self.allowed_ips,
            metastore_id=self.metastore_id,
            contact_email=properties.pop(CONTACT_EMAIL_PROPERTY, None),
            properties=tuple(properties.items()),
            expiration_time=self.expiration_time,
            owner=self.owner,
        )


@dataclass
class _Share:
    name: str
    owner: str
    comment: str = ""
    objects: list[ShareObjectState] = field(default_factory=list)
    grantees: set[str] = field(default_factory=set)  # principals holding SELECT


@dataclass
class _Pipeline:
    state: PipelineState  # with its id
    produced: set[str] = field(default_factory=set)
    running: bool = False  # a continuous update that has not ended


@dataclass
class _Job:
    job_id: int
    name: str
    pipeline_id: str
    quartz_cron: str
    timezone: str
    tags: dict[str, str]

    def state(self) -> ScheduleJobState:
        run, action = self.tags.get(RUN_TAG), self.tags.get(ACTION_TAG)
        return ScheduleJobState(
            name=self.name,
            pipeline_name=self.tags.get(PIPELINE_TAG, ""),
            quartz_cron=self.quartz_cron,
            timezone=self.timezone,
            job_id=self.job_id,
            pipeline_id=self.pipeline_id,
            created_by=CreationMark(run, action) if run and action else None,
        )


@dataclass
class _FailureRule:
    name_regex: re.Pattern[str]
    times: int
    message: str


class InMemoryWorkspace:
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
        self._lock = threading.RLock()
        self._url = url
        self._workspace_id = workspace_id or str(10**15 + secrets.randbelow(9 * 10**15))
        self._user = user
        self._tables: dict[str, str] = {}  # full name -> table type
        self._schemas: set[str] = set()
        self._recipients: dict[str, _Recipient] = {}
        self._shares: dict[str, _Share] = {}
        self._pipelines: dict[str, _Pipeline] = {}
        self._jobs: dict[int, _Job] = {}
        self._next_job_id = FIRST_JOB_ID
        self._failure_rules: list[_FailureRule] = []
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
            self._failure_rules.append(_FailureRule(re.compile(name_regex), times, message))

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
                self._recipients[recipient.name.lower()] = _stored_recipient(
                    recipient, recipient.owner or self._user
                )
            for share in state.shares.values():
                self._shares[share.name.lower()] = _Share(
                    name=share.name.lower(),
                    owner=self._user,
                    comment=share.comment,
                    objects=[_as_added(o) for o in share.objects],
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
        seeded = _Pipeline(replace(pipeline, pipeline_id=pipeline_id, tags=dict(pipeline.tags)))
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
        self._jobs[job_id] = _Job(
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
                recipient_grants=grants,
            )

    @staticmethod
    def _share_state(name: str, share: _Share) -> ShareState:
        return ShareState(
            name=name,
            comment=share.comment,
            objects=tuple(share.objects),
            grantees=frozenset(share.grantees),
        )

    def _object_type(self, name: str) -> str | None:
        """The table's type, "" for a schema, None when the catalog has neither."""
        if name.count(".") >= 2:
            return self._tables.get(name.lower())
        return "" if name.lower() in self._schemas else None

    # --- recipients ---------------------------------------------------------------------

    def create_recipient(self, recipient: RecipientState) -> RecipientState:
        what = f"Creating recipient '{recipient.name}'"
        with self._lock:
            name = _checked_name(what, "Recipient", recipient.name)
            if name in self._recipients:
                raise ResourceAlreadyExistsError(f"{what}: Recipient '{name}' already exists")
            if len(self._recipients) >= MAX_RECIPIENTS:
                raise InvalidRequestError(f"{what}: at most {MAX_RECIPIENTS} recipients")
            token = recipient.authentication_type is AuthenticationType.TOKEN
            if token and recipient.metastore_id:
                raise InvalidRequestError(
                    f"{what}: data_recipient_global_metastore_id applies to DATABRICKS recipients."
                )
            if not token:
                self._check_sharing_id(what, recipient.metastore_id)
            held = _stored_recipient(recipient, recipient.owner or self._user)
            held.name = name
            # The adapter sends an IP list for TOKEN recipients only.
            held.allowed_ips = _checked_ips(what, recipient.allowed_ips) if token else ()
            self._recipients[name] = held
            return held.state()

    def _check_sharing_id(self, what: str, global_id: str | None) -> None:
        if not global_id:
            raise InvalidRequestError(
                f"{what}: data_recipient_global_metastore_id is required for DATABRICKS recipients."
            )
        if not _SHARING_ID.match(global_id):
            raise InvalidRequestError(
                f"{what}: Cannot resolve target shard for sharing identifier '{global_id}'."
            )
        for other in self._recipients.values():
            if other.metastore_id == global_id:
                raise InvalidRequestError(
                    f"{what}: There is already a Recipient object '{other.name}' for the "
                    f"metastore '{global_id}'."
                )

    def update_recipient(self, recipient: RecipientState) -> RecipientState:
        """Set what a pack declares; other properties, expiry and owner stay as held."""
        what = f"Updating recipient '{recipient.name}'"
        with self._lock:
            held = self._owned_recipient(what, recipient.name)
            if recipient.authentication_type is AuthenticationType.TOKEN:
                if held.authentication_type is not AuthenticationType.TOKEN:
                    raise InvalidRequestError(
                        f"{what}: IP access lists apply to TOKEN recipients only."
                    )
                held.allowed_ips = _checked_ips(what, recipient.allowed_ips)
            held.comment = recipient.comment
            held.properties.pop(CONTACT_EMAIL_PROPERTY, None)
            if recipient.contact_email is not None:
                held.properties[CONTACT_EMAIL_PROPERTY] = recipient.contact_email
            return held.state()

    def delete_recipient(self, name: str) -> None:
        """Dropping a recipient revokes what it was granted on every share."""
        with self._lock:
            held = self._owned_recipient(f"Deleting recipient '{name}'", name)
            del self._recipients[held.name]
            for share in self._shares.values():
                share.grantees.discard(held.name)

    def _owned_recipient(self, what: str, name: str) -> _Recipient:
        held = self._recipients.get(name.lower())
        if held is None:
            raise ResourceNotFoundError(f"{what}: Recipient '{name.lower()}' does not exist.")
        if held.owner != self._user:
            raise WorkspacePermissionError(
                f"{what}: User is not an owner of Recipient '{held.name}'."
            )
        return held

    # --- shares -------------------------------------------------------------------------

    def create_share(self, name: str, comment: str) -> ShareState:
        what = f"Creating share '{name}'"
        with self._lock:
            key = _checked_name(what, "Share", name)
            if key in self._shares:
                raise ResourceAlreadyExistsError(f"{what}: Share '{key}' already exists")
            if len(self._shares) >= MAX_SHARES:
                raise InvalidRequestError(f"{what}: at most {MAX_SHARES} shares")
            self._shares[key] = _Share(name=key, owner=self._user, comment=comment)
            return ShareState(name=key, comment=comment)

    def update_share_comment(self, name: str, comment: str) -> None:
        with self._lock:
            self._owned_share(f"Updating the comment of share '{name}'", name).comment = comment

    def delete_share(self, name: str) -> None:
        with self._lock:
            held = self._owned_share(f"Deleting share '{name}'", name)
            del self._shares[held.name]

    def update_share_objects(
        self, name: str, add: Sequence[ShareObjectState], remove: Sequence[str]
    ) -> None:
        """One change, checked whole before any of it is made: at most 100 updates,
        never the same object twice."""
        what = f"Updating the objects of share '{name}'"
        with self._lock:
            share = self._owned_share(what, name)
            added = self._checked_object_updates(what, share, add, remove)
            removed = {n.lower() for n in remove}
            share.objects = [o for o in share.objects if o.name not in removed] + added

    def _checked_object_updates(
        self, what: str, share: _Share, add: Sequence[ShareObjectState], remove: Sequence[str]
    ) -> list[ShareObjectState]:
        """The objects to add as the share will hold them; raise as a workspace refuses."""
        if len(add) + len(remove) > MAX_OBJECT_UPDATES:
            raise InvalidRequestError(
                f"{what}: UpdateShare number of data objects to update exceeds limit "
                f"{MAX_OBJECT_UPDATES}"
            )
        touched = [o.name.lower() for o in add] + [n.lower() for n in remove]
        repeated = sorted({n for n in touched if touched.count(n) > 1})
        if repeated:
            raise InvalidRequestError(
                f"{what}: UpdateShare duplicate updates on the same data object, names: "
                f"[{', '.join(repeated)}]."
            )
        present = {o.name: o for o in share.objects}
        aliases = {o.shared_as: o.name for o in share.objects if o.shared_as}
        added = [self._checked_add(what, share, obj, present, aliases) for obj in add]
        for object_name in remove:
            gone = present.get(object_name.lower())
            if gone is None:
                raise ResourceNotFoundError(
                    f"{what}: Data object '{object_name}' does not exist in share '{share.name}'."
                )
            aliases.pop(gone.shared_as or "", None)
        count = len(share.objects) + len(add) - len(remove)
        if count > MAX_OBJECTS_PER_SHARE:
            raise InvalidRequestError(
                f"{what}: Share '{share.name}' would hold {count} data objects; the limit is "
                f"{MAX_OBJECTS_PER_SHARE}."
            )
        return added

    def _checked_add(
        self,
        what: str,
        share: _Share,
        obj: ShareObjectState,
        present: Mapping[str, ShareObjectState],
        aliases: dict[str, str],
    ) -> ShareObjectState:
        name, kind = obj.name.lower(), obj.data_object_type
        _check_partitions(what, obj)
        if name in present:
            raise ResourceAlreadyExistsError(
                f"{what}: Data object '{obj.name}' already exists in share '{share.name}'."
            )
        stored = _as_added(obj)
        if kind is DataObjectType.SCHEMA:
            if name not in self._schemas:
                raise ResourceNotFoundError(f"{what}: Schema '{obj.name}' does not exist.")
            return stored
        if kind not in _TABLE_KINDS:
            raise InvalidRequestError(f"{what}: Data object type '{kind}' is not supported.")
        if obj.string_shared_as:
            raise InvalidRequestError(
                f"{what}: string_shared_as applies to non-table objects; {name} is a {kind}."
            )
        table_type = self._tables.get(name)
        if table_type is None:
            raise ResourceNotFoundError(f"{what}: Table '{obj.name}' does not exist.")
        if (kind is DataObjectType.VIEW) != (table_type == VIEW):
            raise InvalidRequestError(f"{what}: {name} is a {table_type}, not a {kind}.")
        alias = stored.shared_as or ""
        if alias.count(".") != 1 or not all(alias.split(".")):
            raise InvalidRequestError(f"{what}: shared_as '{alias}' must be schema.table.")
        if alias in aliases:
            raise InvalidRequestError(
                f"{what}: Data object '{aliases[alias]}' is already shared as '{alias}' in "
                f"share '{share.name}'."
            )
        aliases[alias] = name
        return stored

    def update_share_grants(self, name: str, add: Sequence[str], remove: Sequence[str]) -> None:
        what = f"Updating the grants of share '{name}'"
        with self._lock:
            share = self._owned_share(what, name)
            for principal in [*add, *remove]:
                if not principal:
                    raise InvalidRequestError(
                        f"{what}: a permissions change must name its principal"
                    )
            for principal in add:
                if principal.lower() not in self._recipients:
                    raise ResourceNotFoundError(
                        f"{what}: Recipient '{principal.lower()}' does not exist."
                    )
            share.grantees.update(p.lower() for p in add)
            share.grantees.difference_update(p.lower() for p in remove)

    def _owned_share(self, what: str, name: str) -> _Share:
        held = self._shares.get(name.lower())
        if held is None:
            raise ResourceNotFoundError(f"{what}: Share '{name.lower()}' does not exist.")
        if held.owner != self._user:
            raise WorkspacePermissionError(f"{what}: User is not an owner of Share '{held.name}'.")
        return held

    # --- pipelines ----------------------------------------------------------------------

    def create_pipeline(self, pipeline: PipelineState) -> PipelineState:
        what = f"Creating pipeline '{pipeline.name}'"
        with self._lock:
            self._check_pipeline(what, pipeline, pipeline_id=None)
            pipeline_id = str(uuid.uuid4())
            self._pipelines[pipeline_id] = _Pipeline(_as_held(pipeline, pipeline_id))
            return replace(pipeline, pipeline_id=pipeline_id)

    def update_pipeline(self, pipeline: PipelineState) -> PipelineState:
        what = f"Updating pipeline '{pipeline.name}'"
        with self._lock:
            pipeline_id = pipeline.pipeline_id or self._find_pipeline_id(pipeline.name)
            if pipeline_id is None:
                raise ResourceNotFoundError(f"{what}: it does not exist")
            held = self._pipeline(what, pipeline_id)
            if pipeline.name != held.state.name:
                self._check_pipeline(what, pipeline, pipeline_id=pipeline_id)
            else:
                _target_parts(pipeline)
            held.state = _as_held(pipeline, pipeline_id)
            return replace(pipeline, pipeline_id=pipeline_id)

    def _check_pipeline(self, what: str, pipeline: PipelineState, pipeline_id: str | None) -> None:
        _target_parts(pipeline)
        if not pipeline.name:
            raise InvalidRequestError(f"{what}: Pipeline name must be provided.")
        if any(
            p.state.name == pipeline.name and i != pipeline_id for i, p in self._pipelines.items()
        ):
            raise ResourceAlreadyExistsError(
                f"{what}: The pipeline name '{pipeline.name}' is already used by another "
                "pipeline; a pipeline of that name exists"
            )

    def delete_pipeline(self, pipeline_id: str) -> None:
        """Deleting a pipeline drops the tables it produced, as Unity Catalog does."""
        with self._lock:
            held = self._pipeline(f"Deleting pipeline {pipeline_id}", pipeline_id)
            for table in held.produced:
                self._tables.pop(table, None)
            del self._pipelines[pipeline_id]

    def run_pipeline_update(
        self,
        pipeline_id: str,
        *,
        timeout_seconds: float,
        continuous: bool = False,
        produces: str | None = None,
    ) -> None:
        """Run an update to its end at once: it fails, or materialises the target table.
        A continuous pipeline's update stays running; the next run joins it."""
        with self._lock:
            held = self._pipeline(f"Starting an update of pipeline {pipeline_id}", pipeline_id)
            update_id = str(uuid.uuid4())
            if not held.running:
                if self._update_failure(held) is not None:
                    raise WorkspaceError(
                        f"Update {update_id} of pipeline {pipeline_id} ended FAILED"
                    )
                target = held.state.target_asset.lower()
                if target not in self._tables:
                    self._add_table(target, "STREAMING_TABLE")
                    held.produced.add(target)
                held.running = held.state.continuous
            if not held.running:
                return  # COMPLETED
            if continuous and (produces is None or produces.lower() in self._tables):
                return
            raise WorkspaceError(
                f"Update {update_id} of pipeline {pipeline_id} did not complete within "
                f"{timeout_seconds:g} s (last state RUNNING)"
            )

    def _update_failure(self, held: _Pipeline) -> str | None:
        """Why an update of the pipeline ends FAILED, or None when it completes."""
        spec = held.state
        for rule in self._failure_rules:
            if rule.times > 0 and rule.name_regex.search(spec.name):
                rule.times -= 1
                return rule.message
        if not spec.runs_sharepack_notebook:
            return "Its notebook does not exist in the workspace."
        if spec.source_asset and spec.source_asset.lower() not in self._tables:
            return f"Table '{spec.source_asset}' does not exist."
        target = spec.target_asset.lower()
        if target.rsplit(".", 1)[0] not in self._schemas:
            return f"Schema '{target.rsplit('.', 1)[0]}' does not exist."
        if target in self._tables and target not in held.produced:
            return f"Table '{spec.target_asset}' already exists and is not managed by it."
        return None

    def _pipeline(self, what: str, pipeline_id: str) -> _Pipeline:
        held = self._pipelines.get(pipeline_id)
        if held is None:
            raise ResourceNotFoundError(
                f"{what}: The specified pipeline {pipeline_id} was not found."
            )
        return held

    def _find_pipeline_id(self, name: str) -> str | None:
        return next((i for i, p in self._pipelines.items() if p.state.name == name), None)

    # --- schedule jobs ------------------------------------------------------------------

    def create_schedule_job(self, job: ScheduleJobState) -> ScheduleJobState:
        """Create the job; the jobs of its name carrying its mark are reconciled to it."""
        with self._lock:
            pipeline_id = self._job_pipeline_id(job)
            try:
                job_id = self._new_job_id()
                self._put_job(f"Creating schedule job '{job.name}'", job_id, job, pipeline_id)
            except WorkspaceError:
                with suppress(WorkspaceError):
                    self._reconcile(job, keep=None)
                raise
            self._reconcile(job, keep=job_id)
            return replace(job, job_id=job_id, pipeline_id=pipeline_id)

    def reconcile_schedule_job(self, job: ScheduleJobState) -> ScheduleJobState | None:
        with self._lock:
            return self._reconcile(job, keep=None)

    def _reconcile(self, job: ScheduleJobState, keep: int | None) -> ScheduleJobState | None:
        if job.created_by is None:
            return None
        wanted = mark_tags(job.created_by)
        ours = [j for j in self._jobs_named(job.name) if mark_tags(j.state().created_by) == wanted]
        if not ours:
            return None
        kept = next((j for j in ours if j.job_id == keep), min(ours, key=lambda j: j.job_id))
        for duplicate in ours:
            if duplicate is not kept:
                del self._jobs[duplicate.job_id]
        return kept.state()

    def update_schedule_job(self, job: ScheduleJobState) -> ScheduleJobState:
        """Reset the job's settings; the mark of the run that created it is kept."""
        with self._lock:
            existing = job if job.job_id is not None else self._read_job(job.name)
            if existing is None or existing.job_id is None:
                raise ResourceNotFoundError(
                    f"Updating schedule job '{job.name}': it does not exist"
                )
            job = replace(job, created_by=job.created_by or existing.created_by)
            pipeline_id = self._job_pipeline_id(job)
            what = f"Updating schedule job '{job.name}'"
            if existing.job_id not in self._jobs:
                raise InvalidRequestError(f"{what}: Job {existing.job_id} does not exist.")
            self._put_job(what, existing.job_id, job, pipeline_id)
            return replace(job, job_id=existing.job_id, pipeline_id=pipeline_id)

    def delete_schedule_job(self, job_id: int) -> None:
        with self._lock:
            if job_id not in self._jobs:
                raise InvalidRequestError(
                    f"Deleting schedule job {job_id}: Job {job_id} does not exist."
                )
            del self._jobs[job_id]

    def _put_job(self, what: str, job_id: int, job: ScheduleJobState, pipeline_id: str) -> None:
        """Store the job's settings once the workspace would accept them."""
        fields = job.quartz_cron.split()
        try:
            if len(fields) not in (6, 7):
                raise CronError(f"expected 6 or 7 fields, got {len(fields)}")
            check_quartz(fields)
        except CronError as exc:
            raise InvalidRequestError(
                f"{what}: Invalid Quartz cron expression '{job.quartz_cron}': {exc}"
            ) from exc
        try:
            ZoneInfo(job.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidRequestError(f"{what}: Invalid timezone_id '{job.timezone}'.") from None
        self._pipeline(what, pipeline_id)
        tags = {PIPELINE_TAG: job.pipeline_name, **mark_tags(job.created_by)}
        self._jobs[job_id] = _Job(
            job_id, job.name, pipeline_id, job.quartz_cron, job.timezone, tags
        )

    def _job_pipeline_id(self, job: ScheduleJobState) -> str:
        pipeline_id = job.pipeline_id or self._find_pipeline_id(job.pipeline_name)
        if pipeline_id is None:
            raise ResourceNotFoundError(
                f"Schedule job '{job.name}': pipeline '{job.pipeline_name}' does not exist"
            )
        return pipeline_id

    def _jobs_named(self, name: str) -> list[_Job]:
        """Every job called exactly `name`, newest first."""
        return [j for _, j in sorted(self._jobs.items(), reverse=True) if j.name == name]

    def _read_job(self, name: str) -> ScheduleJobState | None:
        return next((j.state() for j in self._jobs_named(name)), None)

    def _new_job_id(self) -> int:
        job_id = self._next_job_id
        self._next_job_id += 1
        return job_id

    # --- the catalog --------------------------------------------------------------------

    def _add_table(self, name: str, table_type: str) -> None:
        parts = name.lower().split(".")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"'{name}' is not a catalog.schema.table name")
        self._add_schema(".".join(parts[:2]))
        self._tables[".".join(parts)] = table_type.upper()

    def _add_schema(self, name: str) -> None:
        parts = name.lower().split(".")
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"'{name}' is not a catalog.schema name")
        self._schemas.add(".".join(parts))


def _checked_name(what: str, kind: str, name: str) -> str:
    """A recipient or share name as Unity Catalog keeps it: in lower case."""
    if not name:
        raise InvalidRequestError(f"{what}: {kind} name must be provided.")
    if _BAD_NAME.search(name):
        raise InvalidRequestError(
            f"{what}: Invalid {kind.lower()} name '{name}': spaces, '.' and '/' are not allowed."
        )
    return name.lower()


def _checked_ips(what: str, ips: Sequence[str]) -> tuple[str, ...]:
    """IPv4 addresses or CIDR blocks, at most 100; empty means from anywhere."""
    if len(ips) > MAX_IPS:
        raise InvalidRequestError(f"{what}: at most {MAX_IPS} IP addresses, got {len(ips)}.")
    for ip in ips:
        try:
            ipaddress.IPv4Network(ip, strict=False)
        except ValueError:
            raise InvalidRequestError(
                f"{what}: Invalid IP address or CIDR block: '{ip}'."
            ) from None
    return tuple(ips)


def _check_partitions(what: str, obj: ShareObjectState) -> None:
    for partition in obj.partitions:
        for value in partition.values:
            if not value.name:
                raise InvalidRequestError(f"{what}: A partition value must name its column.")
            if value.value is not None and value.recipient_property_key is not None:
                raise InvalidRequestError(
                    f"{what}: Partition value of column '{value.name}' sets both value and "
                    "recipient_property_key; set one."
                )


def _stored_recipient(recipient: RecipientState, owner: str) -> _Recipient:
    properties = dict(recipient.properties)
    if recipient.contact_email is not None:
        properties[CONTACT_EMAIL_PROPERTY] = recipient.contact_email
    return _Recipient(
        name=recipient.name.lower(),
        authentication_type=recipient.authentication_type,
        owner=owner,
        comment=recipient.comment,
        allowed_ips=recipient.allowed_ips,
        metastore_id=recipient.metastore_id,
        properties=properties,
        expiration_time=recipient.expiration_time,
    )


def _as_added(obj: ShareObjectState) -> ShareObjectState:
    """The object as a share holds it once added: its name in lower case, history sharing
    DISABLED unless set, a table-like object's alias `schema.table` unless set."""
    history = obj.history_data_sharing_status or HistoryDataSharingStatus.DISABLED
    if obj.data_object_type is DataObjectType.SCHEMA:
        alias = None
    elif obj.data_object_type in _TABLE_KINDS:
        alias = (obj.shared_as or obj.name.split(".", 1)[-1]).lower()
    else:
        alias = obj.shared_as
    return replace(obj, name=obj.name.lower(), history_data_sharing_status=history, shared_as=alias)


def _target_parts(pipeline: PipelineState) -> tuple[str, str, str]:
    """The target's catalog, schema and table (a `ValueError` as the adapter raises it)."""
    catalog, schema, table = pipeline.target_asset.split(".", 2)
    return catalog, schema, table


def _as_held(pipeline: PipelineState, pipeline_id: str) -> PipelineState:
    """The pipeline as a read answers it once sharepack has set it: its notebook, the
    key columns through their comma-joined setting, the tags as a plain mapping."""
    keys = tuple(k for k in ",".join(pipeline.key_columns).split(",") if k)
    return replace(
        pipeline,
        key_columns=keys,
        tags=dict(pipeline.tags),
        pipeline_id=pipeline_id,
        runs_sharepack_notebook=True,
    )
