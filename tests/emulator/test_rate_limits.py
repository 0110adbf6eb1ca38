"""Per-family rate limits: calls over a family's requests per second are answered 429.

The answer's wording is a workspace's: `REQUEST_LIMIT_EXCEEDED: GetUserPermissionsRequest
RPC token bucket limit has been exceeded.` is quoted in databricks/databricks-sdk-py issue
#274 and ssc-sp/datahub-portal issue #362, and databricks-sdk (`_base_client.py`) retries
messages containing "RPC token bucket limit has been exceeded". The request name before
"RPC" is the emulator's own, made from the family: unverified. Time is a frozen or
hand-advanced clock, so no test depends on how fast the machine is.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.clock import RealClock
from databricks.sdk.service import sharing

from databricks_emulator.__main__ import main
from databricks_emulator.rate_limits import RateLimits, api_family
from databricks_emulator.server import EmulatorServer
from tests.emulator._support import EMULATOR_TOKEN, api_calls, emulator_only

pytestmark = emulator_only("sets rate limits through the emulator's control API")
RECIPIENTS = "/api/2.1/unity-catalog/recipients"
SHARES = "/api/2.1/unity-catalog/shares"
AUTH = {"Authorization": f"Bearer {EMULATOR_TOKEN}"}


class Clock:
    """Seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """The emulator's rate limits read this clock for the test (the server is in-process)."""
    frozen = Clock()
    monkeypatch.setattr(emulator.app.state.emulator.rate_limits, "clock", frozen)
    yield frozen
    emulator.set_rate_limits({})


def _post_recipient(emulator: EmulatorServer, name: str) -> httpx.Response:
    body = {"name": name, "authentication_type": "TOKEN"}
    return httpx.post(f"{emulator.url}{RECIPIENTS}", json=body, headers=AUTH)


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/api/2.1/unity-catalog/shares/s1/permissions", "unity-catalog/shares"),
        ("/api/2.1/unity-catalog/recipients", "unity-catalog/recipients"),
        ("/api/2.0/pipelines/abc/updates", "pipelines"),
        ("/api/2.2/jobs/runs/get", "jobs"),
        ("/api/2.0/preview/scim/v2/Me", "preview/scim"),
        ("/api/2.0/workspace/import", "workspace"),
        ("/.well-known/databricks-config", "other"),
    ],
)
def test_a_path_belongs_to_the_family_sharepack_computes(path: str, family: str) -> None:
    # The same table as tests/workspace/test_transport.py: the two functions must agree.
    assert api_family(path) == family


def test_a_family_takes_its_limit_at_once_then_one_call_per_refill() -> None:
    clock = Clock()
    limits = RateLimits(clock=clock)
    limits.set({"unity-catalog/shares": 2}, None)

    first = [limits.admit(f"{SHARES}/s{i}") for i in range(3)]
    clock.now += 0.5  # one token back at 2 a second
    later = [limits.admit(f"{SHARES}/s{i}") for i in range(2)]

    assert [error is None for error in first] == [True, True, False]
    assert [error is None for error in later] == [True, False]


def test_a_refused_call_takes_no_token() -> None:
    clock = Clock()
    limits = RateLimits(clock=clock)
    limits.set({}, 1)
    assert limits.admit(SHARES) is None
    refused = [limits.admit(SHARES) for _ in range(5)]

    clock.now += 1.0

    assert all(error is not None for error in refused)
    assert limits.admit(SHARES) is None


def test_calls_over_the_limit_get_429_request_limit_exceeded_with_retry_after(
    emulator: EmulatorServer, clock: Clock
) -> None:
    emulator.set_rate_limits({"unity-catalog/shares": 1})

    answers = [httpx.get(f"{emulator.url}{SHARES}", headers=AUTH) for _ in range(2)]

    assert [a.status_code for a in answers] == [200, 429]
    assert answers[1].headers["Retry-After"] == "1"
    assert answers[1].json() == {
        "error_code": "REQUEST_LIMIT_EXCEEDED",
        "message": "UnityCatalogSharesRequest RPC token bucket limit has been exceeded.",
    }


