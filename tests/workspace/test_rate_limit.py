"""The adaptive rate limit's algorithm, on a clock that moves only when a caller sleeps.

Calls are made from one thread: each enters the limit (waiting, on this clock, for its
slot), is answered `latency` later, and leaves it. Nothing here depends on real time.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from itertools import pairwise

import pytest

from sharepack.workspace.rate_limit import ACTIVE_SECONDS, BETA, AdaptiveRateLimit
from sharepack.workspace.transport import WorkspaceCall

SHARES = "unity-catalog/shares"
RECIPIENTS = "unity-catalog/recipients"
START = 10.0


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        #: Called once at the end of each of the next `steals` sleeps: another caller.
        self.meanwhile: Callable[[], object] = lambda: None
        self.steals = 0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.steals:
            self.steals -= 1
            self.meanwhile()


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def limit(time: FakeTime) -> AdaptiveRateLimit:
    return AdaptiveRateLimit(start_rate=START, clock=time.clock, sleep=time.sleep)


def _call(
    limit: AdaptiveRateLimit,
    time: FakeTime,
    family: str = SHARES,
    *,
    status: int | None = 200,
    latency: float = 0.0,
) -> float:
    """One call through the limit; answers when it was sent."""
    call = WorkspaceCall("GET", f"/api/2.1/{family}", family)
    with limit(call):
        sent = time.now
        time.now += latency
        call.status = status
    return sent


def _busy(
    limit: AdaptiveRateLimit, time: FakeTime, seconds: float, family: str = SHARES
) -> list[float]:
    """Calls sent back to back for `seconds`, all answered 200; answers when each went."""
    end = time.now + seconds
    sent = []
    while time.now < end:
        sent.append(_call(limit, time, family))
    return sent


def test_a_family_is_paced_at_the_start_rate(limit: AdaptiveRateLimit, time: FakeTime) -> None:
    sent = [_call(limit, time) for _ in range(12)]

    in_first_second = [t for t in sent if t < 1.0]
    assert len(in_first_second) in (10, 11)  # 10 a second, and growing while busy
    gaps = [b - a for a, b in pairwise(sent)]
    assert min(gaps) == pytest.approx(1 / START, rel=0.05)


def test_families_are_paced_apart(limit: AdaptiveRateLimit, time: FakeTime) -> None:
    shares = _call(limit, time, SHARES)
    recipients = _call(limit, time, RECIPIENTS)

    assert shares == recipients == 0.0  # the recipients' call did not wait for a shares slot


def test_a_429_cuts_the_rate_to_beta_times_the_rate_calls_were_sent_at(
    limit: AdaptiveRateLimit, time: FakeTime
) -> None:
    sent = _busy(limit, time, 2.0)
    sent.append(_call(limit, time, status=429))

    sending = sum(1 for t in sent if t > time.now - 1.0)  # calls in the last second
    assert sending < limit.rate(SHARES) / BETA + 1  # the rate had grown past 10
    assert limit.rate(SHARES) == pytest.approx(BETA * sending)
    assert limit.rate(RECIPIENTS) == START


def test_429s_of_calls_sent_before_the_cut_cut_no_further(
    limit: AdaptiveRateLimit, time: FakeTime
) -> None:
    _busy(limit, time, 2.0)
    first = WorkspaceCall("GET", "/api/2.1/unity-catalog/shares", SHARES)
    second = WorkspaceCall("GET", "/api/2.1/unity-catalog/shares", SHARES)
    answers: list[AbstractContextManager[None]] = [limit(first), limit(second)]
    for sending in answers:
        sending.__enter__()  # both sent at the old rate

    first.status = second.status = 429
    answers[0].__exit__(None, None, None)
    cut_once = limit.rate(SHARES)
    answers[1].__exit__(None, None, None)

    assert limit.rate(SHARES) == cut_once
    _call(limit, time, status=429)  # sent after the cut: a new signal
    assert limit.rate(SHARES) < cut_once


def test_after_a_cut_the_rate_climbs_back_then_probes_past_it_slowly(
    limit: AdaptiveRateLimit, time: FakeTime
) -> None:
    _busy(limit, time, 3.0)
    _call(limit, time, status=429)
    cut_from = limit.rate(SHARES) / BETA

    _busy(limit, time, 2.0)  # CUBIC's K for a rate of about 10 is 1.96 s
    back = limit.rate(SHARES)
    _busy(limit, time, 1.0)
    one_second_on = limit.rate(SHARES)
    _busy(limit, time, 3.0)
    four_seconds_on = limit.rate(SHARES)

    assert back == pytest.approx(cut_from, rel=0.05)
    assert cut_from < one_second_on < cut_from + 1
    assert four_seconds_on > cut_from + 5


def test_an_idle_family_earns_no_burst(limit: AdaptiveRateLimit, time: FakeTime) -> None:
    _busy(limit, time, 1.0)
    rate = limit.rate(SHARES)

    time.now += 600.0
    after_idling = limit.rate(SHARES)
    sent = [_call(limit, time) for _ in range(3)]

    assert after_idling == rate
    # Paced from the first call on (a late caller may take its slot a quarter early).
    assert sent[1] - sent[0] >= 0.75 / rate
    assert sent[2] - sent[1] == pytest.approx(1 / rate)


def test_a_call_that_got_no_answer_changes_nothing(
    limit: AdaptiveRateLimit, time: FakeTime
) -> None:
    _busy(limit, time, 1.0)
    time.now += 1.0  # idle: the next call's slot adds no busy time
    rate, concurrency = limit.rate(SHARES), limit.concurrency(64)

    _call(limit, time, status=None)

    assert (limit.rate(SHARES), limit.concurrency(64)) == (rate, concurrency)


def test_concurrency_is_one_before_any_call_and_at_most_the_ceiling(
    limit: AdaptiveRateLimit, time: FakeTime
) -> None:
    assert limit.concurrency(16) == 1
    for _ in range(50):  # slower than the rate: each sent at once
        _call(limit, time, latency=0.3)

    assert limit.concurrency(64) > 4
    assert limit.concurrency(3) == 3


def test_concurrency_grows_while_calls_go_at_once_and_succeed(
    limit: AdaptiveRateLimit, time: FakeTime
) -> None:
    _call(limit, time, latency=0.3)
    one_family = limit.concurrency(64)

    grown = []
    for _ in range(10):
        _call(limit, time, latency=0.3)
        grown.append(limit.concurrency(64))

    assert one_family == 3  # its thread, one more for a call sent at once, and a spare
    assert grown == sorted(grown)
    assert grown[-1] > one_family


def test_concurrency_shrinks_as_calls_queue_behind_each_other(
    limit: AdaptiveRateLimit, time: FakeTime
) -> None:
    for _ in range(30):
        _call(limit, time, latency=0.3)
    before = limit.concurrency(64)

    # While each caller sleeps, another takes the slot it was waiting for (never answered).
    time.meanwhile = lambda: limit(WorkspaceCall("GET", "/", SHARES)).__enter__()
    for _ in range(20):
        time.steals = 1
        _call(limit, time)

    assert limit.concurrency(64) < before


def test_concurrency_counts_only_families_called_lately(
    limit: AdaptiveRateLimit, time: FakeTime
) -> None:
    _call(limit, time, SHARES)
    one = limit.concurrency(64)
    _call(limit, time, RECIPIENTS)
    both = limit.concurrency(64)

    time.now += ACTIVE_SECONDS

    assert both == 2 * one
    assert limit.concurrency(64) == 1


def test_a_start_rate_must_be_positive(time: FakeTime) -> None:
    with pytest.raises(ValueError, match="positive"):
        AdaptiveRateLimit(start_rate=0, clock=time.clock, sleep=time.sleep)
