"""`/api/2.1/unity-catalog/{recipients,shares}`: the paths and bodies databricks-sdk uses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from databricks_emulator.emulator import Emulator
from databricks_emulator.paging import listing
from databricks_emulator.routes_common import base_url, emulator, json_body

sharing_router = APIRouter(prefix="/api/2.1/unity-catalog")


def _by_name(item: dict[str, Any]) -> str:
    return str(item["name"])


def _arranged(share: dict[str, Any], em: Emulator) -> dict[str, Any]:
    """The share with its objects in the paging mode's order: no order is promised."""
    if "objects" in share:
        share["objects"] = em.paging.arrange(share["objects"], _by_name)
    return share


@sharing_router.post("/recipients")
async def create_recipient(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        name = em.sharing.create_recipient(body)
        return em.sharing.recipient_view(name, base_url(request))


@sharing_router.get("/recipients")
async def list_recipients(
    request: Request,
    max_results: int | None = None,
    page_token: str | None = None,
    data_recipient_global_metastore_id: str | None = None,
) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        everything = em.sharing.list_recipients(
            data_recipient_global_metastore_id, base_url(request)
        )
        paging = em.paging
    return listing("recipients", everything, _by_name, max_results, page_token, paging=paging)


@sharing_router.get("/recipients/{name}")
async def get_recipient(request: Request, name: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        return em.sharing.recipient_view(name, base_url(request))


@sharing_router.patch("/recipients/{name}")
async def update_recipient(request: Request, name: str) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        current = em.sharing.update_recipient(name, body)
        return em.sharing.recipient_view(current, base_url(request))


@sharing_router.delete("/recipients/{name}")
async def delete_recipient(request: Request, name: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        em.sharing.delete_recipient(name)
    return {}


@sharing_router.post("/recipients/{name}/rotate-token")
async def rotate_token(request: Request, name: str) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        em.sharing.rotate_token(name, body)
        return em.sharing.recipient_view(name, base_url(request))


@sharing_router.get("/recipients/{name}/share-permissions")
async def recipient_share_permissions(
    request: Request, name: str, max_results: int | None = None, page_token: str | None = None
) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        everything = em.sharing.recipient_share_permissions(name)
        paging = em.paging
    return listing(
        "permissions_out",
        everything,
        lambda p: str(p["share_name"]),
        max_results,
        page_token,
        paging=paging,
    )


@sharing_router.post("/shares")
async def create_share(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        name = em.sharing.create_share(body)
        return em.sharing.share_view(name, include_objects=False)


@sharing_router.get("/shares")
async def list_shares(
    request: Request, max_results: int | None = None, page_token: str | None = None
) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        everything = [em.sharing.share_view(n, include_objects=False) for n in em.sharing.shares]
        paging = em.paging
    return listing("shares", everything, _by_name, max_results, page_token, paging=paging)


@sharing_router.get("/shares/{name}")
async def get_share(
    request: Request, name: str, include_shared_data: bool = False
) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        return _arranged(em.sharing.share_view(name, include_objects=include_shared_data), em)


@sharing_router.patch("/shares/{name}")
async def update_share(request: Request, name: str) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        current = em.sharing.update_share(name, body)
        return _arranged(em.sharing.share_view(current, include_objects=True), em)


@sharing_router.delete("/shares/{name}")
async def delete_share(request: Request, name: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        em.sharing.delete_share(name)
    return {}


@sharing_router.get("/shares/{name}/permissions")
async def share_permissions(
    request: Request, name: str, max_results: int | None = None, page_token: str | None = None
) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        everything = em.sharing.share_permissions(name)
        paging = em.paging
    return listing(
        "privilege_assignments",
        everything,
        lambda p: str(p["principal"]),
        max_results,
        page_token,
        paging=paging,
    )


@sharing_router.patch("/shares/{name}/permissions")
async def update_share_permissions(request: Request, name: str) -> dict[str, Any]:
    body = await json_body(request)
    em = emulator(request)
    with em.lock:
        em.sharing.update_share_permissions(name, body)
        if body.get("omit_permissions_list"):
            return {}
        return {"privilege_assignments": em.sharing.share_permissions(name)}
