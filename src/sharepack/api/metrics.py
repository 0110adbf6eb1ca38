"""`/metrics` for Prometheus, and the metrics of the API's own requests.

A scrape holds counts and durations by status, outcome, phase, endpoint family and route
template; never a pack's id or name, a workspace URL or a secret. So `/metrics` answers
without authentication, as Prometheus scrapes by default, unless SHAREPACK_METRICS_TOKEN is
set: then it asks for that token as `Authorization: Bearer` (Prometheus' `authorization`
scrape setting). Packs by status and the queue are read from the database and the queue at
scrape time: right whatever number of workers there are.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sharepack.errors import AuthenticationError
from sharepack.observability.exposition import CONTENT_TYPE, Exposition
from sharepack.observability.metrics import record_http_request
from sharepack.runtime import Runtime
from sharepack.usecases.queries import SharedState, read_shared_state

metrics_router = APIRouter()
#: The route label of a request no route matched: its path is the caller's to choose.
UNMATCHED = "unmatched"


def install_metrics(app: FastAPI, runtime: Runtime) -> None:
    """`/metrics`, and the request metrics of every request the app answers."""
    app.state.exposition = Exposition(SharedStateCollector(runtime))
    app.include_router(metrics_router)
    app.add_middleware(RequestMetrics)


@metrics_router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus' text format; 401 without the token when SHAREPACK_METRICS_TOKEN is set."""
    runtime: Runtime = request.app.state.runtime
    token = runtime.settings.sharepack_metrics_token
    if token is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").encode()
        if not hmac.compare_digest(given, token.get_secret_value().encode()):
            raise AuthenticationError("/metrics needs the SHAREPACK_METRICS_TOKEN as a bearer")
    exposition: Exposition = request.app.state.exposition
    return Response(exposition.render(), media_type=CONTENT_TYPE)


class SharedStateCollector(Collector):
    """Packs by status and RollbackStatus, the queue's depth and its oldest waiting
    message, read at each scrape; `sharepack_state_up` says whether each source answered."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def collect(self) -> Iterable[Metric]:
        state = read_shared_state(self._runtime)
        up = GaugeMetricFamily(
            "sharepack_state_up",
            "Whether the source of the scrape-time metrics answered (database, queue)",
            labels=["source"],
        )
        up.add_metric(["database"], float(state.packs is not None))
        up.add_metric(["queue"], float(state.queue_depth is not None))
        yield up
        yield from _packs(state)
        yield from _queue(state)


def _packs(state: SharedState) -> Iterable[Metric]:
    if state.packs is None:
        return
    packs = GaugeMetricFamily(
        "sharepack_share_packs",
        "Live share packs by status and RollbackStatus (none before a run ends)",
        labels=["status", "rollback"],
    )
    for (status, rollback), count in sorted(state.packs.items(), key=str):
        packs.add_metric([status.lower(), (rollback or "none").lower()], count)
    yield packs


def _queue(state: SharedState) -> Iterable[Metric]:
    if state.queue_depth is None or state.oldest_message_age_seconds is None:
        return
    yield GaugeMetricFamily(
        "sharepack_queue_messages",
        "Messages in the queue not yet completed, waiting or held by a worker",
        value=state.queue_depth,
    )
    yield GaugeMetricFamily(
        "sharepack_queue_oldest_message_age_seconds",
        "How long the oldest message waiting for a worker has waited since it was enqueued",
        value=state.oldest_message_age_seconds,
    )


class RequestMetrics:
    """Counts and times every request by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED)
            seconds = time.perf_counter() - started
            record_http_request(scope["method"], route, status, seconds)
