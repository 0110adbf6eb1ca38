"""One table answers every sharepack error: a caller's mistake is a 4xx naming it, a
workspace a 502 or 503, the database or queue a 503 with an error id; 500 is for bugs."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import uuid
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

import sharepack
from databricks_emulator.server import EmulatorServer
from sharepack.api.errors import ANSWERS, BadRequestError, MethodNotAllowedError, answer_for
from sharepack.cron import CronError
from sharepack.errors import NotFoundError, PlanError, SharePackError, WorkspaceNotAllowedError
from sharepack.packfile.errors import SpecError
from sharepack.queue.table import TableQueue
from sharepack.runtime import Runtime, build_runtime
from sharepack.settings import Settings
from sharepack.store import Database
from sharepack.store.tables import share_packs
from sharepack.workspace.errors import (
    InvalidRequestError,
    InvalidWorkspaceUrlError,
    ResourceNotFoundError,
    WorkspaceAuthenticationError,
    WorkspaceCredentialsMissingError,
    WorkspaceError,
    WorkspaceUnavailableError,
    WorkspaceUnreachableError,
)
from tests.api_server import running_api
from tests.conftest import REPO_ROOT

EXAMPLE = (REPO_ROOT / "examples" / "sharepack.yaml").read_bytes()
CALLERS_MISTAKES = (
    SpecError,
    CronError,
    PlanError,
    BadRequestError,
    InvalidWorkspaceUrlError,
    WorkspaceNotAllowedError,
    NotFoundError,
    MethodNotAllowedError,
    # What the caller named and the workspace does not have or refuses (a token rotation's
    # recipient): the only requests that meet a workspace's answer directly.
    ResourceNotFoundError,
    InvalidRequestError,
)


def _every_error_type() -> list[type[SharePackError]]:
    """SharePackError and every subclass defined anywhere in sharepack."""
    for module in pkgutil.walk_packages(sharepack.__path__, "sharepack."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found: list[type[SharePackError]] = []
    pending: list[type[SharePackError]] = [SharePackError]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return found


@pytest.mark.parametrize("kind", _every_error_type(), ids=lambda kind: kind.__name__)
def test_every_error_type_has_a_row_of_its_own_or_of_a_parent(kind: type[SharePackError]) -> None:
    rows = [ancestor for ancestor in kind.__mro__ if ancestor in ANSWERS]

    assert rows, kind
    assert rows[0] is not SharePackError or kind is SharePackError, (
        f"{kind.__name__} is answered only by the catch-all: give it (or a parent) a row"
    )
    answer = answer_for(kind)
    if issubclass(kind, CALLERS_MISTAKES):
        assert 400 <= answer.status < 500, (kind, answer)
        assert answer.shown, (kind, answer)
    elif issubclass(kind, WorkspaceError):
        assert answer.status in (502, 503), (kind, answer)
        assert answer.shown, (kind, answer)


def test_the_rows_say_what_the_readme_documents() -> None:
    answers = {kind.__name__: (a.status, a.error_code) for kind, a in ANSWERS.items()}

    assert answers == {
        "SpecError": (400, "VALIDATION_FAILED"),
        "PlanError": (400, "VALIDATION_FAILED"),
        "BatchRejectedError": (400, "VALIDATION_FAILED"),
        "CronError": (400, "INVALID_SCHEDULE"),
        "BadRequestError": (400, "BAD_REQUEST"),
        "InvalidWorkspaceUrlError": (400, "INVALID_WORKSPACE_URL"),
        "WorkspaceNotAllowedError": (400, "WORKSPACE_NOT_ALLOWED"),
        "NotFoundError": (404, "NOT_FOUND"),
        "PackStateError": (409, "CONFLICT"),
        "IdentityError": (401, "UNAUTHENTICATED"),
        "ApiKeyError": (400, "BAD_REQUEST"),
        "AuthenticationError": (401, "UNAUTHENTICATED"),
        "PermissionDeniedError": (403, "FORBIDDEN"),
        "TooManyFailuresError": (429, "TOO_MANY_FAILURES"),
        "IdentityProviderUnavailableError": (503, "IDENTITY_PROVIDER_UNAVAILABLE"),
        "DirectoryUnavailableError": (503, "DIRECTORY_UNAVAILABLE"),
        "MethodNotAllowedError": (405, "METHOD_NOT_ALLOWED"),
        "WorkspaceError": (502, "WORKSPACE_ERROR"),
        "SyncJobError": (502, "SYNC_JOB_FAILED"),
        "ResourceNotFoundError": (404, "NOT_FOUND"),
        "InvalidRequestError": (400, "INVALID_REQUEST"),
        "WorkspaceUnavailableError": (503, "WORKSPACE_UNAVAILABLE"),
        "WorkspaceCredentialsMissingError": (503, "WORKSPACE_CREDENTIALS_MISSING"),
        "WorkspaceAuthenticationError": (502, "WORKSPACE_CREDENTIALS_REFUSED"),
        "DatabaseUnavailableError": (503, "DATABASE_UNAVAILABLE"),
        "SchemaNotReadyError": (503, "DATABASE_NOT_MIGRATED"),
        "QueueError": (503, "QUEUE_UNAVAILABLE"),
        "ConfigurationError": (500, "CONFIGURATION_ERROR"),
        "StoreError": (500, "INTERNAL_ERROR"),
        "NotificationError": (500, "INTERNAL_ERROR"),
        "RunHandedOverError": (500, "INTERNAL_ERROR"),
        "LeaseLostError": (500, "INTERNAL_ERROR"),
        "SharePackError": (500, "INTERNAL_ERROR"),
    }


# -- over HTTP ---------------------------------------------------------------------------------


def _upload(client: httpx.Client, workspace_url: str) -> httpx.Response:
    return client.post(
        "/workflow/sharepack/upload",
        headers={"X-Workspace-URL": workspace_url},
        files={"file": ("pack.yaml", EXAMPLE)},
    )


def _nothing_stored(runtime: Runtime) -> bool:
    with runtime.database.engine.connect() as connection:
        rows = connection.execute(select(func.count()).select_from(share_packs)).scalar_one()
    return rows == 0 and runtime.queue.depth() == 0


@pytest.mark.parametrize("url", ["ftp://weird", "notaurl", "https://"])
def test_an_upload_naming_a_workspace_that_is_not_http_is_400_naming_it(
    client: httpx.Client, runtime: Runtime, url: str
) -> None:
    response = _upload(client, url)

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["ErrorCode"] == "INVALID_WORKSPACE_URL"
    assert f"'{url}' is not an http(s) URL" in body["Message"]
    assert _nothing_stored(runtime)


def test_an_upload_to_a_workspace_that_fails_is_accepted_with_a_warning(
    client: httpx.Client, runtime: Runtime, emulator: EmulatorServer
) -> None:
    emulator.add_fault(method="GET", path_regex=".*", status=500, times=10_000)

    response = _upload(client, emulator.url)

    assert response.status_code == 202, response.text
    (warning,) = [
        w
        for w in response.json()["ValidationWarnings"]
        if "not checked against the directory" not in w
    ]
    assert "The workspace could not be checked now" in warning
    assert "the worker will plan against it when it runs" in warning


@pytest.mark.parametrize(
    ("token", "code"),
    [(None, "WORKSPACE_CREDENTIALS_MISSING"), ("dapi-made-up", "WORKSPACE_CREDENTIALS_REFUSED")],
    ids=["no-credentials", "refused-token"],
)
def test_an_upload_the_service_has_no_working_credentials_for_is_refused_storing_nothing(
    settings: Settings,
    emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    token: str | None,
    code: str,
) -> None:
    # Not a workspace that is down for a while (accepted with a warning, the worker plans
    # again): without credentials that work, every run of the pack would fail.
    for name in ("DATABRICKS_TOKEN", "DATABRICKS_HOST", "DATABRICKS_CONFIG_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", "/nonexistent/.databrickscfg")
    secret = SecretStr(token) if token else None
    runtime = build_runtime(settings.model_copy(update={"databricks_token": secret}))
    try:
        with running_api(runtime, with_worker=False) as api, api.client() as client:
            response = _upload(client, emulator.url)
        assert response.status_code in (502, 503), response.text
        body = response.json()
        assert body["ErrorCode"] == code
        assert emulator.url in body["Message"]
        assert _nothing_stored(runtime)
    finally:
        runtime.close()


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (WorkspaceUnavailableError("Reading shares: refused"), 503, "WORKSPACE_UNAVAILABLE"),
        (WorkspaceError("Reading shares: no name in the answer"), 502, "WORKSPACE_ERROR"),
        (
            WorkspaceUnreachableError("Cannot reach workspace https://adb-1.example.net: refused"),
            503,
            "WORKSPACE_UNAVAILABLE",
        ),
        (
            WorkspaceCredentialsMissingError("No credentials for workspace https://adb-1.net"),
            503,
            "WORKSPACE_CREDENTIALS_MISSING",
        ),
        (
            WorkspaceAuthenticationError("Workspace https://adb-1.net refused the token"),
            502,
            "WORKSPACE_CREDENTIALS_REFUSED",
        ),
    ],
    ids=[
        "cannot-be-reached",
        "answered-badly",
        "host-does-not-answer",
        "no-credentials",
        "credentials-refused",
    ],
)
def test_a_workspace_error_reaching_the_api_is_a_502_or_503_saying_what_failed(
    client: httpx.Client,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    error: WorkspaceError,
    status: int,
    code: str,
) -> None:
    def fail(*_: object, **__: object) -> None:
        raise error

    monkeypatch.setattr("sharepack.usecases.submit.preview_strategy", fail)

    response = _upload(client, runtime.settings.sharepack_workspace_urls[0])

    assert response.status_code == status
    assert response.json() == {"Message": error.message, "ErrorCode": code}
    assert _nothing_stored(runtime)


@pytest.fixture
def database_down(runtime: Runtime) -> Iterator[httpx.Client]:
    """The API on a runtime whose database cannot be reached."""
    database = Database("postgresql://sharepack:hunter2@127.0.0.1:1/sharepack")
    down = Runtime(
        settings=runtime.settings,
        database=database,
        queue=TableQueue(database, "sharepack-processing"),
        workspace_for=runtime.workspace_for,
    )
    # A key of the right shape: looking it up meets the database that is down.
    key = "spk_000000000000_" + "A" * 43
    with running_api(down, with_worker=False, key=key) as api, api.client() as client:
        yield client
    down.close()


def test_with_the_database_down_the_api_answers_503_with_an_error_id(
    database_down: httpx.Client, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="sharepack"):
        status = database_down.get(f"/workflow/sharepack/{uuid.uuid4()}")
        upload = _upload(database_down, runtime.settings.sharepack_workspace_urls[0])

    for response in (status, upload):
        assert response.status_code == 503, response.text
        body = response.json()
        error_id = str(uuid.UUID(body["ErrorId"]))
        assert body == {
            "Message": f"The database is unavailable; reference {error_id}",
            "ErrorCode": "DATABASE_UNAVAILABLE",
            "ErrorId": error_id,
        }
        assert error_id in caplog.text
    assert "Cannot reach the database" in caplog.text
    assert "hunter2" not in caplog.text
