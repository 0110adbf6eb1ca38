"""Recipients, shares, their objects and grants, held in memory."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from sharepack.workspace.errors import (
    InvalidRequestError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
    WorkspacePermissionError,
)
from sharepack.workspace.memory import tokens
from sharepack.workspace.memory.held import (
    MAX_OBJECT_UPDATES,
    MAX_OBJECTS_PER_SHARE,
    MAX_RECIPIENTS,
    MAX_SHARES,
    SHARING_ID,
    TABLE_KINDS,
    VIEW,
    HeldRecipient,
    HeldShare,
    HeldState,
    as_added,
    check_partitions,
    checked_ips,
    checked_name,
    stored_recipient,
)
from sharepack.workspace.sdk_sharing import changed_properties
from sharepack.workspace.sdk_tokens import check_rotation, rotating
from sharepack.workspace.state import (
    AuthenticationType,
    DataObjectType,
    RecipientState,
    RotatedToken,
    ShareObjectState,
    ShareState,
)

#: databricks-sdk `SharedDataObject.shared_as`: `<schema_name>.<table_name>`, each part of
#: letters, digits and underscores only.
SHARED_AS = re.compile(r"[A-Za-z0-9_]+\.[A-Za-z0-9_]+")


class SharingPart(HeldState):
    """The recipients and shares of `InMemoryWorkspace`."""

    def create_recipient(self, recipient: RecipientState) -> RecipientState:
        what = f"Creating recipient '{recipient.name}'"
        with self._lock:
            name = checked_name(what, "Recipient", recipient.name)
            if name in self._recipients:
                raise ResourceAlreadyExistsError(f"{what}: Recipient '{name}' already exists")
            if len(self._recipients) >= MAX_RECIPIENTS:
                raise InvalidRequestError(f"{what}: at most {MAX_RECIPIENTS} recipients")
            token = recipient.authentication_type is AuthenticationType.TOKEN
            if token and recipient.metastore_id:
                raise InvalidRequestError(
                    f"{what}: data_recipient_global_metastore_id applies to DATABRICKS recipients."
                )
            if not token:
                self._check_sharing_id(what, recipient.metastore_id)
            held = stored_recipient(recipient, recipient.owner or self._user, self._url)
            held.name = name
            # The adapter sends an IP list for TOKEN recipients only.
            held.allowed_ips = checked_ips(what, recipient.allowed_ips) if token else ()
            self._recipients[name] = held
            return held.state()

    def _check_sharing_id(self, what: str, global_id: str | None) -> None:
        if not global_id:
            raise InvalidRequestError(
                f"{what}: data_recipient_global_metastore_id is required for DATABRICKS recipients."
            )
        if not SHARING_ID.match(global_id):
            raise InvalidRequestError(
                f"{what}: Cannot resolve target shard for sharing identifier '{global_id}'."
            )
        for other in self._recipients.values():
            if other.metastore_id == global_id:
                raise InvalidRequestError(
                    f"{what}: There is already a Recipient object '{other.name}' for the "
                    f"metastore '{global_id}'."
                )

    def update_recipient(
        self, recipient: RecipientState, before: RecipientState | None = None
    ) -> RecipientState:
        """Set what a pack declares; other properties, expiry and owner stay as held."""
        what = f"Updating recipient '{recipient.name}'"
        with self._lock:
            held = self._owned_recipient(what, recipient.name)
            if recipient.authentication_type is AuthenticationType.TOKEN:
                if held.authentication_type is not AuthenticationType.TOKEN:
                    raise InvalidRequestError(
                        f"{what}: IP access lists apply to TOKEN recipients only."
                    )
                held.allowed_ips = checked_ips(what, recipient.allowed_ips)
            held.comment = recipient.comment
            held.properties = changed_properties(held.properties, recipient, before)
            expiry = recipient.expiration_time
            # A changed expiry is set; the API cannot take one away (None is not sent).
            if before is not None and before.expiration_time != expiry and expiry is not None:
                held.expiration_time = expiry
            return held.state()

    def delete_recipient(self, name: str) -> None:
        """Dropping a recipient revokes what it was granted on every share."""
        with self._lock:
            held = self._owned_recipient(f"Deleting recipient '{name}'", name)
            del self._recipients[held.name]
            for share in self._shares.values():
                share.grantees.discard(held.name)

    def rotate_recipient_token(
        self, name: str, existing_token_expire_in_seconds: int
    ) -> RotatedToken:
        """As `SdkWorkspace`: absent, D2D or a negative expiry refused before anything
        changes; then only the owner may rotate (the API's documentation)."""
        what = rotating(name)
        with self._lock:
            held = self._recipients.get(name.lower())
            if held is None:
                raise ResourceNotFoundError(f"{what}: Recipient '{name.lower()}' does not exist.")
            check_rotation(held.name, held.authentication_type, existing_token_expire_in_seconds)
            held = self._owned_recipient(what, name)
            held.tokens, rotated = tokens.rotate(
                held.name,
                held.tokens,
                self._url,
                held.expiration_time,
                existing_token_expire_in_seconds,
            )
            return rotated

    def _owned_recipient(self, what: str, name: str) -> HeldRecipient:
        held = self._recipients.get(name.lower())
        if held is None:
            raise ResourceNotFoundError(f"{what}: Recipient '{name.lower()}' does not exist.")
        if held.owner != self._user:
            raise WorkspacePermissionError(
                f"{what}: User is not an owner of Recipient '{held.name}'."
            )
        return held

    # --- shares -------------------------------------------------------------------------

    def create_share(self, name: str, comment: str) -> ShareState:
        what = f"Creating share '{name}'"
        with self._lock:
            key = checked_name(what, "Share", name)
            if key in self._shares:
                raise ResourceAlreadyExistsError(f"{what}: Share '{key}' already exists")
            if len(self._shares) >= MAX_SHARES:
                raise InvalidRequestError(f"{what}: at most {MAX_SHARES} shares")
            self._shares[key] = HeldShare(name=key, owner=self._user, comment=comment)
            return ShareState(name=key, comment=comment)

    def update_share_comment(self, name: str, comment: str) -> None:
        with self._lock:
            self._owned_share(f"Updating the comment of share '{name}'", name).comment = comment

    def delete_share(self, name: str) -> None:
        with self._lock:
            held = self._owned_share(f"Deleting share '{name}'", name)
            del self._shares[held.name]

    def update_share_objects(
        self,
        name: str,
        add: Sequence[ShareObjectState],
        remove: Sequence[str],
        update: Sequence[ShareObjectState] = (),
    ) -> None:
        """One change, checked whole before any of it is made: at most 100 updates,
        never the same object twice."""
        what = f"Updating the objects of share '{name}'"
        with self._lock:
            share = self._owned_share(what, name)
            added = self._checked_object_updates(what, share, add, remove, update)
            updated = self._checked_changes(what, share, update)
            removed = {n.lower() for n in remove}
            share.objects = [
                updated.get(o.name, o) for o in share.objects if o.name not in removed
            ] + added

    def _checked_changes(
        self, what: str, share: HeldShare, update: Sequence[ShareObjectState]
    ) -> dict[str, ShareObjectState]:
        """The objects `update` changes, as the share will hold them (an UPDATE changes
        the comment, history sharing, change data feed and partitions only)."""
        present = {o.name: o for o in share.objects}
        changed: dict[str, ShareObjectState] = {}
        for obj in update:
            current = present[obj.name.lower()]
            if obj.shared_as and obj.shared_as.lower() != (current.shared_as or ""):
                raise InvalidRequestError(
                    f"{what}: Updating shared_as of data object '{obj.name}' is not supported."
                )
            changed[current.name] = replace(
                current,
                comment=obj.comment,
                cdf_enabled=obj.cdf_enabled if obj.cdf_enabled is not None else current.cdf_enabled,
                history_data_sharing_status=obj.history_data_sharing_status
                or current.history_data_sharing_status,
                partitions=obj.partitions or current.partitions,
            )
        return changed

    def _checked_object_updates(
        self,
        what: str,
        share: HeldShare,
        add: Sequence[ShareObjectState],
        remove: Sequence[str],
        update: Sequence[ShareObjectState] = (),
    ) -> list[ShareObjectState]:
        """The objects to add as the share will hold them; raise as a workspace refuses."""
        if len(add) + len(remove) + len(update) > MAX_OBJECT_UPDATES:
            raise InvalidRequestError(
                f"{what}: UpdateShare number of data objects to update exceeds limit "
                f"{MAX_OBJECT_UPDATES}"
            )
        touched = [o.name.lower() for o in [*add, *update]] + [n.lower() for n in remove]
        repeated = sorted({n for n in touched if touched.count(n) > 1})
        if repeated:
            raise InvalidRequestError(
                f"{what}: UpdateShare duplicate updates on the same data object, names: "
                f"[{', '.join(repeated)}]."
            )
        present = {o.name: o for o in share.objects}
        aliases = {o.shared_as: o.name for o in share.objects if o.shared_as}
        added = [self._checked_add(what, share, obj, present, aliases) for obj in add]
        for obj in update:
            check_partitions(what, obj)
            if obj.name.lower() not in present:
                raise ResourceNotFoundError(
                    f"{what}: Data object '{obj.name}' does not exist in share '{share.name}'."
                )
        for object_name in remove:
            gone = present.get(object_name.lower())
            if gone is None:
                raise ResourceNotFoundError(
                    f"{what}: Data object '{object_name}' does not exist in share '{share.name}'."
                )
            aliases.pop(gone.shared_as or "", None)
        count = len(share.objects) + len(add) - len(remove)
        if count > MAX_OBJECTS_PER_SHARE:
            raise InvalidRequestError(
                f"{what}: Share '{share.name}' would hold {count} data objects; the limit is "
                f"{MAX_OBJECTS_PER_SHARE}."
            )
        return added

    def _checked_add(
        self,
        what: str,
        share: HeldShare,
        obj: ShareObjectState,
        present: Mapping[str, ShareObjectState],
        aliases: dict[str, str],
    ) -> ShareObjectState:
        name, kind = obj.name.lower(), obj.data_object_type
        check_partitions(what, obj)
        if obj.partitions and kind in (DataObjectType.SCHEMA, DataObjectType.VIEW):
            raise InvalidRequestError(
                f"{what}: Partitions are only supported on tables; {name} is a {kind}."
            )
        if name in present:
            raise ResourceAlreadyExistsError(
                f"{what}: Data object '{obj.name}' already exists in share '{share.name}'."
            )
        stored = as_added(obj)
        if kind is DataObjectType.SCHEMA:
            if name not in self._schemas:
                raise ResourceNotFoundError(f"{what}: Schema '{obj.name}' does not exist.")
            return stored
        if kind not in TABLE_KINDS:
            raise InvalidRequestError(f"{what}: Data object type '{kind}' is not supported.")
        if obj.string_shared_as:
            raise InvalidRequestError(
                f"{what}: string_shared_as applies to non-table objects; {name} is a {kind}."
            )
        table_type = self._tables.get(name)
        if table_type is None:
            raise ResourceNotFoundError(f"{what}: Table '{obj.name}' does not exist.")
        if (kind is DataObjectType.VIEW) != (table_type == VIEW):
            raise InvalidRequestError(f"{what}: {name} is a {table_type}, not a {kind}.")
        alias = stored.shared_as or ""
        if not SHARED_AS.fullmatch(alias):
            raise InvalidRequestError(
                f"{what}: Invalid shared_as name '{alias}': it must be <schema_name>.<table_name>, "
                "each part of letters, digits and underscores only."
            )
        if alias in aliases:
            raise InvalidRequestError(
                f"{what}: Data object '{aliases[alias]}' is already shared as '{alias}' in "
                f"share '{share.name}'."
            )
        aliases[alias] = name
        return stored

    def update_share_grants(self, name: str, add: Sequence[str], remove: Sequence[str]) -> None:
        what = f"Updating the grants of share '{name}'"
        with self._lock:
            share = self._owned_share(what, name)
            for principal in [*add, *remove]:
                if not principal:
                    raise InvalidRequestError(
                        f"{what}: a permissions change must name its principal"
                    )
            for principal in add:
                if principal.lower() not in self._recipients:
                    raise ResourceNotFoundError(
                        f"{what}: Recipient '{principal.lower()}' does not exist."
                    )
            share.grantees.update(p.lower() for p in add)
            share.grantees.difference_update(p.lower() for p in remove)

    def _owned_share(self, what: str, name: str) -> HeldShare:
        held = self._shares.get(name.lower())
        if held is None:
            raise ResourceNotFoundError(f"{what}: Share '{name.lower()}' does not exist.")
        if held.owner != self._user:
            raise WorkspacePermissionError(f"{what}: User is not an owner of Share '{held.name}'.")
        return held
