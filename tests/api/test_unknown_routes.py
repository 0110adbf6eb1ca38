"""A request no route takes is answered like every other error: `{Message, ErrorCode}`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sharepack.runtime import Runtime


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """These requests never reach the database: one backend is enough."""
    return f"sqlite:///{(tmp_path / 'sharepack.db').as_posix()}"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/workflow/packs"), ("POST", "/nowhere/at/all"), ("GET", "/docs-assets/none.js")],
)
def test_an_unknown_route_is_404_not_found_naming_the_method_and_path(
    client: httpx.Client, method: str, path: str
) -> None:
    response = client.request(method, path)

    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"Message", "ErrorCode"}
    assert body["ErrorCode"] == "NOT_FOUND"
    assert f"{method} {path}" in body["Message"]


def test_a_known_path_with_another_method_is_405_keeping_the_allow_header(
    client: httpx.Client,
) -> None:
    response = client.delete("/workflow/health")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    body = response.json()
    assert set(body) == {"Message", "ErrorCode"}
    assert body["ErrorCode"] == "METHOD_NOT_ALLOWED"
    assert "DELETE" in body["Message"]
    assert "/workflow/health" in body["Message"]
    assert "GET" in body["Message"]


def test_a_multipart_body_that_cannot_be_parsed_is_400_bad_request(
    client: httpx.Client, runtime: Runtime
) -> None:
    response = client.post(
        "/workflow/sharepack/upload",
        content=b"not multipart at all",
        headers={
            "Content-Type": "multipart/form-data; boundary=xyz",
            "X-Workspace-URL": runtime.settings.sharepack_workspace_urls[0],
        },
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"Message", "ErrorCode"}
    assert body["ErrorCode"] == "BAD_REQUEST"
    assert "multipart" in body["Message"].lower()


def test_a_parameter_of_the_wrong_kind_is_400_bad_request_not_422(
    client: httpx.Client, runtime: Runtime
) -> None:
    response = client.post(
        "/workflow/sharepack/upload",
        data={"file": "a text field, not a file"},
        files={"other": ("x.txt", b"x")},
        headers={"X-Workspace-URL": runtime.settings.sharepack_workspace_urls[0]},
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"Message", "ErrorCode"}
    assert body["ErrorCode"] == "BAD_REQUEST"
