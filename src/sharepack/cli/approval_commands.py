"""`sharepack approvals`, `approve`, `reject` and `cancel`: a pack's approval and its
cancellation from a terminal.

An operator approves as the identity the pack's workspace credentials belong to (the
Databricks user the CLI acts as, by its email): the approval policy's groups and four eyes
are checked against it, as for anyone. Exit codes: 0 done; 1 refused (not an approver,
four eyes, not awaiting, started already) or not found; 2 usage.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import typer

from sharepack.cli.exit_codes import UsageError

if TYPE_CHECKING:
    from sharepack.identity.principal import Caller
    from sharepack.runtime import Runtime
    from sharepack.usecases.approvals import ApprovalView

JSON = typer.Option(False, "--json", help="Print one JSON object instead of text.")


def _pack_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise UsageError(f"'{value}' is not a share pack id (a UUID)") from None


def _runtime() -> Runtime:
    from sharepack.runtime import build_runtime
    from sharepack.settings import load_settings

    return build_runtime(load_settings(), migrate=True)


def _caller(runtime: Runtime, pack_id: uuid.UUID) -> Caller:
    """The operator as the pack's workspace knows them: `cli:<OS user> (Databricks: <user>)`
    with that user's address, which decides the groups they approve for."""
    from sharepack.cli.operator import os_user
    from sharepack.identity.principal import operator
    from sharepack.workspace.errors import WorkspaceError

    with runtime.database.reading() as uow:
        record = uow.share_packs.get_current(pack_id)
    try:
        who = runtime.workspace_for(record.workspace_url).current_user()
    except WorkspaceError:
        return operator(f"cli:{os_user()} (Databricks: unknown)")
    email = who if "@" in who else None
    return operator(f"cli:{os_user()} (Databricks: {who})", email=email)


def _view_json(view: ApprovalView) -> dict[str, Any]:
    from sharepack.usecases.approvals import counted_approvals
    from sharepack.usecases.queueing import iso

    record = view.record
    digest = (record.approval_plan or {}).get("digest")
    counted = counted_approvals(view.progress)
    return {
        "share_pack_id": str(record.share_pack_id),
        "share_pack_name": record.share_pack_name,
        "status": record.share_pack_status,
        "approval_state": record.approval_state,
        "provisioning_status": record.provisioning_status,
        "error_message": record.error_message,
        "plan": list(view.plan_lines),
        "changed": list(view.changed),
        "requirements": [
            {
                "level": r.level,
                "group": r.group.name,
                "count": r.count,
                "approved": counted.get((r.level, r.group.name), 0),
                "reasons": list(r.reasons),
            }
            for r in view.requirements
        ],
        "decisions": [
            {
                "level": d.level,
                "group": d.group_name,
                "approver": d.approver,
                "decision": d.decision,
                "comment": d.comment or "",
                "at": iso(d.created_at),
                "for_current_plan": d.plan_digest == digest,
            }
            for d in view.decisions
        ],
    }


def _print_view(view: ApprovalView) -> None:
    body = _view_json(view)
    typer.echo(f"Share pack {body['share_pack_id']} ({body['share_pack_name']})")
    typer.echo(f"Status {body['status']}; approval {body['approval_state'] or 'not required'}")
    typer.echo(body["provisioning_status"] or "")
    if body["error_message"]:
        typer.echo(body["error_message"])
    if body["changed"]:
        typer.echo("\nChanged since the plan put to approvers before:")
        for line in body["changed"]:
            typer.echo(f"  {line}")
    if body["plan"]:
        typer.echo("")
        for line in body["plan"]:
            typer.echo(line)
    if body["requirements"]:
        typer.echo("\nApprovals needed:")
        for r in body["requirements"]:
            typer.echo(f"  level {r['level']}: {r['group']}: {r['approved']} of {r['count']}")
            for reason in r["reasons"]:
                typer.echo(f"      {reason}")
    for d in body["decisions"]:
        stale = "" if d["for_current_plan"] else " (an earlier plan)"
        comment = f": {d['comment']}" if d["comment"] else ""
        typer.echo(f"  {d['at']} {d['decision']} by {d['approver']}{stale}{comment}")


