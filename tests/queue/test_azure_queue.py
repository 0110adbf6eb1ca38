"""What only the Azure Storage Queue backend has: pop receipts that change on every update,
leases that other processes take over, a connection string, and its choice by settings."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from azure.storage.queue import QueueClient
from pydantic import SecretStr

from sharepack.errors import QueueError
from sharepack.queue.azure import AzureStorageQueue
from sharepack.queue.protocol import ClaimedMessage
from sharepack.queue.table import TableQueue
from sharepack.runtime import build_runtime
from sharepack.settings import Settings
from sharepack.store import Database
from tests.queue.azurite import connection_string


def claim_within(queue: AzureStorageQueue, seconds: float, *, worker_id: str) -> ClaimedMessage:
    """Poll until a message can be claimed; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        claimed = queue.claim(worker_id=worker_id, lease_seconds=30)
        if claimed is not None:
            return claimed
        time.sleep(0.05)
    pytest.fail(f"No message became claimable within {seconds} s")


def another_process(queue: AzureStorageQueue, connection: str) -> AzureStorageQueue:
    """The same Azure queue as another process sees it: no pop receipts in common."""
    return AzureStorageQueue(connection, queue.queue_name)


def test_extending_twice_then_completing_follows_the_changing_pop_receipt(
    azure_queue: AzureStorageQueue,
) -> None:
    azure_queue.enqueue({"share_pack_id": "p-1"})
    claimed = azure_queue.claim(worker_id="w", lease_seconds=30)
    assert claimed is not None

    azure_queue.extend(claimed, lease_seconds=30)
    azure_queue.extend(claimed, lease_seconds=30)  # Azure no longer knows claimed.receipt
    azure_queue.complete(claimed)

    assert azure_queue.depth() == 0


def test_an_extended_held_message_can_be_released_and_claimed_as_the_next_attempt(
    azure_queue: AzureStorageQueue,
) -> None:
    held = azure_queue.enqueue_held({"share_pack_id": "p-1"}, holder="cli", lease_seconds=30)
    azure_queue.extend(held, lease_seconds=30)
    azure_queue.extend(held, lease_seconds=30)

    azure_queue.release(held)

    again = claim_within(azure_queue, 5, worker_id="w")
    assert (again.message_id, again.body, again.attempts) == (held.message_id, held.body, 2)
    azure_queue.complete(held)  # released: the holder's lease is over
    assert azure_queue.depth() == 1
    azure_queue.complete(again)
    assert azure_queue.depth() == 0


def test_a_lease_extended_and_then_lost_to_another_process_stays_lost(
    azure_queue: AzureStorageQueue, azurite_connection_string: str
) -> None:
    rescuer = another_process(azure_queue, azurite_connection_string)
    azure_queue.enqueue({"share_pack_id": "p-1"})
    slow = azure_queue.claim(worker_id="slow", lease_seconds=1)
    assert slow is not None
    azure_queue.extend(slow, lease_seconds=1)  # the pop receipt moves on, then runs out

    taken = claim_within(rescuer, 10, worker_id="rescuer")

    assert (taken.message_id, taken.attempts) == (slow.message_id, 2)
    with pytest.raises(QueueError, match=rf"{slow.message_id}.*the lease was lost"):
        azure_queue.extend(slow, lease_seconds=30)
    azure_queue.complete(slow)  # removes nothing: the rescuer owns the message
    azure_queue.release(slow)  # nor does it give the rescuer's message back
    assert rescuer.claim(worker_id="third", lease_seconds=30) is None
    assert azure_queue.depth() == 1
    rescuer.extend(taken, lease_seconds=30)
    rescuer.complete(taken)
    assert azure_queue.depth() == 0
    rescuer.close()


def test_concurrent_extends_of_one_lease_take_turns_with_its_pop_receipt(
    azure_queue: AzureStorageQueue,
) -> None:
    azure_queue.enqueue({"share_pack_id": "p-1"})
    claimed = azure_queue.claim(worker_id="w", lease_seconds=30)
    assert claimed is not None

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: azure_queue.extend(claimed, lease_seconds=30), range(12)))
    azure_queue.complete(claimed)

    assert azure_queue.depth() == 0


