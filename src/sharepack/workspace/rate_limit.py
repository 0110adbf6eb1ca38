"""The adaptive rate limit of one workspace: calls paced per endpoint family at a rate
learnt from the workspace's 429 answers, and how many actions an apply should run at once.

Databricks limits requests per second per endpoint family and answers the excess 429 with
`Retry-After`; databricks-sdk then sleeps `Retry-After` plus up to a second before sending
again, so each 429 costs its caller one to two seconds. Avoiding 429s is worth more than
probing hard for the last few per cent of the limit.

The scheme is the AWS SDKs' adaptive retry mode (rate-based, not a window of calls in
flight): a rate limits the calls of a family whatever their latency, which a window cannot
(at 10 ms a call, one call in flight is already 100 a second). Per family:

- Calls are paced: one send slot every `1 / rate` seconds; a caller waits (its thread
  blocks) for the next slot instead of sending early.
- The rate follows CUBIC (RFC 9438) as AWS uses it. On a 429, `w_max` becomes the rate
  calls were being sent at and the rate drops to `BETA * w_max`; while calls succeed it
  climbs back along a cubic curve that flattens at `w_max` (time is spent just under the
  limit last met) before probing above it, slowly at first. Only calls sent after the
  last cut can cut again: the 429s of calls sent at the old rate are one signal, not many.
- The curve's clock runs only while the family sends at about its rate (RFC 7661's rule
  for a window that is not used): an idle family has shown nothing about the limit and
  earns no burst; a busy one probes from where it stood.

The number of actions an apply runs at once (`concurrency`) follows the same calls: for
each family called in the last few seconds, the threads it can use and one spare. A
family's threads grow by about one per round of its calls sent at once and succeeding,
and shrink as its calls queue behind each other for their slots (threads its rate cannot
use). A 429 lowers them through the rate it cuts, not directly: the thread that got it
sleeps in the SDK for a second or two, and halving the others would stall the family.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from sharepack.workspace.transport import WorkspaceCall

#: The floor of a family's rate: a workspace that throttles everything is still asked.
MIN_RATE = 0.5
#: After a 429 the rate drops to this share of the rate calls were sent at (CUBIC's beta).
BETA = 0.7
#: How fast the rate grows back (CUBIC's C, in requests per second per cubed second).
SCALE = 0.4
#: Calls this many intervals apart or closer mean the family sends at its rate.
BUSY_GAP = 1.5
#: A caller woken late by up to this share of an interval does not push later slots back.
CATCH_UP = 0.25
#: The most threads one family is given; a family counts towards the concurrency while
#: it was called within this many seconds.
MAX_THREADS = 64.0
ACTIVE_SECONDS = 3.0

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Slot:
    """Where a call stood when it was let through: when, and how long it waited."""

    sent_at: float
    waited: float
    #: The pacing interval then: a wait longer than one means others were queued ahead.
    interval: float


class FamilyRate:
    """The pacing and the CUBIC rate of one endpoint family; the caller holds the lock."""

    def __init__(self, start_rate: float, now: float) -> None:
        self._w_max = start_rate
        # As if the last cut was K busy seconds ago: the rate is the start rate, and grows.
        self._busy = self._zero_point()
        self._last_cut = -math.inf
        self._last_slot = -math.inf
        self._next_slot = now
        self._sent: deque[float] = deque()
        #: The threads this family can use: an apply's share of concurrency for it.
        self.threads = 1.0
        self.last_used = now

    def _zero_point(self) -> float:
        """CUBIC's K: the busy seconds after a cut at which the rate is back at `w_max`."""
        return math.cbrt(self._w_max * (1 - BETA) / SCALE)

    def sent_last_second(self, now: float) -> int:
        while self._sent and self._sent[0] <= now - 1.0:
            self._sent.popleft()
        return len(self._sent)

    def rate(self) -> float:
        """The requests per second the family may send now."""
        cubic = SCALE * (self._busy - self._zero_point()) ** 3 + self._w_max
        return max(MIN_RATE, cubic)

    def take_slot(self, now: float) -> float:
        """0 when a call may be sent now (the slot is then taken), else the seconds until
        the next slot."""
        if now < self._next_slot:
            return self._next_slot - now
        interval = 1.0 / self.rate()
        if now - self._last_slot <= BUSY_GAP * interval:
            # Sending about as fast as allowed: the time counts towards growth. An idle
            # family's rate stays where it was (it has shown nothing about the limit).
            self._busy += now - self._last_slot
        self._next_slot = max(self._next_slot, now - CATCH_UP * interval) + interval
        self._last_slot = self.last_used = now
        self._sent.append(now)
        return 0.0

    def throttled(self, sent_at: float, now: float) -> bool:
        """A call sent at `sent_at` was answered 429: cut the rate, unless the call was sent
        before the last cut. True when it cut."""
        if sent_at <= self._last_cut:
            return False
        sending_at = min(self.rate(), float(self.sent_last_second(now)))
        self._w_max = max(MIN_RATE, sending_at)
        self._busy = 0.0
        self._last_cut = now
        self._next_slot = max(self._next_slot, now + 1.0 / self.rate())
        return True

    def answered(self, slot: Slot) -> None:
        """A call let through at `slot` was answered, not 429: more threads if it was sent
        at once, fewer if it queued behind another caller (more than the rate can use)."""
        if slot.waited == 0:
            self.threads = min(MAX_THREADS, self.threads + 1 / self.threads)
        elif slot.waited > slot.interval:
            self.threads = max(1.0, self.threads - 1 / self.threads)


