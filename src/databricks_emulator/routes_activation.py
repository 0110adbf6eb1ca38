"""The public activation paths a partner's activation link leads to (no workspace token).

databricks-sdk `RecipientActivationAPI` calls
`GET /api/2.1/unity-catalog/public/data_sharing_activation_info/{activation_url}` and
`GET /api/2.1/unity-catalog/public/data_sharing_activation/{activation_url}`, where
`activation_url` is "the one time activation url. It also accepts activation token": the
part after `?` of `https://<workspace>/delta_sharing/retrieve_config.html?<token>`.
Retrieval hands the credential out once (SDK: "you can download the credential file only
once"); from then on the token shows no `activation_url` and a second retrieval is refused,
while the link itself may still be visited while the token lives (a public walkthrough of
open sharing: "access the activation URL as many times as you want (during the validity
period) but the download of the configuration file ... is only possible once").
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from databricks_emulator.catalog import now_ms
from databricks_emulator.errors import not_found, permission_denied
from databricks_emulator.partner_access import expiry_ms, ip_allowed, ip_refusal
from databricks_emulator.routes_common import base_url, emulator
from databricks_emulator.sharing import SharingState

activation_router = APIRouter(prefix="/api/2.1/unity-catalog/public")
DELTA_SHARING_PREFIX = "/api/2.0/delta-sharing/metastores"
ALREADY_RETRIEVED = "The activation link has already been used; a credential is retrieved once."


def sharing_endpoint(base: str, metastore_id: str) -> str:
    """The profile's `endpoint`, in the real form
    `<workspace>/api/2.0/delta-sharing/metastores/<metastore id>`."""
    return f"{base}{DELTA_SHARING_PREFIX}/{metastore_id}"


def _token_for(
    sharing: SharingState, activation: str, host: str | None, *, retrieving: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The recipient and token whose link ends in `activation` (a token or the whole link),
    checked for the caller's address, the token's expiry and, when `retrieving`, the
    download's one use (the link itself may be visited again while the token lives)."""
    secret = activation.rsplit("?", 1)[-1]
    for recipient in sharing.recipients.values():
        for token in recipient.get("tokens") or []:
            if not secret or not str(token.get("activation_path", "")).endswith(f"?{secret}"):
                continue
            if not ip_allowed(recipient, host):
                raise permission_denied(ip_refusal(host))
            expires = expiry_ms(recipient, token)
            if expires is not None and expires <= now_ms():
                raise permission_denied("The activation link has expired.")
            if retrieving and token.get("retrieved"):
                raise permission_denied(ALREADY_RETRIEVED)
            return recipient, token
    raise not_found("The activation link does not exist.")


def _iso(epoch_ms: int) -> str:
    """PROTOCOL.md, Profile File Format: `expirationTime` in ISO 8601."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@activation_router.get("/data_sharing_activation_info/{activation_url:path}")
async def activation_info(request: Request, activation_url: str) -> dict[str, Any]:
    """Whether the link is live (known, unexpired, from an allowed address); the SDK reads
    nothing from the answer."""
    em = emulator(request)
    with em.lock:
        _token_for(em.sharing, activation_url, _host(request), retrieving=False)
    return {}


@activation_router.get("/data_sharing_activation/{activation_url:path}")
async def retrieve_token(request: Request, activation_url: str) -> dict[str, Any]:
    """The credential (a profile file's fields), once; the recipient is then activated."""
    em = emulator(request)
    with em.lock:
        recipient, token = _token_for(em.sharing, activation_url, _host(request), retrieving=True)
        token["retrieved"] = True
        # A token kept in a state file from before bearer tokens existed gets one now.
        token.setdefault("bearer_token", secrets.token_urlsafe(32))
        recipient["activated"] = True
        answer: dict[str, Any] = {
            "shareCredentialsVersion": 1,
            "endpoint": sharing_endpoint(base_url(request), em.sharing.metastore_id),
            "bearerToken": token["bearer_token"],
        }
        expires = expiry_ms(recipient, token)
        if expires is not None:
            answer["expirationTime"] = _iso(expires)
    em.changed()  # a GET that changes the workspace: keep it, as a mutating call is kept
    return answer


def _host(request: Request) -> str | None:
    return request.client.host if request.client else None
