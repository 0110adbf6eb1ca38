"""The `deltashare` schema of the seeds: 11 SCD2 tables and 5 append-only logs.

On PostgreSQL the tables live in schema `deltashare` (sharepack's own tables, in
`own_tables`, live in schema `sharepack`, so `deltashare` holds exactly the 16 tables the
seeds count). On SQLite both schemas are translated away (`Database` sets the map), so the
same definitions serve both.

Share packs, recipients, shares and pipelines carry `workspace_id` (the workspace's own
id, as it answers) beside `workspace_url` (as the pack named it, in canonical form, which
the seeds' queries join on). It is NULL on rows written before a run read that workspace's
id; see `store.workspaces`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)

from sharepack.store.dialect import Json, current_only_index, trimmed

SCHEMA = "deltashare"
metadata = MetaData(schema=SCHEMA, naming_convention={"pk": "pk_%(table_name)s"})

Timestamp = DateTime(timezone=True)


def workspace_id_column() -> Column[str]:
    """The workspace's own id beside its URL; NULL until a run has read it."""
    return Column("workspace_id", String(64))


def unidentified_index(table: str) -> Index:
    """The rows whose workspace id is not yet known, by URL: each run fills them in
    (`store.workspaces`), and finds them here instead of in a scan of the table. Rows
    leave the index as they are identified, so it stays small."""
    return Index(
        f"ix_{table}_unidentified",
        "workspace_url",
        postgresql_where=text("workspace_id IS NULL"),
        sqlite_where=text("workspace_id IS NULL"),
    )


def scd2_table(
    name: str, entity_id: str, *columns: Column[Any] | Index, unique_current: tuple[str, ...] = ()
) -> Table:
    """A table of versions: `record_id` per version, `entity_id` stable across them."""
    extra = []
    if unique_current:
        extra.append(current_only_index(f"uq_{name}_current_name", *unique_current))
    return Table(
        name,
        metadata,
        Column("record_id", Uuid, primary_key=True),
        Column(entity_id, Uuid, nullable=False),
        *columns,
        Column("effective_from", Timestamp, nullable=False),
        Column("effective_to", Timestamp, nullable=False),
        Column("is_current", Boolean, nullable=False),
        Column("is_deleted", Boolean, nullable=False, server_default=text("false")),
        Column("version", Integer, nullable=False),
        Column("created_by", String(255), nullable=False),
        Column("change_reason", String(500), nullable=False),
        current_only_index(f"uq_{name}_current", entity_id),
        Index(f"ix_{name}_{entity_id}_version", entity_id, "version", unique=True),
        *extra,
    )


