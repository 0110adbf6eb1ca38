"""Values describing Databricks resources, as they are (read) or as they should be (desired).

The same types serve both sides so that a plan is a comparison of equal kinds. Names are
the Databricks names; secrets (tokens, activation links) never appear here. A read keeps
every field a client can set and a run could change or destroy, so that what a rollback
re-creates can be made, and checked, whole; what the server fills (ids, timestamps,
tokens, `added_at`/`added_by`/`status`) is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class AuthenticationType(StrEnum):
    TOKEN = "TOKEN"  # open sharing (D2O)
    DATABRICKS = "DATABRICKS"  # Databricks-to-Databricks (D2D)


class DataObjectType(StrEnum):
    """Every type a share may hold (databricks-sdk `SharedDataObjectDataObjectType`); a pack
    declares tables, views and schemas only, but a share read may hold any of them."""

    TABLE = "TABLE"
    VIEW = "VIEW"
    SCHEMA = "SCHEMA"
    MATERIALIZED_VIEW = "MATERIALIZED_VIEW"
    STREAMING_TABLE = "STREAMING_TABLE"
    FOREIGN_TABLE = "FOREIGN_TABLE"
    VOLUME = "VOLUME"
    MODEL = "MODEL"
    FUNCTION = "FUNCTION"
    NOTEBOOK_FILE = "NOTEBOOK_FILE"
    FEATURE_SPEC = "FEATURE_SPEC"


def shared_kind(table_type: str) -> DataObjectType | None:
    """The data object type a table of `table_type` is shared as, when not TABLE."""
    return {
        "VIEW": DataObjectType.VIEW,
        "MATERIALIZED_VIEW": DataObjectType.MATERIALIZED_VIEW,
        "STREAMING_TABLE": DataObjectType.STREAMING_TABLE,
    }.get(table_type)


class HistoryDataSharingStatus(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"  # the server's default


class PartitionOp(StrEnum):
    EQUAL = "EQUAL"
    LIKE = "LIKE"


@dataclass(frozen=True)
class RecipientState:
    """A recipient. The pack declares the first six fields; the last three it leaves as
    they are, and a rollback that re-creates the recipient sets them back."""

    name: str
    authentication_type: AuthenticationType
    comment: str = ""
    allowed_ips: tuple[str, ...] = ()  # TOKEN only; empty means from anywhere
    metastore_id: str | None = None  # DATABRICKS only: cloud:region:uuid
    contact_email: str | None = None  # kept in the recipient's properties
    #: The recipient's other properties (`properties_kvpairs` less the contact email), by key.
    properties: tuple[tuple[str, str], ...] = ()
    expiration_time: int | None = None  # of its tokens, epoch milliseconds; None: never
    owner: str | None = None  # None: whoever creates it

    def __post_init__(self) -> None:
        # Sorted, so that two reads of the same properties compare equal.
        object.__setattr__(self, "properties", tuple(sorted(self.properties)))


@dataclass(frozen=True)
class RotatedToken:
    """A TOKEN recipient's new bearer token, as the rotation answered it.

    `activation_url` is the one secret sharepack ever holds: the link the partner opens,
    once, to download its credential. It is handed to whoever rotated and nowhere else
    (kept out of `repr`, so a log line or traceback that prints the value does not show
    it). Times are epoch milliseconds.
    """

    recipient: str
    token_id: str
    activation_url: str = field(repr=False)
    #: When the new token expires (the recipient's token lifetime); None: never.
    expiration_time: int | None = None
    #: The latest expiry among the earlier tokens still listed after the rotation; None
    #: when none is: they stopped working at once.
    existing_tokens_expire_at: int | None = None


@dataclass(frozen=True)
class PartitionValue:
    """One column condition: `value` (None matching null) or a property of the recipient."""

    name: str
    op: PartitionOp = PartitionOp.EQUAL
    value: str | None = None
    recipient_property_key: str | None = None


@dataclass(frozen=True)
class Partition:
    """The rows of a shared table whose columns meet every one of `values`."""

    values: tuple[PartitionValue, ...] = ()


@dataclass(frozen=True)
class ShareObjectState:
    """A shared object with every field its ADD can set. None leaves a field to the server."""

    name: str  # catalog.schema.table or catalog.schema
    data_object_type: DataObjectType = DataObjectType.TABLE
    shared_as: str | None = None  # server default: schema.table
    comment: str = ""
    cdf_enabled: bool | None = None
    history_data_sharing_status: HistoryDataSharingStatus | None = None
    start_version: int | None = None
    partitions: tuple[Partition, ...] = ()
    string_shared_as: str | None = None  # the alias of a volume, model, function, notebook


@dataclass(frozen=True)
class ShareState:
    name: str
    comment: str = ""
    objects: tuple[ShareObjectState, ...] = ()  # sorted by name: a read compares equal
    grantees: frozenset[str] = frozenset()  # recipients holding SELECT on the share

    @property
    def object_names(self) -> frozenset[str]:
        return frozenset(o.name for o in self.objects)


@dataclass(frozen=True)
class PipelineState:
    """A DLT pipeline running sharepack's generic notebook with the pack's values."""

    name: str
    source_asset: str
    target_asset: str
    scd_type: str = "2"
    key_columns: tuple[str, ...] = ()
    continuous: bool = False
    serverless: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)
    notification: tuple[str, ...] = ()
    pipeline_id: str | None = None  # None while desired and not yet created
    # False for a pipeline of the same name that runs other code: not sharepack's to change.
    runs_sharepack_notebook: bool = True


@dataclass(frozen=True)
class CreationMark:
    """The run, and the action of it, that created a resource; kept on the resource (job
    tags) so that a create whose outcome was lost can be found again by name."""

    run: str
    action: str


@dataclass(frozen=True)
class ScheduleJobState:
    """A job with one pipeline task, triggered by a Quartz cron."""

    name: str
    pipeline_name: str
    quartz_cron: str
    timezone: str = "UTC"
    job_id: int | None = None
    pipeline_id: str | None = None
    #: Who created the job: set on a create sharepack makes, read back from the job's tags.
    #: Not part of the job's definition: comparisons leave it out.
    created_by: CreationMark | None = None


@dataclass(frozen=True)
class WorkspaceState:
    """What exists of the resources a pack names, keyed by name."""

    recipients: Mapping[str, RecipientState] = field(default_factory=dict)
    shares: Mapping[str, ShareState] = field(default_factory=dict)
    pipelines: Mapping[str, PipelineState] = field(default_factory=dict)
    jobs: Mapping[str, ScheduleJobState] = field(default_factory=dict)
    existing_objects: frozenset[str] = frozenset()  # tables and schemas found in the catalog
    views: frozenset[str] = frozenset()  # the existing objects that are views
    #: How each existing table-like object is shared when it is not a plain TABLE (a VIEW,
    #: MATERIALIZED_VIEW or STREAMING_TABLE), as the catalog's table type tells.
    object_kinds: Mapping[str, DataObjectType] = field(default_factory=dict)
    #: For each recipient asked about: the shares granting it SELECT, whoever's they are.
    recipient_grants: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def catalog_kinds(self) -> dict[str, DataObjectType]:
        """How each existing object that is not a plain TABLE is shared, as the catalog
        says: views, then the other table types `object_kinds` holds."""
        return {**{view: DataObjectType.VIEW for view in self.views}, **self.object_kinds}


@dataclass(frozen=True)
class CatalogObjectState:
    """A catalog, schema or table as Unity Catalog describes it: `object_type` is CATALOG,
    SCHEMA, or the table's type (MANAGED, EXTERNAL, VIEW, STREAMING_TABLE, ...)."""

    full_name: str
    object_type: str
    owner: str | None = None


@dataclass(frozen=True)
class PipelineRun:
    """One update of a pipeline that has ended (COMPLETED, FAILED or CANCELED). Times are
    epoch milliseconds; `ended` and `rows_processed` are None when the pipeline's event
    log does not tell them."""

    update_id: str
    state: str
    created: int
    ended: int | None = None
    rows_processed: int | None = None
