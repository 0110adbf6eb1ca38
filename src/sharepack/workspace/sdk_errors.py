"""One mapping from the databricks-sdk's exceptions to sharepack's typed workspace errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
from databricks.sdk import errors as sdk_errors
from databricks.sdk.errors.base import DatabricksError

from sharepack.workspace.errors import (
    InvalidRequestError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
    WorkspaceAuthenticationError,
    WorkspaceError,
    WorkspacePermissionError,
    WorkspaceUnavailableError,
    WorkspaceUnreachableError,
)

_MAPPING: tuple[tuple[type[Exception], type[WorkspaceError]], ...] = (
    (sdk_errors.ResourceAlreadyExists, ResourceAlreadyExistsError),
    (sdk_errors.AlreadyExists, ResourceAlreadyExistsError),
    (sdk_errors.NotFound, ResourceNotFoundError),
    (sdk_errors.PermissionDenied, WorkspacePermissionError),
    (sdk_errors.BadRequest, InvalidRequestError),
    (DatabricksError, WorkspaceUnavailableError),
    (requests.RequestException, WorkspaceUnavailableError),
    (TimeoutError, WorkspaceUnavailableError),  # the SDK's retries gave up on the host
)

#: What a request meets when the host does not answer at all.
_NO_ANSWER = (requests.ConnectionError, requests.Timeout)


@contextmanager
def translated_errors(what: str) -> Iterator[None]:
    """Re-raise SDK and transport errors as `WorkspaceError`s whose message names `what`."""
    started = time.monotonic()
    try:
        yield
    except WorkspaceError:
        raise
    except Exception as exc:
        if refuses_credentials(exc):
            raise WorkspaceAuthenticationError(f"{what}: {exc}") from exc
        if (reason := unreachable_reason(exc)) is not None:
            given_up = (
                f" (gave up after {time.monotonic() - started:.0f} s)"
                if isinstance(exc, TimeoutError)
                else ""
            )
            raise WorkspaceUnreachableError(
                f"{what}: cannot reach {_workspace_of(exc)}: {reason}{given_up}"
            ) from exc
        for sdk_type, ours in _MAPPING:
            if isinstance(exc, sdk_type):
                raise ours(f"{what}: {exc}") from exc
        raise


def refuses_credentials(exc: BaseException) -> bool:
    """A 401, or a 403 about the caller rather than a resource: workspaces answer a token
    they do not know with the status in `error_code` (`403`), not a name such as
    `PERMISSION_DENIED`, which is a resource the caller may not touch."""
    if isinstance(exc, sdk_errors.Unauthenticated):
        return True
    if isinstance(exc, sdk_errors.PermissionDenied):
        return not str(exc.error_code or "").strip("0123456789")
    return False


def unreachable_reason(exc: BaseException) -> str | None:
    """Why the host did not answer (`Connection refused`, `Name or service not known`,
    `timed out`), or None if `exc` is not about an unanswered request. The SDK raises
    `TimeoutError` from the last such failure when its retries give up."""
    failure = exc.__cause__ if isinstance(exc, TimeoutError) else exc
    if not isinstance(failure, _NO_ANSWER):
        return None
    root = _root_cause(failure)
    if isinstance(root, OSError) and root.strerror:
        return root.strerror
    return str(root) or type(root).__name__


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost error under requests' and urllib3's wrappers (its `reason`, its first
    argument or its cause)."""
    seen: set[int] = set()
    current = exc
    while id(current) not in seen:
        seen.add(id(current))
        inner = [
            current.__cause__,
            getattr(current, "reason", None),
            current.args[0] if current.args else None,
            current.__context__,
        ]
        found = next((e for e in inner if isinstance(e, BaseException)), None)
        if found is None:
            break
        current = found
    return current


def _workspace_of(exc: BaseException) -> str:
    """'workspace scheme://host[:port]' of the request that failed, if it says."""
    for error in (exc, exc.__cause__):
        request = getattr(error, "request", None)
        url = getattr(request, "url", None)
        if isinstance(url, str) and (parts := urlsplit(url)).netloc:
            return f"workspace {parts.scheme}://{parts.netloc}"
    return "the workspace"


def is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, ResourceNotFoundError)
