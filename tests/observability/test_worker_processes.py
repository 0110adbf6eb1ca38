"""`sharepack worker` processes sharing one database and one metrics directory: a scrape
sums them all, keeps the counts of those that ended, forgets what killed ones were doing,
and a directory whose processes are all gone starts again from zero."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from databricks_emulator.server import EmulatorServer
from sharepack.api.metrics import SharedStateCollector
from sharepack.observability.exposition import Exposition
from sharepack.queue.table import TableQueue
from sharepack.runtime import Runtime
from sharepack.settings import Settings
from sharepack.usecases.submit import submit_share_pack
from tests.api_server import TEST_OPERATOR
from tests.conftest import EMULATOR_TOKEN, REPO_ROOT
from tests.observability.scrape import Samples, samples, value

pytestmark = pytest.mark.slow
EXAMPLE = REPO_ROOT / "examples" / "sharepack.yaml"
COMPLETED = {"outcome": "completed", "rollback": "not_needed"}
QUEUE = "sharepack-processing"


class Workers:
    """`sharepack worker` processes on the test's database and metrics directory; each
    one's output is kept in a log file, shown when it exits too early."""

    def __init__(self, settings: Settings, emulator: EmulatorServer, tmp_path: Path) -> None:
        self.metrics_dir = tmp_path / "metrics"
        self._tmp = tmp_path
        self.environment = {
            **{k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields},
            "DOMAIN_DB_CONNECTION_STRING": settings.database_url,
            "DATABRICKS_TOKEN": EMULATOR_TOKEN,
            "SHAREPACK_WORKSPACE_URLS": emulator.url,
            "SHAREPACK_WORKER_POLL_SECONDS": "0.05",
            "SHAREPACK_DATA_DIR": str(tmp_path / "data"),
            "SHAREPACK_METRICS_DIR": str(self.metrics_dir),
        }
        self.environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, queue_name: str = QUEUE) -> subprocess.Popen[bytes]:
        """A worker of the queue `queue_name` that has joined the metrics directory (its
        marker is there)."""
        log = (self._tmp / f"worker-{len(self.started)}.log").open("wb")
        with log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "sharepack.cli.main", "worker"],
                env={**self.environment, "AZURE_QUEUE_NAME": queue_name},
                cwd=self._tmp,
                stdout=log,
                stderr=log,
            )
        self.started.append(worker)
        self.wait_for(lambda: self.marker(worker).exists(), "the worker to join", worker)
        return worker

    def marker(self, worker: subprocess.Popen[bytes]) -> Path:
        return self.metrics_dir / f"process-{worker.pid}"

    def wait_for(
        self, condition: Callable[[], bool], what: str, worker: subprocess.Popen[bytes]
    ) -> None:
        deadline = time.monotonic() + 60
        while not condition():
            if worker.poll() is not None:
                pytest.fail(f"worker {worker.pid} exited before {what}:\n{self.log(worker)}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}:\n{self.log(worker)}")
            time.sleep(0.05)

    def log(self, worker: subprocess.Popen[bytes]) -> str:
        index = self.started.index(worker)
        return (self._tmp / f"worker-{index}.log").read_text(errors="replace")[-4000:]

    def stop_all(self) -> None:
        for worker in self.started:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=30)


