"""The metrics directory: how the sharepack processes of one host (`serve` and any number
of `worker`) add up their metrics.

prometheus_client's multiprocess mode: each process writes its values into files of its
own (`counter_<pid>.db`, ...) in PROMETHEUS_MULTIPROC_DIR, which must be set before
prometheus_client is imported in that process; the API process sums the files when it is
scraped. This module imports prometheus_client only once the directory is set.

Each process joined to the directory leaves a marker (`process-<pid>`) there. The first to
join a directory where no marked process is alive wipes it: a restarted deployment starts
from zero, which Prometheus reads as a counter reset; while any process lives, the files of
those that ended stay, so totals never go down. A process leaving (or found dead) has its
live gauges removed (`mark_process_dead`). Process ids are this host's: the directory is
local to one machine (or container), never shared between them.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sharepack.errors import ConfigurationError

log = logging.getLogger(__name__)
ENVIRONMENT_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_MARKER = "process-"
_LOCK_FILE = ".lock"
_joined: Path | None = None


def join_metrics_dir(directory: Path) -> Path | None:
    """Have this process write its metrics into `directory` (created if missing, wiped if
    no process that joined it is alive); the directory, or None when prometheus_client was
    imported already, too late to switch (a command run inside another Python program):
    this process's metrics then stay its own, which is logged. `ConfigurationError` if the
    directory cannot be made or written."""
    global _joined
    if _joined is not None:
        return _joined
    if "prometheus_client" in sys.modules:
        log.warning(
            "Metrics of this process are not shared through %s: prometheus_client was "
            "imported before the directory could be set",
            directory,
        )
        return None
    directory = directory.resolve()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        os.environ[ENVIRONMENT_VARIABLE] = str(directory)
        with _locked(directory):
            if not any(_alive(pid) for pid in _marked(directory)):
                _wipe(directory)
            _forget(directory, [os.getpid()])  # files of a dead process that had this pid
            (directory / f"{_MARKER}{os.getpid()}").touch()
    except OSError as exc:
        os.environ.pop(ENVIRONMENT_VARIABLE, None)
        raise ConfigurationError(
            f"SHAREPACK_METRICS_DIR {directory} cannot be used: {exc.strerror or exc}"
        ) from None
    _joined = directory
    atexit.register(leave_metrics_dir)
    return directory


def joined_metrics_dir() -> Path | None:
    """The directory this process writes its metrics into; None when they are its own."""
    return _joined


def leave_metrics_dir() -> None:
    """Remove this process's live gauges and marker (at exit; its counters stay)."""
    if _joined is not None:
        _forget(_joined, [os.getpid()])


def forget_dead_processes(directory: Path) -> None:
    """Remove the live gauges and markers of joined processes that are no longer alive
    (killed, say): what they were doing is not going on any more."""
    with _locked(directory):
        _forget(directory, [pid for pid in _marked(directory) if not _alive(pid)])


def _forget(directory: Path, pids: list[int]) -> None:
    from prometheus_client.multiprocess import mark_process_dead

    for pid in pids:
        mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
        (directory / f"{_MARKER}{pid}").unlink(missing_ok=True)


def _marked(directory: Path) -> list[int]:
    pids = []
    for marker in directory.glob(f"{_MARKER}*"):
        suffix = marker.name.removeprefix(_MARKER)
        if suffix.isdigit():
            pids.append(int(suffix))
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _wipe(directory: Path) -> None:
    for path in [*directory.glob("*.db"), *directory.glob(f"{_MARKER}*")]:
        path.unlink(missing_ok=True)


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One process at a time decides about the directory's files."""
    with (directory / _LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
