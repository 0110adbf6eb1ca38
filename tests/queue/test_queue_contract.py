"""The queue contract: at-least-once delivery with leases (table, in-memory and Azure
Storage Queue backends)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from sharepack.errors import QueueError
from sharepack.queue.memory import InMemoryQueue
from sharepack.queue.protocol import ClaimedMessage, Queue
from sharepack.queue.table import TableQueue
from sharepack.store import Database
from tests.store.conftest import create_pack


def claim_within(queue: Queue, seconds: float, *, worker_id: str = "w") -> ClaimedMessage:
    """Poll until a message can be claimed; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        claimed = queue.claim(worker_id=worker_id, lease_seconds=30)
        if claimed is not None:
            return claimed
        time.sleep(0.02)
    pytest.fail(f"No message became claimable within {seconds} s")


def test_a_message_goes_from_enqueue_to_claim_to_complete(queue: Queue) -> None:
    message_id = queue.enqueue({"share_pack_id": "p-1"})

    claimed = queue.claim(worker_id="w1", lease_seconds=30)
    assert claimed is not None
    assert (claimed.message_id, claimed.body, claimed.attempts) == (
        message_id,
        {"share_pack_id": "p-1"},
        1,
    )
    assert queue.claim(worker_id="w2", lease_seconds=30) is None
    assert queue.depth() == 1

    queue.complete(claimed)

    assert queue.depth() == 0
    assert queue.claim(worker_id="w1", lease_seconds=30) is None


def test_two_claimers_never_get_the_same_message(queue: Queue) -> None:
    sent = {queue.enqueue({"n": n}) for n in range(40)}

    def drain(worker: str) -> list[str]:
        got = []
        while (claimed := queue.claim(worker_id=worker, lease_seconds=60)) is not None:
            got.append(claimed.message_id)
        return got

    with ThreadPoolExecutor(max_workers=4) as pool:
        batches = list(pool.map(drain, ["a", "b", "c", "d"]))

    received = [message for batch in batches for message in batch]
    assert sorted(received) == sorted(sent)


def test_an_expired_lease_makes_the_message_claimable_again(queue: Queue) -> None:
    queue.enqueue({"share_pack_id": "p-1"})
    first = queue.claim(worker_id="crashed", lease_seconds=0.2)
    assert first is not None

    second = claim_within(queue, 10, worker_id="rescuer")

    assert second.message_id == first.message_id
    assert second.attempts == 2
    queue.complete(first)  # the first lease is gone: completing under it removes nothing
    assert queue.depth() == 1
    with pytest.raises(QueueError, match="lease was lost"):
        queue.extend(first, lease_seconds=30)


def test_a_released_message_returns_after_its_delay(queue: Queue) -> None:
    queue.enqueue({"share_pack_id": "p-1"})
    claimed = queue.claim(worker_id="w", lease_seconds=30)
    assert claimed is not None

    queue.release(claimed, delay_seconds=0.2)

    assert queue.claim(worker_id="w", lease_seconds=30) is None
    again = claim_within(queue, 10)
    assert again.message_id == claimed.message_id


def test_a_delayed_message_is_claimed_only_after_its_delay(queue: Queue) -> None:
    queue.enqueue({"share_pack_id": "p-later"}, delay_seconds=1.5)
    queue.enqueue({"share_pack_id": "p-now"})

    first = queue.claim(worker_id="w", lease_seconds=30)
    assert first is not None
    assert first.body == {"share_pack_id": "p-now"}
    assert queue.claim(worker_id="w", lease_seconds=30) is None
    assert queue.depth() == 2  # waiting, not lost

    later = claim_within(queue, 15)
    assert later.body == {"share_pack_id": "p-later"}
    assert later.attempts == 1  # the delay is not an attempt


def test_extending_a_held_lease_keeps_the_message_hidden(queue: Queue) -> None:
    queue.enqueue({"share_pack_id": "p-1"})
    claimed = queue.claim(worker_id="w", lease_seconds=0.2)
    assert claimed is not None

    queue.extend(claimed, lease_seconds=60)
    time.sleep(0.3)  # outlive the original lease; the extension must keep it hidden

    assert queue.claim(worker_id="other", lease_seconds=30) is None


@pytest.mark.transactional_enqueue
def test_enqueue_in_a_rolled_back_unit_of_work_leaves_nothing(
    database: Database, queue: Queue
) -> None:
    with database.unit_of_work() as uow:
        pack = create_pack(uow)
        queue.enqueue({"share_pack_id": str(pack.share_pack_id)}, uow=uow)
        uow.rollback()
        uow.commit()  # nothing is left to commit

    assert queue.depth() == 0


