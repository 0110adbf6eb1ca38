"""`sharepack serve` (API with an in-process worker) and `sharepack worker` (a worker alone)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
import uvicorn
from pydantic import SecretStr
from rich.console import Console

from sharepack.runtime import Runtime
from sharepack.settings import Settings, load_settings
from sharepack.workspace.urls import normalise_workspace_url

if TYPE_CHECKING:
    from sharepack.runtime import Runtime

EMULATOR_TOKEN = "dapi-sharepack-local-emulator"
console = Console(stderr=True)


@contextmanager
def _local_emulator(settings: Settings) -> Iterator[tuple[Settings, str]]:
    """Start the bundled emulator and allow-list it, with its token as the credential."""
    from databricks_emulator.server import EmulatorServer

    server = EmulatorServer(token=EMULATOR_TOKEN)
    server.start()
    try:
        allowed = [*settings.sharepack_workspace_urls, normalise_workspace_url(server.url)]
        yield (
            settings.model_copy(
                update={
                    "sharepack_workspace_urls": allowed,
                    "databricks_token": SecretStr(EMULATOR_TOKEN),
                }
            ),
            server.url,
        )
    finally:
        server.stop()


@contextmanager
def _background_worker(runtime: Runtime) -> Iterator[None]:
    from sharepack.running.provision import make_worker

    stop = threading.Event()
    thread = threading.Thread(
        target=make_worker(runtime).run_forever, args=(stop,), name="worker", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def _banner(host: str, port: int, emulator_url: str | None, database_url: str) -> None:
    base = f"http://{host}:{port}"
    console.print(f"[bold]sharepack[/] API on {base}  (docs: {base}/docs)")
    console.print(f"database: {database_url}")
    if emulator_url:
        console.print(f"Databricks emulator (allow-listed): {emulator_url}")
        console.print("Upload the example pack:")
        console.print(
            f"  curl -s -X POST {base}/workflow/sharepack/upload "
            f'-H "X-Workspace-URL: {emulator_url}" -F "file=@examples/sharepack.yaml"',
            soft_wrap=True,
        )
        console.print(f"then poll: curl -s {base}/workflow/sharepack/<SharePackId>", soft_wrap=True)


def serve(
    host: str = typer.Option("127.0.0.1", help="Address the API listens on."),
    port: int = typer.Option(8000, help="Port the API listens on."),
    emulator: bool = typer.Option(
        False, "--emulator", help="Start a local Databricks emulator and allow-list it."
    ),
) -> None:
    """Run the REST API with an in-process worker."""
    from sharepack.api.app import create_app
    from sharepack.runtime import build_runtime

    settings = load_settings()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with _maybe_emulator(settings, emulator) as (settings, emulator_url):
        runtime = build_runtime(settings)
        try:
            with _background_worker(runtime):
                _banner(host, port, emulator_url, settings.database_url)
                uvicorn.run(create_app(runtime), host=host, port=port, log_level="info")
        finally:
            runtime.close()


@contextmanager
def _maybe_emulator(settings: Settings, wanted: bool) -> Iterator[tuple[Settings, str | None]]:
    if not wanted:
        yield settings, None
        return
    with _local_emulator(settings) as (with_emulator, url):
        yield with_emulator, url


def worker() -> None:
    """Run a worker that provisions queued share packs until interrupted."""
    from sharepack.running.provision import make_worker
    from sharepack.runtime import build_runtime

    settings = load_settings()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    runtime = build_runtime(settings)
    stop = threading.Event()
    _stop_after_the_current_run(stop)
    console.print(
        f"sharepack worker on {runtime.settings.database_url}; Ctrl-C (or SIGTERM) stops it "
        "after the run in hand, a second Ctrl-C at once"
    )
    try:
        make_worker(runtime).run_forever(stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        runtime.close()


def _stop_after_the_current_run(stop: threading.Event) -> None:
    """The first SIGINT or SIGTERM lets the run in hand finish and claims nothing more; the
    next one stops at once (its run is then taken over when its lease runs out)."""

    def asked_to_stop(signum: int, _: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        console.print(
            f"{signal.Signals(signum).name}: stopping after the run in hand "
            "(send it again to stop now)"
        )

    signal.signal(signal.SIGINT, asked_to_stop)
    signal.signal(signal.SIGTERM, asked_to_stop)
