"""The worker and the messages it meets that name no work."""

from __future__ import annotations

import uuid

import pytest

from sharepack.service.process import make_worker
from sharepack.service.runtime import Runtime


def test_message_for_a_pack_that_was_never_stored_is_dropped(runtime: Runtime) -> None:
    # An Azure message is sent before the pack's row commits; if the commit fails, the
    # message names a pack that does not exist. It is no work, not an error to retry.
    runtime.queue.enqueue({"share_pack_id": str(uuid.uuid4())})

    worked = make_worker(runtime).run_once()

    assert worked
    assert runtime.queue.depth() == 0


@pytest.mark.parametrize("body", [{}, {"share_pack_id": "not-a-uuid"}, {"share_pack_id": 7}])
def test_message_without_a_share_pack_id_is_dropped_with_an_error_logged(
    runtime: Runtime, body: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    runtime.queue.enqueue(body)

    worked = make_worker(runtime).run_once()

    assert worked
    assert runtime.queue.depth() == 0
    assert f"names no share pack: {body!r}; dropped" in caplog.text
