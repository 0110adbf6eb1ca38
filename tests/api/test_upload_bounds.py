"""An upload is bounded before anything is stored, and a failure never shows its insides.

Texts longer than their columns and file names longer than theirs are validation errors
(400, nothing stored); the body is read only up to the size limit; a 500 answers with an
error id, the details going to the log under the same id. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from sharepack.service.runtime import Runtime
from sharepack.store.share_packs import SharePackRepository
from sharepack.store.tables import share_packs
from tests.api_server import running_api
from tests.conftest import REPO_ROOT
from tests.test_spec_bounds import email_of_length

EXAMPLE = (REPO_ROOT / "examples" / "sharepack.yaml").read_bytes()
UPLOAD = "/workflow/sharepack/upload"


@pytest.fixture
def client(runtime: Runtime) -> Iterator[httpx.Client]:
    with (
        running_api(runtime, with_worker=False) as base_url,
        httpx.Client(base_url=base_url, timeout=60) as client,
    ):
        yield client


def _upload(
    client: httpx.Client,
    runtime: Runtime,
    content: bytes = EXAMPLE,
    filename: str = "sharepack.yaml",
    workspace_url: str | None = None,
) -> httpx.Response:
    url = workspace_url or runtime.settings.sharepack_workspace_urls[0]
    return client.post(
        UPLOAD, headers={"X-Workspace-URL": url}, files={"file": (filename, content)}
    )


def _nothing_stored(runtime: Runtime) -> bool:
    with runtime.database.engine.connect() as connection:
        rows = connection.execute(select(func.count()).select_from(share_packs)).scalar_one()
    return rows == 0 and runtime.queue.depth() == 0


# -- texts and file names longer than their columns ----------------------------------------

LONG_METADATA = {
    "project_name": (
        "project_name: Sales Data Q1 2024",
        "project_name: " + "p" * 300,
        "sharepack.yaml:5:17, metadata.project_name: at most 255 characters (got 300)",
    ),
    "business_line": (
        "business_line: Sales Operations",
        "business_line: " + "b" * 300,
        "sharepack.yaml:6:18, metadata.business_line: at most 255 characters (got 300)",
    ),
    "requestor": (  # a valid email address, but SharePack_<requestor>_<time> passes 255
        "requestor: john.doe@example.com",
        "requestor: " + email_of_length(240),
        "sharepack.yaml:4:14, metadata.requestor: at most 229 characters (got 240): the "
        "pack's name, SharePack_<requestor>_<date>_<time>, is stored in 255",
    ),
}


@pytest.mark.parametrize("field", LONG_METADATA)
def test_metadata_longer_than_its_column_is_refused_before_anything_is_stored(
    client: httpx.Client, runtime: Runtime, field: str
) -> None:
    old, new, expected = LONG_METADATA[field]

    response = _upload(client, runtime, EXAMPLE.replace(old.encode(), new.encode()))

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["Status"] == "VALIDATION_FAILED"
    assert body["ValidationErrors"] == [expected]
    assert _nothing_stored(runtime)


def test_a_file_name_longer_than_its_column_is_refused_naming_the_limit(
    client: httpx.Client, runtime: Runtime
) -> None:
    response = _upload(client, runtime, filename="n" * 595 + ".yaml")

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["Status"] == "VALIDATION_FAILED"
    assert body["ValidationErrors"] == [
        "The file name is 600 characters long; at most 500 are accepted: rename the file"
    ]
    assert _nothing_stored(runtime)


def test_a_file_just_over_the_size_limit_is_refused_by_name(
    client: httpx.Client, runtime: Runtime
) -> None:
    limit = runtime.settings.sharepack_max_upload_bytes
    content = EXAMPLE + b"#" * (limit + 1 - len(EXAMPLE))

    response = _upload(client, runtime, content, filename="big.yaml")

    assert response.status_code == 400, response.text
    assert response.json()["ValidationErrors"] == [
        f"big.yaml: The file is larger than the limit of {limit:,} bytes"
    ]
    assert _nothing_stored(runtime)


# -- a 500 shows an error id, never SQL, parameters or URLs ------------------------------------

LEAKS = ("INSERT", "share_packs", "postgresql://", "sqlite://", "parameters", "john.doe")


def _internal_error(response: httpx.Response) -> str:
    assert response.status_code == 500, response.text
    body = response.json()
    error_id = str(uuid.UUID(body["ErrorId"]))
    assert body == {
        "Message": f"Internal error; reference {error_id}",
        "ErrorCode": "INTERNAL_ERROR",
        "ErrorId": error_id,
    }
    return error_id


def test_a_database_error_answers_an_error_id_and_logs_the_details(
    client: httpx.Client,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    create = SharePackRepository.create

    def create_without_a_name(self: SharePackRepository, **fields: Any) -> Any:
        return create(self, **{**fields, "share_pack_name": None})  # NOT NULL: the INSERT fails

    monkeypatch.setattr(SharePackRepository, "create", create_without_a_name)

    with caplog.at_level(logging.ERROR, logger="sharepack"):
        response = _upload(client, runtime)

    error_id = _internal_error(response)
    for leak in LEAKS:
        assert leak not in response.text
    (logged,) = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged.exc_text is not None or logged.exc_info is not None
    assert "INSERT INTO" in caplog.text
    assert _nothing_stored(runtime)


def test_an_unexpected_exception_answers_an_error_id(
    client: httpx.Client,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fail(*args: object, **kwargs: object) -> Any:
        raise RuntimeError("lost postgresql://admin:hunter2@db.internal/sharepack")

    monkeypatch.setattr("sharepack.service.submit.preview_strategy", fail)

    with caplog.at_level(logging.ERROR, logger="sharepack"):
        response = _upload(client, runtime)

    error_id = _internal_error(response)
    assert "hunter2" not in response.text
    assert error_id in caplog.text
    assert "hunter2" in caplog.text
    assert _nothing_stored(runtime)
