"""The typed model of a share pack: what both readers produce and the engine plans from.

Values here are already normalised by the readers (aliases resolved, strategy upper-case,
Unix cron converted to Quartz, Unity Catalog names lower-case); validation rules live in
`spec.rules`.

A descriptive field the file leaves out (a comment, a pipeline's tags) is None: the pack
does not manage it, and the workspace keeps what it has; an empty value clears it. Every
other field left out takes its default, which the pack declares like any other value.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    NonNegativeInt,
    Tag,
)


def fold_uc_name(value: object) -> object:
    """A Unity Catalog name as Unity Catalog keeps it (lower case); other values as they are."""
    return value.lower() if isinstance(value, str) else value


#: A Unity Catalog name (recipient, share, catalog.schema.table): Unity Catalog compares
#: them without case and keeps them in lower case, and so does the model, so that a pack
#: writing `Prod.Sales.Orders` matches what the workspace answers.
UcName = Annotated[str, BeforeValidator(fold_uc_name)]


class Strategy(StrEnum):
    NEW = "NEW"
    UPDATE = "UPDATE"


class RecipientType(StrEnum):
    D2O = "D2O"  # open sharing, TOKEN authentication
    D2D = "D2D"  # Databricks-to-Databricks, DATABRICKS authentication


def _upper(value: object) -> object:
    """An enumeration's value as written in any case (`enabled`, ` Table `)."""
    return value.strip().upper() if isinstance(value, str) else value


class DataObjectKind(StrEnum):
    """What a pack may share: a table, a view, a materialized view, a streaming table, or a
    whole schema (`catalog.schema`)."""

    TABLE = "TABLE"
    VIEW = "VIEW"
    MATERIALIZED_VIEW = "MATERIALIZED_VIEW"
    STREAMING_TABLE = "STREAMING_TABLE"
    SCHEMA = "SCHEMA"


class HistorySharing(StrEnum):
    ENABLED = "ENABLED"  # the recipient may read the table's history (time travel, CDF)
    DISABLED = "DISABLED"  # the service's default: the current version only


class PartitionOp(StrEnum):
    EQUAL = "EQUAL"
    LIKE = "LIKE"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Metadata(_Frozen):
    requestor: str
    project_name: str
    business_line: str
    strategy: Strategy = Strategy.NEW
    description: str = ""
    # Under UPDATE: also remove objects and grants of the pack's shares it no longer names.
    prune: bool = False
    # The run starts no earlier (a scheduled pack); a time without a zone is UTC.
    not_before: datetime | None = None


class RecipientSpec(_Frozen):
    name: UcName
    type: RecipientType
    email: str | None = None
    metastore_id: str | None = None
    allowed_ips: tuple[str, ...] = ()
    comment: str | None = None  # None: not managed
    # The recipient's properties (`properties_kvpairs`, for partition filters); None: not
    # managed, {} clears them.
    properties: dict[str, str] | None = None
    # When the recipient's tokens expire (D2O); None: not managed.
    token_expiration: datetime | None = None


class ScheduleSpec(_Frozen):
    """Either a Quartz cron with a timezone (a schedule job), or a continuous pipeline."""

    continuous: bool = False
    cron: str | None = None  # Quartz, as Databricks jobs take it: "0 0 2 * * ?"
    timezone: str = "UTC"


class PipelineSpec(_Frozen):
    name: str
    source_asset: UcName  # catalog.schema.table
    target_asset: UcName  # catalog.schema.table, one of the share's data objects
    scd_type: str = "2"  # "1" or "2"
    key_columns: tuple[str, ...] = ()
    schedule: ScheduleSpec | None = None
    serverless: bool = True
    tags: dict[str, str] | None = None  # None: not managed
    notification: tuple[str, ...] = ()


class PartitionValueSpec(_Frozen):
    """One column condition of a partition filter: the column equal to (or LIKE) `value`,
    or to the reading recipient's property `recipient_property_key`."""

    name: str
    op: Annotated[PartitionOp, BeforeValidator(_upper)] = PartitionOp.EQUAL
    value: str | None = None
    recipient_property_key: str | None = None


class PartitionSpec(_Frozen):
    """The rows whose columns meet every one of `values`; a share object with several
    partitions shares the rows of any of them."""

    values: tuple[PartitionValueSpec, ...] = ()


class DataObjectSpec(_Frozen):
    """A shared object with its options. What is left out takes the service's default: a
    pack declares an object's sharing whole, so a plan puts a changed option back."""

    name: UcName  # catalog.schema.table, or catalog.schema for a whole schema
    # None: told from the catalog (a view is shared as a VIEW, a schema by its two parts).
    type: Annotated[DataObjectKind | None, BeforeValidator(_upper)] = Field(
        default=None, validation_alias=AliasChoices("type", "data_object_type")
    )
    shared_as: UcName | None = None  # schema.table the recipient sees; default the same
    comment: str | None = None  # None: not managed
    history_data_sharing_status: Annotated[HistorySharing, BeforeValidator(_upper)] = (
        HistorySharing.DISABLED
    )
    cdf_enabled: bool = False
    start_version: NonNegativeInt | None = None
    partitions: tuple[PartitionSpec, ...] = ()


def _object_form(value: Any) -> str | None:
    if isinstance(value, str):
        return "named"
    if isinstance(value, dict | DataObjectSpec):
        return "with-options"
    return None


#: Tags of the two forms of a data object; error locations leave them out (`loader`).
DATA_OBJECT_FORMS = ("named", "with-options")

#: A data object: its name alone, or a mapping of its name and options.
DataObjectEntry = Annotated[
    Annotated[UcName, Tag("named")] | Annotated[DataObjectSpec, Tag("with-options")],
    Discriminator(
        _object_form,
        custom_error_type="data_object",
        custom_error_message=(
            "A data object is a name (catalog.schema.table or catalog.schema) or a mapping "
            "of name and options"
        ),
    ),
]


class ShareSpec(_Frozen):
    name: UcName
    comment: str | None = None  # None: not managed
    recipients: tuple[UcName, ...] = ()
    data_objects: tuple[DataObjectEntry, ...] = ()  # names, or mappings with options
    pipelines: tuple[PipelineSpec, ...] = ()

    @property
    def objects(self) -> tuple[DataObjectSpec, ...]:
        """Every data object with its options (a name alone takes the defaults)."""
        return tuple(DataObjectSpec(name=o) if isinstance(o, str) else o for o in self.data_objects)

    @property
    def object_names(self) -> tuple[str, ...]:
        return tuple(o if isinstance(o, str) else o.name for o in self.data_objects)


class SharePackConfig(_Frozen):
    metadata: Metadata
    recipients: tuple[RecipientSpec, ...] = ()
    shares: tuple[ShareSpec, ...] = ()
