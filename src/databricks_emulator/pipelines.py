"""DLT pipelines and their updates, moving through their states as time passes.

A triggered update goes QUEUED -> INITIALIZING -> RUNNING -> COMPLETED, one state every
`step_ms`; a continuous pipeline's update stays RUNNING until stopped. An update that
reaches its end materialises the pipeline's target table, named by the configuration key
`sharepack.target_asset` (a bare table name is placed in the pipeline's catalog and schema);
deleting the pipeline drops the tables it made, as Unity Catalog does. An update ends
FAILED instead when its notebook is missing from the workspace, when its source table
(`sharepack.source_asset`) or target schema does not exist, when the target is a table
the pipeline does not manage, or when a failure rule set through the control API matches.
Each state an update reaches is an `update_progress` event in the pipeline's event log,
stamped with the moment its age gave it that state.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from databricks_emulator.catalog import Catalog, now_ms
from databricks_emulator.errors import already_exists, conflict, invalid, not_found
from databricks_emulator.workspace_files import WorkspaceFiles

TARGET_KEY = "sharepack.target_asset"
SOURCE_KEY = "sharepack.source_asset"
TRIGGERED_STEPS = ("QUEUED", "INITIALIZING", "RUNNING", "COMPLETED")
FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CANCELED"})
_NOT_SPEC = ("allow_duplicate_names", "dry_run", "expected_last_modified", "pipeline_id")


def iso_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


@dataclass
class FailureRule:
    """The next `times` updates of pipelines whose name matches end FAILED with `message`."""

    name_regex: re.Pattern[str]
    times: int
    message: str


@dataclass
class Update:
    update_id: str
    pipeline_id: str
    created: int
    cause: str
    continuous: bool
    config: dict[str, Any]
    full_refresh: bool = False
    state: str = "QUEUED"
    error: str | None = None
    materialised: bool = False

    def view(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "update_id": self.update_id,
            "pipeline_id": self.pipeline_id,
            "state": self.state,
            "creation_time": self.created,
            "cause": self.cause,
            "full_refresh": self.full_refresh,
            "config": copy.deepcopy(self.config),
        }
        return answer


@dataclass
class Pipeline:
    pipeline_id: str
    spec: dict[str, Any]
    created: int
    last_modified: int
    updates: list[Update] = field(default_factory=list)
    produced: set[str] = field(default_factory=set)
    #: Its event log, oldest first: an `update_progress` event each time an update changes
    #: state (`events`).
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    def log_progress(self, update: Update, at_ms: int, error: str | None = None) -> None:
        """An `update_progress` event: the update reached its present state at `at_ms`,
        with the fields the event log's schema names
        (https://docs.databricks.com/aws/en/dlt/monitor-event-log-schema)."""
        event: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "sequence": {"control_plane_seq_no": len(self.events) + 1},
            "origin": {
                "pipeline_id": self.pipeline_id,
                "pipeline_name": self.name,
                "update_id": update.update_id,
            },
            "timestamp": iso_time(at_ms),
            "message": f"Update {update.update_id[:6]} is {update.state}.",
            "level": "ERROR" if update.state == "FAILED" else "INFO",
            "maturity_level": "STABLE",
            "event_type": "update_progress",
            "details": {"update_progress": {"state": update.state}},
        }
        if error is not None:
            event["error"] = {"exceptions": [{"message": error}], "fatal": True}
        self.events.append(event)

    def active_update(self) -> Update | None:
        return next((u for u in self.updates if u.state not in FINAL_STATES), None)


