"""A request body is read only up to the upload limit, never received whole first.

The limit is `SHAREPACK_MAX_UPLOAD_BYTES` plus room for the multipart framing around the
file: a Content-Length over it is refused before a byte of the body is read, and a body
that passes it (with no length, or more than it said) is refused as soon as it does. A
body within it is handed on whole; the file in it is then checked to the byte by name.
A batch upload (`BATCH_PATH`) has its own, larger limit: `SHAREPACK_BATCH_MAX_TOTAL_BYTES`
for all its files together, and room for each file's framing.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sharepack.api.errors import batch_rejected_response, spec_error_response
from sharepack.packfile import Problem, ReadLimits
from sharepack.packfile.loader import too_large
from sharepack.usecases.batch import BatchRejectedError

# Boundaries, part headers (a file name of up to 500 characters) and any small fields.
MULTIPART_ALLOWANCE = 64 * 1024
BATCH_PATH = "/workflow/sharepack/batch"


class BodyLimit:
    """Refuses, as a file over the limit is refused, any body larger than the limit allows."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_file_bytes: int,
        max_batch_bytes: int | None = None,
        max_batch_files: int = 1,
        on_refused: Callable[[Scope, str], None] | None = None,
    ) -> None:
        self.app = app
        self.limits = ReadLimits(max_bytes=max_file_bytes)
        self.max_body = max_file_bytes + MULTIPART_ALLOWANCE
        self.max_batch_bytes = max_batch_bytes
        self.max_batch_body = (max_batch_bytes or 0) + max_batch_files * MULTIPART_ALLOWANCE
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_body = self._max_body(scope)
        declared = _content_length(scope)
        if declared is not None and declared > max_body:
            await self._refuse(scope, receive, send)
            return
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client is gone: there is no one to answer
            received.append(message)
            size += len(message.get("body", b""))
            if size > max_body:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replay = iter(received)

        async def receive_again() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, receive_again, send)

    def _is_batch(self, scope: Scope) -> bool:
        return self.max_batch_bytes is not None and scope.get("path") == BATCH_PATH

    def _max_body(self, scope: Scope) -> int:
        return self.max_batch_body if self._is_batch(scope) else self.max_body

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answered without reading on; the connection is closed after the answer, so the
        server does not take in (and discard) the rest of the body either."""
        if self._is_batch(scope):
            said = (
                f"The batch is larger than the limit of {self.max_batch_bytes:,} bytes for all "
                "its files together (SHAREPACK_BATCH_MAX_TOTAL_BYTES): split it"
            )
            batch_error = BatchRejectedError([], [Problem("", "", said)])
            error_message, response = batch_error.message, batch_rejected_response(batch_error)
        else:
            error = too_large("", self.limits)
            error_message, response = error.message, spec_error_response(error)
        if self.on_refused is not None:  # the audit trail's row, off the event loop
            await anyio.to_thread.run_sync(self.on_refused, scope, error_message)
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