@pytest.fixture
def workers(settings: Settings, emulator: EmulatorServer, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(settings, emulator, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def _submit(runtime: Runtime, emulator: EmulatorServer, queue_name: str = QUEUE) -> uuid.UUID:
    queue = TableQueue(runtime.database, queue_name)
    submitted = submit_share_pack(
        dataclasses.replace(runtime, queue=queue),
        content=EXAMPLE.read_bytes(),
        filename="sharepack.yaml",
        workspace_url=emulator.url,
        caller=TEST_OPERATOR,
    )
    return submitted.share_pack_id


def _completed_by(
    workers: Workers,
    worker: subprocess.Popen[bytes],
    runtime: Runtime,
    pack_id: uuid.UUID,
    queue_name: str = QUEUE,
) -> None:
    queue = TableQueue(runtime.database, queue_name)

    def ended() -> bool:
        with runtime.database.unit_of_work() as uow:
            status = uow.share_packs.get_current(pack_id).share_pack_status
        assert status in ("IN_PROGRESS", "COMPLETED"), status
        # The message is completed last, after the run's metrics are recorded.
        return status == "COMPLETED" and queue.depth() == 0

    workers.wait_for(ended, f"share pack {pack_id} to complete", worker)


def _scrape(workers: Workers, runtime: Runtime) -> Samples:
    """What the API process of this host would answer: the directory summed, and the
    shared state read from the database and the queue."""
    exposition = Exposition(SharedStateCollector(runtime), directory=workers.metrics_dir)
    return samples(exposition.render().decode())


def _own_count(workers: Workers, worker: subprocess.Popen[bytes], name: str) -> float:
    """The sum of `name` in the counter file of `worker` alone."""
    counters = workers.metrics_dir / f"counter_{worker.pid}.db"
    merged = MultiProcessCollector.merge([str(counters)])  # type: ignore[no-untyped-call]
    return float(sum(s.value for metric in merged for s in metric.samples if s.name == name))


def test_a_scrape_sums_two_worker_processes_and_keeps_their_counts_after_they_stop(
    workers: Workers, runtime: Runtime, emulator: EmulatorServer
) -> None:
    # One queue each, so that which worker runs which pack is known; both stay running.
    first, second = workers.start("queue-a"), workers.start("queue-b")
    _completed_by(workers, first, runtime, _submit(runtime, emulator, "queue-a"), "queue-a")
    _completed_by(workers, second, runtime, _submit(runtime, emulator, "queue-b"), "queue-b")

    scraped = _scrape(workers, runtime)

    for worker in (first, second):
        assert _own_count(workers, worker, "sharepack_runs_total") == 1
        assert _own_count(workers, worker, "sharepack_workspace_requests_total") > 0
    assert value(scraped, "sharepack_runs_total", **COMPLETED) == 2
    assert value(scraped, "sharepack_run_duration_seconds_count", outcome="completed") == 2
    assert value(scraped, "sharepack_phase_duration_seconds_count", phase="plan") == 2
    assert value(scraped, "sharepack_runs_in_progress") == 0
    assert value(scraped, "sharepack_share_packs", status="completed", rollback="not_needed") == 2
    assert value(scraped, "sharepack_queue_messages") == 0

    for worker in (first, second):
        worker.send_signal(signal.SIGTERM)  # stops after the run in hand: none
        assert worker.wait(timeout=30) == 0, workers.log(worker)
        assert not workers.marker(worker).exists()
        assert not (workers.metrics_dir / f"gauge_livesum_{worker.pid}.db").exists()
    assert value(_scrape(workers, runtime), "sharepack_runs_total", **COMPLETED) == 2


def test_a_killed_worker_is_forgotten_and_a_directory_left_by_all_starts_from_zero(
    workers: Workers, runtime: Runtime, emulator: EmulatorServer
) -> None:
    killed = workers.start()
    _completed_by(workers, killed, runtime, _submit(runtime, emulator))
    killed.kill()
    killed.wait(timeout=30)
    live_gauges = workers.metrics_dir / f"gauge_livesum_{killed.pid}.db"
    assert workers.marker(killed).exists()
    assert live_gauges.exists()

    scraped = _scrape(workers, runtime)

    assert not workers.marker(killed).exists()
    assert not live_gauges.exists()
    assert value(scraped, "sharepack_runs_total", **COMPLETED) == 1  # its count stays

    workers.start()  # no process of the directory is alive: it starts from zero
    assert not (workers.metrics_dir / f"counter_{killed.pid}.db").exists()
    assert value(_scrape(workers, runtime), "sharepack_runs_total", **COMPLETED) == 0


def test_a_metrics_dir_that_cannot_be_made_stops_the_worker_naming_the_setting(
    settings: Settings, emulator: EmulatorServer, tmp_path: Path
) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a directory")
    env = {**Workers(settings, emulator, tmp_path).environment, "SHAREPACK_METRICS_DIR": str(taken)}

    finished = subprocess.run(
        [sys.executable, "-m", "sharepack.cli.main", "worker"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 2, finished.stderr
    assert f"SHAREPACK_METRICS_DIR {taken} cannot be used" in finished.stderr