class Pipelines:
    def __init__(self, catalog: Catalog, files: WorkspaceFiles, user: str, step_ms: int) -> None:
        self.catalog = catalog
        self.files = files
        self.user = user
        self.step_ms = step_ms
        self.pipelines: dict[str, Pipeline] = {}
        self.failure_rules: list[FailureRule] = []

    # settings

    def _spec(
        self, body: dict[str, Any], pipeline_id: str, former_name: str | None = None
    ) -> dict[str, Any]:
        """The settings a create (or, with `former_name`, an edit) stores. A name another
        pipeline has is refused unless the request allows it; an edit is checked only when
        it changes the name (the SDK's `allow_duplicate_names` docs)."""
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise invalid("Pipeline name must be provided.")
        if body.get("schema") and body.get("target"):
            raise invalid("Only one of 'schema' and 'target' may be set.")
        duplicate = name != former_name and any(
            p.name == name and pid != pipeline_id for pid, p in self.pipelines.items()
        )
        if duplicate and not body.get("allow_duplicate_names"):
            # A workspace's words (databricks/cli pull request 5261, run against one); no
            # public source gives its error code, so sharepack must not depend on it.
            raise already_exists(
                f"The pipeline name '{name}' is already used by another pipeline. This check "
                "can be skipped by setting `allow_duplicate_names = true` in the request."
            )
        spec = {k: copy.deepcopy(v) for k, v in body.items() if k not in _NOT_SPEC}
        spec["id"] = pipeline_id
        return spec

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        pipeline_id = str(uuid.uuid4())
        spec = self._spec(body, pipeline_id)
        if body.get("dry_run"):
            spec.pop("id")
            return {"effective_settings": spec}
        created = now_ms()
        self.pipelines[pipeline_id] = Pipeline(pipeline_id, spec, created, created)
        return {"pipeline_id": pipeline_id, "effective_settings": copy.deepcopy(spec)}

    def pipeline(self, pipeline_id: str) -> Pipeline:
        if pipeline_id not in self.pipelines:
            raise not_found(f"The specified pipeline {pipeline_id} was not found.")
        return self.pipelines[pipeline_id]

    def edit(self, pipeline_id: str, body: dict[str, Any]) -> None:
        pipeline = self.pipeline(pipeline_id)
        expected = body.get("expected_last_modified")
        if expected is not None and int(expected) != pipeline.last_modified:
            raise conflict(
                f"The pipeline {pipeline_id} was modified at {pipeline.last_modified}, after "
                f"the expected {expected}."
            )
        pipeline.spec = self._spec(body, pipeline_id, former_name=pipeline.name)
        pipeline.last_modified = now_ms()

    def delete(self, pipeline_id: str, cascade: bool) -> None:
        pipeline = self.pipeline(pipeline_id)
        if cascade:
            for table in pipeline.produced:
                if self.catalog.has_table(table):
                    self.catalog.drop_table(table)
        del self.pipelines[pipeline_id]

    # views

    def view(self, pipeline_id: str) -> dict[str, Any]:
        pipeline = self.pipeline(pipeline_id)
        latest = list(reversed(pipeline.updates))
        answer: dict[str, Any] = {
            "pipeline_id": pipeline_id,
            "name": pipeline.name,
            "spec": copy.deepcopy(pipeline.spec),
            "state": self._pipeline_state(pipeline),
            "health": "UNHEALTHY" if latest and latest[0].state == "FAILED" else "HEALTHY",
            "creator_user_name": self.user,
            "run_as_user_name": self.user,
            "last_modified": pipeline.last_modified,
            "latest_updates": [
                {"update_id": u.update_id, "state": u.state, "creation_time": iso_time(u.created)}
                for u in latest[:5]
            ],
        }
        if latest:
            answer["cause"] = latest[0].error or latest[0].cause
        return answer

    @staticmethod
    def _pipeline_state(pipeline: Pipeline) -> str:
        if pipeline.active_update() is not None:
            return "RUNNING"
        if pipeline.updates and pipeline.updates[-1].state == "FAILED":
            return "FAILED"
        return "IDLE"

    def statuses(self, expression: str | None) -> list[dict[str, Any]]:
        wanted = _filter(expression)
        views = [self.view(pid) for pid, p in self.pipelines.items() if wanted(p.spec)]
        return [{k: v for k, v in view.items() if k != "spec"} for view in views]

    # updates

    def start_update(self, pipeline_id: str, body: dict[str, Any], cause: str = "API_CALL") -> str:
        pipeline = self.pipeline(pipeline_id)
        active = pipeline.active_update()
        if active is not None:
            raise conflict(
                f"Pipeline {pipeline_id} has an active update {active.update_id}; stop it or "
                "wait for it to end."
            )
        update = Update(
            update_id=str(uuid.uuid4()),
            pipeline_id=pipeline_id,
            created=now_ms(),
            cause=str(body.get("cause") or cause),
            continuous=bool(pipeline.spec.get("continuous")),
            config=copy.deepcopy(pipeline.spec),
            full_refresh=bool(body.get("full_refresh")),
        )
        pipeline.updates.append(update)
        pipeline.log_progress(update, update.created)
        return update.update_id

    def update(self, pipeline_id: str, update_id: str) -> Update:
        for update in self.pipeline(pipeline_id).updates:
            if update.update_id == update_id:
                return update
        raise not_found(f"Update {update_id} of pipeline {pipeline_id} was not found.")

    def updates_newest_first(self, pipeline_id: str, until: str | None) -> list[Update]:
        newest_first = list(reversed(self.pipeline(pipeline_id).updates))
        if until:
            ids = [u.update_id for u in newest_first]
            if until not in ids:
                raise not_found(f"Update {until} of pipeline {pipeline_id} was not found.")
            newest_first = newest_first[ids.index(until) :]
        return newest_first

    def stop(self, pipeline_id: str) -> None:
        pipeline = self.pipeline(pipeline_id)
        active = pipeline.active_update()
        if active is not None:
            active.state = "CANCELED"
            pipeline.log_progress(active, now_ms())

    def advance(self) -> bool:
        """Move every active update to the state its age gives it; settle the ones that end.
        Whether any update changed."""
        now = now_ms()
        changed = False
        for pipeline in self.pipelines.values():
            update = pipeline.active_update()
            if update is None:
                continue
            before = (update.state, update.materialised)
            step = int((now - update.created) // max(self.step_ms, 1))
            last = 2 if update.continuous else 3
            reached = TRIGGERED_STEPS.index(update.state)
            update.state = TRIGGERED_STEPS[min(step, last)]
            if step >= 2 and update.continuous and not update.materialised:
                self._finish(pipeline, update, "RUNNING")
            elif step >= 3 and not update.continuous:
                self._finish(pipeline, update, "COMPLETED")
            self._log_steps(pipeline, update, reached, min(step, last))
            changed = changed or (update.state, update.materialised) != before
        return changed

    def _log_steps(self, pipeline: Pipeline, update: Update, reached: int, step: int) -> None:
        """The events of the states an update passed since `reached`, each at the moment
        its age gave it that state (however late a request made it move)."""
        final = update.state
        for passed in range(reached + 1, step + 1):
            update.state = final if passed == step else TRIGGERED_STEPS[passed]
            error = update.error if update.state == "FAILED" else None
            pipeline.log_progress(update, update.created + passed * self.step_ms, error)
        update.state = final

    def _finish(self, pipeline: Pipeline, update: Update, success: str) -> None:
        error = self._failure(pipeline)
        if error is not None:
            update.state = "FAILED"
            update.error = error
            return
        target = self._target(pipeline.spec)
        if target and not self.catalog.has_table(target):
            self.catalog.add_table(target, "STREAMING_TABLE")
            pipeline.produced.add(target.lower())
        elif target:  # re-materialised: readers see a new table version
            self.catalog.require_table(target).version += 1
        update.materialised = True
        update.state = success

    def _failure(self, pipeline: Pipeline) -> str | None:
        for rule in self.failure_rules:
            if rule.times > 0 and rule.name_regex.search(pipeline.name):
                rule.times -= 1
                return rule.message
        spec = pipeline.spec
        for library in spec.get("libraries") or []:
            notebook = (library.get("notebook") or {}).get("path")
            if notebook and not self.files.is_notebook(notebook):
                return f"Notebook '{notebook}' does not exist in the workspace."
            file = (library.get("file") or {}).get("path")
            if file and not self.files.exists(file):
                return f"File '{file}' does not exist in the workspace."
        source = (spec.get("configuration") or {}).get(SOURCE_KEY)
        if source and not self.catalog.has_table(source):
            return f"Table '{source}' does not exist."
        target = self._target(spec)
        schema = target.rsplit(".", 1)[0] if target else _spec_schema(spec)
        if schema and schema.lower() not in self.catalog.schemas:
            return f"Schema '{schema}' does not exist."
        others = [p for p in self.pipelines.values() if p is not pipeline]
        if target and self.catalog.has_table(target) and target.lower() not in pipeline.produced:
            owner = next((p for p in others if target.lower() in p.produced), None)
            if owner is not None:
                return f"Table '{target}' is already managed by pipeline {owner.pipeline_id}."
            return f"Table '{target}' already exists and is not managed by this pipeline."
        return None

    @staticmethod
    def _target(spec: dict[str, Any]) -> str | None:
        target = (spec.get("configuration") or {}).get(TARGET_KEY)
        if not target:
            return None
        if str(target).count(".") == 2:
            return str(target)
        schema = _spec_schema(spec)
        return f"{schema}.{target}" if schema else None

    def snapshot(self) -> list[dict[str, Any]]:
        return [
            {
                "pipeline_id": p.pipeline_id,
                "spec": copy.deepcopy(p.spec),
                "state": self._pipeline_state(p),
                "updates": [{"update_id": u.update_id, "state": u.state} for u in p.updates],
                "produced": sorted(p.produced),
            }
            for p in sorted(self.pipelines.values(), key=lambda p: (p.name, p.pipeline_id))
        ]


def _spec_schema(spec: dict[str, Any]) -> str | None:
    catalog = spec.get("catalog")
    schema = spec.get("schema") or spec.get("target")
    return f"{catalog}.{schema}" if catalog and schema else None


def _filter(expression: str | None) -> Callable[[dict[str, Any]], bool]:
    """`name LIKE 'x%'` or `notebook='/path'`, as the pipelines list accepts them."""
    if not expression:
        return lambda spec: True
    like = re.fullmatch(r"\s*name\s+LIKE\s+'(.*)'\s*", expression, flags=re.IGNORECASE)
    if like is not None:
        pattern = re.escape(like.group(1)).replace("%", ".*").replace("_", ".")
        compiled = re.compile(f"^{pattern}$", flags=re.IGNORECASE)
        return lambda spec: bool(compiled.match(str(spec.get("name", ""))))
    notebook = re.fullmatch(r"\s*notebook\s*=\s*'(.*)'\s*", expression, flags=re.IGNORECASE)
    if notebook is not None:
        path = notebook.group(1)
        return lambda spec: any(
            (lib.get("notebook") or {}).get("path") == path for lib in spec.get("libraries") or []
        )
    raise invalid(f"Unsupported filter '{expression}': use name LIKE '...' or notebook='...'.")
