"""Errors of the Delta Sharing open protocol: `{errorCode, message}` and a status.

PROTOCOL.md (delta-io/delta-sharing) gives every protocol endpoint the same error body in
camelCase, unlike the workspace API's `{error_code, message}`: 400 malformed request,
401 missing or incorrect bearer token, 403 forbidden, 404 unknown share/schema/table.
The codes and texts below follow the reference server (delta-io/delta-sharing
`server/.../DeltaSharingService.scala`, `SharedTableManager.scala`) where it has one.
"""

from __future__ import annotations

from databricks_emulator.errors import ApiError


class ProtocolError(ApiError):
    """An error answer of the open protocol (its body is camelCase)."""

    def body(self) -> dict[str, str | int]:
        return {"errorCode": self.error_code, "message": self.message}


def unauthenticated(message: str) -> ProtocolError:
    """401: PROTOCOL.md "The request is unauthenticated. The bearer token is missing or
    incorrect." (also an expired token: the Python client treats 401 as its expiry)."""
    return ProtocolError(401, "UNAUTHENTICATED", message)


def forbidden(message: str) -> ProtocolError:
    """403: PROTOCOL.md "The request is forbidden from being fulfilled." """
    return ProtocolError(403, "PERMISSION_DENIED", message)


def no_such_table(share: str, schema: str, table: str) -> ProtocolError:
    """404, the reference server's `SharedTableManager.getTable` text."""
    return ProtocolError(
        404,
        "RESOURCE_DOES_NOT_EXIST",
        f"[Share/Schema/Table] '{share}/{schema}/{table}' does not exist, "
        "please contact your share provider for further information.",
    )


def not_found(message: str) -> ProtocolError:
    """404 RESOURCE_DOES_NOT_EXIST, as the reference server's exception handler answers."""
    return ProtocolError(404, "RESOURCE_DOES_NOT_EXIST", message)


def bad_parameter(message: str) -> ProtocolError:
    """400 INVALID_PARAMETER_VALUE (`DeltaSharingIllegalArgumentException`)."""
    return ProtocolError(400, "INVALID_PARAMETER_VALUE", message)


def malformed(message: str) -> ProtocolError:
    """400 MALFORMED_REQUEST: a body that is not the JSON the endpoint takes."""
    return ProtocolError(400, "MALFORMED_REQUEST", message)
