"""Bad requests get a clear 4xx JSON answer and store nothing."""

from __future__ import annotations

import uuid

import httpx

from sharepack.runtime import Runtime
from tests.conftest import REPO_ROOT

EXAMPLE = (REPO_ROOT / "examples" / "sharepack.yaml").read_bytes()


def test_upload_without_workspace_header_is_400(client: httpx.Client, runtime: Runtime) -> None:
    response = client.post("/workflow/sharepack/upload", files={"file": ("p.yaml", EXAMPLE)})

    assert response.status_code == 400
    assert "X-Workspace-URL" in response.json()["Message"]
    assert runtime.queue.depth() == 0


def test_upload_without_file_is_400(client: httpx.Client, runtime: Runtime) -> None:
    url = runtime.settings.sharepack_workspace_urls[0]
    response = client.post("/workflow/sharepack/upload", headers={"X-Workspace-URL": url})

    assert response.status_code == 400
    assert "'file'" in response.json()["Message"]
    assert runtime.queue.depth() == 0


def test_invalid_pack_is_400_validation_failed_with_located_errors(
    client: httpx.Client, runtime: Runtime
) -> None:
    url = runtime.settings.sharepack_workspace_urls[0]
    broken = EXAMPLE.replace(b"requestor: john.doe@example.com", b"requestor: not-an-email")

    response = client.post(
        "/workflow/sharepack/upload",
        headers={"X-Workspace-URL": url},
        files={"file": ("broken.yaml", broken)},
    )

    assert response.status_code == 400
    body = response.json()
    assert body["Status"] == "VALIDATION_FAILED"
    assert body["SharePackId"] is None
    assert any("broken.yaml" in e and "requestor" in e for e in body["ValidationErrors"])
    assert runtime.queue.depth() == 0


def test_unknown_pack_id_is_404(client: httpx.Client) -> None:
    response = client.get(f"/workflow/sharepack/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json()["ErrorCode"] == "NOT_FOUND"


def test_malformed_pack_id_is_404_naming_it(client: httpx.Client) -> None:
    response = client.get("/workflow/sharepack/not-a-uuid")

    assert response.status_code == 404
    assert "not-a-uuid" in response.json()["Message"]


def test_swagger_ui_is_served(client: httpx.Client) -> None:
    assert client.get("/docs").status_code == 200
    assert "/workflow/sharepack/upload" in client.get("/openapi.json").json()["paths"]


def test_file_sent_as_a_plain_form_field_is_400_naming_the_field(
    client: httpx.Client, runtime: Runtime
) -> None:
    url = runtime.settings.sharepack_workspace_urls[0]
    response = client.post(
        "/workflow/sharepack/upload", headers={"X-Workspace-URL": url}, data={"file": "null"}
    )

    assert response.status_code == 400
    body = response.json()
    assert body["ErrorCode"] == "BAD_REQUEST"
    assert "'file'" in body["Message"]
    assert "file upload" in body["Message"]
    assert runtime.queue.depth() == 0


def test_openapi_documents_every_answer_the_api_gives(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    answers = {
        (path, method): sorted(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    assert answers == {
        ("/workflow/sharepack/upload", "post"): ["202", "400", "500", "503"],
        ("/workflow/sharepack/{share_pack_id}", "get"): ["200", "404", "500", "503"],
        ("/workflow/health", "get"): ["200", "500", "503"],
        ("/workflow/recipients/{name}/rotate-token", "post"): [
            *("200", "400", "403", "404", "500", "502", "503"),
        ],
        ("/workflow/sharepack/batch", "post"): ["202", "400", "403", "500", "503"],
        ("/workflow/batch/{batch_id}", "get"): ["200", "404", "500", "503"],
        ("/workflow/approvals", "get"): ["200", "500", "503"],
        ("/workflow/sharepack/{share_pack_id}/approval", "get"): ["200", "404", "500", "503"],
        ("/workflow/sharepack/{share_pack_id}/approve", "post"): [
            *("200", "403", "404", "409", "500", "503"),
        ],
        ("/workflow/sharepack/{share_pack_id}/reject", "post"): [
            *("200", "400", "403", "404", "409", "500", "503"),
        ],
        ("/workflow/sharepack/{share_pack_id}/cancel", "post"): [
            *("200", "403", "404", "409", "500", "503"),
        ],
        ("/workflow/projects/{project_id}/versions", "get"): ["200", "404", "500", "503"],
        ("/workflow/projects/{project_id}/rollback", "post"): [
            *("200", "202", "400", "403", "404", "409", "500", "502", "503"),
        ],
    }
