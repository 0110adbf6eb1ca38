"""`sharepack keys` (API keys for automation) and `sharepack audit` (the audit trail).

The CLI acts as an admin (it holds the database's own credentials); what it changes is
recorded with its operator, `cli:<OS user>`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import typer

from sharepack.cli.exit_codes import UsageError
from sharepack.identity.principal import ALL_BUSINESS_LINES, Role

if TYPE_CHECKING:
    from sharepack.runtime import Runtime
    from sharepack.store.api_keys import ApiKeyRecord
    from sharepack.store.logs import AuditEntry

JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
keys_app = typer.Typer(
    name="keys",
    help="API keys for automation: create (shown once), list, revoke.",
    no_args_is_help=True,
)


def _runtime(*, migrate: bool) -> Runtime:
    from sharepack.runtime import build_runtime
    from sharepack.settings import load_settings

    return build_runtime(load_settings(), migrate=migrate)


def _key_json(key: ApiKeyRecord) -> dict[str, Any]:
    return {
        "name": key.name,
        "key_id": key.key_id,
        "role": key.role,
        "business_lines": list(key.business_lines),
        "acts_for_others": key.acts_for_others,
        "owner_email": key.owner_email,
        "created_by": key.created_by,
        "created_at": key.created_at.isoformat(),
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@keys_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="A name for the key, e.g. ci (unique)."),
    role: Role = typer.Option(..., "--role", help="requestor, approver, auditor or admin."),
    business_line: list[str] = typer.Option(
        [],
        "--business-line",
        help=f"A business line the key acts for (repeat for more; '{ALL_BUSINESS_LINES}' for "
        "all). Admin keys act for all.",
    ),
    acts_for_others: bool = typer.Option(
        False,
        "--acts-for-others",
        help="Let the key submit packs whose requestor is someone else.",
    ),
    owner: str = typer.Option(
        None, "--owner", help="The email a pack's requestor must be, unless --acts-for-others."
    ),
    as_json: bool = JSON,
) -> None:
    """Create an API key and print it once: it is stored only as a hash."""
    from sharepack.cli.operator import operator_caller
    from sharepack.usecases.identity import create_api_key

    runtime = _runtime(migrate=True)
    try:
        created = create_api_key(
            runtime,
            operator_caller(),
            name=name,
            role=role,
            business_lines=business_line,
            acts_for_others=acts_for_others,
            owner_email=owner,
        )
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps({**_key_json(created.record), "key": created.plaintext}, indent=2))
        return
    record = created.record
    lines = ", ".join(record.business_lines)
    typer.echo(created.plaintext)
    typer.echo(
        f"API key '{record.name}' ({record.role} of {lines}) created; it is shown only now: "
        "keep it in your secret store. Send it as 'Authorization: Bearer <key>'.",
        err=True,
    )


@keys_app.command("list")
def list_keys(
    show_all: bool = typer.Option(False, "--all", help="Revoked keys too."),
    as_json: bool = JSON,
) -> None:
    """The API keys (never the keys themselves): name, role, business lines, last use."""
    from sharepack.usecases.identity import list_api_keys

    runtime = _runtime(migrate=False)
    try:
        keys = list_api_keys(runtime, include_revoked=show_all)
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps([_key_json(k) for k in keys], indent=2))
        return
    if not keys:
        typer.echo("No API keys." if show_all else "No active API keys.")
        return
    for key in keys:
        used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
        revoked = (
            f", revoked {key.revoked_at.isoformat(timespec='seconds')}" if key.revoked_at else ""
        )
        typer.echo(
            f"{key.name}  {key.role} of {', '.join(key.business_lines)}  "
            f"(id {key.key_id}, last used {used}{revoked})"
        )


@keys_app.command("revoke")
def revoke(name: str = typer.Argument(..., help="The key's name.")) -> None:
    """Revoke the active key of that name: it is refused from the next request on."""
    from sharepack.cli.operator import operator_caller
    from sharepack.usecases.identity import revoke_api_key

    runtime = _runtime(migrate=False)
    try:
        revoked = revoke_api_key(runtime, operator_caller(), name)
    finally:
        runtime.close()
    typer.echo(f"API key '{revoked.name}' (id {revoked.key_id}) revoked.")


_RELATIVE = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    relative = _RELATIVE.match(value.strip())
    if relative:
        amount, unit = int(relative[1]), _UNITS[relative[2]]
        return datetime.now(UTC) - timedelta(**{unit: amount})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--since '{value}' is neither an ISO 8601 time (2026-12-01T09:00:00Z) nor an age "
            "(30m, 12h, 7d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": entry.created_at.isoformat(),
        "principal": entry.performed_by,
        "auth_method": entry.auth_method,
        "action": entry.action,
        "outcome": entry.outcome,
        "entity_type": entry.entity_type,
        "entity_id": str(entry.entity_id) if entry.entity_id else None,
        "business_line": entry.business_line,
        "client_address": entry.client_address,
        "user_agent": entry.user_agent,
        "details": entry.details,
    }


def audit(
    since: str = typer.Option(
        None, "--since", help="ISO 8601 time, or an age: 30m, 12h, 7d. Default: all."
    ),
    principal: str = typer.Option(None, "--principal", help="Only what this principal did."),
    business_line: str = typer.Option(None, "--business-line", help="Only this business line."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="At most this many rows."),
    as_json: bool = JSON,
) -> None:
    """The audit trail, newest first: who did what, from where, with what outcome."""
    from sharepack.usecases.audit import search

    moment = _since(since)
    runtime = _runtime(migrate=False)
    try:
        entries = search(
            runtime, since=moment, principal=principal, business_line=business_line, limit=limit
        )
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps([_entry_json(e) for e in entries], indent=2))
        return
    if not entries:
        typer.echo("No audit rows match.")
        return
    for e in entries:
        target = f"{e.entity_type} {e.entity_id}" if e.entity_id else e.entity_type
        where = f" from {e.client_address}" if e.client_address else ""
        line = f" [{e.business_line}]" if e.business_line else ""
        reason = ""
        if e.outcome != "ok" and e.details and "reason" in e.details:
            reason = f": {e.details['reason']}"
        typer.echo(
            f"{e.created_at.isoformat(timespec='seconds')}  {e.performed_by} "
            f"({e.auth_method or '-'}){where}  {e.action} {target}{line}  "
            f"{e.outcome or 'ok'}{reason}"
        )


directory_app = typer.Typer(
    name="directory",
    help="The directory (Microsoft Graph): sync users and groups into the history.",
    no_args_is_help=True,
)


@directory_app.command("sync")
def directory_sync(as_json: bool = JSON) -> None:
    """Sync `users` and `ad_groups` from Microsoft Graph now (serve and worker also do it
    every SHAREPACK_DIRECTORY_SYNC_MINUTES)."""
    from dataclasses import asdict

    from sharepack.cli.operator import operator_caller
    from sharepack.usecases.directory_sync import sync_now

    runtime = _runtime(migrate=True)
    try:
        result = sync_now(runtime, operator_caller())
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps(asdict(result), indent=2))
        return
    typer.echo(
        f"Directory synced: users +{result.users_added} ~{result.users_changed} "
        f"-{result.users_removed}; groups +{result.groups_added} ~{result.groups_changed} "
        f"-{result.groups_removed}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app)
    app.add_typer(directory_app)
    app.command()(audit)
