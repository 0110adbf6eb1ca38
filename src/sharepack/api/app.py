"""The FastAPI application; Swagger UI at `/docs`."""

from __future__ import annotations

from fastapi import FastAPI

from sharepack import __version__
from sharepack.api.errors import install_error_handlers
from sharepack.api.routes import router
from sharepack.service.runtime import Runtime


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="sharepack",
        version=__version__,
        description="Provision Databricks Delta Sharing from share pack files.",
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(router)
    return app
