"""Wiring: the database, the queue and the workspace factory built from settings."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from sharepack.approvals.policy import ApprovalPolicy, load_policy
from sharepack.directory.protocol import Directory
from sharepack.engine import PlanOptions, ResourceNames
from sharepack.engine.apply import Concurrency
from sharepack.observability.metrics import workspace_call_metrics
from sharepack.observability.tracing import workspace_call_span
from sharepack.queue.azure import AzureStorageQueue
from sharepack.queue.protocol import Queue
from sharepack.queue.table import TableQueue
from sharepack.settings import Settings
from sharepack.store import Database
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.rate_limit import AdaptiveRateLimit
from sharepack.workspace.sdk import SdkWorkspace, make_client
from sharepack.workspace.transport import CallListener
from sharepack.workspace.urls import normalise_workspace_url

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

logger = logging.getLogger(__name__)

WorkspaceFactory = Callable[[str], Workspace]
#: The adaptive rate limit a factory's workspaces at a URL share, if they have one.
RateLimitFor = Callable[[str], AdaptiveRateLimit | None]


def _unlimited(_: str) -> AdaptiveRateLimit | None:
    return None


@dataclass
class Runtime:
    """What the use cases need; built once per process and shared by API and worker."""

    settings: Settings
    database: Database
    queue: Queue
    workspace_for: WorkspaceFactory
    #: Microsoft Graph, when configured: the directory internal addresses are checked in.
    directory: Directory | None = None
    #: The adaptive rate limit of each workspace URL `workspace_for` reaches, if any.
    rate_limit_for: RateLimitFor = _unlimited
    #: What needs approval before it is applied (`SHAREPACK_APPROVAL_POLICY_FILE`);
    #: None: nothing does.
    approval_policy: ApprovalPolicy | None = None

    def close(self) -> None:
        self.database.dispose()
        self.queue.close()
        close_directory = getattr(self.directory, "close", None)
        if callable(close_directory):
            close_directory()

    def apply_concurrency(self, workspace_url: str) -> Concurrency:
        """How many actions an apply against `workspace_url` runs at once: what the
        workspace's adaptive rate limit suggests, at most `sharepack_apply_concurrency`
        (that setting alone when the workspace has no such limit)."""
        ceiling = self.settings.sharepack_apply_concurrency
        limit = self.rate_limit_for(workspace_url)
        return ceiling if limit is None else partial(limit.concurrency, ceiling)

    def plan_options(
        self, *, resuming: bool = False, retired: ResourceNames | None = None
    ) -> PlanOptions:
        """Plan options from settings; a resumed run meets its own earlier creations, which
        are no reason to refuse strategy NEW. `retired`: see `service.retired`."""
        return PlanOptions(
            fail_on_existing_with_new=self.settings.sharepack_fail_on_existing_with_new
            and not resuming,
            pipeline_wait_seconds=self.settings.sharepack_pipeline_wait_seconds,
            retired=retired or ResourceNames(),
        )


class SdkWorkspaceFactory:
    """Workspaces reached through databricks-sdk with the settings' credentials and
    timeouts; `on_request` is called before each HTTP request (the CLI counts them), and
    `listeners` are told of each exchange (`workspace.transport`). Unless
    `sharepack_adaptive_rate_limit` is off, the workspaces of one URL share one
    `AdaptiveRateLimit`, made on first use and kept as long as the factory."""

    def __init__(
        self,
        settings: Settings,
        *,
        on_request: Callable[[], None] | None = None,
        listeners: Iterable[CallListener] = (),
    ) -> None:
        self._settings = settings
        self._on_request = on_request
        self._listeners = tuple(listeners)
        self._limits: dict[str, AdaptiveRateLimit] = {}
        self._lock = threading.Lock()
        self._clients: dict[str, WorkspaceClient] = {}
        self._client_locks: dict[str, threading.Lock] = {}

    def rate_limit(self, url: str) -> AdaptiveRateLimit | None:
        """The adaptive rate limit of the workspace at `url` (None when turned off)."""
        if not self._settings.sharepack_adaptive_rate_limit:
            return None
        key = normalise_workspace_url(url)
        with self._lock:
            limit = self._limits.get(key)
            if limit is None:
                start = self._settings.sharepack_workspace_start_rate
                limit = self._limits[key] = AdaptiveRateLimit(start_rate=start)
            return limit

    def __call__(self, url: str) -> Workspace:
        return SdkWorkspace(self._client(url))

    def _client(self, url: str) -> WorkspaceClient:
        """One client per workspace URL for the process: making one checks the host and
        asks its metadata (two HTTP calls) and opens new connections, which each run or
        upload would otherwise pay. One that could not be made is tried again next time.
        A lock per URL: a workspace slow to answer holds up only its own callers."""
        with self._lock:
            lock = self._client_locks.setdefault(url, threading.Lock())
        with lock:
            if url not in self._clients:
                self._clients[url] = self._make_client(url)
            return self._clients[url]

    def _make_client(self, url: str) -> WorkspaceClient:
        settings = self._settings
        limit = self.rate_limit(url)
        # The limit is told first: the time a call waits for its slot is not the call's.
        listeners: tuple[CallListener, ...] = self._listeners
        if limit is not None:
            listeners = (limit, *listeners)
        token = settings.databricks_token
        secret = settings.client_secret
        return make_client(
            url,
            token=token.get_secret_value() if token else None,
            client_id=settings.client_id,
            client_secret=secret.get_secret_value() if secret else None,
            http_timeout_seconds=settings.sharepack_workspace_timeout_seconds,
            retry_timeout_seconds=settings.sharepack_workspace_retry_seconds,
            on_request=self._on_request,
            listeners=listeners,
        )


def sdk_workspace_factory(
    settings: Settings,
    *,
    on_request: Callable[[], None] | None = None,
    listeners: Iterable[CallListener] = (),
) -> SdkWorkspaceFactory:
    """An `SdkWorkspaceFactory` (see there)."""
    return SdkWorkspaceFactory(settings, on_request=on_request, listeners=listeners)


def build_runtime(
    settings: Settings, *, workspace_for: WorkspaceFactory | None = None, migrate: bool = True
) -> Runtime:
    """Open the configured database and the queue: the Azure Storage Queue when a
    connection string is set, else the database's table.

    With `migrate` the schema is created or migrated; without it (commands that only
    read) nothing is written, and a database without the current schema (or, for the
    embedded one, without its file) raises `SchemaNotReadyError` naming the fix."""
    for line in settings.inert_settings():
        logger.warning(line)
    policy = build_approval_policy(settings)  # a wrong file stops the start, named
    factory = workspace_for or sdk_workspace_factory(
        settings, listeners=(workspace_call_metrics, workspace_call_span)
    )
    limits = factory.rate_limit if isinstance(factory, SdkWorkspaceFactory) else _unlimited
    database = Database(settings.database_url)
    try:
        if migrate:
            database.upgrade()
        else:
            database.check_schema()
        queue = build_queue(settings, database)
    except BaseException:
        database.dispose()
        raise
    return Runtime(
        settings=settings,
        database=database,
        queue=queue,
        workspace_for=factory,
        directory=build_directory(settings),
        rate_limit_for=limits,
        approval_policy=policy,
    )


def build_approval_policy(settings: Settings) -> ApprovalPolicy | None:
    """The approval policy the settings name, read and checked; None without one.
    Raises `ApprovalPolicyError` listing every problem of the file, located."""
    path = settings.sharepack_approval_policy_file
    return load_policy(path) if path is not None else None


def build_directory(settings: Settings) -> Directory | None:
    """Microsoft Graph with the app registration's client credentials, or None when
    AZURE_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET are not all set. Nothing is
    fetched until a lookup needs it."""
    if not settings.graph_configured or settings.graph_client_secret is None:
        return None
    from sharepack.directory.graph import GraphDirectory, GraphSettings

    ca_bundle = settings.sharepack_graph_ca_bundle
    return GraphDirectory(
        GraphSettings(
            tenant_id=settings.azure_tenant_id or "",
            client_id=settings.graph_client_id or "",
            client_secret=settings.graph_client_secret.get_secret_value(),
            graph_url=settings.sharepack_graph_url,
            authority_host=settings.sharepack_graph_authority_host,
            timeout_seconds=settings.sharepack_graph_timeout_seconds,
            ca_bundle=str(ca_bundle) if ca_bundle is not None else None,
            max_retries=settings.sharepack_graph_max_retries,
        )
    )


def build_queue(settings: Settings, database: Database) -> Queue:
    """`AzureStorageQueue` when `azure_queue_connection_string` is set (and not blank),
    else `TableQueue`; both on the queue named `azure_queue_name`."""
    secret = settings.azure_queue_connection_string
    connection_string = secret.get_secret_value().strip() if secret is not None else ""
    if connection_string:
        return AzureStorageQueue(connection_string, settings.azure_queue_name)
    return TableQueue(database, settings.azure_queue_name)
