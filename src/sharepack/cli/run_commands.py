"""`sharepack plan` and `sharepack apply`: a pack against a workspace, now, from a terminal.

Exit codes (`sharepack.cli.exit_codes`): 0 planned / COMPLETED, 1 cannot apply / FAILED
(or the workspace cannot be reached), 2 invalid file, usage, or workspace credentials
missing or refused; `apply` interrupted by Ctrl-C: 130, its run handed over to the
service's workers. `plan` only reads the database; `apply` migrates it first.

What they print is `sharepack.cli.run_output`'s, imported (with the engine and Rich) when
one of them runs.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from sharepack.cli.exit_codes import ExitCode, UsageError, exit_code_for
from sharepack.errors import RunHandedOverError, SharePackError

if TYPE_CHECKING:
    from sharepack.packfile.loader import LoadedSharePack
    from sharepack.settings import Settings

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
    from sharepack.packfile.errors import SpecError
    from sharepack.usecases.plan_apply import read_file

    try:
        return read_file(runtime, path.read_bytes(), path.name)
    except SpecError as invalid:
        raise invalid.in_file(str(path)) from None


def _error_text(error: SharePackError | UsageError) -> str:
    return error.message if isinstance(error, SharePackError) else str(error)


def plan(file: Path = FILE, workspace: str = WORKSPACE, as_json: bool = JSON) -> None:
    """Print what applying FILE to the workspace would change; change nothing."""
    from sharepack.cli.run_output import print_file_warnings, print_plan
    from sharepack.cli.workspace_option import checked_workspace_url
    from sharepack.settings import load_settings
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
    print_file_warnings(loaded.warnings)
    print_plan(the_plan)


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
    from sharepack.cli.run_output import ProgressDisplay, echo_outcome, print_file_warnings, report
    from sharepack.cli.workspace_option import checked_workspace_url
    from sharepack.notify.outbox import deliver_now
    from sharepack.running.provision import Observer
    from sharepack.running.status import PackStatus
    from sharepack.settings import load_settings
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
                print_file_warnings(loaded.warnings)
            with ProgressDisplay(enabled=not as_json) as display:
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
            deliver_now(runtime.database, runtime.settings)
        finally:
            runtime.close()
    except RunHandedOverError as exc:
        if as_json:
            echo_outcome(
                PackStatus.IN_PROGRESS.value, exc.share_pack_id, actions, counter.count, exc.message
            )
        raise
    except (SharePackError, UsageError) as error:
        if as_json and exit_code_for(error) is ExitCode.USAGE:
            status = PackStatus.VALIDATION_FAILED.value
            echo_outcome(status, None, 0, counter.count, _error_text(error))
        raise
    report(record, actions, counter.count, as_json)
    # IN_PROGRESS here: stored to wait for its approvers, or for its not_before.
    if record.share_pack_status not in (PackStatus.COMPLETED.value, PackStatus.IN_PROGRESS.value):
        raise typer.Exit(ExitCode.FAILED)
