"""The typed model of a share pack: what both readers produce and the engine plans from.

Values here are already normalised by the readers (aliases resolved, strategy upper-case,
Unix cron converted to Quartz, Unity Catalog names lower-case); validation rules live in
`spec.rules`.

A descriptive field the file leaves out (a comment, a pipeline's tags) is None: the pack
does not manage it, and the workspace keeps what it has; an empty value clears it. Every
other field left out takes its default, which the pack declares like any other value.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict


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


class RecipientSpec(_Frozen):
    name: UcName
    type: RecipientType
    email: str | None = None
    metastore_id: str | None = None
    allowed_ips: tuple[str, ...] = ()
    comment: str | None = None  # None: not managed


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


class ShareSpec(_Frozen):
    name: UcName
    comment: str | None = None  # None: not managed
    recipients: tuple[UcName, ...] = ()
    data_objects: tuple[UcName, ...] = ()  # catalog.schema.table or catalog.schema
    pipelines: tuple[PipelineSpec, ...] = ()


class SharePackConfig(_Frozen):
    metadata: Metadata
    recipients: tuple[RecipientSpec, ...] = ()
    shares: tuple[ShareSpec, ...] = ()
