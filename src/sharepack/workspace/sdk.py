"""`SdkWorkspace`: the `Workspace` protocol implemented with the real databricks-sdk."""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Concatenate, ParamSpec, TypeVar

from databricks.sdk import WorkspaceClient

from sharepack.workspace import sdk_inventory as inventory
from sharepack.workspace import sdk_pipelines as pipelines_api
from sharepack.workspace import sdk_sharing as sharing
from sharepack.workspace import sdk_tokens as tokens
from sharepack.workspace.errors import WorkspaceAuthenticationError, WorkspaceUnavailableError
from sharepack.workspace.sdk_client import check_workspace_url, make_client, refused_credentials
from sharepack.workspace.sdk_errors import translated_errors
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

__all__ = ["SdkWorkspace", "check_workspace_url", "make_client"]

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


def _naming_the_workspace(
    method: Callable[Concatenate[SdkWorkspace, P], R],
) -> Callable[Concatenate[SdkWorkspace, P], R]:
    """A refused credential is said of the workspace, with the setting to check, whichever
    call met it first."""

    @functools.wraps(method)
    def call(workspace: SdkWorkspace, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(workspace, *args, **kwargs)
        except WorkspaceAuthenticationError as refused:
            config = workspace._client.config
            answer = refused.__cause__
            if answer is None:
                raise
            reason = str(answer).removesuffix(config.debug_string()).rstrip(" .")
            raise refused_credentials(workspace.url, config.auth_type, reason) from answer

    return call


class SdkWorkspace:
    """Reads and changes one workspace through a `WorkspaceClient`; safe to share across threads."""

    def __init__(self, client: WorkspaceClient, *, read_concurrency: int = 16) -> None:
        self._client = client
        self._read_concurrency = read_concurrency
        self._notebook_lock = threading.Lock()
        self._notebook_imported = False
        self._identity_lock = threading.Lock()
        self._workspace_id: str | None = None

    @property
    def url(self) -> str:
        return str(self._client.config.host)

    @property
    @_naming_the_workspace
    def workspace_id(self) -> str:
        """The SDK's `get_workspace_id()`: the `x-databricks-org-id` every answer carries
        (the host's metadata, or `GET /api/2.0/preview/scim/v2/Me`). Read once."""
        with self._identity_lock:
            if self._workspace_id is None:
                what = f"Reading the id of workspace {self.url}"
                with translated_errors(what):
                    try:
                        self._workspace_id = str(self._client.get_workspace_id())
                    except (KeyError, TypeError, ValueError) as exc:
                        raise WorkspaceUnavailableError(
                            f"{what}: its answer carries no workspace id (x-databricks-org-id)"
                        ) from exc
            return self._workspace_id

    @_naming_the_workspace
    def current_user(self) -> str:
        with translated_errors(f"Reading whom the credentials of workspace {self.url} belong to"):
            me = self._client.current_user.me()
        return str(me.user_name or me.display_name or me.id or "unknown")

    @_naming_the_workspace
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
        client = self._client
        # Reads are independent: run them side by side, as apply runs independent writes,
        # each in a copy of the caller's context (its trace span, its log fields).
        with ThreadPoolExecutor(max_workers=self._read_concurrency) as pool:
            wanted = list(dict.fromkeys(recipients))
            listed = (
                pool.submit(contextvars.copy_context().run, sharing.read_recipients, client, wanted)
                if len(wanted) > LIST_RECIPIENTS_ABOVE
                else None
            )
            recipient_reads = (
                {} if listed else _read_each(pool, sharing.read_recipient, client, wanted)
            )
            share_reads = _read_each(pool, sharing.read_share, client, shares)
            pipeline_reads = _read_each(pool, pipelines_api.read_pipeline, client, pipelines)
            job_reads = _read_each(pool, pipelines_api.read_schedule_job, client, jobs)
            grant_reads = _read_each(pool, sharing.read_recipient_grants, client, recipient_grants)
            object_reads = [
                pool.submit(contextvars.copy_context().run, read)
                for read in sharing.object_reads(client, objects)
            ]
            found: dict[str, str] = {}
            for object_read in object_reads:
                found.update(object_read.result())
            existing, views, kinds = sharing.found_objects(found)
            return WorkspaceState(
                recipients=listed.result() if listed else _found(recipient_reads),
                shares=_found(share_reads),
                pipelines=_found(pipeline_reads),
                jobs=_found(job_reads),
                existing_objects=existing,
                views=views,
                object_kinds=kinds,
                recipient_grants=_found(grant_reads),
            )

    @_naming_the_workspace
    def read_catalog_objects(self, names: Iterable[str]) -> Mapping[str, CatalogObjectState]:
        with ThreadPoolExecutor(max_workers=self._read_concurrency) as pool:
            reads = _read_each(pool, inventory.read_catalog_object, self._client, names)
            return _found(reads)

    @_naming_the_workspace
    def read_pipeline_runs(
        self, pipeline_id: str, *, known: Collection[str] = ()
    ) -> list[PipelineRun]:
        return inventory.read_pipeline_runs(self._client, pipeline_id, known)

    @_naming_the_workspace
    def create_recipient(self, recipient: RecipientState) -> RecipientState:
        return sharing.create_recipient(self._client, recipient)

    @_naming_the_workspace
    def update_recipient(
        self, recipient: RecipientState, before: RecipientState | None = None
    ) -> RecipientState:
        return sharing.update_recipient(self._client, recipient, before)

    @_naming_the_workspace
    def delete_recipient(self, name: str) -> None:
        sharing.delete_recipient(self._client, name)

    @_naming_the_workspace
    def rotate_recipient_token(
        self, name: str, existing_token_expire_in_seconds: int
    ) -> RotatedToken:
        return tokens.rotate_recipient_token(self._client, name, existing_token_expire_in_seconds)

    @_naming_the_workspace
    def create_share(self, name: str, comment: str) -> ShareState:
        return sharing.create_share(self._client, name, comment)

    @_naming_the_workspace
    def update_share_comment(self, name: str, comment: str) -> None:
        sharing.update_share_comment(self._client, name, comment)

    @_naming_the_workspace
    def delete_share(self, name: str) -> None:
        sharing.delete_share(self._client, name)

    @_naming_the_workspace
    def update_share_objects(
        self,
        name: str,
        add: Sequence[ShareObjectState],
        remove: Sequence[str],
        update: Sequence[ShareObjectState] = (),
    ) -> None:
        sharing.update_share_objects(self._client, name, add, remove, update)

    @_naming_the_workspace
    def update_share_grants(self, name: str, add: Sequence[str], remove: Sequence[str]) -> None:
        sharing.update_share_grants(self._client, name, add, remove)

    @_naming_the_workspace
    def create_pipeline(self, pipeline: PipelineState) -> PipelineState:
        self._ensure_notebook()
        return pipelines_api.create_pipeline(self._client, pipeline)

    @_naming_the_workspace
    def update_pipeline(self, pipeline: PipelineState) -> PipelineState:
        self._ensure_notebook()
        return pipelines_api.update_pipeline(self._client, pipeline)

    @_naming_the_workspace
    def delete_pipeline(self, pipeline_id: str) -> None:
        pipelines_api.delete_pipeline(self._client, pipeline_id)

    @_naming_the_workspace
    def run_pipeline_update(
        self,
        pipeline_id: str,
        *,
        timeout_seconds: float,
        continuous: bool = False,
        produces: str | None = None,
    ) -> None:
        pipelines_api.run_pipeline_update(
            self._client, pipeline_id, timeout_seconds, continuous=continuous, produces=produces
        )

    @_naming_the_workspace
    def create_schedule_job(self, job: ScheduleJobState) -> ScheduleJobState:
        return pipelines_api.create_schedule_job(self._client, job)

    @_naming_the_workspace
    def reconcile_schedule_job(self, job: ScheduleJobState) -> ScheduleJobState | None:
        return pipelines_api.reconcile_schedule_job(self._client, job)

    @_naming_the_workspace
    def update_schedule_job(self, job: ScheduleJobState) -> ScheduleJobState:
        return pipelines_api.update_schedule_job(self._client, job)

    @_naming_the_workspace
    def delete_schedule_job(self, job_id: int) -> None:
        pipelines_api.delete_schedule_job(self._client, job_id)

    def _ensure_notebook(self) -> None:
        with self._notebook_lock:
            if not self._notebook_imported:
                pipelines_api.import_notebook(self._client)
                self._notebook_imported = True


#: Above this many recipients, one listing reads them instead of a GET each.
LIST_RECIPIENTS_ABOVE = 10


def _read_each(
    pool: ThreadPoolExecutor,
    read: Callable[[WorkspaceClient, str], T | None],
    client: WorkspaceClient,
    names: Iterable[str],
) -> dict[str, Future[T | None]]:
    return {
        name: pool.submit(contextvars.copy_context().run, read, client, name)
        for name in dict.fromkeys(names)
    }


def _found(reads: dict[str, Future[T | None]]) -> dict[str, T]:
    """What was found: a read answers None for a resource that does not exist."""
    return {name: value for name, future in reads.items() if (value := future.result()) is not None}
