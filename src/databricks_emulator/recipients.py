"""Checks and records of Delta Sharing recipients: D2O (TOKEN) and D2D (DATABRICKS).

A TOKEN recipient holds tokens whose activation links are secrets; the emulator keeps only
the link's path and renders it against the base URL of each request. Each token also holds
the bearer token a partner retrieves once through that link (`routes_activation.py`);
neither secret, nor whether it was retrieved, is part of what the API answers.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import secrets
import uuid
from typing import Any

from databricks_emulator.catalog import now_ms
from databricks_emulator.errors import invalid

MAX_IPS = 100
MAX_ACTIVE_TOKENS = 2
CLOUDS = ("aws", "azure", "gcp")
AUTHENTICATION_TYPES = ("TOKEN", "DATABRICKS")
_SHARING_ID = re.compile(
    r"^(?P<cloud>[a-z]+):(?P<region>[a-z0-9-]+):"
    r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
_BAD_NAME = re.compile(r"[\s./]")
#: The real link form: `https://<workspace>/delta_sharing/retrieve_config.html?<activation token>`.
ACTIVATION_LINK_PATH = "/delta_sharing/retrieve_config.html?"
#: Kept with a token, never answered: its secrets and whether its link was used.
PRIVATE_TOKEN_FIELDS = ("activation_path", "bearer_token", "retrieved")


def check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not name:
        raise invalid(f"{kind} name must be provided.")
    if _BAD_NAME.search(name):
        raise invalid(f"Invalid {kind.lower()} name '{name}': spaces, '.' and '/' are not allowed.")
    return name.lower()  # Unity Catalog stores every object name in lower case


def check_ips(ips: list[Any]) -> list[str]:
    """IPv4 addresses or CIDR blocks, at most 100; an empty list means from anywhere."""
    if len(ips) > MAX_IPS:
        raise invalid(f"An IP access list may hold at most {MAX_IPS} entries, got {len(ips)}.")
    for ip in ips:
        try:
            ipaddress.IPv4Network(str(ip), strict=False)
        except ValueError:
            raise invalid(f"Invalid IP address or CIDR block: '{ip}'.") from None
    return [str(ip) for ip in ips]


def parse_sharing_id(global_id: object) -> dict[str, str]:
    """`cloud:region:uuid` as its parts, or the error a workspace answers for it."""
    match = _SHARING_ID.match(global_id) if isinstance(global_id, str) else None
    if match is None or match["cloud"] not in CLOUDS:
        raise invalid(f"Cannot resolve target shard for sharing identifier '{global_id}'.")
    return {"cloud": match["cloud"], "region": match["region"], "metastore_id": match["uuid"]}


def new_token(user: str, created: int, expiration_time: int | None = None) -> dict[str, Any]:
    token: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "activation_path": f"{ACTIVATION_LINK_PATH}{secrets.token_urlsafe(24)}",
        "bearer_token": secrets.token_urlsafe(32),
        "created_at": created,
        "created_by": user,
        "updated_at": created,
        "updated_by": user,
    }
    if expiration_time is not None:
        token["expiration_time"] = expiration_time
    return token


def rotate(recipient: dict[str, Any], expire_in_seconds: Any, user: str) -> None:
    """A new token first; the old ones expire now, or in `expire_in_seconds`, which may
    only bring an old token's expiry forward, never push it back (databricks-sdk
    `RecipientsAPI.rotate_token`: "it cannot extend the expiration_time")."""
    if not isinstance(expire_in_seconds, int) or expire_in_seconds < 0:
        raise invalid("existing_token_expire_in_seconds must be a non-negative number.")
    now = now_ms()
    alive = [t for t in recipient["tokens"] if t.get("expiration_time", now + 1) > now]
    if len(alive) >= MAX_ACTIVE_TOKENS:
        raise invalid(
            f"There are already two activated tokens for recipient '{recipient['name']}'."
        )
    expires = now + expire_in_seconds * 1000
    if any(expires > t.get("expiration_time", expires) for t in alive):
        raise invalid("Cannot extend the token expiration time.")
    kept = []
    if expire_in_seconds > 0:
        for token in alive:
            token["expiration_time"] = expires
            token["updated_at"] = now
            token["updated_by"] = user
            kept.append(token)
    recipient["tokens"] = [new_token(user, now, recipient.get("expiration_time")), *kept]


def view(recipient: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The recipient as the API answers it: a token shows its activation link, rendered
    against `base_url`, until the credential behind it has been retrieved."""
    answer = {k: v for k, v in recipient.items() if k != "tokens"}
    if "tokens" in recipient:
        answer["tokens"] = [
            {
                **{k: v for k, v in token.items() if k not in PRIVATE_TOKEN_FIELDS},
                **(
                    {"activation_url": f"{base_url}{token['activation_path']}"}
                    if not token.get("retrieved")
                    else {}
                ),
            }
            for token in recipient["tokens"]
        ]
    return copy.deepcopy(answer)
