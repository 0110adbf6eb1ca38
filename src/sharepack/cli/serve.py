"""`sharepack serve` (API with an in-process worker) and `sharepack worker` (a worker alone).

`serve` binds its sockets before it prints anything, so the banner names the ports that
answer: the API on `--port`, or on 8000 or the next free port up to 8009; with
`--emulator`, a local Databricks emulator whose workspace (its resources, id and port,
8100 for a new one) is kept in `emulator.json` beside the database, so the history and the
workspace it names survive a restart. A port that cannot be had is one line and exit 2.
"""

from __future__ import annotations

import errno
import ipaddress
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext, suppress
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from sharepack.cli.exit_codes import UsageError
from sharepack.workspace.urls import normalise_workspace_url

if TYPE_CHECKING:
    import socket

    from rich.console import Console

    from databricks_emulator.server import EmulatorServer
    from sharepack.runtime import Runtime
    from sharepack.settings import Settings

EMULATOR_TOKEN = "dapi-sharepack-local-emulator"
#: The API's port when `--port` is not given; taken, the next free one of `API_PORT_TRIES`.
DEFAULT_API_PORT = 8000
API_PORT_TRIES = 10
#: The embedded emulator's port for a new workspace, outside the API's 8000-8009.
DEFAULT_EMULATOR_PORT = 8100
#: The embedded emulator's workspace, beside the database in the data folder.
EMULATOR_STATE_FILE = "emulator.json"
EXAMPLE_PACK = "examples/sharepack.yaml"


@cache
def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True, highlight=False)


def _cannot_listen(what: str, address: str, option: str, error: OSError) -> UsageError:
    reason = (error.strerror or str(error)).lower()
    hint = "stop what uses it or " if error.errno == errno.EADDRINUSE else ""
    return UsageError(f"{what} on {address} ({option}): {reason}; {hint}choose another {option}")


def _api_socket(host: str, port: int | None) -> socket.socket:
    """The API's socket, bound and listening before anything is printed: `port`, or the
    first free one from 8000 (saying so when it is not 8000)."""
    from databricks_emulator.server import listening_socket

    if port is not None:
        try:
            return listening_socket(host, port)
        except OSError as exc:
            raise _cannot_listen("Cannot listen", f"{host}:{port}", "--port", exc) from None
    for candidate in range(DEFAULT_API_PORT, DEFAULT_API_PORT + API_PORT_TRIES):
        try:
            sock = listening_socket(host, candidate)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                continue
            raise _cannot_listen("Cannot listen", f"{host}:{candidate}", "--port", exc) from None
        if candidate != DEFAULT_API_PORT:
            _console().print(f"port {DEFAULT_API_PORT} is in use; serving on {candidate}")
        return sock
    last = DEFAULT_API_PORT + API_PORT_TRIES - 1
    raise UsageError(
        f"Ports {DEFAULT_API_PORT}-{last} on {host} are all in use; choose one with --port"
    )


def _local_emulator(settings: Settings, port: int | None) -> EmulatorServer:
    """The bundled emulator, bound but not started, its workspace kept in the data folder:
    the one it served last time (same id, same port), or a new one on `port` (8100)."""
    from databricks_emulator.server import EmulatorServer
    from databricks_emulator.state_file import StateFile, StateFileError

    state_file = settings.sharepack_data_dir / EMULATOR_STATE_FILE
    try:
        saved = StateFile(state_file).read()
    except StateFileError as exc:
        raise UsageError(str(exc)) from None
    if saved is not None and port not in (None, saved.port):
        raise UsageError(
            f"--emulator-port {port}: the emulator's workspace kept in {state_file} is served "
            f"on port {saved.port}; leave --emulator-port out, or move the file away to start "
            "a new emulator workspace"
        )
    chosen = saved.port if saved is not None else port or DEFAULT_EMULATOR_PORT
    try:
        return EmulatorServer(token=EMULATOR_TOKEN, port=chosen, state_file=state_file)
    except StateFileError as exc:  # changed since it was read just now
        raise UsageError(str(exc)) from None
    except OSError as exc:
        what, address = "Cannot start the Databricks emulator", f"127.0.0.1:{chosen}"
        if saved is None:
            raise _cannot_listen(what, address, "--emulator-port", exc) from None
        raise UsageError(
            f"{what} on {address}, the port recorded in {state_file}: "
            f"{(exc.strerror or str(exc)).lower()}; stop what uses it, or move the file away "
            "to start a new emulator workspace"
        ) from None


def _allowing(settings: Settings, emulator_url: str) -> Settings:
    """The settings with the emulator allow-listed and its token as the credential."""
    from pydantic import SecretStr

    allowed = [*settings.sharepack_workspace_urls, normalise_workspace_url(emulator_url)]
    return settings.model_copy(
        update={"sharepack_workspace_urls": allowed, "databricks_token": SecretStr(EMULATOR_TOKEN)}
    )