@pytest.mark.transactional_enqueue
def test_enqueue_in_a_unit_of_work_that_raises_leaves_nothing(
    database: Database, queue: Queue
) -> None:
    def upload_failing_after_enqueue() -> None:
        with database.unit_of_work() as uow:
            queue.enqueue({"share_pack_id": "p-1"}, uow=uow)
            raise RuntimeError("the upload failed after enqueueing")

    with pytest.raises(RuntimeError, match="upload failed"):
        upload_failing_after_enqueue()

    assert queue.depth() == 0


def test_enqueue_in_a_committed_unit_of_work_commits_with_the_pack(
    database: Database, queue: Queue
) -> None:
    with database.unit_of_work() as uow:
        pack = create_pack(uow)
        queue.enqueue({"share_pack_id": str(pack.share_pack_id)}, uow=uow)
        uow.commit()

    claimed = queue.claim(worker_id="w", lease_seconds=30)
    assert claimed is not None
    assert uuid.UUID(claimed.body["share_pack_id"]) == pack.share_pack_id


def test_queues_of_different_names_do_not_share_messages(database: Database) -> None:
    queue = TableQueue(database, "sharepack-processing")
    other = TableQueue(database, "sync-triggers")
    other.enqueue({"sync": "users"})

    assert queue.claim(worker_id="w", lease_seconds=30) is None
    assert (queue.depth(), other.depth()) == (0, 1)
    assert queue.ping()


def test_an_unreachable_table_queue_fails_with_a_queue_error() -> None:
    database = Database("postgresql://nobody@127.0.0.1:1/none")
    queue = TableQueue(database, "sharepack-processing")

    assert queue.ping() is False
    with pytest.raises(QueueError, match=r"'sharepack-processing'.*enqueue failed"):
        queue.enqueue({"share_pack_id": "p-1"})


def test_a_held_message_is_not_claimed_while_its_holder_keeps_the_lease(queue: Queue) -> None:
    held = queue.enqueue_held({"share_pack_id": "p-1"}, holder="cli", lease_seconds=30)

    assert queue.claim(worker_id="w", lease_seconds=30) is None
    queue.extend(held, lease_seconds=30)
    queue.complete(held)

    assert queue.depth() == 0


def test_a_held_message_whose_holder_died_is_claimed_as_the_next_attempt(queue: Queue) -> None:
    held = queue.enqueue_held({"share_pack_id": "p-1"}, holder="cli", lease_seconds=0.2)

    taken = claim_within(queue, 5)

    assert (taken.message_id, taken.body, taken.attempts) == (held.message_id, held.body, 2)
    with pytest.raises(QueueError, match="lease was lost"):
        queue.extend(held, lease_seconds=30)
    queue.complete(held)  # the dead holder's late completion removes nothing
    assert queue.depth() == 1


@pytest.mark.transactional_enqueue
def test_a_held_message_of_a_rolled_back_transaction_is_never_delivered(
    queue: Queue, database: Database
) -> None:
    with database.unit_of_work() as uow:
        queue.enqueue_held({"share_pack_id": "p-1"}, holder="cli", lease_seconds=0, uow=uow)
        uow.rollback()

    assert queue.depth() == 0


def age_reaches(queue: Queue, seconds: float, within: float = 10) -> float:
    """Poll until the oldest waiting message is at least `seconds` old; fail after `within`."""
    deadline = time.monotonic() + within
    while (age := queue.oldest_age_seconds()) < seconds:
        if time.monotonic() > deadline:
            pytest.fail(f"The oldest message was {age} s old after {within} s, not {seconds} s")
        time.sleep(0.05)
    return age


def test_the_oldest_waiting_message_ages_from_its_enqueue_while_no_one_holds_it(
    queue: Queue,
) -> None:
    assert queue.oldest_age_seconds() == 0.0
    queue.enqueue({"share_pack_id": "p-1"})

    age_reaches(queue, 1.0)  # Azure counts whole seconds
    claimed = queue.claim(worker_id="w", lease_seconds=30)
    assert claimed is not None
    assert queue.oldest_age_seconds() == 0.0  # held: not waiting

    queue.release(claimed)
    assert age_reaches(queue, 1.0) < 60  # waiting again, still aged from its enqueue
    again = claim_within(queue, 10)
    queue.complete(again)
    assert queue.oldest_age_seconds() == 0.0


def test_the_in_memory_queue_ages_messages_on_its_clock() -> None:
    now = [100.0]
    queue = InMemoryQueue(clock=lambda: now[0])
    queue.enqueue({"n": 1})
    now[0] = 130.0
    queue.enqueue({"n": 2})
    now[0] = 145.0

    assert queue.oldest_age_seconds() == 45.0
    first = queue.claim(worker_id="w", lease_seconds=10)
    assert first is not None
    assert first.body == {"n": 1}
    assert queue.oldest_age_seconds() == 15.0
