"""The worker and the messages it meets that name no work."""

from __future__ import annotations

import uuid

from sharepack.service.process import make_worker
from sharepack.service.runtime import Runtime


def test_message_for_a_pack_that_was_never_stored_is_dropped(runtime: Runtime) -> None:
    # An Azure message is sent before the pack's row commits; if the commit fails, the
    # message names a pack that does not exist. It is no work, not an error to retry.
    runtime.queue.enqueue({"share_pack_id": str(uuid.uuid4())})

    worked = make_worker(runtime).run_once()

    assert worked
    assert runtime.queue.depth() == 0
