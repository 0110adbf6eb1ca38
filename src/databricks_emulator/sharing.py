"""Delta Sharing recipients, shares, share objects and grants, held in memory.

Callers hold the emulator's lock; every method checks the whole request before it changes
anything, so a rejected request leaves no trace, as on a workspace. Only a resource's owner
may change or drop it (`PERMISSION_DENIED: User is not an owner of ...`); the caller is the
emulator's one user, so a resource whose ownership was handed to someone else, or seeded
with another owner, is out of reach, as it would be for a user who is not a metastore admin.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from databricks_emulator import recipients as rcp
from databricks_emulator.catalog import SEED_TIME_MS, Catalog, Seed, now_ms
from databricks_emulator.errors import (
    already_exists,
    invalid,
    not_found,
    permission_denied,
    quota_exceeded,
)
from databricks_emulator.share_objects import apply_updates, check_updates

MAX_RECIPIENTS = 5000
MAX_SHARES = 1000
_RECIPIENT_FIELDS = ("comment", "properties_kvpairs", "expiration_time")
PRIVILEGES = ("SELECT",)


def uc_name(name: str) -> str:
    """A recipient or share as Unity Catalog keys it: every object name in lower case."""
    return name.lower()


class SharingState:
    def __init__(self, catalog: Catalog, user: str, metastore_id: str) -> None:
        self.catalog = catalog
        self.user = user
        self.metastore_id = metastore_id
        self.recipients: dict[str, dict[str, Any]] = {}
        self.shares: dict[str, dict[str, Any]] = {}
        self.grants: dict[str, dict[str, set[str]]] = {}  # share -> principal -> privileges

    def _require_owner(self, kind: str, resource: dict[str, Any]) -> None:
        if resource["owner"] != self.user:
            raise permission_denied(f"User is not an owner of {kind} '{resource['name']}'.")

    # recipients

    def create_recipient(self, body: dict[str, Any], *, created: int | None = None) -> str:
        name = rcp.check_name("Recipient", body.get("name"))
        auth = body.get("authentication_type")
        if auth not in rcp.AUTHENTICATION_TYPES:
            raise invalid(f"Invalid authentication_type '{auth}'.")
        if name in self.recipients:
            raise already_exists(f"Recipient '{name}' already exists")
        if len(self.recipients) >= MAX_RECIPIENTS:
            raise quota_exceeded(f"A metastore may hold at most {MAX_RECIPIENTS} recipients.")
        ips = rcp.check_ips(
            list((body.get("ip_access_list") or {}).get("allowed_ip_addresses") or [])
        )
        global_id = body.get("data_recipient_global_metastore_id")
        when = created if created is not None else now_ms()
        recipient: dict[str, Any] = {
            "name": name,
            "id": str(uuid.uuid4()),
            "authentication_type": auth,
            "owner": body.get("owner") or self.user,
            "created_at": when,
            "created_by": self.user,
            "updated_at": when,
            "updated_by": self.user,
            "activated": auth == "DATABRICKS",
        }
        recipient.update({k: body[k] for k in _RECIPIENT_FIELDS if body.get(k) is not None})
        if auth == "DATABRICKS":
            recipient.update(self._d2d_fields(global_id, ips))
        else:
            if global_id:
                raise invalid(
                    "data_recipient_global_metastore_id applies to DATABRICKS recipients."
                )
            if ips:
                recipient["ip_access_list"] = {"allowed_ip_addresses": ips}
            recipient["tokens"] = [rcp.new_token(self.user, when, body.get("expiration_time"))]
        self.recipients[name] = recipient
        return name

    def _d2d_fields(self, global_id: Any, ips: list[str]) -> dict[str, Any]:
        if not global_id:
            raise invalid(
                "data_recipient_global_metastore_id is required for DATABRICKS recipients."
            )
        if ips:
            raise invalid("IP access lists apply to TOKEN recipients only.")
        parts = rcp.parse_sharing_id(global_id)
        for other in self.recipients.values():
            if other.get("data_recipient_global_metastore_id") == global_id:
                raise invalid(
                    f"There is already a Recipient object '{other['name']}' for the metastore "
                    f"'{global_id}'."
                )
        return {"data_recipient_global_metastore_id": global_id, **parts}

    def recipient(self, name: str) -> dict[str, Any]:
        name = uc_name(name)
        if name not in self.recipients:
            raise not_found(f"Recipient '{name}' does not exist.")
        return self.recipients[name]

    def recipient_view(self, name: str, base_url: str) -> dict[str, Any]:
        return rcp.view(self.recipient(name), base_url)

    def list_recipients(self, global_id: str | None, base_url: str) -> list[dict[str, Any]]:
        return [
            rcp.view(r, base_url)
            for r in self.recipients.values()
            if global_id is None or r.get("data_recipient_global_metastore_id") == global_id
        ]

    def update_recipient(self, name: str, body: dict[str, Any]) -> str:
        name = uc_name(name)
        recipient = self.recipient(name)
        self._require_owner("Recipient", recipient)
        ip_list = body.get("ip_access_list")
        ips: list[str] = []
        if ip_list is not None:
            if recipient["authentication_type"] != "TOKEN":
                raise invalid("IP access lists apply to TOKEN recipients only.")
            ips = rcp.check_ips(list(ip_list.get("allowed_ip_addresses") or []))
        new_name = body.get("new_name")
        if new_name:
            new_name = rcp.check_name("Recipient", new_name)
        if new_name and new_name != name and new_name in self.recipients:
            raise already_exists(f"Recipient '{new_name}' already exists")
        recipient.update({k: body[k] for k in (*_RECIPIENT_FIELDS, "owner") if k in body})
        if ip_list is not None:
            if ips:
                recipient["ip_access_list"] = {"allowed_ip_addresses": ips}
            else:
                recipient.pop("ip_access_list", None)
        recipient["updated_at"] = now_ms()
        recipient["updated_by"] = self.user
        if new_name and new_name != name:
            self._rename_recipient(name, new_name)
            return str(new_name)
        return name

    def _rename_recipient(self, old: str, new: str) -> None:
        recipient = self.recipients.pop(old)
        recipient["name"] = new
        self.recipients[new] = recipient
        for principals in self.grants.values():
            if old in principals:
                principals[new] = principals.pop(old)

    def delete_recipient(self, name: str) -> None:
        """Dropping a recipient revokes what it was granted on every share."""
        name = uc_name(name)
        self._require_owner("Recipient", self.recipient(name))
        del self.recipients[name]
        for principals in self.grants.values():
            principals.pop(name, None)

    def rotate_token(self, name: str, body: dict[str, Any]) -> None:
        name = uc_name(name)
        recipient = self.recipient(name)
        self._require_owner("Recipient", recipient)
        if recipient["authentication_type"] != "TOKEN":
            raise invalid(
                f"Cannot rotate the token of recipient '{name}': it has a non-TOKEN "
                "authentication type."
            )
        rcp.rotate(recipient, body.get("existing_token_expire_in_seconds"), self.user)
        recipient["updated_at"] = now_ms()

    def recipient_share_permissions(self, name: str) -> list[dict[str, Any]]:
        name = uc_name(name)
        self.recipient(name)
        return [
            {
                "share_name": share,
                "privilege_assignments": [
                    {"principal": name, "privileges": sorted(principals[name])}
                ],
            }
            for share, principals in self.grants.items()
            if name in principals
        ]

    # shares

    def create_share(self, body: dict[str, Any], *, created: int | None = None) -> str:
        name = rcp.check_name("Share", body.get("name"))
        if name in self.shares:
            raise already_exists(f"Share '{name}' already exists")
        if len(self.shares) >= MAX_SHARES:
            raise quota_exceeded(f"A metastore may hold at most {MAX_SHARES} shares.")
        when = created if created is not None else now_ms()
        share: dict[str, Any] = {
            "name": name,
            "owner": body.get("owner") or self.user,
            "created_at": when,
            "created_by": self.user,
            "updated_at": when,
            "updated_by": self.user,
            "objects": [],
        }
        share.update({k: body[k] for k in ("comment", "storage_root") if body.get(k) is not None})
        self.shares[name] = share
        self.grants[name] = {}
        return name

    def share(self, name: str) -> dict[str, Any]:
        name = uc_name(name)
        if name not in self.shares:
            raise not_found(f"Share '{name}' does not exist.")
        return self.shares[name]

    def share_view(self, name: str, *, include_objects: bool) -> dict[str, Any]:
        view = copy.deepcopy(self.share(name))
        if not include_objects or not view["objects"]:
            view.pop("objects")
        return view

    def delete_share(self, name: str) -> None:
        name = uc_name(name)
        self._require_owner("Share", self.share(name))
        del self.shares[name]
        del self.grants[name]

    def update_share(self, name: str, body: dict[str, Any]) -> str:
        name = uc_name(name)
        share = self.share(name)
        self._require_owner("Share", share)
        updates = list(body.get("updates") or [])
        check_updates(share, updates, self.catalog)
        new_name = body.get("new_name")
        if new_name:
            new_name = rcp.check_name("Share", new_name)
        if new_name and new_name != name and new_name in self.shares:
            raise already_exists(f"Share '{new_name}' already exists")
        apply_updates(share, updates, self.catalog, self.user)
        share.update({k: body[k] for k in ("comment", "owner", "storage_root") if k in body})
        share["updated_at"] = now_ms()
        share["updated_by"] = self.user
        if new_name and new_name != name:
            self.shares[new_name] = self.shares.pop(name)
            self.grants[new_name] = self.grants.pop(name)
            share["name"] = new_name
            return str(new_name)
        return name

    def share_permissions(self, name: str) -> list[dict[str, Any]]:
        name = uc_name(name)
        self.share(name)
        return [
            {"principal": principal, "privileges": sorted(privileges)}
            for principal, privileges in sorted(self.grants[name].items())
        ]

    def update_share_permissions(self, name: str, body: dict[str, Any]) -> None:
        name = uc_name(name)
        self._require_owner("Share", self.share(name))
        changes = list(body.get("changes") or [])
        for change in changes:
            principal = change.get("principal")
            if not principal:
                raise invalid("A permissions change must name its principal.")
            change["principal"] = principal = uc_name(str(principal))
            for privilege in [*(change.get("add") or []), *(change.get("remove") or [])]:
                if privilege not in PRIVILEGES:
                    raise invalid(
                        f"Privilege {privilege} is not applicable to this entity [Share]."
                    )
            if change.get("add"):
                self.recipient(principal)
        grants = self.grants[name]
        for change in changes:
            principal = change["principal"]
            held = grants.setdefault(principal, set())
            held.update(change.get("add") or [])
            held.difference_update(change.get("remove") or [])
            if not held:
                del grants[principal]

    # seed

    def add_seed(self, seed: Seed) -> None:
        """Recipients and shares a fixture file declares, e.g. ones another user owns."""
        for recipient in seed.recipients:
            self.create_recipient(recipient, created=SEED_TIME_MS)
        for share in seed.shares:
            name = self.create_share(share, created=SEED_TIME_MS)
            objects = [{"name": o} if isinstance(o, str) else o for o in share.get("objects", [])]
            updates = [{"action": "ADD", "data_object": o} for o in objects]
            check_updates(self.shares[name], updates, self.catalog)
            apply_updates(self.shares[name], updates, self.catalog, self.shares[name]["owner"])
            for principal in share.get("grants", []):
                self.recipient(principal)
                self.grants[name][uc_name(principal)] = {"SELECT"}
