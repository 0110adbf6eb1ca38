"""`sharepack rollback` and `sharepack drift`: a project's versions from a terminal.

`rollback --list` lists versions; `rollback --id ID` plans the rollback to a version,
shows the plan and its notes, asks (or takes `--yes`), applies it now as `apply` does,
and verifies the workspace against the version; `rollback --id ID --verify` only
compares; `rollback --interactive` lets the operator choose. `rollback --cleanup` removes
the states of old versions and run snapshots past the retention.

`drift` compares each project's newest version with the workspace: exit 0 with no drift,
3 with drift (1 failed, 2 usage, as everywhere). `--record` takes the workspace as it is
into the history; `--revert` rolls each drifted project back to its newest version.
`rollback --verify` exits 3 likewise when the workspace differs from the version.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import typer

from sharepack.cli.exit_codes import ExitCode, UsageError

if TYPE_CHECKING:
    from sharepack.identity.principal import Caller
    from sharepack.runtime import Runtime
    from sharepack.usecases.drift import ProjectDrift
    from sharepack.usecases.versions import Comparison, ProjectVersion, RollbackPlan

#: Exit code of `drift` when it finds drift, and of `rollback --verify` when the workspace
#: differs from the version.
DIFFERENCES = 3

JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
PROJECT = typer.Option(None, "--project", help="Only this project (its name, any case).")
WORKSPACE = typer.Option(None, "--workspace", help="Only projects in this workspace (URL).")
YES = typer.Option(False, "--yes", "-y", help="Apply without asking.")


def _runtime() -> Runtime:
    from sharepack.runtime import build_runtime
    from sharepack.settings import load_settings

    return build_runtime(load_settings(), migrate=True)


def _caller(runtime: Runtime, workspace_url: str | None = None) -> Caller:
    from sharepack.cli.operator import operator_caller

    workspace = runtime.workspace_for(workspace_url) if workspace_url else None
    return operator_caller(workspace)


def _version_json(version: ProjectVersion) -> dict[str, Any]:
    return {
        "version_id": str(version.version_id),
        "number": version.number,
        "kind": version.kind,
        "project_name": version.project_name,
        "business_line": version.business_line,
        "project_id": str(version.project_id) if version.project_id else None,
        "workspace_url": version.workspace_url,
        "share_pack_id": str(version.share_pack_id) if version.share_pack_id else None,
        "restores": str(version.restores) if version.restores else None,
        "created_at": version.created_at.isoformat(),
        "created_by": version.created_by,
        "change_reason": version.change_reason,
        "changes": version.changes,
        "states_kept": version.has_states,
    }


def _changed(version: ProjectVersion) -> str:
    """The plan's count line (`Plan: 2 to add, ...`), or what a record found."""
    counts = [line for line in version.changes if line.startswith("Plan:")]
    if counts:
        return counts[-1]
    if not version.changes:
        return "no changes"
    return f"{len(version.changes)} difference(s)"


def _print_versions(versions: list[ProjectVersion], *, numbered: bool = False) -> None:
    """One line per version, in columns (plain text: it reads the same piped to grep)."""
    header = ["ID", "PROJECT", "VERSION", "KIND", "WHEN (UTC)", "WHO", "WHAT IT CHANGED"]
    rows = [
        [
            v.short_id,
            f"{v.project_name} ({v.business_line})",
            str(v.number),
            v.kind.lower(),
            f"{v.created_at:%Y-%m-%d %H:%M}",
            v.created_by,
            _changed(v),
        ]
        for v in versions
    ]
    if numbered:
        header.insert(0, "#")
        for index, row in enumerate(rows, start=1):
            row.insert(0, str(index))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[-1]]))


def _print_rollback_plan(rollback: RollbackPlan) -> None:
    from sharepack.cli.run_output import print_plan

    version = rollback.version
    typer.echo(
        f"Rolling back project '{version.project_name}' ({version.business_line}) in "
        f"{version.workspace_url} to version {version.number} ({version.change_reason}):"
    )
    print_plan(rollback.plan)


def _confirmed(yes: bool, question: str) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(f"{question} Not asked: the input is not a terminal; add --yes")
    return typer.confirm(question, default=False)


