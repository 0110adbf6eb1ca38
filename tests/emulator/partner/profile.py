"""How a partner gets its Delta Sharing profile: follow the recipient's activation link.

    path = partner_profile(workspace_client, "acme", tmp_path)
    delta_sharing.SharingClient(str(path)).list_all_tables()
    delta_sharing.load_as_pandas(f"{path}#share.schema.table")

The link is used up by this: a second call for the same token fails, as on Databricks.
"""

from __future__ import annotations

import json
from pathlib import Path

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sharing import RetrieveTokenResponse

#: The public activation API needs no workspace token; the SDK still wants one to start.
_NO_WORKSPACE_TOKEN = "partner-holds-no-workspace-token"


def activation_token(client: WorkspaceClient, recipient: str) -> str:
    """The activation token (the link's part after `?`) of the recipient's newest token
    that still shows its link; `LookupError` when every link was used."""
    info = client.recipients.get(recipient)
    for token in info.tokens or []:
        if token.activation_url:
            return token.activation_url.split("?", 1)[1]
    raise LookupError(f"Recipient '{recipient}' has no unused activation link")


def partner_client(client: WorkspaceClient) -> WorkspaceClient:
    """An SDK client for the partner's side: the same host, no workspace credentials."""
    return WorkspaceClient(host=client.config.host, token=_NO_WORKSPACE_TOKEN, auth_type="pat")


def retrieve(client: WorkspaceClient, activation: str) -> RetrieveTokenResponse:
    """The credential behind an activation token, as the partner's download of it."""
    return partner_client(client).recipient_activation.retrieve_token(activation)


def write_profile(credential: RetrieveTokenResponse, path: Path) -> Path:
    """The credential as a profile file (PROTOCOL.md, Profile File Format)."""
    path.write_text(json.dumps(credential.as_dict()), encoding="utf-8")
    return path


def partner_profile(client: WorkspaceClient, recipient: str, directory: Path) -> Path:
    """Retrieve the recipient's credential through its activation link and write it as
    `<directory>/<recipient>.share`, the file the `delta-sharing` client reads."""
    credential = retrieve(client, activation_token(client, recipient))
    return write_profile(credential, directory / f"{recipient}.share")
