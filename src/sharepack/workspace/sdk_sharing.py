"""Recipients, shares, share objects, grants and catalog look-ups through databricks-sdk."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence

from databricks.sdk import WorkspaceClient
from databricks.sdk.service import catalog, sharing

from sharepack.workspace.errors import ResourceNotFoundError
from sharepack.workspace.sdk_errors import translated_errors
from sharepack.workspace.state import (
    AuthenticationType,
    DataObjectType,
    HistoryDataSharingStatus,
    Partition,
    PartitionOp,
    PartitionValue,
    RecipientState,
    ShareObjectState,
    ShareState,
    shared_kind,
)

CONTACT_EMAIL_PROPERTY = "sharepack.contact_email"
_SELECT = sharing.Privilege.SELECT
_VIEW = catalog.TableType.VIEW.value


def read_recipient(client: WorkspaceClient, name: str) -> RecipientState | None:
    try:
        with translated_errors(f"Reading recipient '{name}'"):
            info = client.recipients.get(name)
    except ResourceNotFoundError:
        return None
    return _recipient_state(info)


def read_recipients(client: WorkspaceClient, names: Iterable[str]) -> dict[str, RecipientState]:
    """The named recipients that exist, from one listing (a few pages) instead of a GET each:
    a pack naming thousands of recipients is read in seconds."""
    wanted = set(names)
    with translated_errors("Listing recipients"):
        listed = list(client.recipients.list())
    return {
        info.name: _recipient_state(info)
        for info in listed
        if info.name is not None and info.name in wanted
    }


def _recipient_state(info: sharing.RecipientInfo) -> RecipientState:
    properties = dict(info.properties_kvpairs.properties or {}) if info.properties_kvpairs else {}
    allowed = info.ip_access_list.allowed_ip_addresses if info.ip_access_list else None
    auth = info.authentication_type.value if info.authentication_type else "TOKEN"
    return RecipientState(
        name=info.name or "",
        authentication_type=AuthenticationType(auth),
        comment=info.comment or "",
        allowed_ips=tuple(allowed or ()),
        metastore_id=info.data_recipient_global_metastore_id,
        contact_email=properties.pop(CONTACT_EMAIL_PROPERTY, None),
        properties=tuple(properties.items()),
        expiration_time=info.expiration_time,
        owner=info.owner,
    )


def _properties(recipient: RecipientState) -> sharing.SecurablePropertiesKvPairs | None:
    """Every property of `recipient`: its own and the contact email, or None for none."""
    properties = dict(recipient.properties)
    if recipient.contact_email is not None:
        properties[CONTACT_EMAIL_PROPERTY] = recipient.contact_email
    return sharing.SecurablePropertiesKvPairs(properties=properties) if properties else None


def _replaced_properties(
    current: sharing.RecipientInfo, recipient: RecipientState, planned: RecipientState | None
) -> sharing.SecurablePropertiesKvPairs | None:
    """The whole properties map to send, or None when it is unchanged.

    An update replaces the recipient's properties as a whole (the SDK documents a
    read-modify-write to add or remove one), so the map sent keeps every property as the
    workspace holds it now, but for the contact email and the keys that `recipient`
    changes from `planned`.
    """
    found = current.properties_kvpairs.properties if current.properties_kvpairs else None
    now = dict(found or {})
    after = changed_properties(now, recipient, planned)
    if after == now:
        return None
    return sharing.SecurablePropertiesKvPairs(properties=after)


def changed_properties(
    now: dict[str, str], recipient: RecipientState, planned: RecipientState | None
) -> dict[str, str]:
    """`now` with the contact email `recipient` declares and, against `planned`, each
    property it sets, changes or removes; other keys as they are."""
    after = {k: v for k, v in now.items() if k != CONTACT_EMAIL_PROPERTY}
    if planned is not None:
        wanted, was = dict(recipient.properties), dict(planned.properties)
        after.update({k: v for k, v in wanted.items() if was.get(k) != v})
        for gone in was.keys() - wanted.keys():
            after.pop(gone, None)
    if recipient.contact_email is not None:
        after[CONTACT_EMAIL_PROPERTY] = recipient.contact_email
    return after


def _ip_list(recipient: RecipientState) -> sharing.IpAccessList | None:
    if recipient.authentication_type is not AuthenticationType.TOKEN:
        return None
    return sharing.IpAccessList(allowed_ip_addresses=list(recipient.allowed_ips))


def create_recipient(client: WorkspaceClient, recipient: RecipientState) -> RecipientState:
    with translated_errors(f"Creating recipient '{recipient.name}'"):
        info = client.recipients.create(
            name=recipient.name,
            authentication_type=sharing.AuthenticationType(recipient.authentication_type.value),
            comment=recipient.comment or None,
            data_recipient_global_metastore_id=recipient.metastore_id,
            ip_access_list=_ip_list(recipient) if recipient.allowed_ips else None,
            properties_kvpairs=_properties(recipient),
            expiration_time=recipient.expiration_time,
            owner=recipient.owner,
        )
    # The response carries the activation link's token; it is dropped here, never kept.
    return _recipient_state(info)


def update_recipient(
    client: WorkspaceClient, recipient: RecipientState, before: RecipientState | None = None
) -> RecipientState:
    """Set what a pack declares (see `Workspace.update_recipient`); the owner, and what
    `before` does not show changing, stay as the workspace holds them."""
    changes_expiry = before is not None and before.expiration_time != recipient.expiration_time
    with translated_errors(f"Updating recipient '{recipient.name}'"):
        current = client.recipients.get(recipient.name)
        client.recipients.update(
            recipient.name,
            comment=recipient.comment,
            ip_access_list=_ip_list(recipient),
            properties_kvpairs=_replaced_properties(current, recipient, before),
            expiration_time=recipient.expiration_time if changes_expiry else None,
        )
        info = client.recipients.get(recipient.name)
    return _recipient_state(info)


def delete_recipient(client: WorkspaceClient, name: str) -> None:
    with translated_errors(f"Deleting recipient '{name}'"):
        client.recipients.delete(name)


def read_share(client: WorkspaceClient, name: str) -> ShareState | None:
    try:
        with translated_errors(f"Reading share '{name}'"):
            info = client.shares.get(name, include_shared_data=True)
            grantees = _read_grantees(client, name)
    except ResourceNotFoundError:
        return None
    # The server promises no order: sorted, a share read twice compares equal.
    objects = tuple(sorted((_object_state(o) for o in info.objects or ()), key=_by_name))
    return ShareState(name=name, comment=info.comment or "", objects=objects, grantees=grantees)


def _by_name(obj: ShareObjectState) -> str:
    return obj.name


def _object_state(obj: sharing.SharedDataObject) -> ShareObjectState:
    kind = obj.data_object_type.value if obj.data_object_type else DataObjectType.TABLE.value
    history = obj.history_data_sharing_status
    return ShareObjectState(
        name=obj.name,
        data_object_type=DataObjectType(kind),
        shared_as=obj.shared_as,
        comment=obj.comment or "",
        cdf_enabled=obj.cdf_enabled,
        history_data_sharing_status=HistoryDataSharingStatus(history.value) if history else None,
        start_version=obj.start_version,
        partitions=tuple(
            Partition(values=tuple(_partition_value(v) for v in p.values or ()))
            for p in obj.partitions or ()
        ),
        string_shared_as=obj.string_shared_as,
    )


def _partition_value(value: sharing.PartitionValue) -> PartitionValue:
    return PartitionValue(
        name=value.name or "",
        op=PartitionOp(value.op.value) if value.op else PartitionOp.EQUAL,
        value=value.value,
        recipient_property_key=value.recipient_property_key,
    )


def _data_object(obj: ShareObjectState) -> sharing.SharedDataObject:
    """The object to ADD, with every field it had; None and empty ones are the server's."""
    history = obj.history_data_sharing_status
    return sharing.SharedDataObject(
        name=obj.name,
        data_object_type=sharing.SharedDataObjectDataObjectType(obj.data_object_type.value),
        shared_as=obj.shared_as,
        comment=obj.comment or None,
        cdf_enabled=obj.cdf_enabled,
        history_data_sharing_status=(
            sharing.SharedDataObjectHistoryDataSharingStatus(history.value) if history else None
        ),
        start_version=obj.start_version,
        partitions=[
            sharing.Partition(
                values=[
                    sharing.PartitionValue(
                        name=v.name,
                        op=sharing.PartitionValueOp(v.op.value),
                        value=v.value,
                        recipient_property_key=v.recipient_property_key,
                    )
                    for v in p.values
                ]
            )
            for p in obj.partitions
        ]
        or None,
        string_shared_as=obj.string_shared_as,
    )


