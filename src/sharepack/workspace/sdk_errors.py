"""One mapping from the databricks-sdk's exceptions to sharepack's typed workspace errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests
from databricks.sdk import errors as sdk_errors
from databricks.sdk.errors.base import DatabricksError

from sharepack.workspace.errors import (
    InvalidRequestError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
    WorkspaceError,
    WorkspacePermissionError,
    WorkspaceUnavailableError,
)

_MAPPING: tuple[tuple[type[Exception], type[WorkspaceError]], ...] = (
    (sdk_errors.ResourceAlreadyExists, ResourceAlreadyExistsError),
    (sdk_errors.AlreadyExists, ResourceAlreadyExistsError),
    (sdk_errors.NotFound, ResourceNotFoundError),
    (sdk_errors.PermissionDenied, WorkspacePermissionError),
    (sdk_errors.Unauthenticated, WorkspacePermissionError),
    (sdk_errors.BadRequest, InvalidRequestError),
    (DatabricksError, WorkspaceUnavailableError),
    (requests.RequestException, WorkspaceUnavailableError),
    (TimeoutError, WorkspaceUnavailableError),  # the SDK's retries gave up on the host
)


@contextmanager
def translated_errors(what: str) -> Iterator[None]:
    """Re-raise SDK and transport errors as `WorkspaceError`s whose message names `what`."""
    try:
        yield
    except WorkspaceError:
        raise
    except Exception as exc:
        for sdk_type, ours in _MAPPING:
            if isinstance(exc, sdk_type):
                raise ours(f"{what}: {exc}") from exc
        raise


def is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, ResourceNotFoundError)