def test_a_throttled_call_is_logged_with_429_and_changes_nothing(
    emulator: EmulatorServer, clock: Clock
) -> None:
    emulator.set_rate_limits({"unity-catalog/recipients": 1})

    statuses = [_post_recipient(emulator, name).status_code for name in ("first", "second")]

    assert statuses == [200, 429]
    assert api_calls(emulator, f"^{RECIPIENTS}$") == [("POST", 200), ("POST", 429)]
    assert [r["name"] for r in emulator.state()["recipients"]] == ["first"]


def test_families_are_limited_apart_and_default_limits_the_unnamed(
    emulator: EmulatorServer, clock: Clock
) -> None:
    emulator.set_rate_limits({"unity-catalog/shares": 3}, default=1)

    shares = [httpx.get(f"{emulator.url}{SHARES}", headers=AUTH).status_code for _ in range(3)]
    recipients = [
        httpx.get(f"{emulator.url}{RECIPIENTS}", headers=AUTH).status_code for _ in range(2)
    ]
    me = httpx.get(f"{emulator.url}/api/2.0/preview/scim/v2/Me", headers=AUTH).status_code

    assert (shares, recipients, me) == ([200, 200, 200], [200, 429], 200)


def test_the_sdk_waits_retry_after_and_its_retry_succeeds(
    emulator: EmulatorServer, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    def sleep(_: RealClock, seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds  # the bucket refills while the SDK waits

    monkeypatch.setattr(RealClock, "sleep", sleep)
    emulator.set_rate_limits({"unity-catalog/recipients": 1})
    client = WorkspaceClient(host=emulator.url, token=EMULATOR_TOKEN, auth_type="pat")

    client.recipients.create("first", sharing.AuthenticationType.TOKEN)
    client.recipients.create("second", sharing.AuthenticationType.TOKEN)

    assert api_calls(emulator, f"^{RECIPIENTS}$") == [("POST", 200), ("POST", 429), ("POST", 200)]
    assert len(slept) == 1
    assert 1 <= slept[0] < 2  # Retry-After 1, plus the SDK's jitter


def test_get_answers_the_limits_and_reset_clears_them(emulator: EmulatorServer) -> None:
    emulator.set_rate_limits({"unity-catalog/shares": 15, "jobs": 5}, default=30)
    assert emulator.control("GET", "rate-limits") == {
        "per_second": {"jobs": 5, "unity-catalog/shares": 15},
        "default": 30,
    }

    emulator.reset()

    assert emulator.control("GET", "rate-limits") == {"per_second": {}, "default": None}


@pytest.mark.parametrize(
    "body",
    [
        {"per_second": {"jobs": 0}},
        {"per_second": {"jobs": 1.5}},
        {"per_second": {"jobs": "15"}},
        {"per_second": ["jobs"]},
        {"default": -1},
        {"default": True},
    ],
)
def test_limits_that_are_not_whole_numbers_of_at_least_one_are_refused(
    emulator: EmulatorServer, body: dict[str, object]
) -> None:
    answer = httpx.post(f"{emulator.url}/_emulator/rate-limits", json=body)

    assert answer.status_code == 400
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_limits_given_at_start_are_served_and_come_back_on_reset() -> None:
    with EmulatorServer(rate_limits={"pipelines": 4}, default_rate_limit=20) as server:
        server.set_rate_limits({})
        server.reset()
        assert server.control("GET", "rate-limits") == {
            "per_second": {"pipelines": 4},
            "default": 20,
        }


@pytest.mark.parametrize("option", ["jobs=0", "jobs=x", "=5", "jobs", "-3"])
def test_the_command_refuses_a_rate_limit_that_is_not_family_equals_n(
    option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--port", "0", "--rate-limit", option])

    assert exited.value.code == 2
    assert "--rate-limit" in capsys.readouterr().err
