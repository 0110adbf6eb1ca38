"""Per-family API rate limits, as a workspace enforces them: off unless set.

`POST /_emulator/rate-limits {"per_second": {"unity-catalog/shares": 15}, "default": null}`
sets them (replacing those set before); `GET` answers the same shape. A family is the API a
path belongs to (`api_family`); `default`, when a number, limits every family not named.

Each family has a token bucket holding up to `per_second` tokens, refilled at `per_second`
a second: a call takes one token, and a call finding none is answered 429
`REQUEST_LIMIT_EXCEEDED` with `Retry-After` (whole seconds until a token is back) and is
not served. Databricks names its own limiter a token bucket in that answer; the bucket's
size (here one second's worth) is not published.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from databricks_emulator.errors import ApiError, invalid

Clock = Callable[[], float]


def api_family(path: str) -> str:
    """The API a path belongs to, as Databricks rate-limits them: `unity-catalog/shares`
    for `/api/2.1/unity-catalog/shares/s/permissions`, `pipelines`, `jobs`, `workspace`,
    `preview/scim`; `other` for what is not under `/api/<version>/`."""
    parts = [part for part in path.split("/") if part]
    if len(parts) < 3 or parts[0] != "api":
        return "other"
    rest = parts[2:]
    if rest[0] in ("unity-catalog", "preview") and len(rest) > 1:
        return f"{rest[0]}/{rest[1]}"
    return rest[0]


def request_limit_exceeded(family: str, retry_after: int) -> ApiError:
    """429 REQUEST_LIMIT_EXCEEDED in the words workspaces use ("<Request> RPC token bucket
    limit has been exceeded."); the request name is made from the family."""
    request = "".join(word.capitalize() for word in re.split(r"[/-]", family)) + "Request"
    message = f"{request} RPC token bucket limit has been exceeded."
    return ApiError(429, "REQUEST_LIMIT_EXCEEDED", message, retry_after=retry_after)


@dataclass
class _Bucket:
    per_second: int
    tokens: float
    filled_at: float

    def take(self, now: float) -> float | None:
        """Take a token: None when one was there, else the seconds until one is."""
        self.tokens = min(self.per_second, self.tokens + (now - self.filled_at) * self.per_second)
        self.filled_at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.per_second


@dataclass
class RateLimits:
    """The limits of one emulator; thread-safe. `clock` is injectable for tests."""

    per_second: dict[str, int] = field(default_factory=dict)
    default: int | None = None
    clock: Clock = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, per_second: Mapping[str, int], default: int | None) -> None:
        """Replace the limits; every bucket starts full."""
        with self._lock:
            self.per_second = dict(per_second)
            self.default = default
            self._buckets.clear()

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"per_second": dict(sorted(self.per_second.items())), "default": self.default}

    def admit(self, path: str) -> ApiError | None:
        """Count a call to `path` arriving now: None if its family may take it, else the
        429 to answer."""
        family = api_family(path)
        with self._lock:
            limit = self.per_second.get(family, self.default)
            if limit is None:
                return None
            now = self.clock()
            bucket = self._buckets.get(family)
            if bucket is None:
                bucket = self._buckets[family] = _Bucket(limit, float(limit), now)
            wait = bucket.take(now)
        if wait is None:
            return None
        return request_limit_exceeded(family, max(1, math.ceil(wait)))


def parse_limits(body: Mapping[str, Any]) -> tuple[dict[str, int], int | None]:
    """`per_second` and `default` of a `POST /_emulator/rate-limits` body, checked: whole
    numbers of at least 1 (`default` may be null)."""
    per_second = body.get("per_second", {})
    if not isinstance(per_second, dict):
        raise invalid("'per_second' must be an object of family: requests per second.")
    limits = {str(family): _limit(f"per_second.{family}", v) for family, v in per_second.items()}
    default = body.get("default")
    return limits, None if default is None else _limit("default", default)


def _limit(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(f"'{key}' must be a whole number of requests per second, at least 1.")
    return value
