"""`sharepack sync`: the scheduled sync jobs (`serve` and `worker` run them on their
intervals): run one now, list the recent runs.

`sync run` acts as the operator (`cli:<OS user>`), on the audit trail; `sync jobs` only
reads the configured database (never migrates it).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from sharepack.cli.exit_codes import UsageError

if TYPE_CHECKING:
    from sharepack.store.entities import LogEntry

sync_app = typer.Typer(
    name="sync",
    help="Scheduled sync jobs (inventory, job_metrics): run one now, list recent runs.",
    no_args_is_help=True,
)


@sync_app.command("run")
def run(name: str = typer.Argument(..., help="The job: inventory or job_metrics.")) -> None:
    """Run one sync job now, whatever its schedule; its run is recorded in sync_jobs."""
    from sharepack.cli.operator import operator_caller
    from sharepack.runtime import build_runtime
    from sharepack.settings import load_settings
    from sharepack.usecases.sync_jobs import job_names, run_sync_job_now

    runtime = build_runtime(load_settings(), migrate=True)
    try:
        if name not in job_names(runtime):
            known = ", ".join(job_names(runtime))
            raise UsageError(f"No sync job named '{name}'; the jobs are: {known}")
        processed = run_sync_job_now(runtime, operator_caller(), name)
    finally:
        runtime.close()
    typer.echo(f"Sync job {name} processed {processed} record(s)")


@sync_app.command("jobs")
def jobs(
    name: str = typer.Option(None, "--name", help="Only the runs of this job."),
    limit: int = typer.Option(20, "--limit", min=1, max=10_000, help="At most this many rows."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Recent sync runs (these jobs and the directory sync), newest first."""
    from sharepack.runtime import build_runtime
    from sharepack.settings import load_settings
    from sharepack.usecases.sync_jobs import recent_runs

    runtime = build_runtime(load_settings(), migrate=False)
    try:
        entries = recent_runs(runtime, limit, name)
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps([_entry_json(e) for e in entries], indent=2))
        return
    if not entries:
        typer.echo("No sync runs recorded" + (f" for {name}." if name else "."))
        return
    _print_table(entries)


def _entry_json(entry: LogEntry) -> dict[str, Any]:
    values = entry.values
    return {
        "sync_job_id": str(entry.entry_id),
        "sync_type": values.get("sync_type"),
        "sync_status": values.get("sync_status"),
        "started_at": _iso(values.get("started_at")),
        "finished_at": _iso(values.get("finished_at")),
        "records_processed": values.get("records_processed"),
        "error_message": values.get("error_message"),
    }


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def _print_table(entries: list[LogEntry]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("started", "job", "status", "records", "seconds", "error")
    for entry in entries:
        values = entry.values
        started, finished = values.get("started_at"), values.get("finished_at")
        seconds = f"{(finished - started).total_seconds():.1f}" if started and finished else "-"
        table.add_row(
            started.isoformat(timespec="seconds") if started else "-",
            str(values.get("sync_type")),
            str(values.get("sync_status")),
            str(values.get("records_processed") or 0),
            seconds,
            values.get("error_message") or "",
        )
    Console(highlight=False).print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(sync_app)
