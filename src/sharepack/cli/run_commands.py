"""`sharepack plan` and `sharepack apply`: a pack against a workspace, now, from a terminal.

Exit codes (`sharepack.cli.exit_codes`): 0 planned / COMPLETED, 1 cannot apply / FAILED
(or the workspace cannot be reached), 2 invalid file, usage, or workspace credentials
missing or refused; `apply` interrupted by Ctrl-C: 130, its run handed over to the
service's workers. `plan` only reads the database; `apply` migrates it first.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sharepack.cli.exit_codes import ExitCode, UsageError, exit_code_for
from sharepack.cli.workspace_option import checked_workspace_url
from sharepack.engine import ActionStatus, Plan
from sharepack.engine.actions import PlanAction
from sharepack.engine.changes import MEANINGS, SYMBOLS, Change, summary_line
from sharepack.errors import RunHandedOverError, SharePackError
from sharepack.packfile import LoadedSharePack
from sharepack.packfile.errors import Problem, SpecError
from sharepack.running.status import PackStatus, RollbackOutcome
from sharepack.settings import Settings, load_settings

err = Console(stderr=True)
FILE = typer.Argument(
    ..., help="The share pack file, YAML or Excel (.xlsx); the format is told from its content."
)
WORKSPACE = typer.Option(
    ..., "--workspace", help="The workspace URL, e.g. https://adb-1.azuredatabricks.net"
)
JSON = typer.Option(False, "--json", help="Print one JSON object instead of text.")


class _CallCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def __call__(self) -> None:
        with self._lock:
            self.count += 1


def _runtime(settings: Settings, counter: _CallCounter, *, migrate: bool) -> Any:
    from sharepack.runtime import build_runtime, sdk_workspace_factory

    return build_runtime(
        settings, workspace_for=sdk_workspace_factory(settings, on_request=counter), migrate=migrate
    )


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise UsageError(f"No such file: {path}")


def _load(runtime: Any, path: Path) -> LoadedSharePack:
    from sharepack.usecases.plan_apply import read_file

    try:
        return read_file(runtime, path.read_bytes(), path.name)
    except SpecError as invalid:
        raise invalid.in_file(str(path)) from None


def _error_text(error: SharePackError | UsageError) -> str:
    return error.message if isinstance(error, SharePackError) else str(error)


def plan(file: Path = FILE, workspace: str = WORKSPACE, as_json: bool = JSON) -> None:
    """Print what applying FILE to the workspace would change; change nothing."""
    from sharepack.usecases.plan_apply import plan_file

    counter = _CallCounter()
    try:
        checked_workspace_url(workspace)
        _check_file(file)
        runtime = _runtime(load_settings(), counter, migrate=False)
        try:
            loaded = _load(runtime, file)
            the_plan = plan_file(runtime, loaded, workspace)
        finally:
            runtime.close()
    except (SharePackError, UsageError) as error:
        if as_json:
            typer.echo(json.dumps({"error": _error_text(error)}))
        raise
    if as_json:
        body = the_plan.to_dict()
        # The file's warnings first, as a reader meets them: in its texts and located.
        body["warnings"] = [str(w) for w in loaded.warnings] + body["warnings"]
        body["located_warnings"] = [
            {"field": w.field, "message": w.message, "location": w.location}
            for w in loaded.warnings
        ] + body["located_warnings"]
        typer.echo(json.dumps({**body, "api_calls": counter.count}, indent=2))
        return
    _print_file_warnings(loaded.warnings)
    _print_plan(the_plan)


def _print_file_warnings(warnings: Sequence[Problem]) -> None:
    for warning in warnings:
        err.print("[yellow]warning:[/]", escape(str(warning)))


def _print_plan(the_plan: Plan) -> None:
    """The plan as Terraform prints one: a legend of the symbols used, each resource with
    its symbol and changed fields, and the counts. Coloured on a terminal only (`typer.echo`
    leaves colour out of anything else)."""
    for warning in the_plan.located_warnings:
        where = f"{warning.field}: " if warning.field else ""
        err.print("[yellow]warning:[/]", escape(f"{where}{warning.message}"))
    if the_plan.is_empty:
        typer.echo("No changes: the workspace already matches the pack.")
        return
    changes = the_plan.changes()
    used = {c.change for c in changes}
    typer.echo(
        f"Strategy {the_plan.strategy.value}. "
        "Resource actions are indicated with the following symbols:"
    )
    for change in (c for c in Change if c in used):
        typer.echo(f"{_symbol(change)} {MEANINGS[change]}")
    typer.echo("\nsharepack will perform the following actions:\n")
    for resource in changes:
        typer.echo(f"{_symbol(resource.change)} {resource.title}")
        for line in resource.details():
            typer.echo(f"      {line}")
    typer.echo(f"\n{summary_line(the_plan.summary())}")


#: Terraform's colours: green to add, yellow to change, red to destroy.
_COLOURS = {Change.CREATE: "green", Change.UPDATE: "yellow", Change.DELETE: "red"}


def _symbol(change: Change) -> str:
    """The change's symbol, right-aligned in three columns, in its colour."""
    if change is Change.REPLACE:
        return typer.style("-", fg="red") + "/" + typer.style("+", fg="green")
    return "  " + typer.style(SYMBOLS[change], fg=_COLOURS.get(change, "cyan"))