class AdaptiveRateLimit:
    """A `CallListener` pacing one workspace's calls per endpoint family (see the module),
    each family starting at `start_rate` requests a second; thread-safe, made once per
    workspace per process so every run of a worker shares what it learnt. `clock` and
    `sleep` are injectable for tests."""

    def __init__(
        self,
        *,
        start_rate: float,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if start_rate <= 0:
            raise ValueError(f"A start rate is a positive number of calls a second: {start_rate}")
        self._start_rate = start_rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._families: dict[str, FamilyRate] = {}

    def __call__(self, call: WorkspaceCall) -> AbstractContextManager[None]:
        return self._paced(call)

    @contextmanager
    def _paced(self, call: WorkspaceCall) -> Iterator[None]:
        slot = self._wait_for_slot(call.family)
        try:
            yield
        finally:
            self._answered(call, slot)

    def _family(self, family: str, now: float) -> FamilyRate:
        rate = self._families.get(family)
        if rate is None:
            rate = self._families[family] = FamilyRate(self._start_rate, now)
        return rate

    def _wait_for_slot(self, family: str) -> Slot:
        """Block until the family has a send slot for this call."""
        started: float | None = None
        while True:
            with self._lock:
                now = self._clock()
                rate = self._family(family, now)
                interval = 1.0 / rate.rate()
                wait = rate.take_slot(now)
            if wait <= 0:
                waited = 0.0 if started is None else now - started
                return Slot(sent_at=now, waited=waited, interval=interval)
            if started is None:
                started = now
            self._sleep(wait)

    def _answered(self, call: WorkspaceCall, slot: Slot) -> None:
        if call.status is None:
            return  # no answer (a timeout, a refused connection): nothing about the rate
        with self._lock:
            now = self._clock()
            family = self._family(call.family, now)
            if call.throttled:
                family.throttled(slot.sent_at, now)
            else:
                family.answered(slot)

    def rate(self, family: str) -> float:
        """The requests per second `family` may send now (the start rate if never called)."""
        with self._lock:
            now = self._clock()
            return self._family(family, now).rate()

    def concurrency(self, ceiling: int) -> int:
        """How many actions an apply should run at once now, between 1 and `ceiling`: the
        threads of each family called lately, and one more each (to keep it busy while
        another thread sleeps through the SDK's wait after a 429)."""
        with self._lock:
            now = self._clock()
            active = [f for f in self._families.values() if now - f.last_used < ACTIVE_SECONDS]
            wanted = sum(math.ceil(f.threads) + 1 for f in active)
        return max(1, min(ceiling, wanted))