def approvals(
    share_pack_id: str = typer.Argument(
        None, metavar="[ID]", help="A pack: show its plan and approvals. None: list the waiting."
    ),
    as_json: bool = JSON,
) -> None:
    """Packs waiting for approval, or one pack's plan (as `sharepack plan` prints it), what
    it needs approved and who decided what."""
    from sharepack.cli.operator import operator_caller
    from sharepack.usecases.approvals import approval_view, awaiting_approval
    from sharepack.usecases.queueing import iso

    runtime = _runtime()
    try:
        if share_pack_id is not None:
            view = approval_view(runtime, operator_caller(), _pack_id(share_pack_id))
            if as_json:
                typer.echo(json.dumps(_view_json(view), indent=2))
            else:
                _print_view(view)
            return
        waiting = awaiting_approval(runtime, operator_caller())
    finally:
        runtime.close()
    rows = [
        {
            "share_pack_id": str(p.share_pack_id),
            "share_pack_name": p.share_pack_name,
            "business_line": p.business_line,
            "project_name": p.project_name,
            "requested_by": p.requested_by,
            "waiting_since": iso(p.effective_from),
            "provisioning_status": p.provisioning_status,
        }
        for p in waiting
    ]
    if as_json:
        typer.echo(json.dumps({"awaiting_approval": rows}, indent=2))
        return
    if not rows:
        typer.echo("No share pack is waiting for approval.")
    for row in rows:
        typer.echo(
            f"{row['share_pack_id']}  {row['project_name']} ({row['business_line']}), "
            f"requested by {row['requested_by']}: {row['provisioning_status']}"
        )


def approve(
    share_pack_id: str = typer.Argument(..., metavar="ID", help="The waiting pack."),
    comment: str = typer.Option("", "--comment", help="Why, in words."),
    as_json: bool = JSON,
) -> None:
    """Approve the plan pack ID waits with, at the level it waits at."""
    _decide(share_pack_id, comment, as_json, approve=True)


def reject(
    share_pack_id: str = typer.Argument(..., metavar="ID", help="The waiting pack."),
    comment: str = typer.Option(..., "--comment", help="The reason; the requestor is told."),
    as_json: bool = JSON,
) -> None:
    """Reject the plan pack ID waits with: it ends FAILED with the reason."""
    if not comment.strip():
        raise UsageError("--comment must say why: the requestor is told the reason")
    _decide(share_pack_id, comment, as_json, approve=False)


def _decide(share_pack_id: str, comment: str, as_json: bool, *, approve: bool) -> None:
    from sharepack.notify.outbox import deliver_now
    from sharepack.usecases.approvals import approval_view, decide

    pack_id = _pack_id(share_pack_id)
    runtime = _runtime()
    try:
        caller = _caller(runtime, pack_id)
        decide(runtime, caller, pack_id, approve=approve, comment=comment.strip())
        view = approval_view(runtime, caller, pack_id)
        deliver_now(runtime.database, runtime.settings)
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps(_view_json(view), indent=2))
    else:
        _print_view(view)


def cancel(
    share_pack_id: str = typer.Argument(..., metavar="ID", help="The pack to cancel."),
    as_json: bool = JSON,
) -> None:
    """Cancel pack ID while it waits (for approval, its time or a worker): it ends FAILED
    with "Cancelled by ..."; the workspace is not touched."""
    from sharepack.cli.operator import operator_caller
    from sharepack.notify.outbox import deliver_now
    from sharepack.usecases.approvals import cancel as cancel_pack

    pack_id = _pack_id(share_pack_id)
    runtime = _runtime()
    try:
        record = cancel_pack(runtime, operator_caller(), pack_id)
        deliver_now(runtime.database, runtime.settings)
    finally:
        runtime.close()
    if as_json:
        body = {
            "share_pack_id": str(record.share_pack_id),
            "status": record.share_pack_status,
            "error_message": record.error_message,
        }
        typer.echo(json.dumps(body, indent=2))
        return
    typer.echo(f"Share pack {record.share_pack_id}: {record.error_message}; Status FAILED.")


def register(app: typer.Typer) -> None:
    for command in (approvals, approve, reject, cancel):
        app.command()(command)
