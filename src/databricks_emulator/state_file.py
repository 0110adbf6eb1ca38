"""An emulator's workspace kept in a JSON file, so a restarted emulator serves the same one.

Opt-in (`EmulatorServer(state_file=...)`, `python -m databricks_emulator --state FILE`):
the file holds the port, the workspace id and every resource (catalog, recipients with
their tokens, shares, grants, workspace files, pipelines and their updates, jobs and their
runs). It is written after every call that changes the workspace, to a temporary file
renamed over the old one, so a killed process leaves the last confirmed state, never half
a file. The test controls (faults, latency, the call log, pipeline failure rules and
timing) are not kept: they belong to a test, not to the workspace.

    {"version": 1, "port": 8100, "workspace_id": "...", "resources": {...}}
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from databricks_emulator.catalog import Catalog, TableEntry
from databricks_emulator.emulator import CURRENT_USER, METASTORE_ID, checked_workspace_id
from databricks_emulator.jobs import JobRun, Jobs
from databricks_emulator.pipelines import Pipeline, Pipelines, Update
from databricks_emulator.sharing import SharingState
from databricks_emulator.workspace_files import WorkspaceFiles, WorkspaceObject

if TYPE_CHECKING:
    from databricks_emulator.emulator import Emulator

VERSION = 1


class StateFileError(Exception):
    """The state file cannot be read back; the message names it and what to do."""


@dataclass(frozen=True)
class Resources:
    """Every resource of one workspace, loaded from a state file, for one emulator."""

    catalog: Catalog
    sharing: SharingState
    files: WorkspaceFiles
    pipelines: Pipelines
    jobs: Jobs


@dataclass(frozen=True)
class SavedWorkspace:
    """What a state file holds: where the workspace was served, its id, its resources."""

    port: int
    workspace_id: str
    resources: Resources


class StateFile:
    """One state file: read once at start, then written after every change."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def unreadable(self, why: str) -> StateFileError:
        return StateFileError(
            f"Cannot read the Databricks emulator's state file {self.path}: {why}; "
            "move it away to start a new emulator workspace"
        )

    def read(self) -> SavedWorkspace | None:
        """The saved workspace, or None when there is no file yet."""
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise self.unreadable(_reason(exc)) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise self.unreadable(f"not JSON ({exc})") from None
        try:
            return _saved_workspace(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise self.unreadable(_reason(exc)) from None

    def keep(self, emulator: Emulator, port: int) -> None:
        """Save `emulator` now, and after each change from now on."""

        def save() -> None:
            self.write(port, emulator.workspace_id, dump(emulator))

        emulator.keep_with(save)

    def write(self, port: int, workspace_id: str, resources: dict[str, Any]) -> None:
        """Atomically: a temporary file beside it, flushed to disk, renamed over it."""
        body = {
            "version": VERSION,
            "port": port,
            "workspace_id": workspace_id,
            "resources": resources,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f"{self.path.name}.tmp")
        with temporary.open("w", encoding="utf-8") as out:
            json.dump(body, out, separators=(",", ":"), sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    return str(exc) or type(exc).__name__


def _saved_workspace(data: Any) -> SavedWorkspace:
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("version") != VERSION:
        raise ValueError(f"version {data.get('version')!r}, this emulator reads version {VERSION}")
    port = data["port"]
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port {port!r} is not a TCP port")
    workspace_id = checked_workspace_id(_text(data["workspace_id"]))
    return SavedWorkspace(port, workspace_id, load(_dict(data["resources"])))


# the resources, to JSON and back


def dump(emulator: Emulator) -> dict[str, Any]:
    """Every resource of `emulator`, as JSON values; the caller holds its lock."""
    sharing = emulator.sharing
    return {
        "catalog": _dump_catalog(emulator.catalog),
        "recipients": sharing.recipients,
        "shares": sharing.shares,
        "grants": {
            share: {principal: sorted(held) for principal, held in principals.items()}
            for share, principals in sharing.grants.items()
        },
        "workspace_files": _dump_files(emulator.files),
        "pipelines": [_dump_pipeline(p) for p in emulator.pipelines.pipelines.values()],
        "jobs": _dump_jobs(emulator.jobs),
    }


def load(resources: dict[str, Any]) -> Resources:
    """The resources `dump` made, as an emulator holds them: `KeyError`, `TypeError` or
    `ValueError` when they do not read back."""
    catalog = _load_catalog(_dict(resources["catalog"]))
    sharing = SharingState(catalog, CURRENT_USER, METASTORE_ID)
    sharing.recipients = _dict_of(resources["recipients"], _dict)
    sharing.shares = _dict_of(resources["shares"], _dict)
    for share in sharing.shares.values():
        _list(share["objects"])
    sharing.grants = _dict_of(
        resources["grants"], lambda grants: _dict_of(grants, lambda held: set(_list(held)))
    )
    files = _load_files(_dict(resources["workspace_files"]))
    pipelines = Pipelines(catalog, files, CURRENT_USER, step_ms=1)
    for entry in _list(resources["pipelines"]):
        pipeline = _load_pipeline(_dict(entry))
        pipelines.pipelines[pipeline.pipeline_id] = pipeline
    jobs = _load_jobs(_dict(resources["jobs"]), pipelines)
    return Resources(catalog, sharing, files, pipelines, jobs)


def restore(emulator: Emulator, resources: Resources) -> None:
    """Give `emulator` the loaded resources in place of its own; its controls (pipeline
    timing and failure rules among them) stay."""
    with emulator.lock:
        resources.pipelines.step_ms = emulator.pipelines.step_ms
        resources.pipelines.failure_rules = emulator.pipelines.failure_rules
        emulator.catalog, emulator.sharing = resources.catalog, resources.sharing
        emulator.files, emulator.pipelines = resources.files, resources.pipelines
        emulator.jobs = resources.jobs


def _dump_catalog(catalog: Catalog) -> dict[str, Any]:
    return {
        "catalogs": catalog.catalogs,
        "schemas": catalog.schemas,
        "tables": [
            [t.full_name, t.table_type, t.created_at, t.created_by, t.version]
            for t in catalog.tables.values()
        ],
    }


def _load_catalog(data: dict[str, Any]) -> Catalog:
    catalog = Catalog(CURRENT_USER, METASTORE_ID)
    catalog.catalogs = _dict_of(data["catalogs"], _int)
    catalog.schemas = _dict_of(data["schemas"], _int)
    for row in _list(data["tables"]):
        # [name, type, created_at, created_by, version]; files from before versions have 4
        full_name, table_type, created_at, created_by, *version = _list(row)
        entry = TableEntry(_text(full_name), _text(table_type), _int(created_at), _text(created_by))
        entry.version = _int(version[0]) if version else entry.version
        if len(entry.parts) != 3:
            raise ValueError(f"'{full_name}' is not a catalog.schema.table name")
        catalog.tables[entry.full_name] = entry
    return catalog


def _dump_files(files: WorkspaceFiles) -> dict[str, Any]:
    return {
        "next_id": files.next_id,
        "objects": [
            {
                "path": o.path,
                "object_type": o.object_type,
                "object_id": o.object_id,
                "created_at": o.created_at,
                "language": o.language,
                "content": base64.b64encode(o.content).decode("ascii"),
            }
            for o in files.objects.values()
        ],
    }


def _load_files(data: dict[str, Any]) -> WorkspaceFiles:
    files = WorkspaceFiles(CURRENT_USER)
    files.objects = {}
    for entry in map(_dict, _list(data["objects"])):
        language = entry.get("language")
        obj = WorkspaceObject(
            path=_text(entry["path"]),
            object_type=_text(entry["object_type"]),
            object_id=_int(entry["object_id"]),
            created_at=_int(entry["created_at"]),
            language=_text(language) if language is not None else None,
            content=base64.b64decode(_text(entry["content"]), validate=True),
        )
        files.objects[obj.path] = obj
    files.next_id = _int(data["next_id"])
    return files


def _dump_pipeline(pipeline: Pipeline) -> dict[str, Any]:
    return {
        "pipeline_id": pipeline.pipeline_id,
        "spec": pipeline.spec,
        "created": pipeline.created,
        "last_modified": pipeline.last_modified,
        "produced": sorted(pipeline.produced),
        "updates": [
            {
                "update_id": u.update_id,
                "created": u.created,
                "cause": u.cause,
                "continuous": u.continuous,
                "config": u.config,
                "full_refresh": u.full_refresh,
                "state": u.state,
                "error": u.error,
                "materialised": u.materialised,
            }
            for u in pipeline.updates
        ],
        "events": pipeline.events,
    }


def _load_pipeline(data: dict[str, Any]) -> Pipeline:
    pipeline_id = _text(data["pipeline_id"])
    updates = [
        Update(
            update_id=_text(u["update_id"]),
            pipeline_id=pipeline_id,
            created=_int(u["created"]),
            cause=_text(u["cause"]),
            continuous=bool(u["continuous"]),
            config=_dict(u["config"]),
            full_refresh=bool(u["full_refresh"]),
            state=_text(u["state"]),
            error=_text(u["error"]) if u["error"] is not None else None,
            materialised=bool(u["materialised"]),
        )
        for u in map(_dict, _list(data["updates"]))
    ]
    return Pipeline(
        pipeline_id=pipeline_id,
        spec=_dict(data["spec"]),
        created=_int(data["created"]),
        last_modified=_int(data["last_modified"]),
        updates=updates,
        produced={_text(t) for t in _list(data["produced"])},
        # A file written before the event log was kept has none.
        events=[_dict(e) for e in _list(data.get("events", []))],
    )


def _dump_jobs(jobs: Jobs) -> dict[str, Any]:
    return {
        "next_job": jobs.next_job,
        "next_run": jobs.next_run,
        "jobs": list(jobs.jobs.values()),
        "runs": [
            {
                "run_id": r.run_id,
                "job_id": r.job_id,
                "number_in_job": r.number_in_job,
                "start_time": r.start_time,
                "run_name": r.run_name,
                "tasks": r.tasks,
                "updates": {task: list(ids) for task, ids in r.updates.items()},
                "failures": r.failures,
            }
            for r in jobs.runs.values()
        ],
    }


def _load_jobs(data: dict[str, Any], pipelines: Pipelines) -> Jobs:
    jobs = Jobs(pipelines, CURRENT_USER)
    for job in map(_dict, _list(data["jobs"])):
        _dict(job["settings"])
        jobs.jobs[_int(job["job_id"])] = job
    for entry in map(_dict, _list(data["runs"])):
        run = JobRun(
            run_id=_int(entry["run_id"]),
            job_id=_int(entry["job_id"]),
            number_in_job=_int(entry["number_in_job"]),
            start_time=_int(entry["start_time"]),
            run_name=_text(entry["run_name"]),
            tasks=[_dict(t) for t in _list(entry["tasks"])],
            updates=_dict_of(entry["updates"], _pipeline_update),
            failures=_dict_of(entry["failures"], _text),
        )
        jobs.runs[run.run_id] = run
    jobs.next_job, jobs.next_run = _int(data["next_job"]), _int(data["next_run"])
    return jobs


def _pipeline_update(value: Any) -> tuple[str, str]:
    pipeline_id, update_id = _list(value)
    return _text(pipeline_id), _text(update_id)


# checked JSON values: a file edited by hand, or cut short, fails here and not in a request


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, found {_kind(value)}")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, found {_kind(value)}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {_kind(value)}")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected a whole number, found {_kind(value)}")
    return value


def _dict_of(value: Any, check: Callable[[Any], Any]) -> dict[str, Any]:
    return {_text(key): check(item) for key, item in _dict(value).items()}


def _kind(value: Any) -> str:
    return _JSON_KINDS.get(type(value), type(value).__name__)


_JSON_KINDS: dict[type, str] = {
    dict: "an object",
    list: "a list",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}
