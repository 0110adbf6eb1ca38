"""Test controls: injected faults, added latency, and the log of API calls.

`GET /_emulator/calls` answers `[{"method": "PATCH", "path": "/api/2.1/...", "status": 200},
...]` in arrival order since the last reset; control calls under `/_emulator/` are not
logged. A mutating call is one whose method is POST, PATCH, PUT or DELETE.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from databricks_emulator.errors import ApiError, invalid

_DEFAULT_CODES = {
    400: "INVALID_PARAMETER_VALUE",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "RESOURCE_CONFLICT",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    503: "TEMPORARILY_UNAVAILABLE",
}


@dataclass
class Fault:
    """The `nth` matching call (1-based, from when the fault is set) and `times - 1` after it.

    `method` is one method, several joined by `|` (`POST|PATCH`), or `*` for any. A `status`
    of 400 or more fails the call (429 and 503 carry `Retry-After`, 1 s unless given); 0 only
    delays it by `delay_ms`. With `applied`, the call is served first and its answer then
    replaced by the error: the change happened, but the caller cannot know it.
    """

    method: str
    path_regex: re.Pattern[str]
    nth: int = 1
    times: int = 1
    status: int = 500
    error_code: str = "INTERNAL_ERROR"
    message: str = "Injected fault"
    delay_ms: int = 0
    retry_after: int | None = None
    applied: bool = False
    seen: int = 0

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Fault:
        try:
            status = int(body.get("status", 500))
            retry_after = body.get("retry_after")
            fault = cls(
                method=str(body.get("method", "*")).upper(),
                path_regex=re.compile(str(body.get("path_regex", ".*"))),
                nth=int(body.get("nth", 1)),
                times=int(body.get("times", 1)),
                status=status,
                error_code=str(body.get("error_code") or _DEFAULT_CODES.get(status, "UNKNOWN")),
                message=str(body.get("message", "Injected fault")),
                delay_ms=int(body.get("delay_ms", 0)),
                retry_after=int(retry_after) if retry_after is not None else None,
                applied=bool(body.get("applied", False)),
            )
        except (ValueError, TypeError, re.error) as exc:
            raise invalid(f"Invalid fault: {exc}") from None
        if fault.nth < 1 or fault.times < 1 or not (fault.status == 0 or 400 <= fault.status < 600):
            raise invalid("Invalid fault: nth and times start at 1; status is 0 or 400-599.")
        if fault.retry_after is None and fault.status in (429, 503):
            fault.retry_after = 1
        return fault

    def matches(self, method: str, path: str) -> bool:
        methods = self.method.split("|")
        return ("*" in methods or method in methods) and bool(self.path_regex.search(path))

    def describe(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path_regex": self.path_regex.pattern,
            "nth": self.nth,
            "times": self.times,
            "status": self.status,
            "error_code": self.error_code,
            "message": self.message,
            "delay_ms": self.delay_ms,
            "retry_after": self.retry_after,
            "applied": self.applied,
            "seen": self.seen,
        }


@dataclass(frozen=True)
class FaultHit:
    delay_ms: int
    error: ApiError | None
    applied: bool


@dataclass
class Controls:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latency_ms: int = 0
    faults: list[Fault] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    in_flight: int = 0
    peak_in_flight: int = 0
    generation: int = 0

    def started(self) -> int:
        """An API call arrived; counts how many are being served at once and answers the
        generation it belongs to (see `reset`)."""
        with self.lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            return self.generation

    def current(self, generation: int) -> bool:
        """Whether no reset happened since a call of `generation` arrived."""
        with self.lock:
            return generation == self.generation

    def finished(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def stats(self) -> dict[str, int]:
        """Calls since the reset, calls being served now, and the most served at once."""
        with self.lock:
            return {
                "calls": len(self.calls),
                "in_flight": self.in_flight,
                "peak_in_flight": self.peak_in_flight,
            }

    def hit(self, method: str, path: str) -> FaultHit | None:
        """Count this call against every matching fault; the first one due decides."""
        due: Fault | None = None
        with self.lock:
            for fault in self.faults:
                if not fault.matches(method, path):
                    continue
                fault.seen += 1
                if due is None and fault.nth <= fault.seen < fault.nth + fault.times:
                    due = fault
        if due is None:
            return None
        error = None
        if due.status >= 400:
            error = ApiError(due.status, due.error_code, due.message, retry_after=due.retry_after)
        return FaultHit(delay_ms=due.delay_ms, error=error, applied=due.applied)

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def describe_faults(self) -> list[dict[str, Any]]:
        with self.lock:
            return [fault.describe() for fault in self.faults]

    def record(self, method: str, path: str, status: int, generation: int) -> None:
        """Log a call, unless a reset came while it was served: it belongs to the state
        before, and a test reading the log after the reset must not count it."""
        with self.lock:
            if generation == self.generation:
                self.calls.append({"method": method, "path": path, "status": status})

    def recorded(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(call) for call in self.calls]

    def reset(self, latency_ms: int) -> None:
        """Start a new generation: calls in flight now are neither logged nor served after."""
        with self.lock:
            self.generation += 1
            self.faults.clear()
            self.calls.clear()
            self.peak_in_flight = self.in_flight
            self.latency_ms = latency_ms
