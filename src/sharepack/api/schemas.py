"""Response bodies of the REST API, with the PascalCase keys of the contract."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_pascal


class PascalModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True)


class ValidationMessage(PascalModel):
    location: str
    field: str
    message: str


class UploadResponse(PascalModel):
    message: str
    share_pack_id: str | None = None
    share_pack_name: str | None = None
    status: str
    validation_errors: list[str] = []
    validation_warnings: list[str] = []
    validation_details: list[ValidationMessage] = []


class SharePackStatusResponse(PascalModel):
    share_pack_id: str
    share_pack_name: str
    status: str
    strategy: str
    provisioning_status: str
    error_message: str
    requested_by: str
    created_at: str
    last_updated: str
    workspace_url: str
    rollback_status: str | None = None


class HealthResponse(PascalModel):
    message: str
    database_connected: bool
    queue_connected: bool
    tables_count: int


class ErrorResponse(PascalModel):
    message: str
    error_code: str


class InternalErrorResponse(PascalModel):
    """An unexpected failure: its details are in the server's log under `ErrorId`."""

    message: str
    error_code: str
    error_id: str
