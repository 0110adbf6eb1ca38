"""An accepted batch: every pack stored and queued with the batch's id, in one
transaction; run by a worker to the end, its status says so through the API and the CLI.
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from databricks_emulator.server import EmulatorServer
from sharepack.errors import QueueError
from sharepack.runtime import Runtime
from sharepack.store import UnitOfWork
from tests.api_server import ServedApi, running_api
from tests.batch.conftest import pack, post_batch, stored, zip_of

FINISHED = {"COMPLETED", "FAILED"}


def _batch_ended(api: ServedApi, batch_id: str, *, within: float = 120) -> dict[str, Any]:
    """The batch's status once no pack of it is in progress (polled with a deadline)."""
    deadline = time.monotonic() + within
    with api.client() as client:
        while (body := client.get(f"/workflow/batch/{batch_id}").json())["Status"] not in FINISHED:
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
    return dict(body)


def test_three_parts_are_provisioned_and_the_batch_completes(
    runtime: Runtime,
    emulator: EmulatorServer,
    sharepack_cli: Callable[..., tuple[int, str]],
) -> None:
    parts = [(f"pack{n}.yaml", pack(n)) for n in (1, 2, 3)]

    with running_api(runtime) as api, api.client() as client:
        response = post_batch(client, emulator.url, parts)
        assert response.status_code == 202, response.text
        accepted = response.json()
        final = _batch_ended(api, accepted["BatchId"])

    assert accepted["Status"] == "IN_PROGRESS"
    assert [p["FileName"] for p in accepted["SharePacks"]] == [
        "pack1.yaml",
        "pack2.yaml",
        "pack3.yaml",
    ]
    assert final["Status"] == "COMPLETED", final
    assert final["Counts"] == {
        "IN_PROGRESS": 0,
        "COMPLETED": 3,
        "FAILED": 0,
        "VALIDATION_FAILED": 0,
    }
    assert [p["SharePackId"] for p in final["SharePacks"]] == [
        p["SharePackId"] for p in accepted["SharePacks"]
    ]
    code, text = sharepack_cli("batch", accepted["BatchId"], workspace=False)
    assert code == 0, text
    assert "Batch status: COMPLETED" in text
    assert "3 COMPLETED" in text
    assert all(p["SharePackName"] in text for p in accepted["SharePacks"]), text
    code, text = sharepack_cli("batch", accepted["BatchId"], "--json", workspace=False)
    assert (code, json.loads(text)["counts"]["COMPLETED"]) == (0, 3)


def test_a_zip_of_three_packs_queues_three_packs_of_one_batch(
    client: httpx.Client, runtime: Runtime
) -> None:
    content = zip_of([("packs/", b""), *((f"packs/p{n}.yaml", pack(n)) for n in (1, 2, 3))])

    response = post_batch(
        client, runtime.settings.sharepack_workspace_urls[0], [("b.zip", content)]
    )

    assert response.status_code == 202, response.text
    body = response.json()
    assert [p["FileName"] for p in body["SharePacks"]] == [f"packs/p{n}.yaml" for n in (1, 2, 3)]
    assert body["ValidationWarnings"] == ["b.zip!packs/: Skipped: a directory"]
    assert stored(runtime) == (3, 1, 3)
    with runtime.database.reading() as uow:
        batch = uow.batches.get(uuid.UUID(body["BatchId"]))
        packs = uow.batches.packs(batch.batch_id)
    assert batch.file_count == 3
    assert {str(p.share_pack_id) for p in packs} == {p["SharePackId"] for p in body["SharePacks"]}
    assert {p.share_pack_status for p in packs} == {"IN_PROGRESS"}


def test_the_batch_status_is_in_progress_while_its_packs_are_queued(
    client: httpx.Client, runtime: Runtime
) -> None:
    parts = [("a.yaml", pack(1)), ("b.yaml", pack(2))]
    batch_id = post_batch(client, runtime.settings.sharepack_workspace_urls[0], parts).json()[
        "BatchId"
    ]

    status = client.get(f"/workflow/batch/{batch_id}").json()

    assert status["Status"] == "IN_PROGRESS"
    assert status["Counts"]["IN_PROGRESS"] == 2
    assert [p["FileName"] for p in status["SharePacks"]] == ["a.yaml", "b.yaml"]


def test_an_unknown_batch_is_not_found(client: httpx.Client) -> None:
    unknown = client.get("/workflow/batch/6f1c1a52-5d3c-4a55-9c52-5f1f0a1e2b3c")
    malformed = client.get("/workflow/batch/nope")

    assert (unknown.status_code, unknown.json()["ErrorCode"]) == (404, "NOT_FOUND")
    assert (malformed.status_code, malformed.json()["ErrorCode"]) == (404, "NOT_FOUND")


def test_the_cli_exits_1_for_an_unknown_batch(
    sharepack_cli: Callable[..., tuple[int, str]], runtime: Runtime
) -> None:
    code, _ = sharepack_cli("batch", "6f1c1a52-5d3c-4a55-9c52-5f1f0a1e2b3c", workspace=False)

    assert code == 1


def test_a_failure_at_the_last_pack_leaves_nothing_of_the_batch(
    client: httpx.Client, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    enqueue = runtime.queue.enqueue
    calls: list[int] = []

    def fail_third(
        body: dict[str, Any], *, uow: UnitOfWork | None = None, delay_seconds: float = 0
    ) -> str:
        calls.append(1)
        if len(calls) == 3:
            raise QueueError("the queue refused the third message")
        return enqueue(body, uow=uow, delay_seconds=delay_seconds)

    monkeypatch.setattr(runtime.queue, "enqueue", fail_third)
    parts = [(f"p{n}.yaml", pack(n)) for n in (1, 2, 3)]

    response = post_batch(client, runtime.settings.sharepack_workspace_urls[0], parts)

    assert (response.status_code, response.json()["ErrorCode"]) == (503, "QUEUE_UNAVAILABLE")
    assert len(calls) == 3
    assert stored(runtime) == (0, 0, 0)
