"""What the in-memory workspace holds: its resources as a workspace keeps them, the
checks a workspace makes on them, and the catalog."""

from __future__ import annotations

import ipaddress
import re
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sharepack.workspace.errors import (
    InvalidRequestError,
)
from sharepack.workspace.memory.tokens import HeldToken, new_token
from sharepack.workspace.sdk_pipelines import ACTION_TAG, PIPELINE_TAG, RUN_TAG
from sharepack.workspace.sdk_sharing import CONTACT_EMAIL_PROPERTY
from sharepack.workspace.state import (
    AuthenticationType,
    CreationMark,
    DataObjectType,
    HistoryDataSharingStatus,
    PipelineRun,
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareObjectState,
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
TABLE_KINDS = frozenset(
    {
        DataObjectType.TABLE,
        DataObjectType.VIEW,
        DataObjectType.MATERIALIZED_VIEW,
        DataObjectType.STREAMING_TABLE,
    }
)
BAD_NAME = re.compile(r"[\s./]")
SHARING_ID = re.compile(
    r"^(aws|azure|gcp):[a-z0-9-]+:"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


@dataclass
class HeldRecipient:
    """A recipient as the workspace keeps it: its properties hold the contact email."""

    name: str
    authentication_type: AuthenticationType
    owner: str
    comment: str = ""
    allowed_ips: tuple[str, ...] = ()
    metastore_id: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    expiration_time: int | None = None
    #: A TOKEN recipient's bearer tokens, newest first; a DATABRICKS recipient has none.
    tokens: list[HeldToken] = field(default_factory=list)

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
class HeldShare:
    name: str
    owner: str
    comment: str = ""
    objects: list[ShareObjectState] = field(default_factory=list)
    grantees: set[str] = field(default_factory=set)  # principals holding SELECT


@dataclass
class HeldPipeline:
    state: PipelineState  # with its id
    produced: set[str] = field(default_factory=set)
    running: bool = False  # a continuous update that has not ended
    runs: list[PipelineRun] = field(default_factory=list)  # its ended updates, oldest first


@dataclass
class HeldJob:
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
class FailureRule:
    name_regex: re.Pattern[str]
    times: int
    message: str


class HeldState:
    """What the in-memory workspace holds, behind one lock, and its catalog."""

    def __init__(self, *, url: str, workspace_id: str | None, user: str) -> None:
        self._lock = threading.RLock()
        self._url = url
        self._workspace_id = workspace_id or str(10**15 + secrets.randbelow(9 * 10**15))
        self._user = user
        self._tables: dict[str, str] = {}  # full name -> table type
        self._schemas: set[str] = set()
        self._recipients: dict[str, HeldRecipient] = {}
        self._shares: dict[str, HeldShare] = {}
        self._pipelines: dict[str, HeldPipeline] = {}
        self._jobs: dict[int, HeldJob] = {}
        self._next_job_id = FIRST_JOB_ID
        self._failure_rules: list[FailureRule] = []

    def _find_pipeline_id(self, name: str) -> str | None:
        return next((i for i, p in self._pipelines.items() if p.state.name == name), None)

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


def checked_name(what: str, kind: str, name: str) -> str:
    """A recipient or share name as Unity Catalog keeps it: in lower case."""
    if not name:
        raise InvalidRequestError(f"{what}: {kind} name must be provided.")
    if BAD_NAME.search(name):
        raise InvalidRequestError(
            f"{what}: Invalid {kind.lower()} name '{name}': spaces, '.' and '/' are not allowed."
        )
    return name.lower()


def checked_ips(what: str, ips: Sequence[str]) -> tuple[str, ...]:
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


def check_partitions(what: str, obj: ShareObjectState) -> None:
    for partition in obj.partitions:
        for value in partition.values:
            if not value.name:
                raise InvalidRequestError(f"{what}: A partition value must name its column.")
            if value.value is not None and value.recipient_property_key is not None:
                raise InvalidRequestError(
                    f"{what}: Partition value of column '{value.name}' sets both value and "
                    "recipient_property_key; set one."
                )


def stored_recipient(recipient: RecipientState, owner: str, url: str) -> HeldRecipient:
    """`recipient` as the workspace at `url` keeps it: a TOKEN recipient with its first
    token, whose activation link is of that workspace."""
    properties = dict(recipient.properties)
    if recipient.contact_email is not None:
        properties[CONTACT_EMAIL_PROPERTY] = recipient.contact_email
    return HeldRecipient(
        name=recipient.name.lower(),
        authentication_type=recipient.authentication_type,
        owner=owner,
        comment=recipient.comment,
        allowed_ips=recipient.allowed_ips,
        metastore_id=recipient.metastore_id,
        properties=properties,
        expiration_time=recipient.expiration_time,
        tokens=[new_token(url, recipient.expiration_time)]
        if recipient.authentication_type is AuthenticationType.TOKEN
        else [],
    )


def as_added(obj: ShareObjectState) -> ShareObjectState:
    """The object as a share holds it once added: its name in lower case, history sharing
    DISABLED unless set, a table-like object's alias `schema.table` unless set."""
    history = obj.history_data_sharing_status or HistoryDataSharingStatus.DISABLED
    if obj.data_object_type is DataObjectType.SCHEMA:
        alias = None
    elif obj.data_object_type in TABLE_KINDS:
        alias = (obj.shared_as or obj.name.split(".", 1)[-1]).lower()
    else:
        alias = obj.shared_as
    return replace(obj, name=obj.name.lower(), history_data_sharing_status=history, shared_as=alias)


def target_parts(pipeline: PipelineState) -> tuple[str, str, str]:
    """The target's catalog, schema and table (a `ValueError` as the adapter raises it)."""
    catalog, schema, table = pipeline.target_asset.split(".", 2)
    return catalog, schema, table


def as_held(pipeline: PipelineState, pipeline_id: str) -> PipelineState:
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