@contextmanager
def _in_background(name: str, run_forever: Callable[[threading.Event], None]) -> Iterator[None]:
    """`run_forever(stop)` on a thread of its own while the block runs; then stopped."""
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(stop,), name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


@contextmanager
def _tracing(settings: Settings) -> Iterator[None]:
    """Traces recorded while the block runs, when the settings ask; the last exported after."""
    from sharepack.observability.tracing import start_tracing

    tracing = start_tracing(settings)
    try:
        yield
    finally:
        if tracing is not None:
            tracing.close()


def _background_worker(runtime: Runtime) -> AbstractContextManager[None]:
    from sharepack.running.provision import make_worker

    return _in_background("worker", make_worker(runtime).run_forever)


def _background_directory_sync(runtime: Runtime) -> AbstractContextManager[None]:
    """The directory sync on its schedule, when Microsoft Graph is configured."""
    if runtime.directory is None or runtime.settings.sharepack_directory_sync_minutes <= 0:
        return nullcontext()
    from sharepack.usecases.directory_sync import DirectorySyncSchedule

    return _in_background("directory-sync", DirectorySyncSchedule(runtime).run_forever)


@contextmanager
def _scheduled_sync_jobs(runtime: Runtime) -> Iterator[None]:
    """The sync jobs with an interval (`SHAREPACK_SYNC_*_MINUTES`) on their schedule while
    the block runs, each once per interval across every process that runs them."""
    from sharepack.usecases.sync_jobs import scheduled

    jobs = scheduled(runtime.settings)
    if not jobs:
        yield
        return
    from sharepack.sync.scheduler import SyncScheduler

    scheduler = SyncScheduler(runtime, jobs)
    scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown()


def _background_notifications(runtime: Runtime) -> AbstractContextManager[None]:
    """The outbox's notices delivered as they come, when email or a webhook is configured."""
    if not runtime.settings.notifications_configured:
        return nullcontext()
    from sharepack.notify.outbox import NotificationDispatcher

    dispatcher = NotificationDispatcher(runtime.database, runtime.settings)
    return _in_background("notifications", dispatcher.run_forever)


def _sharepack_command() -> str:
    """How a shell in this folder runs this sharepack: the path it was started by, relative
    when it lies beneath the folder (`.venv/bin/sharepack` under `make run`)."""
    invoked = Path(sys.argv[0])
    if invoked.name != "sharepack":
        return "sharepack"
    if invoked.is_absolute():
        try:
            invoked = invoked.relative_to(Path.cwd())
        except ValueError:
            return shlex.quote(str(invoked))
    text = str(invoked)
    return shlex.quote(text if "/" in text else f"./{text}")


def _is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_authentication(host: str, settings: Settings) -> None:
    """Refuse to serve another address than loopback with no way to authenticate callers
    but a key only this machine's user can read."""
    if _is_loopback(host) or settings.oidc_configured or settings.sharepack_allow_api_keys_only:
        return
    raise UsageError(
        f"Refusing to serve on {host} without an identity provider: set SHAREPACK_OIDC_ISSUER "
        "and SHAREPACK_OIDC_AUDIENCE, or SHAREPACK_ALLOW_API_KEYS_ONLY=true to accept API keys "
        "only (make one with `sharepack keys create`); or serve on 127.0.0.1"
    )


def _local_admin_key(runtime: Runtime, host: str) -> str | None:
    """On loopback with no identity provider: the local admin key, made once and kept in
    the data folder (mode 0600); the database holds only its hash."""
    if not _is_loopback(host) or runtime.settings.oidc_configured:
        return None
    from rich.markup import escape

    from sharepack.cli.operator import operator_caller
    from sharepack.usecases.identity import ensure_local_admin_key

    key, made = ensure_local_admin_key(runtime, operator_caller())
    path = runtime.settings.local_admin_key_file
    _console().print(
        f"{'made' if made else 'using'} the local admin API key kept in {escape(str(path))} "
        "(readable by you only)"
    )
    return key


def _banner(
    base: str,
    database: str,
    emulator_url: str | None,
    state_file: Path,
    api_key: str | None = None,
) -> None:
    """What to do next, in lines a terminal can paste. It is printed, never logged: it
    carries the emulator's token and the local admin key."""
    from rich.markup import escape

    lines = [f"API on {base}  (docs: {base}/docs)", f"database: {database}"]
    auth = (
        f'-H "Authorization: Bearer {api_key}" '
        if api_key
        else '-H "Authorization: Bearer <token>" '
    )
    if emulator_url:
        command = f"DATABRICKS_TOKEN={EMULATOR_TOKEN} {_sharepack_command()}"
        lines += [
            f"Databricks emulator (allow-listed): {emulator_url}",
            f"  its workspace is kept in {state_file}; move the file away for a new one",
            "Plan and apply the example pack from another terminal:",
            f"  {command} plan {EXAMPLE_PACK} --workspace {emulator_url}",
            f"  {command} apply {EXAMPLE_PACK} --workspace {emulator_url}",
            "Or upload it to the API:",
            f"  curl -s -X POST {base}/workflow/sharepack/upload {auth}"
            f'-H "X-Workspace-URL: {emulator_url}" -F "file=@{EXAMPLE_PACK}"',
            f"then poll: curl -s {auth}{base}/workflow/sharepack/<SharePackId>",
        ]
    _console().print(f"[bold]sharepack[/] {escape(lines[0])}")
    for line in lines[1:]:
        _console().print(escape(line))


