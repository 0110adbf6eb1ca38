"""Who a recipient's bearer token belongs to, and what that recipient sees, taken live.

Nothing here is copied from the provider side: every call reads the shares, objects and
grants as they stand, so a revoked grant, a removed object or a dropped share is gone from
the partner's view on its next call. A recipient sees the shares on which it holds SELECT;
in each, its table-like objects under their `shared_as` (`schema.table`), and every table
of a shared SCHEMA object under that schema's name. Names fold case, as PROTOCOL.md asks
("It's case-insensitive").
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from typing import Any

from databricks_emulator.catalog import now_ms
from databricks_emulator.partner_errors import (
    ProtocolError,
    forbidden,
    no_such_table,
    not_found,
    unauthenticated,
)
from databricks_emulator.sharing import SharingState

TABLE_KINDS = frozenset({"TABLE", "VIEW", "MATERIALIZED_VIEW", "STREAMING_TABLE"})


@dataclass(frozen=True)
class SharedTable:
    """One table as a recipient sees it: `share.schema.name`, backed by catalog `source`."""

    share: str
    schema: str
    name: str
    source: str
    share_object: dict[str, Any]

    @property
    def history_shared(self) -> bool:
        """History sharing (time travel, startingVersion) is on for the object; CDF implies it."""
        obj = self.share_object
        return obj.get("history_data_sharing_status") == "ENABLED" or bool(obj.get("cdf_enabled"))

    @property
    def start_version(self) -> int:
        return int(self.share_object.get("start_version") or 0)

    @property
    def partitions(self) -> list[dict[str, Any]]:
        """The object's partition specifications; a shared schema's tables have none."""
        if self.share_object.get("data_object_type") == "SCHEMA":
            return []
        return list(self.share_object.get("partitions") or [])


def share_id(share: dict[str, Any]) -> str:
    """A stable id per share (PROTOCOL.md: unique and immutable through its lifecycle)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"share:{share['name']}:{share['created_at']}"))


def expiry_ms(recipient: dict[str, Any], token: dict[str, Any]) -> int | None:
    """When the token stops working: its own expiry or the recipient's, whichever is first."""
    times = [t for t in (token.get("expiration_time"), recipient.get("expiration_time")) if t]
    return min(int(t) for t in times) if times else None


def ip_allowed(recipient: dict[str, Any], host: str | None) -> bool:
    """Whether a caller at `host` is inside the recipient's IP access list (an empty list
    allows every address). Databricks docs (data-sharing/access-list): the list governs the
    protocol REST API, the activation URL and the credential file download."""
    allowed = (recipient.get("ip_access_list") or {}).get("allowed_ip_addresses") or []
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(str(block), strict=False) for block in allowed)


def ip_refusal(host: str | None) -> str:
    return f"Request from IP address {host} is not allowed by the recipient's IP access list."


def authenticate(
    sharing: SharingState, authorization: str | None, host: str | None
) -> dict[str, Any]:
    """The recipient whose live bearer token is in `authorization`, checked against its IP
    access list; `ProtocolError` 401 for a missing, unknown or expired token."""
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise unauthenticated("The bearer token is missing or incorrect.")
    secret = secret.strip()
    for recipient in sharing.recipients.values():
        for token in recipient.get("tokens") or []:
            if token.get("bearer_token") != secret:
                continue
            expires = expiry_ms(recipient, token)
            if expires is not None and expires <= now_ms():
                raise unauthenticated("The bearer token has expired.")
            if not ip_allowed(recipient, host):
                raise forbidden(ip_refusal(host))
            return recipient
    raise unauthenticated("The bearer token is missing or incorrect.")


def visible_shares(sharing: SharingState, recipient: str) -> list[dict[str, Any]]:
    """The shares on which `recipient` holds SELECT, by name."""
    return sorted(
        (
            sharing.shares[name]
            for name, principals in sharing.grants.items()
            if "SELECT" in principals.get(recipient, set())
        ),
        key=lambda share: str(share["name"]),
    )


def visible_share(sharing: SharingState, recipient: str, name: str) -> dict[str, Any]:
    """The share `name` if the recipient may read it; a share it may not read does not exist
    for it (the reference server's text: `share '<name>' not found`)."""
    for share in visible_shares(sharing, recipient):
        if share["name"] == name.lower():
            return share
    raise not_found(f"share '{name}' not found")


def shared_schemas(sharing: SharingState, share: dict[str, Any]) -> list[str]:
    """Schema names of the share: those of its tables and of its shared schemas."""
    names = {t.schema for t in shared_tables(sharing, share)}
    names.update(
        str(o["name"]).split(".")[1]
        for o in share["objects"]
        if o.get("data_object_type") == "SCHEMA"
    )
    return sorted(names)


def shared_tables(sharing: SharingState, share: dict[str, Any]) -> list[SharedTable]:
    """Every table the share exposes, by (schema, name); objects whose table was dropped
    are left out, and an alias seen twice keeps its first object."""
    catalog = sharing.catalog
    found: dict[tuple[str, str], SharedTable] = {}
    for obj in share["objects"]:
        kind = obj.get("data_object_type")
        if kind == "SCHEMA":
            schema = str(obj["name"]).split(".")[1]
            for source in sorted(catalog.table_names(str(obj["name"]))):
                name = source.split(".")[2]
                found.setdefault(
                    (schema, name), SharedTable(share["name"], schema, name, source, obj)
                )
        elif kind in TABLE_KINDS and catalog.has_table(str(obj["name"])):
            schema, name = str(obj["shared_as"]).split(".")
            found.setdefault(
                (schema, name), SharedTable(share["name"], schema, name, str(obj["name"]), obj)
            )
    return [found[key] for key in sorted(found)]


def find_table(
    sharing: SharingState, recipient: str, share: str, schema: str, table: str
) -> SharedTable:
    """The table `share.schema.table` as the recipient sees it, or the protocol's 404."""
    try:
        shared = visible_share(sharing, recipient, share)
    except ProtocolError:
        raise no_such_table(share, schema, table) from None
    for candidate in shared_tables(sharing, shared):
        if (candidate.schema, candidate.name) == (schema.lower(), table.lower()):
            return candidate
    raise no_such_table(share, schema, table)
