"""`/_emulator/*`: the control API tests, demos and benchmarks drive the emulator with.

- `POST /_emulator/reset`: back to the seed; faults, calls, latency and timing reset
  (an emulator kept in a state file saves the seed's workspace).
- `GET /_emulator/state`: every resource, stable JSON, secrets masked (see `emulator.py`).
- `GET /_emulator/calls`: `[{method, path, status}]` of the API calls since the reset.
- `GET /_emulator/stats`: `{calls, in_flight, peak_in_flight}`: how many API calls were
  served at once at most since the reset (latency of concurrent calls overlaps).
- `POST /_emulator/faults` `{method, path_regex, nth, times, status, error_code, message,
  delay_ms, retry_after, applied}`: fail (or only delay) matching calls (see `control.py`);
  `GET` lists the faults with how many calls each has seen, `DELETE` clears them.
- `POST /_emulator/latency` `{ms}`: latency added to every API call.
- `POST /_emulator/rate-limits` `{per_second: {family: n}, default: n | null}`: requests
  per second each API family may make, over which calls are answered 429 (see
  `rate_limits.py`); `GET` answers them.
- `POST /_emulator/paging` `{mode: "realistic" | "plain", seed: n}`: how the Unity Catalog
  lists (recipients, shares, their permissions, catalogs, schemas, tables, table summaries)
  and a share's objects come back. `realistic` (the default, seed 0) answers them in an
  order drawn from the seed, with pages sometimes short or empty while a
  `next_page_token` is still given, as the real service may; `plain` in name order, every
  page full (see `paging.py`). `GET` answers the mode and seed; a reset restores them.
- `POST /_emulator/tables` `{tables: ["c.s.t" | {name, table_type}]}`: add catalog objects;
  `DELETE /_emulator/tables/{full_name}` drops one.
- `POST /_emulator/pipeline-timing` `{step_ms}`: how long each pipeline update state lasts.
- `POST /_emulator/pipeline-failures` `{name_regex, times, message}`: the next `times`
  updates of matching pipelines end FAILED; `DELETE` clears these rules.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request

from databricks_emulator.control import Fault
from databricks_emulator.errors import invalid
from databricks_emulator.paging import Paging
from databricks_emulator.pipelines import FailureRule
from databricks_emulator.rate_limits import parse_limits
from databricks_emulator.routes_common import emulator, json_body

control_router = APIRouter(prefix="/_emulator")


def _int(body: dict[str, Any], key: str, default: int) -> int:
    try:
        value = int(body.get(key, default))
    except (TypeError, ValueError):
        raise invalid(f"'{key}' must be a whole number.") from None
    if value < 0:
        raise invalid(f"'{key}' must not be negative.")
    return value


@control_router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    emulator(request).reset()
    return {}


@control_router.get("/state")
async def state(request: Request) -> dict[str, Any]:
    return emulator(request).snapshot()


@control_router.get("/calls")
async def calls(request: Request) -> list[dict[str, Any]]:
    return emulator(request).controls.recorded()


@control_router.get("/stats")
async def stats(request: Request) -> dict[str, int]:
    return emulator(request).controls.stats()


@control_router.post("/faults")
async def add_fault(request: Request) -> dict[str, Any]:
    fault = Fault.from_body(await json_body(request))
    emulator(request).controls.add_fault(fault)
    return {}


@control_router.get("/faults")
async def list_faults(request: Request) -> list[dict[str, Any]]:
    return emulator(request).controls.describe_faults()


@control_router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    emulator(request).controls.clear_faults()
    return {}


@control_router.post("/latency")
async def set_latency(request: Request) -> dict[str, Any]:
    emulator(request).controls.latency_ms = _int(await json_body(request), "ms", 0)
    return {}


@control_router.post("/rate-limits")
async def set_rate_limits(request: Request) -> dict[str, Any]:
    per_second, default = parse_limits(await json_body(request))
    emulator(request).rate_limits.set(per_second, default)
    return {}


@control_router.get("/rate-limits")
async def rate_limits(request: Request) -> dict[str, Any]:
    return emulator(request).rate_limits.describe()


@control_router.post("/paging")
async def set_paging(request: Request) -> dict[str, Any]:
    paging = Paging.from_body(await json_body(request))
    em = emulator(request)
    with em.lock:
        em.paging = paging
    return {}


@control_router.get("/paging")
async def paging_mode(request: Request) -> dict[str, Any]:
    paging = emulator(request).paging
    return {"mode": paging.mode, "seed": paging.seed}


@control_router.post("/tables")
async def add_tables(request: Request) -> dict[str, Any]:
    tables = (await json_body(request)).get("tables")
    if not isinstance(tables, list):
        raise invalid("'tables' must be a list of names or {name, table_type} objects.")
    em = emulator(request)
    with em.lock:
        em.catalog.add_tables(tables)
    return {}


@control_router.delete("/tables/{full_name}")
async def drop_table(request: Request, full_name: str) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        em.catalog.drop_table(full_name)
    return {}


@control_router.post("/pipeline-timing")
async def set_pipeline_timing(request: Request) -> dict[str, Any]:
    step_ms = _int(await json_body(request), "step_ms", 200)
    em = emulator(request)
    with em.lock:
        em.advance()
        em.pipelines.step_ms = max(step_ms, 1)
    return {}


@control_router.post("/pipeline-failures")
async def add_pipeline_failure(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    try:
        pattern = re.compile(str(body.get("name_regex", ".*")))
    except re.error as exc:
        raise invalid(f"Invalid name_regex: {exc}") from None
    rule = FailureRule(
        pattern,
        _int(body, "times", 1),
        str(body.get("message", "Injected pipeline failure")),
    )
    em = emulator(request)
    with em.lock:
        em.pipelines.failure_rules.append(rule)
    return {}


@control_router.delete("/pipeline-failures")
async def clear_pipeline_failures(request: Request) -> dict[str, Any]:
    em = emulator(request)
    with em.lock:
        em.pipelines.failure_rules.clear()
    return {}