tenants = scd2_table(
    "tenants",
    "tenant_id",
    Column("business_line_name", String(255), nullable=False),
    Column("short_name", String(100)),
    Column("executive_team", String(255)),
    Column("configurator_ad_group", String(255)),
    Column("owner_emails", Json),
)
tenant_regions = scd2_table(
    "tenant_regions",
    "tenant_region_id",
    Column("tenant_id", Uuid, nullable=False),
    Column("region", String(100), nullable=False),
    Column("workspace_url", String(500), nullable=False),
)
projects = scd2_table(
    "projects",
    "project_id",
    Column("tenant_id", Uuid),
    Column("project_name", String(255), nullable=False),
    Column("approver", String(255)),
    Column("description", Text),
    # A business line's projects, searched by name on every upload (`store.tenancy`).
    Index("ix_projects_tenant_id", "tenant_id"),
)
requests = scd2_table(
    "requests",
    "request_id",
    Column("project_id", Uuid),
    Column("share_pack_id", Uuid),
    Column("request_type", String(50), nullable=False),
    Column("requested_by", String(255), nullable=False),
    Column("request_status", String(50), nullable=False),
    # A pack's open request, ended with every run (`store.tenancy`).
    Index("ix_requests_share_pack_id", "share_pack_id"),
)
share_packs = scd2_table(
    "share_packs",
    "share_pack_id",
    Column("share_pack_name", String(255), nullable=False),
    Column("share_pack_status", String(50), nullable=False),
    Column("strategy", String(20), nullable=False),
    Column("provisioning_status", String(500)),
    Column("error_message", Text),
    Column("rollback_status", String(50)),
    Column("requested_by", String(255), nullable=False),
    Column("business_line", String(255)),
    Column("project_name", String(255)),
    Column("workspace_url", String(500), nullable=False),
    workspace_id_column(),
    Column("file_name", String(500)),
    Column("file_format", String(10)),
    Column("config", Json, nullable=False),
    # Who uploaded the pack (the authenticated principal), beside `requested_by` (whom
    # the pack names); and the project it was filed under (`store.tenancy`). Both NULL
    # on packs stored before identity.
    Column("submitted_by", String(255)),
    Column("project_id", Uuid),
    # The approval the pack is waiting for or was given (`approvals`), the plan put to
    # its approvers (serialised, with its digest), the earliest time its run may start,
    # the batch it was uploaded in; NULL on packs stored before, and where unused.
    Column("approval_state", String(30)),
    Column("approval_plan", Json),
    Column("not_before", Timestamp),
    Column("batch_id", Uuid),
    # When a worker took the run up (under the pack's lock): from then on it can no
    # longer be cancelled. NULL while it waits (approval, schedule, queue).
    Column("started_at", Timestamp),
    # The project version (`sharepack.project_versions`) this pack puts back: a rollback.
    Column("restores_version", Uuid),
    Index("ix_share_packs_project_id", "project_id"),
    Index("ix_share_packs_batch_id", "batch_id"),
    unidentified_index("share_packs"),
)
#: A project's packs in a workspace, by names compared as `resources.held_by_project`
#: compares them (a pack that prunes asks on upload and in each run).
Index(
    "ix_share_packs_project_names",
    func.lower(trimmed(share_packs.c.project_name)),
    func.lower(trimmed(share_packs.c.business_line)),
    # Last: a search by URL alone (`store.workspaces`) is `ix_share_packs_unidentified`'s.
    share_packs.c.workspace_url,
)
recipients = scd2_table(
    "recipients",
    "recipient_id",
    Column("share_pack_id", Uuid),
    Column("workspace_url", String(500), nullable=False),
    workspace_id_column(),
    Column("recipient_name", String(255), nullable=False),
    Column("databricks_recipient_id", String(255)),
    Column("recipient_contact_email", String(255)),
    Column("recipient_type", String(10), nullable=False),
    Column("recipient_databricks_org", String(255)),
    Column("ip_access_list", Json),
    Column("description", Text),
    # Kept for the seeds' queries; sharepack never stores secrets, so these stay NULL.
    Column("activation_url", Text),
    Column("bearer_token", Text),
    Index("ix_recipients_share_pack_id", "share_pack_id"),
    unidentified_index("recipients"),
    unique_current=("workspace_url", "recipient_name"),
)
shares = scd2_table(
    "shares",
    "share_id",
    Column("share_pack_id", Uuid),
    Column("workspace_url", String(500), nullable=False),
    workspace_id_column(),
    Column("share_name", String(255), nullable=False),
    Column("databricks_share_id", String(255)),
    Column("description", Text),
    Column("storage_root", String(500)),
    Column("share_assets", Json),
    Column("recipients_attached", Json),
    Index("ix_shares_share_pack_id", "share_pack_id"),
    unidentified_index("shares"),
    unique_current=("workspace_url", "share_name"),
)
pipelines = scd2_table(
    "pipelines",
    "pipeline_id",
    Column("share_pack_id", Uuid),
    Column("share_id", Uuid),
    Column("workspace_url", String(500), nullable=False),
    workspace_id_column(),
    Column("pipeline_name", String(255), nullable=False),
    Column("databricks_pipeline_id", String(255)),
    Column("databricks_job_id", String(64)),
    Column("asset_name", String(500)),
    Column("source_table", String(500)),
    Column("target_table", String(500)),
    Column("scd_type", String(5)),
    Column("key_columns", Json),
    Column("schedule_type", String(20)),
    Column("cron_expression", String(120)),
    Column("timezone", String(64)),
    Column("serverless", Boolean),
    Column("tags", Json),
    Column("notification_emails", Json),
    Index("ix_pipelines_share_pack_id", "share_pack_id"),
    unidentified_index("pipelines"),
    unique_current=("workspace_url", "pipeline_name"),
)
users = scd2_table(
    "users",
    "user_id",
    Column("email", String(255), nullable=False),
    Column("display_name", String(255)),
    Column("ad_object_id", String(64)),
    Column("is_active", Boolean),
)
ad_groups = scd2_table(
    "ad_groups",
    "group_id",
    Column("group_name", String(255), nullable=False),
    Column("ad_object_id", String(64)),
    Column("members", Json),
)
databricks_objects = scd2_table(
    "databricks_objects",
    "object_id",
    Column("workspace_url", String(500), nullable=False),
    Column("full_name", String(500), nullable=False),
    Column("object_type", String(50), nullable=False),
    Column("owner", String(255)),
)