def apply(
    file: Path = FILE,
    workspace: str = WORKSPACE,
    concurrency: int = typer.Option(
        None,
        "--concurrency",
        min=1,
        max=64,
        help="At most this many actions at once, fewer while the workspace's rate limit "
        "binds (default: setting, 16).",
    ),
    no_rollback: bool = typer.Option(
        False, "--no-rollback", help="On failure, leave the changes made so far in place."
    ),
    as_json: bool = JSON,
) -> None:
    """Apply FILE to the workspace now, recording it in the configured database."""
    from sharepack.cli.operator import operator_caller
    from sharepack.running.provision import Observer
    from sharepack.usecases.plan_apply import apply_file

    overrides: dict[str, Any] = {}
    if concurrency is not None:
        overrides["sharepack_apply_concurrency"] = concurrency
    if no_rollback:
        overrides["sharepack_auto_rollback"] = False
    counter = _CallCounter()
    actions = 0
    try:
        checked_workspace_url(workspace)
        _check_file(file)
        settings = load_settings().model_copy(update=overrides)
        runtime = _runtime(settings, counter, migrate=True)
        try:
            loaded = _load(runtime, file)
            # A host that answers, and credentials, are checked before a pack is recorded:
            # none configured is a settings problem (exit 2), not a run that FAILED. (A
            # token the workspace refuses is met by the run's first call, and recorded.)
            caller = operator_caller(runtime.workspace_for(workspace))
            if not as_json:
                _print_file_warnings(loaded.warnings)
            with _ProgressDisplay(enabled=not as_json) as display:
                observer = Observer(planned=display.planned, progress=display.progress)
                try:
                    record = apply_file(
                        runtime,
                        loaded,
                        filename=file.name,
                        workspace_url=workspace,
                        caller=caller,
                        observer=observer,
                    )
                finally:
                    actions = display.actions
        finally:
            runtime.close()
    except RunHandedOverError as exc:
        if as_json:
            _echo_outcome(
                PackStatus.IN_PROGRESS.value, exc.share_pack_id, actions, counter.count, exc.message
            )
        raise
    except (SharePackError, UsageError) as error:
        if as_json and exit_code_for(error) is ExitCode.USAGE:
            status = PackStatus.VALIDATION_FAILED.value
            _echo_outcome(status, None, 0, counter.count, _error_text(error))
        raise
    _report(record, actions, counter.count, as_json)
    if record.share_pack_status != PackStatus.COMPLETED.value:
        raise typer.Exit(ExitCode.FAILED)


def _echo_outcome(
    status: str, share_pack_id: object, actions: int, api_calls: int, error: str
) -> None:
    """The `--json` object of a run that did not end in a recorded outcome."""
    body = {
        "status": status,
        "share_pack_id": str(share_pack_id) if share_pack_id is not None else None,
        "actions": actions,
        "api_calls": api_calls,
        "rolled_back": False,
        "rollback_status": None,
        "error": error,
    }
    typer.echo(json.dumps(body, indent=2))


def _report(record: Any, actions: int, api_calls: int, as_json: bool) -> None:
    rolled_back = record.rollback_status == RollbackOutcome.ROLLED_BACK.value
    if as_json:
        body = {
            "status": record.share_pack_status,
            "share_pack_id": str(record.share_pack_id),
            "actions": actions,
            "api_calls": api_calls,
            "rolled_back": rolled_back,
            "rollback_status": record.rollback_status,
            "error": record.error_message or None,
        }
        typer.echo(json.dumps(body, indent=2))
        return
    colour = "green" if record.share_pack_status == PackStatus.COMPLETED.value else "red"
    err.print(f"[{colour}]{record.share_pack_status}[/] {record.provisioning_status}")
    if record.error_message:
        err.print(f"error: {record.error_message}")
    err.print(f"share pack {record.share_pack_id}: {actions} action(s), {api_calls} API call(s)")


class _ProgressDisplay:
    """A Rich progress bar over the plan's actions (nothing when printing JSON)."""

    def __init__(self, *, enabled: bool) -> None:
        self.actions = 0
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            disable=not enabled,
        )
        self._task = self._progress.add_task("Applying", total=None)
        self._running: dict[str, str] = {}  # action id -> description, in start order

    def __enter__(self) -> _ProgressDisplay:
        self._progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._progress.stop()

    def planned(self, the_plan: Plan) -> None:
        self.actions = len(the_plan.actions)
        for warning in the_plan.warnings:
            self._progress.console.print(f"[yellow]warning:[/] {warning}")
        self._progress.update(self._task, total=self.actions)

    def progress(self, action: PlanAction, status: ActionStatus) -> None:
        """Counts ended actions; names one still running (a pipeline's update may take
        minutes), else the last one that ended."""
        if status is ActionStatus.PENDING:
            self._running[action.action_id] = action.describe()
        else:
            self._running.pop(action.action_id, None)
            self._progress.update(self._task, advance=1)
        label = next(iter(self._running.values()), action.describe())
        self._progress.update(self._task, description=label[:60])