def _updated_object(obj: ShareObjectState) -> sharing.SharedDataObject:
    """What an UPDATE may change: an alias and a start version are set when an object is
    added, and are sent only as they are (the service refuses a change to them)."""
    added = _data_object(obj)
    added.start_version = None
    added.string_shared_as = None
    added.comment = obj.comment  # an empty one clears it
    return added


def _read_grantees(client: WorkspaceClient, name: str) -> frozenset[str]:
    grantees: set[str] = set()
    page_token: str | None = None
    while True:
        response = client.shares.share_permissions(name, max_results=0, page_token=page_token)
        for assignment in response.privilege_assignments or ():
            if assignment.principal and _SELECT in (assignment.privileges or ()):
                grantees.add(assignment.principal)
        page_token = response.next_page_token
        if not page_token:
            return frozenset(grantees)


def read_recipient_grants(client: WorkspaceClient, name: str) -> frozenset[str] | None:
    """The shares granting recipient `name` SELECT, or None when it does not exist."""
    shares: set[str] = set()
    page_token: str | None = None
    try:
        with translated_errors(f"Reading the share permissions of recipient '{name}'"):
            while True:
                response = client.recipients.share_permissions(
                    name, max_results=0, page_token=page_token
                )
                for permission in response.permissions_out or ():
                    assignments = permission.privilege_assignments or ()
                    if permission.share_name and any(
                        _SELECT in (a.privileges or ()) for a in assignments
                    ):
                        shares.add(permission.share_name)
                page_token = response.next_page_token
                if not page_token:
                    break
    except ResourceNotFoundError:
        return None
    return frozenset(shares)