def log_table(name: str, key: str, *columns: Column[Any], indexes: tuple[Index, ...] = ()) -> Table:
    """An append-only log: rows are inserted, never updated."""
    return Table(
        name,
        metadata,
        Column(key, Uuid, primary_key=True),
        *columns,
        Column("created_at", Timestamp, nullable=False, server_default=text("CURRENT_TIMESTAMP")),
        *indexes,
    )


job_metrics = log_table(
    "job_metrics",
    "metric_id",
    Column("pipeline_id", Uuid),
    Column("job_run_id", String(64)),
    Column("run_status", String(50)),
    Column("started_at", Timestamp),
    Column("ended_at", Timestamp),
    Column("duration_seconds", Numeric(12, 3)),
    Column("rows_processed", Integer),
)
project_costs = log_table(
    "project_costs",
    "cost_id",
    Column("project_id", Uuid),
    Column("period_start", Timestamp),
    Column("period_end", Timestamp),
    Column("cost_amount", Numeric(14, 4)),
    Column("currency", String(3)),
)
sync_jobs = log_table(
    "sync_jobs",
    "sync_job_id",
    Column("sync_type", String(50), nullable=False),
    Column("sync_status", String(50), nullable=False),
    Column("started_at", Timestamp),
    Column("finished_at", Timestamp),
    Column("records_processed", Integer),
    Column("error_message", Text),
)
#: One row per delivery attempt and its outcome (append-only, like `audit_trail`):
#: `delivery_status` is SENT, RETRYING (this attempt failed, another will come) or FAILED
#: (the last attempt failed); `recipient_email` is the address, or the webhook's URL.
notifications = log_table(
    "notifications",
    "notification_id",
    Column("share_pack_id", Uuid),
    Column("recipient_email", String(255), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("body", Text),
    Column("delivery_status", String(50), nullable=False),
    Column("sent_at", Timestamp),
    # What the notice was about, how it went out, which attempt this row records and
    # why it failed; the outbox message all attempts of one delivery share.
    Column("event", String(40)),
    Column("channel", String(20)),
    Column("attempt", Integer),
    Column("error", Text),
    Column("delivery_id", Uuid),
    indexes=(Index("ix_notifications_share_pack_id", "share_pack_id"),),
)

#: Append-only in the database too: triggers made by migration 0006 refuse UPDATE and
#: DELETE (and TRUNCATE on PostgreSQL), so no code path, sharepack's or a stray script's,
#: rewrites what was recorded; only a deliberate change of the schema could. A batch
#: (copy-and-move) migration of this table on SQLite drops them: it must make them again.
audit_trail = log_table(
    "audit_trail",
    "audit_id",
    Column("entity_type", String(50), nullable=False),
    Column("entity_id", Uuid),
    Column("action", String(50), nullable=False),
    Column("performed_by", String(255), nullable=False),
    Column("details", Json),
    # How the caller authenticated, how the request ended ("ok", "refused", "failed"),
    # the business line it concerned and where it came from; NULL on rows written before.
    Column("auth_method", String(20)),
    Column("outcome", String(20)),
    Column("business_line", String(255)),
    Column("client_address", String(100)),
    Column("user_agent", String(500)),
    indexes=(Index("ix_audit_trail_created_at", "created_at"),),
)

DELTASHARE_TABLES = (
    "tenants",
    "tenant_regions",
    "projects",
    "requests",
    "share_packs",
    "recipients",
    "shares",
    "pipelines",
    "users",
    "ad_groups",
    "databricks_objects",
    "job_metrics",
    "project_costs",
    "sync_jobs",
    "notifications",
    "audit_trail",
)
