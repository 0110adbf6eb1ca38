"""The OpenAPI document describes the answers the API really gives: every key, each with a
description, and the keys every answer carries marked required."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from sharepack.runtime import Runtime
from tests.conftest import REPO_ROOT

EXAMPLE = (REPO_ROOT / "examples" / "sharepack.yaml").read_bytes()
UPLOAD = "/workflow/sharepack/upload"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The document does not depend on the database: one backend is enough."""
    return f"sqlite:///{(tmp_path / 'sharepack.db').as_posix()}"


class Document:
    """The served OpenAPI document, with `$ref`s followed."""

    def __init__(self, client: httpx.Client) -> None:
        self.body: dict[str, Any] = client.get("/openapi.json").json()

    def answers(self, path: str, method: str, status: int) -> list[dict[str, Any]]:
        """The object schemas an answer may have (each alternative of an `anyOf`)."""
        response = self.body["paths"][path][method]["responses"][str(status)]
        schema = self._resolved(response["content"]["application/json"]["schema"])
        return [self._resolved(one) for one in schema.get("anyOf", [schema])]

    def _resolved(self, schema: dict[str, Any]) -> dict[str, Any]:
        if "$ref" not in schema:
            return schema
        name = schema["$ref"].removeprefix("#/components/schemas/")
        resolved: dict[str, Any] = self.body["components"]["schemas"][name]
        return resolved


def _describing(alternatives: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    """The alternative whose keys are exactly the body's, failing if none is."""
    matching = [one for one in alternatives if set(one["properties"]) == set(body)]
    assert matching, (sorted(body), [sorted(one["properties"]) for one in alternatives])
    return matching[0]


def _assert_fully_described(schema: dict[str, Any], body: dict[str, Any]) -> None:
    assert set(schema["properties"]) == set(body)
    assert set(schema.get("required", [])) == set(body)
    undescribed = [
        key for key, field in schema["properties"].items() if not field.get("description")
    ]
    assert undescribed == []


def _upload(client: httpx.Client, workspace: str, content: bytes) -> httpx.Response:
    return client.post(
        UPLOAD, headers={"X-Workspace-URL": workspace}, files={"file": ("pack.yaml", content)}
    )


def test_the_upload_answer_202_lists_exactly_the_keys_an_upload_returns(
    client: httpx.Client, runtime: Runtime
) -> None:
    response = _upload(client, runtime.settings.sharepack_workspace_urls[0], EXAMPLE)
    document = Document(client)

    assert response.status_code == 202, response.text
    body = response.json()
    assert "ValidationDetails" in body
    _assert_fully_described(_describing(document.answers(UPLOAD, "post", 202), body), body)


def test_the_upload_answer_400_describes_an_invalid_pack_and_a_bad_request(
    client: httpx.Client, runtime: Runtime
) -> None:
    invalid = _upload(
        client,
        runtime.settings.sharepack_workspace_urls[0],
        EXAMPLE.replace(b"requestor: john.doe@example.com", b"requestor: not-an-email"),
    )
    no_header = client.post(UPLOAD, files={"file": ("pack.yaml", EXAMPLE)})
    alternatives = Document(client).answers(UPLOAD, "post", 400)

    for response in (invalid, no_header):
        assert response.status_code == 400, response.text
        body = response.json()
        _assert_fully_described(_describing(alternatives, body), body)
    assert invalid.json()["ValidationDetails"]


def test_the_status_answer_lists_exactly_the_keys_it_returns(
    client: httpx.Client, runtime: Runtime
) -> None:
    uploaded = _upload(client, runtime.settings.sharepack_workspace_urls[0], EXAMPLE)
    pack_id = uploaded.json()["SharePackId"]
    status = client.get(f"/workflow/sharepack/{pack_id}")
    unknown = client.get(f"/workflow/sharepack/{uuid.uuid4()}")
    document = Document(client)
    path = "/workflow/sharepack/{share_pack_id}"

    assert status.status_code == 200, status.text
    _assert_fully_described(
        _describing(document.answers(path, "get", 200), status.json()), status.json()
    )
    assert unknown.status_code == 404
    _assert_fully_described(
        _describing(document.answers(path, "get", 404), unknown.json()), unknown.json()
    )
