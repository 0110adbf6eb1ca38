"""An upload is bounded before anything is stored, and a failure never shows its insides.

Texts longer than their columns and file names longer than theirs are validation errors
(400, nothing stored); the body is read only up to the size limit; a 500 answers with an
error id, the details going to the log under the same id. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Iterator, MutableMapping
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from sharepack.api.app import create_app
from sharepack.api.body_limit import MULTIPART_ALLOWANCE
from sharepack.runtime import Runtime
from sharepack.store.share_packs import SharePackRepository
from sharepack.store.tables import share_packs
from tests.api_server import running_api
from tests.conftest import REPO_ROOT
from tests.test_packfile_bounds import email_of_length

EXAMPLE = (REPO_ROOT / "examples" / "sharepack.yaml").read_bytes()
UPLOAD = "/workflow/sharepack/upload"


@pytest.fixture
def client(runtime: Runtime) -> Iterator[httpx.Client]:
    with running_api(runtime, with_worker=False) as api, api.client() as client:
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


# -- the body is read only up to the limit ---------------------------------------------------

BOUNDARY = b"sharepack-test-boundary"
CHUNK = 64 * 1024


def _multipart_head() -> bytes:
    return (
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="big.yaml"\r\n'
        b"Content-Type: application/x-yaml\r\n\r\n"
    )


def _huge_body(total: int) -> Iterator[bytes]:
    """A multipart body of `total` bytes, made as it is read."""
    head, tail = _multipart_head(), b"\r\n--" + BOUNDARY + b"--\r\n"
    yield head
    left = total - len(head) - len(tail)
    while left > 0:
        size = min(CHUNK, left)
        yield b"#" * size
        left -= size
    yield tail


class _Client:
    """Drives the ASGI app directly, counting the body bytes the app asks for."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.read = 0
        self.messages: list[MutableMapping[str, Any]] = []

    async def receive(self) -> MutableMapping[str, Any]:
        chunk = next(self._chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        self.read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.messages.append(message)

    def answer(self) -> tuple[int, bytes]:
        (start,) = [m for m in self.messages if m["type"] == "http.response.start"]
        assert (b"connection", b"close") in start["headers"]  # the rest is not taken in
        body = b"".join(m.get("body", b"") for m in self.messages if m["type"] != start["type"])
        return start["status"], body


def _post(runtime: Runtime, chunks: Iterator[bytes], headers: list[tuple[bytes, bytes]]) -> _Client:
    client = _Client(chunks)
    url = runtime.settings.sharepack_workspace_urls[0].encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": UPLOAD,
        "raw_path": UPLOAD.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"multipart/form-data; boundary=" + BOUNDARY),
            (b"x-workspace-url", url),
            *headers,
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(create_app(runtime)(scope, client.receive, client.send))
    return client


def _refusal_of_size(runtime: Runtime, status: int, body: bytes) -> None:
    limit = runtime.settings.sharepack_max_upload_bytes
    assert status == 400, body
    answer = httpx.Response(status, content=body).json()
    assert answer["Status"] == "VALIDATION_FAILED"
    assert answer["ValidationErrors"] == [f"The file is larger than the limit of {limit:,} bytes"]
    assert _nothing_stored(runtime)


def test_a_content_length_over_the_limit_is_refused_before_the_body_is_read(
    runtime: Runtime,
) -> None:
    total = 50 * 1024 * 1024
    length = [(b"content-length", str(total).encode())]

    client = _post(runtime, _huge_body(total), length)

    assert client.read == 0
    _refusal_of_size(runtime, *client.answer())


def test_a_body_without_a_length_is_refused_as_soon_as_it_passes_the_limit(
    runtime: Runtime,
) -> None:
    total = 50 * 1024 * 1024

    client = _post(runtime, _huge_body(total), [(b"transfer-encoding", b"chunked")])

    assert client.read <= runtime.settings.sharepack_max_upload_bytes + MULTIPART_ALLOWANCE + CHUNK
    _refusal_of_size(runtime, *client.answer())


