"""The `inventory` job against the emulator: the catalogs, schemas and tables packs use
become `databricks_objects` versions, and a dropped table a deleted version."""

from __future__ import annotations

import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.errors import SyncJobError, WorkspaceNotAllowedError
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.store.entities import EntityVersion
from sharepack.sync.inventory import object_id, run_inventory, with_parents
from sharepack.workspace.memory import InMemoryWorkspace
from sharepack.workspace.protocol import Workspace
from sharepack.workspace.urls import normalise_workspace_url
from tests.sync.conftest import record_pipeline, record_share

TRANSACTIONS = "prod_catalog.sales.transactions"
CUSTOMERS = "prod_catalog.sales.customers"
RAW = "raw_catalog.sales.transactions"


def _objects(runtime: Runtime) -> dict[str, EntityVersion]:
    """The current version of each object (deleted ones too), by full name."""
    with runtime.database.reading() as uow:
        return {v.values["full_name"]: v for v in uow.databricks_objects.current_versions()}


def _history(runtime: Runtime, workspace_id: str, name: str) -> list[EntityVersion]:
    with runtime.database.reading() as uow:
        return uow.databricks_objects.history(object_id(workspace_id, name))


def test_objects_packs_use_get_their_first_version_with_catalog_and_schema(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    url = normalise_workspace_url(emulator.url)
    record_share(runtime, url, "sales_share", [TRANSACTIONS, CUSTOMERS])
    record_pipeline(runtime, url, "feed", source_table=RAW, target_table=TRANSACTIONS)

    processed = run_inventory(runtime)

    objects = _objects(runtime)
    assert set(objects) == {
        "prod_catalog",
        "prod_catalog.sales",
        TRANSACTIONS,
        CUSTOMERS,
        "raw_catalog",
        "raw_catalog.sales",
        RAW,
    }
    assert processed == 7
    assert {o.version for o in objects.values()} == {1}
    assert objects["prod_catalog"].values["object_type"] == "CATALOG"
    assert objects["prod_catalog.sales"].values["object_type"] == "SCHEMA"
    assert objects[TRANSACTIONS].values["object_type"] == "MANAGED"
    assert all(o.values["owner"] for o in objects.values())
    assert objects[CUSTOMERS].entity_id == object_id(emulator.workspace_id, CUSTOMERS)


def test_a_dropped_table_gets_a_deleted_version_and_nothing_else_changes(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    url = normalise_workspace_url(emulator.url)
    record_share(runtime, url, "sales_share", [TRANSACTIONS, CUSTOMERS])
    run_inventory(runtime)
    emulator.control("DELETE", f"tables/{CUSTOMERS}")

    run_inventory(runtime)
    run_inventory(runtime)

    history = _history(runtime, emulator.workspace_id, CUSTOMERS)
    assert [(v.version, v.is_deleted) for v in history] == [(1, False), (2, True)]
    assert history[-1].change_reason == "Inventory: no longer exists"
    assert [v.version for v in _history(runtime, emulator.workspace_id, TRANSACTIONS)] == [1]


def test_a_table_replaced_by_a_view_gets_its_next_version_and_one_recreated_comes_back(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    url = normalise_workspace_url(emulator.url)
    record_share(runtime, url, "sales_share", [CUSTOMERS])
    run_inventory(runtime)
    emulator.control("DELETE", f"tables/{CUSTOMERS}")
    run_inventory(runtime)
    emulator.add_tables({"name": CUSTOMERS, "table_type": "VIEW"})

    run_inventory(runtime)

    history = _history(runtime, emulator.workspace_id, CUSTOMERS)
    assert [(v.version, v.is_deleted, v.values["object_type"]) for v in history] == [
        (1, False, "MANAGED"),
        (2, True, "MANAGED"),
        (3, False, "VIEW"),
    ]


def test_an_object_no_pack_uses_any_more_gets_a_deleted_version(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    url = normalise_workspace_url(emulator.url)
    record_share(runtime, url, "sales_share", [CUSTOMERS])
    run_inventory(runtime)
    with runtime.database.unit_of_work() as uow:
        uow.shares.soft_delete(
            workspace_url=url, name="sales_share", created_by="test", change_reason="retired"
        )
        uow.commit()

    processed = run_inventory(runtime)

    assert processed == 0
    objects = _objects(runtime)
    assert all(o.is_deleted for o in objects.values())
    assert objects[CUSTOMERS].change_reason == "Inventory: no pack uses it"


def test_every_name_brings_its_catalog_and_schema() -> None:
    assert with_parents(["C.S.T", "c.s2", "bad..name", "a.b.c.d"]) == {
        "c",
        "c.s",
        "c.s.t",
        "c.s2",
    }


def test_two_urls_of_one_workspace_make_one_object_and_an_unreachable_one_is_named(
    worker_settings: Settings,
) -> None:
    memory = InMemoryWorkspace(tables=[CUSTOMERS])

    def workspace_for(url: str) -> Workspace:
        if "unreachable" in url:
            raise WorkspaceNotAllowedError(f"{url} is not allow-listed")
        return memory

    runtime = build_runtime(worker_settings, workspace_for=workspace_for)
    try:
        record_share(runtime, "https://one.example", "a", [CUSTOMERS])
        record_share(runtime, "https://two.example", "b", [CUSTOMERS.upper()])
        record_share(runtime, "https://unreachable.example", "c", [TRANSACTIONS])

        with pytest.raises(SyncJobError, match=r"1 workspace\(s\): https://unreachable"):
            run_inventory(runtime)

        objects = _objects(runtime)
    finally:
        runtime.close()
    assert set(objects) == {"prod_catalog", "prod_catalog.sales", CUSTOMERS}
    assert {o.version for o in objects.values()} == {1}
    assert objects[CUSTOMERS].values["workspace_url"] == "https://one.example"
