"""Errors in the shape the Databricks REST API answers: `{error_code, message}` and a status.

The SDK picks its exception class from `error_code` first, then from the HTTP status
(`databricks/sdk/errors/mapper.py`), so each helper pairs the two as a workspace does.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error answer of the emulated API."""

    def __init__(
        self, status: int, error_code: str | int, message: str, *, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.retry_after = retry_after

    def body(self) -> dict[str, str | int]:
        return {"error_code": self.error_code, "message": self.message}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


def not_found(message: str) -> ApiError:
    """404 RESOURCE_DOES_NOT_EXIST: the SDK raises `ResourceDoesNotExist` (a `NotFound`)."""
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", message)


def already_exists(message: str) -> ApiError:
    """409 RESOURCE_ALREADY_EXISTS: the SDK raises `ResourceAlreadyExists`."""
    return ApiError(409, "RESOURCE_ALREADY_EXISTS", message)


def invalid(message: str) -> ApiError:
    """400 INVALID_PARAMETER_VALUE: the SDK raises `InvalidParameterValue`."""
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def permission_denied(message: str) -> ApiError:
    """403 PERMISSION_DENIED: the SDK raises `PermissionDenied`."""
    return ApiError(403, "PERMISSION_DENIED", message)


def conflict(message: str) -> ApiError:
    """409 RESOURCE_CONFLICT: the SDK raises `ResourceConflict`."""
    return ApiError(409, "RESOURCE_CONFLICT", message)


def quota_exceeded(message: str) -> ApiError:
    """400 QUOTA_EXCEEDED (a metastore limit): the SDK raises `BadRequest`, and does not retry."""
    return ApiError(400, "QUOTA_EXCEEDED", message)


def invalid_token() -> ApiError:
    """A bearer token the workspace does not know: 403 with the status, not a name, in
    `error_code`, as workspaces answer it; the SDK raises `PermissionDenied`."""
    return ApiError(403, 403, "Invalid access token.")