def test_a_body_that_outgrows_its_content_length_is_refused_at_the_limit(
    runtime: Runtime,
) -> None:
    total = 50 * 1024 * 1024

    client = _post(runtime, _huge_body(total), [(b"content-length", b"1000")])

    assert client.read <= runtime.settings.sharepack_max_upload_bytes + MULTIPART_ALLOWANCE + CHUNK
    status, _ = client.answer()
    assert status == 400
    assert _nothing_stored(runtime)


def _answer_over_a_socket(base_url: str, request: bytes) -> bytes:
    """Send `request` (headers and part of a body) and read the answer, sending no more."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def _request_head(runtime: Runtime, *headers: bytes) -> bytes:
    url = runtime.settings.sharepack_workspace_urls[0].encode()
    lines = [
        b"POST " + UPLOAD.encode() + b" HTTP/1.1",
        b"Host: 127.0.0.1",
        b"X-Workspace-URL: " + url,
        b"Content-Type: multipart/form-data; boundary=" + BOUNDARY,
        *headers,
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def test_over_http_a_length_over_the_limit_is_answered_before_the_body_is_sent(
    runtime: Runtime,
) -> None:
    with running_api(runtime, with_worker=False) as api:
        # The body is never sent: an answer that waited for it would not come.
        answer = _answer_over_a_socket(
            api.url, _request_head(runtime, b"Content-Length: 209715200")
        )

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"connection: close" in answer.lower()
    assert b"The file is larger than the limit" in answer
    # Refused before anyone was authenticated, and on the audit trail all the same.
    with runtime.database.unit_of_work() as uow:
        (refusal,) = [e for e in uow.audit_trail.search() if e.outcome == "refused"]
    assert (refusal.action, refusal.performed_by) == ("upload", "anonymous")
    assert refusal.client_address == "127.0.0.1"
    assert refusal.details is not None
    assert "larger than the limit" in refusal.details["reason"]


def test_over_http_a_chunked_body_is_answered_once_it_passes_the_limit(
    runtime: Runtime,
) -> None:
    # One byte past what the limit allows, in one chunk left unfinished: the answer can
    # only come from a server that refuses at the limit, not at the end of the body.
    head = _multipart_head()
    size = runtime.settings.sharepack_max_upload_bytes + MULTIPART_ALLOWANCE + 1
    chunk = b"%x\r\n" % size + head + b"#" * (size - len(head))
    request = _request_head(runtime, b"Transfer-Encoding: chunked") + chunk

    with running_api(runtime, with_worker=False) as api:
        answer = _answer_over_a_socket(api.url, request)

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"The file is larger than the limit" in answer


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

    monkeypatch.setattr("sharepack.usecases.submit.preview_strategy", fail)

    with caplog.at_level(logging.ERROR, logger="sharepack"):
        response = _upload(client, runtime)

    error_id = _internal_error(response)
    assert "hunter2" not in response.text
    assert error_id in caplog.text
    assert "hunter2" in caplog.text
    assert _nothing_stored(runtime)


# -- a refused workspace is named; the allow-list is not shown ---------------------------------


def test_a_refused_workspace_is_named_without_listing_the_allowed_ones(
    client: httpx.Client, runtime: Runtime
) -> None:
    response = _upload(client, runtime, workspace_url="https://adb-attacker.example.net")

    assert response.status_code == 400
    body = response.json()
    assert body["ErrorCode"] == "WORKSPACE_NOT_ALLOWED"
    assert "'https://adb-attacker.example.net' is not allowed" in body["Message"]
    assert "SHAREPACK_WORKSPACE_URLS" in body["Message"]
    for allowed in runtime.settings.sharepack_workspace_urls:
        assert allowed not in body["Message"]
        assert allowed.split("://")[1] not in body["Message"]
    assert _nothing_stored(runtime)
