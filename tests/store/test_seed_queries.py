"""The seeds' SQL (000 and 001), run verbatim on PostgreSQL, finds the right rows.

Only the seeds' placeholders ('xxx', 'uuid-here', the example date) are replaced, by
the ids and moments of the data arranged here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from sharepack.store import Database
from sharepack.store.scd2 import END_OF_TIME
from tests.store.conftest import WORKSPACE, create_pack

NEW_YORK = "America/New_York"


@dataclass(frozen=True)
class Provisioned:
    pack_id: uuid.UUID
    failed_pack_id: uuid.UUID
    share_id: uuid.UUID
    recipient_id: uuid.UUID
    tenant_id: uuid.UUID
    between_tenant_versions: datetime


@pytest.fixture
def provisioned(postgres_database: Database) -> Provisioned:
    """A completed pack with two recipients, a share and its pipeline; a failed pack whose
    recipient was rolled back; a tenant renamed once."""
    with postgres_database.unit_of_work() as uow:
        pack = create_pack(uow, share_pack_name="SharePack_ana_ok")
        failed = create_pack(uow, share_pack_name="SharePack_ana_failed")
        track: dict[str, Any] = {"share_pack_id": pack.share_pack_id, "created_by": "orchestrator"}
        acme = uow.recipients.upsert(
            workspace_url=WORKSPACE,
            name="acme",
            change_reason="Provisioned",
            recipient_type="D2O",
            **track,
        )
        uow.recipients.upsert(
            workspace_url=WORKSPACE,
            name="globex",
            change_reason="Provisioned",
            recipient_type="D2D",
            **track,
        )
        share = uow.shares.upsert(
            workspace_url=WORKSPACE,
            name="sales",
            change_reason="Provisioned",
            share_assets=["main.sales.orders"],
            recipients_attached=["acme", "globex"],
            **track,
        )
        uow.pipelines.upsert(
            workspace_url=WORKSPACE,
            name="orders_cdc",
            change_reason="Provisioned",
            share_id=share.entity_id,
            source_table="main.raw.orders",
            target_table="main.sales.orders",
            **track,
        )
        uow.share_packs.update(
            pack.share_pack_id, created_by="w", change_reason="Done", share_pack_status="COMPLETED"
        )
        uow.recipients.upsert(
            workspace_url=WORKSPACE,
            name="initech",
            share_pack_id=failed.share_pack_id,
            created_by="orchestrator",
            change_reason="Provisioned",
            recipient_type="D2O",
        )
        uow.recipients.soft_delete(
            workspace_url=WORKSPACE,
            name="initech",
            created_by="orchestrator",
            change_reason="Rollback: share 'x' failed",
        )
        uow.share_packs.update(
            failed.share_pack_id,
            created_by="w",
            change_reason="Failed",
            share_pack_status="FAILED",
            error_message="share 'x' failed",
        )
        tenant = uow.tenants.create(
            created_by="admin", change_reason="Onboarded", business_line_name="Finance"
        )
        renamed = uow.tenants.update(
            tenant.entity_id,
            created_by="admin",
            change_reason="Renamed",
            business_line_name="Corporate Finance",
        )
        uow.commit()
    return Provisioned(
        pack_id=pack.share_pack_id,
        failed_pack_id=failed.share_pack_id,
        share_id=share.entity_id,
        recipient_id=acme.entity_id,
        tenant_id=tenant.entity_id,
        between_tenant_versions=renamed.effective_from - timedelta(microseconds=1),
    )


def run(
    database: Database, sql: str, *, time_zone: str | None = None, **placeholders: Any
) -> list[dict[str, Any]]:
    """The rows of `sql` with its placeholders replaced, run with the session's time zone
    set to `time_zone` (default: UTC, as sharepack's engine sets it)."""
    for placeholder, value in placeholders.items():
        sql = sql.replace(placeholder.replace("_", "-"), str(value))
    # Straight to the driver without parameters, so '%' in LIKE patterns stays literal.
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if time_zone is not None:
            cursor.execute(f"SET LOCAL TIME ZONE '{time_zone}'")  # this transaction only
        cursor.execute(sql)
        names = [column[0] for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        raw.close()


@pytest.mark.postgres
def test_the_current_state_of_a_pack(postgres_database: Database, provisioned: Provisioned) -> None:
    rows = run(
        postgres_database,
        """SELECT * FROM deltashare.recipients
WHERE share_pack_id = 'xxx' AND is_current = true AND is_deleted = false;""",
        xxx=provisioned.pack_id,
    )
    assert sorted(r["recipient_name"] for r in rows) == ["acme", "globex"]

    for table, names in (("shares", ["sales"]), ("pipelines", ["orders_cdc"])):
        rows = run(
            postgres_database,
            f"SELECT * FROM deltashare.{table} WHERE share_pack_id = 'xxx' AND is_current = true;",
            xxx=provisioned.pack_id,
        )
        assert [r[f"{table[:-1]}_name"] for r in rows] == names


@pytest.mark.postgres
def test_the_pipelines_of_a_share(postgres_database: Database, provisioned: Provisioned) -> None:
    rows = run(
        postgres_database,
        """SELECT * FROM deltashare.pipelines
WHERE share_id = 'xxx' AND is_current = true AND is_deleted = false;""",
        xxx=provisioned.share_id,
    )
    assert [r["target_table"] for r in rows] == ["main.sales.orders"]


@pytest.mark.postgres
def test_what_a_rollback_deleted(postgres_database: Database, provisioned: Provisioned) -> None:
    by_reason = run(
        postgres_database,
        """SELECT * FROM deltashare.recipients
WHERE is_deleted = true AND change_reason LIKE '%Rollback%';""",
    )
    by_pack = run(
        postgres_database,
        "SELECT * FROM deltashare.recipients WHERE share_pack_id = 'xxx' AND is_deleted = true;",
        xxx=provisioned.failed_pack_id,
    )
    assert [r["recipient_name"] for r in by_reason] == ["initech"]
    assert by_pack == by_reason


@pytest.mark.postgres
def test_the_full_history_of_an_entity(
    postgres_database: Database, provisioned: Provisioned
) -> None:
    recipient = run(
        postgres_database,
        "SELECT * FROM deltashare.recipients\nWHERE recipient_id = 'xxx'\nORDER BY version;",
        xxx=provisioned.recipient_id,
    )
    pack = run(
        postgres_database,
        """SELECT version, share_pack_status, effective_from, created_by, change_reason
FROM deltashare.share_packs
WHERE share_pack_id = 'uuid-here'
ORDER BY version;""",
        uuid_here=provisioned.pack_id,
    )
    assert [r["version"] for r in recipient] == [1]
    assert [(r["version"], r["share_pack_status"]) for r in pack] == [
        (1, "IN_PROGRESS"),
        (2, "COMPLETED"),
    ]


@pytest.mark.postgres
def test_a_share_pack_with_all_details(
    postgres_database: Database, provisioned: Provisioned
) -> None:
    rows = run(
        postgres_database,
        """SELECT * FROM deltashare.share_packs
WHERE share_pack_id = 'uuid-here' AND is_current = true;""",
        uuid_here=provisioned.failed_pack_id,
    )

    assert len(rows) == 1
    (pack,) = rows
    assert (pack["share_pack_name"], pack["version"]) == ("SharePack_ana_failed", 2)
    assert (pack["share_pack_status"], pack["error_message"]) == ("FAILED", "share 'x' failed")
    assert pack["config"] == {"metadata": {"requestor": "ana@example.com"}}
    assert pack["effective_to"] == END_OF_TIME


@pytest.mark.postgres
def test_the_seeds_end_of_time_literal_needs_a_utc_session(
    postgres_database: Database, provisioned: Provisioned
) -> None:
    # effective_to is timestamptz: PostgreSQL reads the bare literal '9999-12-31' in the
    # session's time zone. sharepack's sessions are UTC; another session must say +00.
    seed = "SELECT share_pack_name FROM deltashare.share_packs WHERE effective_to = '{at}'"
    in_utc = run(postgres_database, seed.format(at="9999-12-31"))
    elsewhere = run(postgres_database, seed.format(at="9999-12-31"), time_zone=NEW_YORK)
    explicit = run(postgres_database, seed.format(at="9999-12-31 00:00+00"), time_zone=NEW_YORK)

    assert len(in_utc) == 2
    assert elsewhere == []
    assert explicit == in_utc


@pytest.mark.postgres
def test_everything_a_pack_created_joined(
    postgres_database: Database, provisioned: Provisioned
) -> None:
    rows = run(
        postgres_database,
        """SELECT
    sp.share_pack_name,
    r.recipient_name,
    s.share_name,
    p.pipeline_name,
    p.source_table,
    p.target_table
FROM deltashare.share_packs sp
LEFT JOIN deltashare.recipients r ON r.share_pack_id = sp.share_pack_id AND r.is_current = true
LEFT JOIN deltashare.shares s ON s.share_pack_id = sp.share_pack_id AND s.is_current = true
LEFT JOIN deltashare.pipelines p ON p.share_id = s.share_id AND p.is_current = true
WHERE sp.share_pack_id = 'xxx' AND sp.is_current = true;""",
        xxx=provisioned.pack_id,
    )
    assert sorted((r["recipient_name"], r["share_name"], r["pipeline_name"]) for r in rows) == [
        ("acme", "sales", "orders_cdc"),
        ("globex", "sales", "orders_cdc"),
    ]
    assert {r["source_table"] for r in rows} == {"main.raw.orders"}


@pytest.mark.postgres
def test_current_state_point_in_time_and_history_of_a_tenant(
    postgres_database: Database, provisioned: Provisioned
) -> None:
    current = run(
        postgres_database,
        "SELECT * FROM deltashare.tenants\nWHERE is_current = true AND is_deleted = false;",
    )
    then = run(
        postgres_database,
        """SELECT * FROM deltashare.tenants
WHERE effective_from <= '2024-01-01' AND effective_to > '2024-01-01';""".replace(
            "2024-01-01", provisioned.between_tenant_versions.isoformat()
        ),
    )
    history = run(
        postgres_database,
        "SELECT * FROM deltashare.tenants\nWHERE tenant_id = 'uuid-here'\nORDER BY version;",
        uuid_here=provisioned.tenant_id,
    )
    assert [r["business_line_name"] for r in current] == ["Corporate Finance"]
    assert [r["business_line_name"] for r in then] == ["Finance"]
    assert [r["version"] for r in history] == [1, 2]


@pytest.mark.postgres
def test_the_health_and_monitoring_queries(
    postgres_database: Database, provisioned: Provisioned
) -> None:
    schemata = run(
        postgres_database,
        "SELECT * FROM information_schema.schemata WHERE schema_name = 'deltashare';",
    )
    count = run(
        postgres_database,
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'deltashare';",
    )
    recent = run(
        postgres_database,
        """SELECT share_pack_id, share_pack_name, share_pack_status
FROM deltashare.share_packs
WHERE is_current = true
ORDER BY effective_from DESC
LIMIT 10;""",
    )
    failed = run(
        postgres_database,
        """SELECT share_pack_id, share_pack_name, error_message
FROM deltashare.share_packs
WHERE is_current = true AND share_pack_status = 'FAILED';""",
    )
    assert len(schemata) == 1
    assert count == [{"count": 16}]
    assert [r["share_pack_name"] for r in recent] == ["SharePack_ana_failed", "SharePack_ana_ok"]
    assert [(r["share_pack_id"], r["error_message"]) for r in failed] == [
        (provisioned.failed_pack_id, "share 'x' failed")
    ]


@pytest.mark.postgres
def test_a_business_line_joined_down_to_everything_its_packs_created(
    postgres_database: Database,
) -> None:
    # Seed 000's "all resources for a SharePack", started one level up: the tenant and
    # project `Tenancy.resolve` filed the packs under (`share_packs.project_id`), and the
    # requests of their runs.
    with postgres_database.unit_of_work() as uow:
        ref = uow.tenancy.resolve("Corporate Finance", "Q1 Data Share", by="ana@example.com")
        other = uow.tenancy.resolve("Legal", "Contracts", by="bob@example.com")
        pack = create_pack(uow, share_pack_name="SharePack_ana_q1", project_id=ref.project_id)
        elsewhere = create_pack(uow, share_pack_name="SharePack_bob", project_id=other.project_id)
        for filed, project_id in ((pack, ref.project_id), (elsewhere, other.project_id)):
            uow.tenancy.open_request(
                project_id, filed.share_pack_id, requested_by=filed.requested_by, by="api"
            )
        track: dict[str, Any] = {"share_pack_id": pack.share_pack_id, "created_by": "w"}
        uow.recipients.upsert(
            workspace_url=WORKSPACE,
            name="acme",
            change_reason="Provisioned",
            **track,
            recipient_type="D2O",
        )
        share = uow.shares.upsert(
            workspace_url=WORKSPACE, name="q1", change_reason="Provisioned", **track
        )
        uow.pipelines.upsert(
            workspace_url=WORKSPACE,
            name="q1_cdc",
            change_reason="Provisioned",
            share_id=share.entity_id,
            **track,
        )
        uow.recipients.upsert(
            workspace_url=WORKSPACE,
            name="initech",
            change_reason="Provisioned",
            share_pack_id=elsewhere.share_pack_id,
            created_by="w",
            recipient_type="D2O",
        )
        uow.tenancy.request_ended(pack.share_pack_id, "COMPLETED", by="w")
        uow.commit()

    rows = run(
        postgres_database,
        """SELECT
    t.business_line_name,
    pr.project_name,
    rq.request_status,
    sp.share_pack_name,
    r.recipient_name,
    s.share_name,
    p.pipeline_name
FROM deltashare.tenants t
JOIN deltashare.projects pr ON pr.tenant_id = t.tenant_id AND pr.is_current = true
JOIN deltashare.share_packs sp ON sp.project_id = pr.project_id AND sp.is_current = true
LEFT JOIN deltashare.requests rq ON rq.share_pack_id = sp.share_pack_id AND rq.is_current = true
LEFT JOIN deltashare.recipients r ON r.share_pack_id = sp.share_pack_id AND r.is_current = true
LEFT JOIN deltashare.shares s ON s.share_pack_id = sp.share_pack_id AND s.is_current = true
LEFT JOIN deltashare.pipelines p ON p.share_id = s.share_id AND p.is_current = true
WHERE t.tenant_id = 'xxx' AND t.is_current = true;""",
        xxx=ref.tenant_id,
    )

    assert rows == [
        {
            "business_line_name": "Corporate Finance",
            "project_name": "Q1 Data Share",
            "request_status": "COMPLETED",
            "share_pack_name": "SharePack_ana_q1",
            "recipient_name": "acme",
            "share_name": "q1",
            "pipeline_name": "q1_cdc",
        }
    ]
