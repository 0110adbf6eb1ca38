"""Create the deltashare and sharepack schemas

Revision ID: 0001
Revises:
Create Date: 2026-11-24 01:20:47.341098
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ad_groups",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("group_name", sa.String(length=255), nullable=False),
        sa.Column("ad_object_id", sa.String(length=64), nullable=True),
        sa.Column(
            "members",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("change_reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_ad_groups")),
        schema="deltashare",
    )
    op.create_index(
        "ix_ad_groups_group_id_version",
        "ad_groups",
        ["group_id", "version"],
        unique=True,
        schema="deltashare",
    )
    op.create_index(
        "uq_ad_groups_current",
        "ad_groups",
        ["group_id"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_table(
        "audit_trail",
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("performed_by", sa.String(length=255), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_audit_trail")),
        schema="deltashare",
    )
    op.create_table(
        "databricks_objects",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_url", sa.String(length=500), nullable=False),
        sa.Column("full_name", sa.String(length=500), nullable=False),
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("change_reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_databricks_objects")),
        schema="deltashare",
    )
    op.create_index(
        "ix_databricks_objects_object_id_version",
        "databricks_objects",
        ["object_id", "version"],
        unique=True,
        schema="deltashare",
    )
    op.create_index(
        "uq_databricks_objects_current",
        "databricks_objects",
        ["object_id"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_table(
        "job_metrics",
        sa.Column("metric_id", sa.Uuid(), nullable=False),
        sa.Column("pipeline_id", sa.Uuid(), nullable=True),
        sa.Column("job_run_id", sa.String(length=64), nullable=True),
        sa.Column("run_status", sa.String(length=50), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("rows_processed", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("metric_id", name=op.f("pk_job_metrics")),
        schema="deltashare",
    )
    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("share_pack_id", sa.Uuid(), nullable=True),
        sa.Column("recipient_email", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("delivery_status", sa.String(length=50), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_notifications")),
        schema="deltashare",
    )
    op.create_table(
        "pipelines",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("pipeline_id", sa.Uuid(), nullable=False),
        sa.Column("share_pack_id", sa.Uuid(), nullable=True),
        sa.Column("share_id", sa.Uuid(), nullable=True),
        sa.Column("workspace_url", sa.String(length=500), nullable=False),
        sa.Column("pipeline_name", sa.String(length=255), nullable=False),
        sa.Column("databricks_pipeline_id", sa.String(length=255), nullable=True),
        sa.Column("databricks_job_id", sa.String(length=64), nullable=True),
        sa.Column("asset_name", sa.String(length=500), nullable=True),
        sa.Column("source_table", sa.String(length=500), nullable=True),
        sa.Column("target_table", sa.String(length=500), nullable=True),
        sa.Column("scd_type", sa.String(length=5), nullable=True),
        sa.Column(
            "key_columns",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("schedule_type", sa.String(length=20), nullable=True),
        sa.Column("cron_expression", sa.String(length=120), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("serverless", sa.Boolean(), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "notification_emails",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("change_reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_pipelines")),
        schema="deltashare",
    )
    op.create_index(
        "ix_pipelines_pipeline_id_version",
        "pipelines",
        ["pipeline_id", "version"],
        unique=True,
        schema="deltashare",
    )
    op.create_index(
        "ix_pipelines_share_pack_id",
        "pipelines",
        ["share_pack_id"],
        unique=False,
        schema="deltashare",
    )
    op.create_index(
        "uq_pipelines_current",
        "pipelines",
        ["pipeline_id"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_index(
        "uq_pipelines_current_name",
        "pipelines",
        ["workspace_url", "pipeline_name"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_table(
        "project_costs",
        sa.Column("cost_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cost_amount", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("cost_id", name=op.f("pk_project_costs")),
        schema="deltashare",
    )
    op.create_table(
        "projects",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("project_name", sa.String(length=255), nullable=False),
        sa.Column("approver", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("change_reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_projects")),
        schema="deltashare",
    )
    op.create_index(
        "ix_projects_project_id_version",
        "projects",
        ["project_id", "version"],
        unique=True,
        schema="deltashare",
    )
    op.create_index(
        "uq_projects_current",
        "projects",
        ["project_id"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_table(
        "recipients",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("share_pack_id", sa.Uuid(), nullable=True),
        sa.Column("workspace_url", sa.String(length=500), nullable=False),
        sa.Column("recipient_name", sa.String(length=255), nullable=False),
        sa.Column("databricks_recipient_id", sa.String(length=255), nullable=True),
        sa.Column("recipient_contact_email", sa.String(length=255), nullable=True),
        sa.Column("recipient_type", sa.String(length=10), nullable=False),
        sa.Column("recipient_databricks_org", sa.String(length=255), nullable=True),
        sa.Column(
            "ip_access_list",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("activation_url", sa.Text(), nullable=True),
        sa.Column("bearer_token", sa.Text(), nullable=True),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("change_reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_recipients")),
        schema="deltashare",
    )
    op.create_index(
        "ix_recipients_recipient_id_version",
        "recipients",
        ["recipient_id", "version"],
        unique=True,
        schema="deltashare",
    )
    op.create_index(
        "ix_recipients_share_pack_id",
        "recipients",
        ["share_pack_id"],
        unique=False,
        schema="deltashare",
    )
    op.create_index(
        "uq_recipients_current",
        "recipients",
        ["recipient_id"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_index(
        "uq_recipients_current_name",
        "recipients",
        ["workspace_url", "recipient_name"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_table(
        "requests",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("share_pack_id", sa.Uuid(), nullable=True),
        sa.Column("request_type", sa.String(length=50), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("request_status", sa.String(length=50), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("change_reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_requests")),
        schema="deltashare",
    )
    op.create_index(
        "ix_requests_request_id_version",
        "requests",
        ["request_id", "version"],
        unique=True,
        schema="deltashare",
    )
    op.create_index(
        "uq_requests_current",
        "requests",
        ["request_id"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_table(
        "share_packs",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("share_pack_id", sa.Uuid(), nullable=False),
        sa.Column("share_pack_name", sa.String(length=255), nullable=False),
        sa.Column("share_pack_status", sa.String(length=50), nullable=False),
        sa.Column("strategy", sa.String(length=20), nullable=False),
        sa.Column("provisioning_status", sa.String(length=500), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("rollback_status", sa.String(length=50), nullable=True),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("business_line", sa.String(length=255), nullable=True),
        sa.Column("project_name", sa.String(length=255), nullable=True),
        sa.Column("workspace_url", sa.String(length=500), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=True),
        sa.Column("file_format", sa.String(length=10), nullable=True),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("change_reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_share_packs")),
        schema="deltashare",
    )
    op.create_index(
        "ix_share_packs_share_pack_id_version",
        "share_packs",
        ["share_pack_id", "version"],
        unique=True,
        schema="deltashare",
    )
    op.create_index(
        "uq_share_packs_current",
        "share_packs",
        ["share_pack_id"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_table(
        "shares",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("share_id", sa.Uuid(), nullable=False),
        sa.Column("share_pack_id", sa.Uuid(), nullable=True),
        sa.Column("workspace_url", sa.String(length=500), nullable=False),
        sa.Column("share_name", sa.String(length=255), nullable=False),
        sa.Column("databricks_share_id", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("storage_root", sa.String(length=500), nullable=True),
        sa.Column(
            "share_assets",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "recipients_attached",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("change_reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_shares")),
        schema="deltashare",
    )
    op.create_index(
        "ix_shares_share_id_version",
        "shares",
        ["share_id", "version"],
        unique=True,
        schema="deltashare",
    )
    op.create_index(
        "ix_shares_share_pack_id", "shares", ["share_pack_id"], unique=False, schema="deltashare"
    )
    op.create_index(
        "uq_shares_current",
        "shares",
        ["share_id"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_index(
        "uq_shares_current_name",
        "shares",
        ["workspace_url", "share_name"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_table(
        "sync_jobs",
        sa.Column("sync_job_id", sa.Uuid(), nullable=False),
        sa.Column("sync_type", sa.String(length=50), nullable=False),
        sa.Column("sync_status", sa.String(length=50), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("records_processed", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("sync_job_id", name=op.f("pk_sync_jobs")),
        schema="deltashare",
    )
    op.create_table(
        "tenant_regions",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_region_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("workspace_url", sa.String(length=500), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("change_reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_tenant_regions")),
        schema="deltashare",
    )
    op.create_index(
        "ix_tenant_regions_tenant_region_id_version",
        "tenant_regions",
        ["tenant_region_id", "version"],
        unique=True,
        schema="deltashare",
    )
    op.create_index(
        "uq_tenant_regions_current",
        "tenant_regions",
        ["tenant_region_id"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_table(
        "tenants",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("business_line_name", sa.String(length=255), nullable=False),
        sa.Column("short_name", sa.String(length=100), nullable=True),
        sa.Column("executive_team", sa.String(length=255), nullable=True),
        sa.Column("configurator_ad_group", sa.String(length=255), nullable=True),
        sa.Column(
            "owner_emails",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("change_reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_tenants")),
        schema="deltashare",
    )
    op.create_index(
        "ix_tenants_tenant_id_version",
        "tenants",
        ["tenant_id", "version"],
        unique=True,
        schema="deltashare",
    )
    op.create_index(
        "uq_tenants_current",
        "tenants",
        ["tenant_id"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_table(
        "users",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("ad_object_id", sa.String(length=64), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=True),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("change_reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_users")),
        schema="deltashare",
    )
    op.create_index(
        "ix_users_user_id_version",
        "users",
        ["user_id", "version"],
        unique=True,
        schema="deltashare",
    )
    op.create_index(
        "uq_users_current",
        "users",
        ["user_id"],
        unique=True,
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.create_table(
        "queue_messages",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("queue_name", sa.String(length=255), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visible_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_queue_messages")),
        schema="sharepack",
    )
    op.create_index(
        "ix_queue_messages_visible",
        "queue_messages",
        ["queue_name", "visible_at"],
        unique=False,
        schema="sharepack",
    )
    op.create_table(
        "run_journal",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("share_pack_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.String(length=255), nullable=False),
        sa.Column("action_kind", sa.String(length=64), nullable=False),
        sa.Column("resource", sa.String(length=500), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "before_state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "inverse",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_run_journal")),
        schema="sharepack",
    )
    op.create_index(
        "ix_run_journal_run_action",
        "run_journal",
        ["run_id", "action_id"],
        unique=True,
        schema="sharepack",
    )
    op.create_index(
        "ix_run_journal_run_seq", "run_journal", ["run_id", "seq"], unique=True, schema="sharepack"
    )
    op.create_table(
        "snapshots",
        sa.Column("snapshot_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("share_pack_id", sa.Uuid(), nullable=True),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("workspace_url", sa.String(length=500), nullable=False),
        sa.Column(
            "resources",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("compressed", sa.Boolean(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id", name=op.f("pk_snapshots")),
        schema="sharepack",
    )
    op.create_index(
        "ix_snapshots_created_at", "snapshots", ["created_at"], unique=False, schema="sharepack"
    )
    op.create_index("ix_snapshots_run", "snapshots", ["run_id"], unique=False, schema="sharepack")


def downgrade() -> None:
    op.drop_index("ix_snapshots_run", table_name="snapshots", schema="sharepack")
    op.drop_index("ix_snapshots_created_at", table_name="snapshots", schema="sharepack")
    op.drop_table("snapshots", schema="sharepack")
    op.drop_index("ix_run_journal_run_seq", table_name="run_journal", schema="sharepack")
    op.drop_index("ix_run_journal_run_action", table_name="run_journal", schema="sharepack")
    op.drop_table("run_journal", schema="sharepack")
    op.drop_index("ix_queue_messages_visible", table_name="queue_messages", schema="sharepack")
    op.drop_table("queue_messages", schema="sharepack")
    op.drop_index(
        "uq_users_current",
        table_name="users",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index("ix_users_user_id_version", table_name="users", schema="deltashare")
    op.drop_table("users", schema="deltashare")
    op.drop_index(
        "uq_tenants_current",
        table_name="tenants",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index("ix_tenants_tenant_id_version", table_name="tenants", schema="deltashare")
    op.drop_table("tenants", schema="deltashare")
    op.drop_index(
        "uq_tenant_regions_current",
        table_name="tenant_regions",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index(
        "ix_tenant_regions_tenant_region_id_version",
        table_name="tenant_regions",
        schema="deltashare",
    )
    op.drop_table("tenant_regions", schema="deltashare")
    op.drop_table("sync_jobs", schema="deltashare")
    op.drop_index(
        "uq_shares_current_name",
        table_name="shares",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index(
        "uq_shares_current",
        table_name="shares",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index("ix_shares_share_pack_id", table_name="shares", schema="deltashare")
    op.drop_index("ix_shares_share_id_version", table_name="shares", schema="deltashare")
    op.drop_table("shares", schema="deltashare")
    op.drop_index(
        "uq_share_packs_current",
        table_name="share_packs",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index(
        "ix_share_packs_share_pack_id_version", table_name="share_packs", schema="deltashare"
    )
    op.drop_table("share_packs", schema="deltashare")
    op.drop_index(
        "uq_requests_current",
        table_name="requests",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index("ix_requests_request_id_version", table_name="requests", schema="deltashare")
    op.drop_table("requests", schema="deltashare")
    op.drop_index(
        "uq_recipients_current_name",
        table_name="recipients",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index(
        "uq_recipients_current",
        table_name="recipients",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index("ix_recipients_share_pack_id", table_name="recipients", schema="deltashare")
    op.drop_index(
        "ix_recipients_recipient_id_version", table_name="recipients", schema="deltashare"
    )
    op.drop_table("recipients", schema="deltashare")
    op.drop_index(
        "uq_projects_current",
        table_name="projects",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index("ix_projects_project_id_version", table_name="projects", schema="deltashare")
    op.drop_table("projects", schema="deltashare")
    op.drop_table("project_costs", schema="deltashare")
    op.drop_index(
        "uq_pipelines_current_name",
        table_name="pipelines",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index(
        "uq_pipelines_current",
        table_name="pipelines",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index("ix_pipelines_share_pack_id", table_name="pipelines", schema="deltashare")
    op.drop_index("ix_pipelines_pipeline_id_version", table_name="pipelines", schema="deltashare")
    op.drop_table("pipelines", schema="deltashare")
    op.drop_table("notifications", schema="deltashare")
    op.drop_table("job_metrics", schema="deltashare")
    op.drop_index(
        "uq_databricks_objects_current",
        table_name="databricks_objects",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index(
        "ix_databricks_objects_object_id_version",
        table_name="databricks_objects",
        schema="deltashare",
    )
    op.drop_table("databricks_objects", schema="deltashare")
    op.drop_table("audit_trail", schema="deltashare")
    op.drop_index(
        "uq_ad_groups_current",
        table_name="ad_groups",
        schema="deltashare",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current = 1"),
    )
    op.drop_index("ix_ad_groups_group_id_version", table_name="ad_groups", schema="deltashare")
    op.drop_table("ad_groups", schema="deltashare")
