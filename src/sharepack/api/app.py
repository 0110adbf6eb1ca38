"""The FastAPI application; Swagger UI at `/docs`, ReDoc at `/redoc` (served offline)."""

from __future__ import annotations

import functools
from typing import Any

from fastapi import FastAPI
from starlette.types import Scope

from sharepack import __version__
from sharepack.api.approval_routes import router as approval_router
from sharepack.api.auth import build_authenticator
from sharepack.api.batch_routes import router as batch_router
from sharepack.api.body_limit import BodyLimit
from sharepack.api.docs import install_docs
from sharepack.api.errors import install_error_handlers
from sharepack.api.metrics import install_metrics
from sharepack.api.routes import router
from sharepack.api.version_routes import router as version_router
from sharepack.runtime import Runtime
from sharepack.usecases.audit import Act, record_refusal


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
    app.add_middleware(
        BodyLimit,
        max_file_bytes=runtime.settings.sharepack_max_upload_bytes,
        max_batch_bytes=runtime.settings.sharepack_batch_max_total_bytes,
        max_batch_files=runtime.settings.sharepack_batch_max_files,
        on_refused=functools.partial(_record_oversized, runtime),
    )
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(approval_router)
    app.include_router(batch_router)
    app.include_router(version_router)
    install_metrics(app, runtime)
    install_docs(app)
    _document_400_not_422(app)
    return app


def _record_oversized(runtime: Runtime, scope: Scope, reason: str) -> None:
    """An upload refused for its size before anyone was authenticated: on the audit trail
    as an anonymous refusal, with where it came from."""
    headers = dict(scope.get("headers", ()))
    client = scope.get("client")
    agent = headers.get(b"user-agent")
    record_refusal(
        runtime,
        Act.UPLOAD,
        f"{scope.get('method', '')} {scope.get('path', '')}: {reason}",
        client_address=client[0] if client else None,
        user_agent=agent.decode("latin-1") if agent else None,
    )


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