def _apply(runtime: Runtime, caller: Caller, rollback: RollbackPlan, as_json: bool) -> int:
    """Apply the rollback now; then verify against the version. The exit code."""
    from sharepack.cli.run_output import ProgressDisplay, report
    from sharepack.notify.outbox import deliver_now
    from sharepack.running.provision import Observer
    from sharepack.running.status import PackStatus
    from sharepack.usecases.versions import apply_rollback, compare_with_version

    with ProgressDisplay(enabled=not as_json) as display:
        observer = Observer(planned=display.planned, progress=display.progress)
        record = apply_rollback(runtime, caller, rollback, observer)
    deliver_now(runtime.database, runtime.settings)
    if record.share_pack_status != PackStatus.COMPLETED.value:
        report(record, display.actions, 0, as_json)
        return ExitCode.DONE if record.share_pack_status == "IN_PROGRESS" else ExitCode.FAILED
    comparison = compare_with_version(runtime, rollback.version)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "status": record.share_pack_status,
                    "share_pack_id": str(record.share_pack_id),
                    "actions": display.actions,
                    "version": _version_json(rollback.version),
                    "differences": list(comparison.differences),
                },
                indent=2,
            )
        )
    else:
        report(record, display.actions, 0, as_json)
        _print_comparison(comparison)
    return ExitCode.DONE if comparison.matches else DIFFERENCES


def _print_comparison(comparison: Comparison) -> None:
    version = comparison.version
    what = f"version {version.number} of project '{version.project_name}'"
    if comparison.matches:
        typer.echo(
            f"Verified: the workspace holds {what}, and none of the project's resources beyond it."
        )
        return
    typer.echo(f"The workspace differs from {what}:")
    for line in comparison.differences:
        typer.echo(f"  {line}")


def rollback(
    list_: bool = typer.Option(False, "--list", help="List the versions of every project."),
    version_id: str = typer.Option(
        None, "--id", help="The version to roll back to (its id as --list shows it)."
    ),
    verify: bool = typer.Option(
        False, "--verify", help="With --id: only compare the workspace with the version."
    ),
    interactive: bool = typer.Option(
        False, "--interactive", help="Choose a version, see the plan, confirm."
    ),
    cleanup: bool = typer.Option(
        False, "--cleanup", help="Remove old versions' states and run snapshots."
    ),
    days: float = typer.Option(
        None, "--days", min=0, help="With --cleanup: older than this (default: the setting)."
    ),
    project: str = PROJECT,
    workspace: str = WORKSPACE,
    yes: bool = YES,
    as_json: bool = JSON,
) -> None:
    """A project's versions: list them, roll back to one (verified), or compare with one."""
    chosen = [list_, version_id is not None, interactive, cleanup]
    if sum(chosen) != 1:
        raise UsageError("Give one of --list, --id ID, --interactive or --cleanup")
    if verify and version_id is None:
        raise UsageError("--verify compares with the version --id names: give --id ID")
    runtime = _runtime()
    try:
        if list_:
            _list(runtime, project, workspace, as_json)
            return
        if cleanup:
            _cleanup(runtime, days, as_json)
            return
        code = _roll_back(
            runtime, version_id, verify, interactive, project, workspace, yes, as_json
        )
    finally:
        runtime.close()
    if code != ExitCode.DONE:
        raise typer.Exit(code)


def _list(runtime: Runtime, project: str | None, workspace: str | None, as_json: bool) -> None:
    from sharepack.usecases.versions import list_versions

    versions = list_versions(runtime, _caller(runtime), project=project, workspace_url=workspace)
    if as_json:
        typer.echo(json.dumps([_version_json(v) for v in versions], indent=2))
        return
    if not versions:
        typer.echo("No versions yet: a project's first version is its first completed run.")
        return
    _print_versions(versions)


def _cleanup(runtime: Runtime, days: float | None, as_json: bool) -> None:
    from sharepack.usecases.versions import clean_up

    keep = days if days is not None else runtime.settings.sharepack_snapshot_retention_days
    done = clean_up(runtime, _caller(runtime), days=keep)
    if as_json:
        typer.echo(json.dumps({"days": keep, **done}))
        return
    typer.echo(
        f"Removed the states of {done['versions']} version(s) and {done['snapshots']} run "
        f"snapshot(s) older than {keep:g} day(s); each project's newest version keeps its own."
    )


def _roll_back(
    runtime: Runtime,
    version_id: str | None,
    verify: bool,
    interactive: bool,
    project: str | None,
    workspace: str | None,
    yes: bool,
    as_json: bool,
) -> int:
    from sharepack.usecases.versions import compare_with_version, find_version

    if interactive:
        version = _choose(runtime, project, workspace)
        if version is None:
            return ExitCode.DONE
    else:
        assert version_id is not None
        version = find_version(runtime, _caller(runtime), version_id)
    if verify:
        comparison = compare_with_version(runtime, version)
        if as_json:
            body = {"version": _version_json(version), "differences": list(comparison.differences)}
            typer.echo(json.dumps(body, indent=2))
        else:
            _print_comparison(comparison)
        return ExitCode.DONE if comparison.matches else DIFFERENCES
    return _roll_back_to(runtime, version, yes, as_json, f"Roll back to version {version.number}?")


