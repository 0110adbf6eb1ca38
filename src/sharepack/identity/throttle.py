"""Slowing down a client that keeps failing to authenticate.

Each client address may fail `max_failures` times within a sliding window of
`window_seconds`; past that it is refused (429 at the edge) until its oldest failure in the
window ages out, without its credential being checked at all. A success does not reset the
count: an attacker holding one valid key must not be able to use it to keep guessing others.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from sharepack.errors import TooManyFailuresError

#: Addresses tracked at most; past this, the addresses whose last failure is oldest are
#: forgotten, so a flood of spoofed sources cannot grow the memory without bound.
MAX_TRACKED = 10_000


class FailureThrottle:
    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.get(client, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures

    def check(self, client: str) -> None:
        """`TooManyFailuresError` (with the seconds to wait) while `client` is slowed."""
        with self._lock:
            now = self._clock()
            failures = self._recent(client, now)
            if not failures:
                self._failures.pop(client, None)
                return
            if len(failures) >= self._max:
                wait = max(1, math.ceil(failures[0] + self._window - now))
                raise TooManyFailuresError(
                    f"Too many failed authentications from {client}: {len(failures)} in the "
                    f"last {self._window:g} s; try again in {wait} s",
                    retry_after=wait,
                )

    def failed(self, client: str) -> None:
        with self._lock:
            now = self._clock()
            failures = self._recent(client, now)
            failures.append(now)
            self._failures.pop(client, None)
            self._failures[client] = failures  # newest last, for the eviction below
            while len(self._failures) > MAX_TRACKED:
                self._failures.pop(next(iter(self._failures)))