def create_share(client: WorkspaceClient, name: str, comment: str) -> ShareState:
    with translated_errors(f"Creating share '{name}'"):
        info = client.shares.create(name, comment=comment or None)
    return ShareState(name=info.name or name, comment=info.comment or "")


def update_share_comment(client: WorkspaceClient, name: str, comment: str) -> None:
    with translated_errors(f"Updating the comment of share '{name}'"):
        client.shares.update(name, comment=comment)


def delete_share(client: WorkspaceClient, name: str) -> None:
    with translated_errors(f"Deleting share '{name}'"):
        client.shares.delete(name)


def update_share_objects(
    client: WorkspaceClient,
    name: str,
    add: Sequence[ShareObjectState],
    remove: Sequence[str],
    update: Sequence[ShareObjectState] = (),
) -> None:
    updates = (
        [
            sharing.SharedDataObjectUpdate(
                action=sharing.SharedDataObjectUpdateAction.ADD,
                data_object=_data_object(o),
            )
            for o in add
        ]
        + [
            sharing.SharedDataObjectUpdate(
                action=sharing.SharedDataObjectUpdateAction.UPDATE,
                data_object=_updated_object(o),
            )
            for o in update
        ]
        + [
            sharing.SharedDataObjectUpdate(
                action=sharing.SharedDataObjectUpdateAction.REMOVE,
                data_object=sharing.SharedDataObject(name=object_name),
            )
            for object_name in remove
        ]
    )
    with translated_errors(f"Updating the objects of share '{name}'"):
        client.shares.update(name, updates=updates)