def _roll_back_to(
    runtime: Runtime, version: ProjectVersion, yes: bool, as_json: bool, question: str
) -> int:
    """Plan the rollback to `version`, show it, ask `question` (unless `yes`), apply."""
    from sharepack.usecases.versions import plan_rollback

    caller = _caller(runtime, version.workspace_url)
    planned = plan_rollback(runtime, caller, version)
    if not as_json:
        _print_rollback_plan(planned)
    if not _confirmed(yes, question):
        typer.echo("Nothing was changed.")
        return ExitCode.DONE
    return _apply(runtime, caller, planned, as_json)


def _choose(runtime: Runtime, project: str | None, workspace: str | None) -> ProjectVersion | None:
    """The version the operator picks from the list (None: none chosen)."""
    from sharepack.usecases.versions import list_versions

    versions = list_versions(runtime, _caller(runtime), project=project, workspace_url=workspace)
    if not versions:
        typer.echo("No versions to roll back to.")
        return None
    if not sys.stdin.isatty():
        raise UsageError("--interactive needs a terminal; use --list, then --id ID")
    _print_versions(versions, numbered=True)
    choice: int = typer.prompt(
        f"Roll back to which version? [1-{len(versions)}, 0 to stop]", type=int
    )
    if choice == 0:
        typer.echo("Nothing was changed.")
        return None
    if not 1 <= choice <= len(versions):
        raise UsageError(f"{choice} is not one of the {len(versions)} versions listed")
    return versions[choice - 1]


def drift(
    workspace: str = WORKSPACE,
    project: str = PROJECT,
    record: bool = typer.Option(
        False, "--record", help="Take the workspace as it is into the history."
    ),
    revert: bool = typer.Option(
        False, "--revert", help="Roll each drifted project back to its newest version."
    ),
    yes: bool = YES,
    as_json: bool = JSON,
) -> None:
    """Compare each project's newest version with the workspace: exit 0 with no drift, 3
    with drift."""
    from sharepack.usecases.drift import check_drift, record_drift

    if record and revert:
        raise UsageError("Give --record or --revert, not both")
    runtime = _runtime()
    try:
        found = check_drift(runtime, _caller(runtime), workspace_url=workspace, project=project)
        drifted = [d for d in found if d.drifted]
        if as_json and not (record or revert):
            typer.echo(json.dumps([_drift_json(d) for d in found], indent=2))
        elif not as_json:
            _print_drift(found)
        if record and drifted:
            made = record_drift(runtime, _caller(runtime), drifted)
            if as_json:
                typer.echo(json.dumps([_version_json(v) for v in made], indent=2))
                return
            for version in made:
                typer.echo(
                    f"Recorded project '{version.project_name}' as version {version.number}."
                )
            return
        if revert and drifted:
            codes = [_revert(runtime, d, yes, as_json) for d in drifted]
            worst = max(codes)
            if worst != ExitCode.DONE:
                raise typer.Exit(worst)
            return
    finally:
        runtime.close()
    if drifted and not (record or revert):
        raise typer.Exit(DIFFERENCES)


def _revert(runtime: Runtime, drift: ProjectDrift, yes: bool, as_json: bool) -> int:
    question = f"Put project '{drift.version.project_name}' back?"
    return _roll_back_to(runtime, drift.version, yes, as_json, question)


def _drift_json(drift: ProjectDrift) -> dict[str, Any]:
    return {
        "project_name": drift.version.project_name,
        "business_line": drift.version.business_line,
        "workspace_url": drift.version.workspace_url,
        "version": drift.version.number,
        "version_id": str(drift.version.version_id),
        "drifted": drift.drifted,
        "differences": list(drift.differences),
        "unchecked": drift.unchecked,
    }


def _print_drift(found: list[ProjectDrift]) -> None:
    if not found:
        typer.echo("No projects with versions to compare.")
        return
    for item in found:
        v = item.version
        where = f"project '{v.project_name}' ({v.business_line}) in {v.workspace_url}"
        if item.unchecked:
            typer.echo(f"{where}: not checked, {item.unchecked}")
        elif not item.drifted:
            typer.echo(f"{where}: no drift from version {v.number}")
        else:
            typer.echo(f"{where}: drift from version {v.number}:")
            for line in item.differences:
                typer.echo(f"  {line}")


def register(app: typer.Typer) -> None:
    app.command()(rollback)
    app.command()(drift)
