"""Every HTTP exchange with a workspace, seen as it happens: what metrics, traces and the
adaptive rate limit are told about the calls databricks-sdk makes.

The SDK sends each request, and each retry of it, through its `requests` session; an
adapter mounted there sees them all, in the calling thread, around the exchange itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

#: The connection pool the SDK gives its own adapter (`_BaseClient`'s defaults).
_POOL_SIZE = 20


@dataclass
class WorkspaceCall:
    """One HTTP exchange: filled in as it goes (`status` once answered, `error` if not)."""

    method: str
    path: str
    family: str
    status: int | None = None
    #: The answer's `Retry-After`, in seconds, when it gives one.
    retry_after: float | None = None
    #: The exception's type name when no answer came (a timeout, a refused connection).
    error: str | None = None

    @property
    def throttled(self) -> bool:
        """Answered 429: the workspace's rate limit for this family was exceeded."""
        return self.status == 429

    @property
    def retried_by_sdk(self) -> bool:
        """An outcome databricks-sdk retries: 429, 503, or no answer at all."""
        return self.status in (429, 503) or self.error is not None


#: Told of each call: entered before the request is sent, left once it is answered or has
#: failed (the call's `status` or `error` then set). It may block (a rate limit's wait).
CallListener = Callable[[WorkspaceCall], AbstractContextManager[None]]


def endpoint_family(path: str) -> str:
    """The API a path belongs to, as Databricks rate-limits them: `unity-catalog/shares`
    for `/api/2.1/unity-catalog/shares/s/permissions`, `pipelines`, `jobs`, `workspace`,
    `preview/scim`; `other` for what is not under `/api/<version>/`."""
    parts = [part for part in path.split("/") if part]
    if len(parts) < 3 or parts[0] != "api":
        return "other"
    rest = parts[2:]
    if rest[0] in ("unity-catalog", "preview") and len(rest) > 1:
        return f"{rest[0]}/{rest[1]}"
    return rest[0]


class ObservedAdapter(HTTPAdapter):
    """The SDK's transport, telling `listeners` of each exchange around it."""

    def __init__(self, listeners: Iterable[CallListener]) -> None:
        super().__init__(pool_connections=_POOL_SIZE, pool_maxsize=_POOL_SIZE)
        self._listeners = tuple(listeners)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        path = urlsplit(request.url or "").path
        call = WorkspaceCall(request.method or "GET", path, endpoint_family(path))
        with ExitStack() as listening:
            for listener in self._listeners:
                listening.enter_context(listener(call))
            try:
                response = super().send(request, *args, **kwargs)
            except Exception as exc:
                call.error = type(exc).__name__
                raise
            call.status = response.status_code
            call.retry_after = _seconds(response.headers.get("Retry-After"))
            return response


def observe(session: requests.Session, listeners: Iterable[CallListener]) -> None:
    """Send `session`'s requests through an `ObservedAdapter` telling `listeners`."""
    adapter = ObservedAdapter(listeners)
    session.mount("https://", adapter)
    session.mount("http://", adapter)


def _seconds(value: str | None) -> float | None:
    """`Retry-After` as delta-seconds (what Databricks sends); None for a date or junk."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
