"""The FastAPI application; Swagger UI at `/docs`, ReDoc at `/redoc` (served offline)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from sharepack import __version__
from sharepack.api.auth import build_authenticator
from sharepack.api.body_limit import BodyLimit
from sharepack.api.docs import install_docs
from sharepack.api.errors import install_error_handlers
from sharepack.api.routes import router
from sharepack.runtime import Runtime


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="sharepack",
        version=__version__,
        description="Provision Databricks Delta Sharing from share pack files.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.authenticator = build_authenticator(runtime)
    app.add_middleware(BodyLimit, max_file_bytes=runtime.settings.sharepack_max_upload_bytes)
    install_error_handlers(app)
    app.include_router(router)
    install_docs(app)
    _document_400_not_422(app)
    return app


def _document_400_not_422(app: FastAPI) -> None:
    """FastAPI documents a 422 on every operation with parameters; this API answers a
    malformed request with 400 (see `install_error_handlers`), so the schema says that."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            schemas = schema.get("components", {}).get("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
