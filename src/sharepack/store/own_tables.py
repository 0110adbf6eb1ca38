"""sharepack's own tables, beside the seeds' 16: the queue, the run journal, snapshots,
resource locks, run claims, API keys, sync job ticks.

On PostgreSQL they live in schema `sharepack` (with Alembic's version table), keeping
`deltashare` to the tables the seeds name; on SQLite they share the one file.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    text,
)

from sharepack.store.dialect import Json, unique_where
from sharepack.store.tables import Timestamp, metadata

OWN_SCHEMA = "sharepack"

#: A message is visible to claimers once `visible_at` has passed. Claiming pushes
#: `visible_at` to the lease's end and records the lease in `lease_owner`, so an expired
#: lease makes the message claimable again with no sweeper. Completion deletes the row.
queue_messages = Table(
    "queue_messages",
    metadata,
    Column("message_id", Uuid, primary_key=True),
    Column("queue_name", String(255), nullable=False),
    Column("body", Json, nullable=False),
    Column("enqueued_at", Timestamp, nullable=False),
    Column("visible_at", Timestamp, nullable=False),
    Column("lease_owner", String(255)),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Index("ix_queue_messages_visible", "queue_name", "visible_at"),
    schema=OWN_SCHEMA,
)

#: One row per action of a provisioning run, written PENDING before the action runs.
run_journal = Table(
    "run_journal",
    metadata,
    Column("entry_id", Uuid, primary_key=True),
    Column("run_id", Uuid, nullable=False),
    Column("share_pack_id", Uuid, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("action_id", String(255), nullable=False),
    Column("action_kind", String(64), nullable=False),
    Column("resource", String(500), nullable=False),
    Column("payload", Json),
    Column("before_state", Json),
    Column("inverse", Json),
    Column("status", String(20), nullable=False),
    Column("error", Text),
    Column("started_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp),
    Index("ix_run_journal_run_seq", "run_id", "seq", unique=True),
    Index("ix_run_journal_run_action", "run_id", "action_id", unique=True),
    schema=OWN_SCHEMA,
)

#: The before-state of the resources a run touches, as JSON (zlib-compressed when asked).
snapshots = Table(
    "snapshots",
    metadata,
    Column("snapshot_id", Uuid, primary_key=True),
    Column("run_id", Uuid),
    Column("share_pack_id", Uuid),
    Column("label", String(255)),
    Column("workspace_url", String(500), nullable=False),
    Column("resources", Json, nullable=False),
    Column("compressed", Boolean, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Index("ix_snapshots_created_at", "created_at"),
    Index("ix_snapshots_run", "run_id"),
    schema=OWN_SCHEMA,
)

#: Which pack is changing a resource of a workspace (`recipient:acme`, `share:sales`, ...):
#: runs whose packs name the same resource take turns, so that one's rollback cannot undo
#: what another has just adopted. Released when the pack's run ends. Keyed on the
#: workspace's own id, not its URL: two spellings of one workspace's URL are one workspace.
resource_locks = Table(
    "resource_locks",
    metadata,
    Column("workspace_id", String(64), primary_key=True),
    Column("resource", String(300), primary_key=True),
    Column("share_pack_id", Uuid, nullable=False),
    Column("acquired_at", Timestamp, nullable=False),
    Index("ix_resource_locks_pack", "share_pack_id"),
    schema=OWN_SCHEMA,
)

#: Who may write for a run: each claim of a run (a worker starting or taking it over)
#: moves `fence` on by one, and the run's writes commit only while their claim's fence is
#: the current one, so a holder that lost its lease (paused past it) writes nothing more.
run_claims = Table(
    "run_claims",
    metadata,
    Column("run_id", Uuid, primary_key=True),
    Column("fence", Integer, nullable=False),
    Column("holder", String(255), nullable=False),
    Column("claimed_at", Timestamp, nullable=False),
    schema=OWN_SCHEMA,
)

#: The API keys sharepack issued. A key's public id part (`key_id`) finds its row; only a
#: hash of its secret is kept (`key_hash`), never the key itself. Keys are revoked,
#: never deleted, so the audit trail's `key:<name>` entries keep a row to point at; one
#: active (unrevoked) key per name, any number of revoked ones.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("key_hash", String(128), nullable=False),
    Column("role", String(20), nullable=False),
    Column("business_lines", Json, nullable=False),
    Column("acts_for_others", Boolean, nullable=False, server_default=text("false")),
    Column("owner_email", String(255)),
    Column("is_local_admin", Boolean, nullable=False, server_default=text("false")),
    Column("created_by", String(255), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp),
    Column("revoked_by", String(255)),
    Column("last_used_at", Timestamp),
    unique_where("uq_api_keys_active_name", "name", postgresql="revoked_at IS NULL"),
    schema=OWN_SCHEMA,
)

#: Approvers' decisions on packs (append-only: a decision is never rewritten; triggers
#: refuse UPDATE and DELETE). Each names the plan it was given for by its digest, so a
#: decision on a plan that has since changed does not count for the new one.
approval_decisions = Table(
    "approval_decisions",
    metadata,
    Column("decision_id", Uuid, primary_key=True),
    Column("share_pack_id", Uuid, nullable=False),
    Column("plan_digest", String(64), nullable=False),
    Column("level", Integer, nullable=False),
    Column("group_name", String(255), nullable=False),
    Column("approver", String(255), nullable=False),
    Column("approver_email", String(255)),
    Column("decision", String(20), nullable=False),
    Column("comment", Text),
    Column("created_at", Timestamp, nullable=False, server_default=text("CURRENT_TIMESTAMP")),
    Index("ix_approval_decisions_share_pack_id", "share_pack_id"),
    schema=OWN_SCHEMA,
)

#: Uploads of several files at once; the packs name their batch (`share_packs.batch_id`).
batches = Table(
    "batches",
    metadata,
    Column("batch_id", Uuid, primary_key=True),
    Column("submitted_by", String(255), nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("created_at", Timestamp, nullable=False, server_default=text("CURRENT_TIMESTAMP")),
    schema=OWN_SCHEMA,
)

#: Each version of a project (workspace, business line, project name): a completed run of
#: one of its packs (APPLIED, or ROLLBACK when the pack put an earlier version back), or
#: the workspace taken as it was into the history (RECORDED, by `drift --record`). With
#: its number within the project, what it changed (`changes`: the plan's lines), the
#: resources it covers (`names`) and the state of them before and after it, compressed
#: (NULL once `sharepack rollback --cleanup` has removed an old version's states).
project_versions = Table(
    "project_versions",
    metadata,
    Column("version_id", Uuid, primary_key=True),
    Column("project_key", String(800), nullable=False),
    Column("number", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("workspace_url", String(500), nullable=False),
    Column("workspace_id", String(64)),
    Column("business_line", String(255), nullable=False),
    Column("project_name", String(255), nullable=False),
    Column("project_id", Uuid),
    Column("share_pack_id", Uuid),
    Column("restores", Uuid),
    Column("created_by", String(255), nullable=False),
    Column("change_reason", Text, nullable=False),
    Column("changes", Json, nullable=False),
    Column("names", Json, nullable=False),
    Column("before_state", LargeBinary),
    Column("after_state", LargeBinary),
    Column("created_at", Timestamp, nullable=False, server_default=text("CURRENT_TIMESTAMP")),
    Index("ix_project_versions_number", "project_key", "number", unique=True),
    Index("ix_project_versions_project_id", "project_id"),
    Index("ix_project_versions_share_pack_id", "share_pack_id"),
    schema=OWN_SCHEMA,
)

#: Which process runs a scheduled sync job in one tick (`floor(epoch seconds / interval)`):
#: the first to insert the row runs the job, every other finds the key taken and skips.
sync_ticks = Table(
    "sync_ticks",
    metadata,
    Column("job_name", String(100), primary_key=True),
    Column("tick", BigInteger, primary_key=True, autoincrement=False),
    Column("holder", String(255), nullable=False),
    Column("claimed_at", Timestamp, nullable=False),
    schema=OWN_SCHEMA,
)

OWN_TABLES = (
    "queue_messages",
    "run_journal",
    "snapshots",
    "resource_locks",
    "run_claims",
    "api_keys",
    "approval_decisions",
    "batches",
    "project_versions",
    "sync_ticks",
)
