"""Pages of list answers with opaque `next_page_token`s, as Databricks list endpoints page.

A token names the last key served, so a page stays correct when items are added or removed
between two calls (keyset paging). `max_results=0` means the server's default page size,
which is what the SDK sends when the caller gives none.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from databricks_emulator.errors import invalid

T = TypeVar("T")


def encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def decode_token(token: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        after = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise invalid(f"Invalid page_token '{token}'.") from None
    if not isinstance(after, str):
        raise invalid(f"Invalid page_token '{token}'.")
    return after


def page(
    items: Sequence[T],
    key: Callable[[T], str],
    max_results: int | None,
    page_token: str | None,
    *,
    default_size: int = 50,
    max_size: int = 1000,
    unpaged_when_absent: bool = True,
) -> tuple[list[T], str | None]:
    """One page of `items` (sorted by `key`) and the token of the next page, if any.

    No `max_results` means everything at once when `unpaged_when_absent`, as the Unity
    Catalog list endpoints answer; a value above `max_size` is capped to it.
    """
    if max_results is not None and max_results < 0:
        raise invalid("max_results must be greater than or equal to 0.")
    ordered = sorted(items, key=key)
    if page_token:
        after = decode_token(page_token)
        ordered = [item for item in ordered if key(item) > after]
    if max_results is None and unpaged_when_absent:
        return ordered, None
    size = min(max_results or default_size, max_size)
    chunk = ordered[:size]
    more = len(ordered) > size
    return chunk, (encode_token(key(chunk[-1])) if more and chunk else None)


def listing(
    field: str,
    items: Sequence[T],
    key: Callable[[T], str],
    max_results: int | None,
    page_token: str | None,
    *,
    default_size: int = 50,
    max_size: int = 1000,
) -> dict[str, object]:
    """`{field: [...], "next_page_token": ...}`, the token present only while more remain."""
    chunk, token = page(
        items, key, max_results, page_token, default_size=default_size, max_size=max_size
    )
    return {field: chunk, **({"next_page_token": token} if token else {})}
