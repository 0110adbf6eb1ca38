"""Helpers every route module shares: the JSON body, the emulator behind the app, base URL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import Request

from databricks_emulator.errors import invalid

if TYPE_CHECKING:
    from databricks_emulator.emulator import Emulator


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise invalid(f"Malformed JSON body: {exc}") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


def emulator(request: Request) -> Emulator:
    em: Emulator = request.app.state.emulator
    return em


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")
