"""Pages of list answers with opaque `next_page_token`s, as Databricks list endpoints page.

A token names the last position served, so a page stays correct when items are added or
removed between two calls (keyset paging). `max_results=0` means the server's default page
size, which is what the SDK sends when the caller gives none; a value above the most one
page may hold is capped to it; a negative one is refused.

Two modes (`Paging`), switched with `POST /_emulator/paging`:

- `realistic` (the default) pages as the Unity Catalog list endpoints say they may: in no
  promised order (here an order from a hash of each item's key and the emulator's seed),
  and with pages that are sometimes short or empty while `next_page_token` is still given
  (the databricks-sdk docstrings of `RecipientsAPI.list`, `SharesAPI.list_shares`,
  `CatalogsAPI.list`: "The number of returned ... might be less than the specified
  max_results size, even zero. The only definitive indication that no further ... can be
  fetched is when the next_page_token is unset from the response."). A client that stops
  at the first short or empty page, or relies on an order, fails against it.
- `plain` pages in key order, every page full: the simple behaviour, for tests that count
  pages.

Either way the answer is a function of the items, the request and the seed only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from databricks_emulator.errors import invalid

T = TypeVar("T")
MODES = ("plain", "realistic")
#: One page in this many is empty (while more remain), one in this many is cut short.
_EMPTY_ONE_IN = 4
_SHORT_ONE_IN = 2


@dataclass(frozen=True)
class Paging:
    """How list endpoints order and cut their pages (see the module docstring)."""

    mode: str = "realistic"
    seed: int = 0

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Paging:
        mode = body.get("mode", "realistic")
        if mode not in MODES:
            raise invalid(f"'mode' must be one of {', '.join(MODES)}, not '{mode}'.")
        seed = body.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise invalid("'seed' must be a whole number.")
        return cls(mode, seed)

    @property
    def realistic(self) -> bool:
        return self.mode == "realistic"

    def position(self, key: str) -> str:
        """Where an item with this key sorts: the key itself, or behind a hash of it."""
        if not self.realistic:
            return key
        digest = hashlib.sha256(f"{self.seed}\0{key}".encode()).hexdigest()[:16]
        return f"{digest}\0{key}"

    def arrange(self, items: Sequence[T], key: Callable[[T], str]) -> list[T]:
        """`items` in this mode's order for an answer that is not paged (e.g. a share's
        objects): as given when plain, in the seed's order when realistic."""
        if not self.realistic:
            return list(items)
        return sorted(items, key=lambda item: self.position(key(item)))

    def _draw(self, after: str, step: int, salt: str) -> int:
        text = f"{self.seed}\0{after}\0{step}\0{salt}"
        return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)

    def page_length(self, after: str, step: int, size: int, remaining: int) -> int:
        """How many items the page after `after` holds: `size`, or fewer when realistic.

        `step` counts the empty pages just served at this position, so at most one empty
        page comes in a row and paging always ends."""
        if not self.realistic or remaining == 0:
            return min(size, remaining)
        if step == 0 and self._draw(after, step, "empty") % _EMPTY_ONE_IN == 0:
            return 0
        if size > 1 and self._draw(after, step, "short") % _SHORT_ONE_IN == 0:
            return min(remaining, 1 + self._draw(after, step, "length") % (size - 1))
        return min(size, remaining)

    def trailing_empty_page(self, after: str, step: int) -> bool:
        """Whether the page that served the last items still hands out a token (whose page
        is then empty), as a server that cannot know it reached the end does."""
        return self.realistic and step == 0 and self._draw(after, step, "trail") % 2 == 0


PLAIN = Paging("plain")


def encode_token(after: str, step: int = 0) -> str:
    body = json.dumps({"after": after, "step": step}).encode()
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, int]:
    """The position and empty-page count a token names; INVALID_PARAMETER_VALUE if garbled."""
    try:
        padded = token + "=" * (-len(token) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after, step = decoded["after"], decoded.get("step", 0)
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise invalid(f"Invalid page_token '{token}'.") from None
    if not isinstance(after, str) or not isinstance(step, int):
        raise invalid(f"Invalid page_token '{token}'.")
    return after, step


def page(
    items: Sequence[T],
    key: Callable[[T], str],
    max_results: int | None,
    page_token: str | None,
    *,
    paging: Paging = PLAIN,
    default_size: int = 50,
    max_size: int = 1000,
    unpaged_when_absent: bool = True,
) -> tuple[list[T], str | None]:
    """One page of `items` in `paging`'s order and the token of the next page, if any.

    No `max_results` means everything at once when `unpaged_when_absent`, as the Unity
    Catalog list endpoints answer; a value above `max_size` is capped to it.
    """
    if max_results is not None and max_results < 0:
        raise invalid("max_results must be greater than or equal to 0.")
    ordered = sorted(((paging.position(key(item)), item) for item in items), key=lambda p: p[0])
    after, step = decode_token(page_token) if page_token else ("", 0)
    if page_token:
        ordered = [(pos, item) for pos, item in ordered if pos > after]
    if max_results is None and unpaged_when_absent:
        return [item for _, item in ordered], None
    size = min(max_results or default_size, max_size)
    length = paging.page_length(after, step, size, len(ordered))
    chunk = ordered[:length]
    if not chunk:
        return [], (encode_token(after, step + 1) if ordered else None)
    last = chunk[-1][0]
    more = len(ordered) > length or paging.trailing_empty_page(after, step)
    return [item for _, item in chunk], (encode_token(last) if more else None)


def listing(
    field: str,
    items: Sequence[T],
    key: Callable[[T], str],
    max_results: int | None,
    page_token: str | None,
    *,
    paging: Paging = PLAIN,
    default_size: int = 50,
    max_size: int = 1000,
) -> dict[str, object]:
    """`{field: [...], "next_page_token": ...}`, the token present only while more may remain."""
    chunk, token = page(
        items,
        key,
        max_results,
        page_token,
        paging=paging,
        default_size=default_size,
        max_size=max_size,
    )
    return {field: chunk, **({"next_page_token": token} if token else {})}
