"""The `Workspace` protocol: everything sharepack reads or changes in Databricks.

The engine depends on this protocol only; `workspace.sdk.SdkWorkspace` implements it with
the real databricks-sdk. Methods raise `WorkspaceError` subclasses, never return errors.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol

from sharepack.workspace.state import (
    CatalogObjectState,
    PipelineRun,
    PipelineState,
    RecipientState,
    RotatedToken,
    ScheduleJobState,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)


class Workspace(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def workspace_id(self) -> str:
        """The workspace's own id, as its answers give it: one workspace reached by two
        URLs (`localhost`, `127.0.0.1`) has one id. Read once; `WorkspaceError` if the
        workspace cannot be reached or does not say."""
        ...

    def current_user(self) -> str:
        """Whom the workspace's credentials belong to (its user name, as `scim/v2/Me`
        answers): the identity an operator acts as, for the audit trail."""
        ...

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
        """Read the named resources; absent ones are simply missing from the result.

        `recipient_grants`: recipients whose grants to read, as the shares granting each
        one SELECT (any share of the metastore)."""
        ...

    def read_catalog_objects(self, names: Iterable[str]) -> Mapping[str, CatalogObjectState]:
        """Read catalogs (`c`), schemas (`c.s`) and tables (`c.s.t`) by full name, keyed
        by the name asked; absent ones are missing from the result."""
        ...

    def read_pipeline_runs(
        self, pipeline_id: str, *, known: Collection[str] = ()
    ) -> list[PipelineRun]:
        """The pipeline's updates that have ended, less those whose id is in `known`,
        oldest first; none for a pipeline that no longer exists."""
        ...

    def create_recipient(self, recipient: RecipientState) -> RecipientState: ...

    def update_recipient(
        self, recipient: RecipientState, before: RecipientState | None = None
    ) -> RecipientState:
        """Set the comment, IP list and contact email `recipient` declares; with `before`
        (the recipient the change was planned from), also the properties and the token
        expiry it changes from `before`, each property key on its own, so that a property
        someone else set meanwhile stays. An expiry cannot be taken away."""
        ...

    def delete_recipient(self, name: str) -> None: ...

    def rotate_recipient_token(
        self, name: str, existing_token_expire_in_seconds: int
    ) -> RotatedToken:
        """Issue a TOKEN recipient a new bearer token; its earlier tokens then expire in
        `existing_token_expire_in_seconds` (0: now), or sooner if they already would: a
        rotation never lengthens a token. `ResourceNotFoundError` for a recipient that does
        not exist; `InvalidRequestError` for a DATABRICKS (D2D) recipient, which has no
        token, for a negative number, and for a recipient whose tokens the workspace will
        not rotate again yet (too many active tokens)."""
        ...

    def create_share(self, name: str, comment: str) -> ShareState: ...

    def update_share_comment(self, name: str, comment: str) -> None: ...

    def delete_share(self, name: str) -> None: ...

    def update_share_objects(
        self,
        name: str,
        add: Sequence[ShareObjectState],
        remove: Sequence[str],
        update: Sequence[ShareObjectState] = (),
    ) -> None:
        """One PATCH: at most 100 updates, never the same object twice. `update` sets the
        options an added object may change (comment, history sharing, change data feed,
        partitions, never to none) of objects the share holds."""
        ...

    def update_share_grants(self, name: str, add: Sequence[str], remove: Sequence[str]) -> None: ...

    def create_pipeline(self, pipeline: PipelineState) -> PipelineState: ...

    def update_pipeline(self, pipeline: PipelineState) -> PipelineState: ...

    def delete_pipeline(self, pipeline_id: str) -> None: ...

    def run_pipeline_update(
        self,
        pipeline_id: str,
        *,
        timeout_seconds: float,
        continuous: bool = False,
        produces: str | None = None,
    ) -> None:
        """Start an update and wait until it is COMPLETED (continuous: RUNNING with the
        table it `produces` in the catalog); raise if it fails or times out."""
        ...

    def create_schedule_job(self, job: ScheduleJobState) -> ScheduleJobState:
        """Create the job. One marked `created_by` is made once, whatever the SDK resends:
        the jobs of its name carrying its mark are reconciled to the one created."""
        ...

    def reconcile_schedule_job(self, job: ScheduleJobState) -> ScheduleJobState | None:
        """The job named `job.name` that `job.created_by` made, any duplicates of it
        deleted; None when there is none."""
        ...

    def update_schedule_job(self, job: ScheduleJobState) -> ScheduleJobState: ...

    def delete_schedule_job(self, job_id: int) -> None: ...