def update_share_grants(
    client: WorkspaceClient, name: str, add: Sequence[str], remove: Sequence[str]
) -> None:
    changes = [sharing.PermissionsChange(principal=p, add=[_SELECT.value]) for p in add] + [
        sharing.PermissionsChange(principal=p, remove=[_SELECT.value]) for p in remove
    ]
    with translated_errors(f"Updating the grants of share '{name}'"):
        client.shares.update_permissions(name, changes=changes)


# From this many tables wanted from one schema, one listing is cheaper than a call each.
LIST_SCHEMA_FROM = 4

#: A read finding some of the objects a pack names: each found, with its table type ("" for
#: a schema).
ObjectRead = Callable[[], dict[str, str]]


def object_reads(client: WorkspaceClient, names: Iterable[str]) -> list[ObjectRead]:
    """Independent reads that together find which of `names` (catalog.schema.table or
    catalog.schema) exist: a schema's tables in one listing when many are wanted from it,
    else a call each. Run them side by side; `found_objects` sums their answers up."""
    by_schema: dict[str, list[str]] = {}
    reads: list[ObjectRead] = []
    for full_name in dict.fromkeys(names):
        if full_name.count(".") >= 2:
            by_schema.setdefault(full_name.rsplit(".", 1)[0], []).append(full_name)
        else:
            reads.append(functools.partial(_schema_found, client, full_name))
    for schema, tables in by_schema.items():
        if len(tables) >= LIST_SCHEMA_FROM:
            reads.append(functools.partial(_tables_found_in_schema, client, schema, tables))
        else:
            reads.extend(functools.partial(_table_found, client, table) for table in tables)
    return reads


def found_objects(
    found: Mapping[str, str],
) -> tuple[frozenset[str], frozenset[str], dict[str, DataObjectType]]:
    """The objects found, those of them that are views (shared as a VIEW, not a TABLE),
    and how each that is not a plain table is shared (`shared_kind`)."""
    kinds = {n: kind for n, t in found.items() if (kind := shared_kind(t)) is not None}
    return frozenset(found), frozenset(n for n, kind in found.items() if kind == _VIEW), kinds


def _schema_found(client: WorkspaceClient, full_name: str) -> dict[str, str]:
    return {full_name: ""} if _schema_exists(client, full_name) else {}


def _table_found(client: WorkspaceClient, full_name: str) -> dict[str, str]:
    table_type = _table_type(client, full_name)
    return {} if table_type is None else {full_name: table_type}


def _tables_found_in_schema(
    client: WorkspaceClient, schema: str, tables: Sequence[str]
) -> dict[str, str]:
    listed = _tables_in_schema(client, schema)
    return {table: listed[table] for table in tables if table in listed}


def _schema_exists(client: WorkspaceClient, full_name: str) -> bool:
    try:
        with translated_errors(f"Looking up schema '{full_name}'"):
            client.schemas.get(full_name)
    except ResourceNotFoundError:
        return False
    return True


def _table_type(client: WorkspaceClient, full_name: str) -> str | None:
    """The table's type (MANAGED, VIEW, ...), or None when it does not exist."""
    try:
        with translated_errors(f"Looking up table '{full_name}'"):
            info = client.tables.get(full_name)
    except ResourceNotFoundError:
        return None
    return info.table_type.value if info.table_type else ""


def _tables_in_schema(client: WorkspaceClient, schema: str) -> dict[str, str]:
    """The schema's tables and their types, from the catalog's table summaries (a page
    holds up to 10,000: one call where `tables.list` pages by 50). The schema is a LIKE
    pattern there, `_` matching any character: only its own tables are kept."""
    catalog_name, schema_name = schema.split(".", 1)
    prefix = f"{schema}.".lower()
    try:
        with translated_errors(f"Listing the tables of '{schema}'"):
            return {
                t.full_name: t.table_type.value if t.table_type else ""
                for t in client.tables.list_summaries(
                    catalog_name, schema_name_pattern=schema_name, max_results=0
                )
                if t.full_name and t.full_name.lower().startswith(prefix)
            }
    except ResourceNotFoundError:
        return {}