def serve(
    host: str = typer.Option("127.0.0.1", help="Address the API listens on."),
    port: int | None = typer.Option(
        None,
        min=0,
        max=65535,
        show_default=False,
        help=f"Port the API listens on [default: {DEFAULT_API_PORT}, or the next free one].",
    ),
    emulator: bool = typer.Option(
        False, "--emulator", help="Start a local Databricks emulator and allow-list it."
    ),
    emulator_port: int | None = typer.Option(
        None,
        min=1,
        max=65535,
        show_default=False,
        help=f"Port of a new emulator workspace [default: {DEFAULT_EMULATOR_PORT}]; "
        "a kept one keeps its own.",
    ),
) -> None:
    """Run the REST API with an in-process worker."""
    from sharepack.settings import load_settings

    if emulator_port is not None and not emulator:
        raise UsageError("--emulator-port is for the local emulator: add --emulator")
    settings = load_settings()
    _check_authentication(host, settings)
    _share_metrics(settings)
    # Imported once this host's metrics directory is joined: they load prometheus_client.
    import uvicorn

    from sharepack.api.app import create_app
    from sharepack.observability.logs import configure_logging, uvicorn_log_config
    from sharepack.runtime import build_runtime

    configure_logging(settings)
    with ExitStack() as stack:
        stack.enter_context(_tracing(settings))
        local = _local_emulator(settings, emulator_port) if emulator else None
        if local is not None:
            stack.callback(local.stop)
        api_socket = stack.enter_context(_api_socket(host, port))
        if local is not None:
            local.start()
            settings = _allowing(settings, local.url)
        runtime = build_runtime(settings)
        stack.callback(runtime.close)
        app = create_app(runtime)
        api_key = _local_admin_key(runtime, host)
        stack.enter_context(_background_worker(runtime))
        stack.enter_context(_background_directory_sync(runtime))
        stack.enter_context(_scheduled_sync_jobs(runtime))
        stack.enter_context(_background_notifications(runtime))
        bound_host, bound_port = api_socket.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        _banner(
            f"http://{shown}:{bound_port}",
            runtime.database.describe(),
            local.url if local is not None else None,
            settings.sharepack_data_dir / EMULATOR_STATE_FILE,
            api_key,
        )
        config = uvicorn.Config(app, log_level="info", log_config=uvicorn_log_config(settings))
        with suppress(KeyboardInterrupt):  # uvicorn stopped on Ctrl-C, then raises it again
            uvicorn.Server(config).run(sockets=[api_socket])


def worker() -> None:
    """Run a worker that provisions queued share packs until interrupted."""
    from sharepack.settings import load_settings

    settings = load_settings()
    _share_metrics(settings)
    from sharepack.observability.logs import configure_logging
    from sharepack.running.provision import make_worker
    from sharepack.runtime import build_runtime

    configure_logging(settings)
    with ExitStack() as stack:
        stack.enter_context(_tracing(settings))
        runtime = build_runtime(settings)
        stack.callback(runtime.close)
        stop = threading.Event()
        _stop_after_the_current_run(stop)
        _console().print(
            f"sharepack worker on {runtime.database.describe()}; Ctrl-C (or SIGTERM) stops it "
            "after the run in hand, a second Ctrl-C at once"
        )
        try:
            with (
                _background_directory_sync(runtime),
                _scheduled_sync_jobs(runtime),
                _background_notifications(runtime),
            ):
                make_worker(runtime).run_forever(stop)
        except KeyboardInterrupt:
            stop.set()


def _share_metrics(settings: Settings) -> None:
    """Join this host's metrics directory, before anything imports prometheus_client (the
    imports of `serve` and `worker` come after it for that reason)."""
    from sharepack.observability.processes import join_metrics_dir

    join_metrics_dir(settings.metrics_dir)


def _stop_after_the_current_run(stop: threading.Event) -> None:
    """The first SIGINT or SIGTERM lets the run in hand finish and claims nothing more; the
    next one stops at once (its run is then taken over when its lease runs out)."""

    def asked_to_stop(signum: int, _: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        _console().print(
            f"{signal.Signals(signum).name}: stopping after the run in hand "
            "(send it again to stop now)"
        )

    signal.signal(signal.SIGINT, asked_to_stop)
    signal.signal(signal.SIGTERM, asked_to_stop)