def test_enqueue_with_a_unit_of_work_sends_at_once_whatever_the_transaction_does(
    azure_queue: AzureStorageQueue, tmp_path: Path
) -> None:
    database = Database(f"sqlite:///{(tmp_path / 'sharepack.db').as_posix()}")
    database.upgrade()
    with database.unit_of_work() as uow:
        azure_queue.enqueue({"share_pack_id": "p-1"}, uow=uow)
        assert azure_queue.depth() == 1  # before the commit
        uow.rollback()
    database.dispose()

    assert azure_queue.depth() == 1  # the worker finds no pack of that id


def test_a_message_from_elsewhere_is_read_as_a_body_never_held(
    azure_queue: AzureStorageQueue, azurite_connection_string: str
) -> None:
    azure_queue.depth()  # creates the queue
    with QueueClient.from_connection_string(
        azurite_connection_string, azure_queue.queue_name
    ) as client:
        client.send_message(json.dumps({"share_pack_id": "p-1"}))
        client.send_message("not json")

    first = azure_queue.claim(worker_id="w", lease_seconds=30)
    assert first is not None
    assert (first.body, first.attempts) == ({"share_pack_id": "p-1"}, 1)
    assert azure_queue.claim(worker_id="w", lease_seconds=30) is None  # "not json": poison


def test_a_malformed_connection_string_fails_with_a_queue_error_naming_the_queue() -> None:
    with pytest.raises(QueueError, match=r"'sharepack-processing'.*connection string"):
        AzureStorageQueue("not a connection string", "sharepack-processing")


def test_an_unreachable_azure_queue_fails_with_a_queue_error_naming_it() -> None:
    queue = AzureStorageQueue(connection_string(port=1), "sharepack-processing", retry_total=0)

    assert queue.ping() is False
    with pytest.raises(QueueError, match=r"'sharepack-processing' at .*:1/.*: enqueue failed"):
        queue.enqueue({"share_pack_id": "p-1"})
    queue.close()


def test_the_runtime_uses_azure_when_a_connection_string_is_set(
    tmp_path: Path, azure_queue: AzureStorageQueue, azurite_connection_string: str
) -> None:
    settings = Settings(
        _env_file=None,
        sharepack_data_dir=tmp_path,
        azure_queue_connection_string=SecretStr(azurite_connection_string),
        azure_queue_name=azure_queue.queue_name,
    )

    runtime = build_runtime(settings)
    try:
        assert isinstance(runtime.queue, AzureStorageQueue)
        assert runtime.queue.queue_name == azure_queue.queue_name
        assert runtime.queue.ping()
    finally:
        runtime.close()


def test_the_runtime_uses_the_database_table_without_a_connection_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_QUEUE_CONNECTION_STRING", raising=False)
    settings = Settings(_env_file=None, sharepack_data_dir=tmp_path)

    runtime = build_runtime(settings)
    try:
        assert isinstance(runtime.queue, TableQueue)
        assert runtime.queue.queue_name == "sharepack-processing"
    finally:
        runtime.close()


@pytest.mark.parametrize("text", ["not json at all", "[1, 2]"])
def test_a_message_that_is_not_a_json_object_is_moved_to_the_poison_queue(
    azure_queue: AzureStorageQueue, azurite_connection_string: str, text: str
) -> None:
    raw = QueueClient.from_connection_string(azurite_connection_string, azure_queue.queue_name)
    azure_queue.enqueue({"share_pack_id": "p-1"})  # makes the queue
    raw.send_message(text)

    claimed = [azure_queue.claim(worker_id="w", lease_seconds=30) for _ in range(2)]

    assert [c.body for c in claimed if c is not None] == [{"share_pack_id": "p-1"}]
    poison = QueueClient.from_connection_string(
        azurite_connection_string, f"{azure_queue.queue_name}-poison"
    )
    assert [m.content for m in poison.receive_messages()] == [text]
    assert azure_queue.depth() == 1  # the good message, still leased
