"""What `sharepack plan` and `sharepack apply` print: a plan as Terraform shows one, the
progress of an apply, and its outcome as text or one `--json` object.

Imported by those commands when they run, with Rich, the engine and the run's statuses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sharepack.engine import ActionStatus, Plan
from sharepack.engine.actions import PlanAction
from sharepack.engine.changes import SYMBOLS, Change
from sharepack.engine.plan_text import plan_lines
from sharepack.packfile.errors import Problem
from sharepack.running.status import PackStatus, RollbackOutcome

err = Console(stderr=True)


def print_file_warnings(warnings: Sequence[Problem]) -> None:
    for warning in warnings:
        err.print("[yellow]warning:[/]", escape(str(warning)))


def print_plan(the_plan: Plan) -> None:
    """The plan as Terraform prints one: a legend of the symbols used, each resource with
    its symbol and changed fields, and the counts. Coloured on a terminal only (`typer.echo`
    leaves colour out of anything else)."""
    for warning in the_plan.located_warnings:
        where = f"{warning.field}: " if warning.field else ""
        err.print("[yellow]warning:[/]", escape(f"{where}{warning.message}"))
    for line in plan_lines(the_plan, _symbol):
        typer.echo(line)


#: Terraform's colours: green to add, yellow to change, red to destroy.
_COLOURS = {Change.CREATE: "green", Change.UPDATE: "yellow", Change.DELETE: "red"}


def _symbol(change: Change) -> str:
    """The change's symbol, right-aligned in three columns, in its colour."""
    if change is Change.REPLACE:
        return typer.style("-", fg="red") + "/" + typer.style("+", fg="green")
    return "  " + typer.style(SYMBOLS[change], fg=_COLOURS.get(change, "cyan"))


def echo_outcome(
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


def report(record: Any, actions: int, api_calls: int, as_json: bool) -> None:
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
            "approval_state": record.approval_state,
            "provisioning_status": record.provisioning_status,
        }
        typer.echo(json.dumps(body, indent=2))
        return
    colours = {PackStatus.COMPLETED.value: "green", PackStatus.IN_PROGRESS.value: "yellow"}
    colour = colours.get(record.share_pack_status, "red")
    err.print(f"[{colour}]{record.share_pack_status}[/] {record.provisioning_status}")
    if record.error_message:
        err.print(f"error: {record.error_message}")
    err.print(f"share pack {record.share_pack_id}: {actions} action(s), {api_calls} API call(s)")


class ProgressDisplay:
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

    def __enter__(self) -> ProgressDisplay:
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
