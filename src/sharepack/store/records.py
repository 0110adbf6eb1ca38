"""What the repositories hand out: frozen values, never live rows or ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy.engine import RowMapping

from sharepack.store.dialect import as_utc


@dataclass(frozen=True)
class SharePackRecord:
    """One version of a share pack; `created_at` is when version 1 took effect."""

    share_pack_id: uuid.UUID
    share_pack_name: str
    share_pack_status: str
    strategy: str
    provisioning_status: str | None
    error_message: str | None
    rollback_status: str | None
    requested_by: str
    business_line: str | None
    project_name: str | None
    workspace_url: str
    workspace_id: str | None  # the workspace's own id; None until a run has read it
    file_name: str | None
    file_format: str | None
    config: dict[str, Any]
    submitted_by: str | None  # who uploaded it (None on packs stored before identity)
    project_id: uuid.UUID | None  # the project it was filed under (`store.tenancy`)
    approval_state: str | None  # `approvals.ApprovalState`; None: never needed one
    approval_plan: dict[str, Any] | None  # the plan put to the approvers, with its digest
    not_before: datetime | None  # the run starts no earlier (a scheduled pack)
    batch_id: uuid.UUID | None  # the batch it was uploaded in
    started_at: datetime | None  # when a worker took its run up; None while it waits
    restores_version: uuid.UUID | None  # the project version a rollback pack puts back
    version: int
    effective_from: datetime
    effective_to: datetime
    is_current: bool
    is_deleted: bool
    created_by: str
    change_reason: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping | dict[str, Any], *, created_at: datetime) -> SharePackRecord:
        values = {f.name: row[f.name] for f in fields(cls) if f.name != "created_at"}
        values["effective_from"] = as_utc(values["effective_from"])
        values["effective_to"] = as_utc(values["effective_to"])
        for moment in ("not_before", "started_at"):
            if values[moment] is not None:
                values[moment] = as_utc(values[moment])
        return cls(**values, created_at=as_utc(created_at))


@dataclass(frozen=True)
class ResourceRecord:
    """One version of a recipient, share or pipeline as sharepack recorded it.

    `entity_id` is the business key (`recipient_id`, `share_id`, `pipeline_id`), stable
    across versions; `workspace_id` the workspace's own id (None on versions written
    before a run read it); `fields` holds the table's other columns by name.
    """

    entity_id: uuid.UUID
    name: str
    workspace_url: str
    workspace_id: str | None
    share_pack_id: uuid.UUID | None
    version: int
    is_current: bool
    is_deleted: bool
    effective_from: datetime
    effective_to: datetime
    created_by: str
    change_reason: str
    fields: dict[str, Any]


# The three resource kinds share one shape; the names say which table a record came from.
RecipientRecord = ResourceRecord
ShareRecord = ResourceRecord
PipelineRecord = ResourceRecord


@dataclass(frozen=True)
class PackResources:
    """The resources one share pack created, each in its current state (which may be a
    later pack's version, or a soft delete)."""

    recipients: list[ResourceRecord]
    shares: list[ResourceRecord]
    pipelines: list[ResourceRecord]


@dataclass(frozen=True)
class Reader:
    """A recipient that could read a table, and the workspace it is in: the URL its packs
    named, and the workspace's own id when a run recorded it (None before)."""

    recipient_name: str
    workspace_url: str
    workspace_id: str | None
