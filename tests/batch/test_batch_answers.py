"""The batch routes' answers: the OpenAPI document describes every key they send, and the
batch route's body may be larger than one file's, up to its own limit."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sharepack.runtime import Runtime
from sharepack.settings import Settings
from sharepack.usecases.batch import overall_status
from tests.api.test_openapi_answers import Document, _assert_fully_described, _describing
from tests.batch.conftest import BATCH, INVALID, pack, post_batch, stored

UNKNOWN = "6f1c1a52-5d3c-4a55-9c52-5f1f0a1e2b3c"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Neither the document nor the body's limit depends on the database: SQLite."""
    return f"sqlite:///{(tmp_path / 'sharepack.db').as_posix()}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """One file at most 200 KB; a batch 1 MB in all."""
    return settings.model_copy(
        update={
            "sharepack_max_upload_bytes": 200_000,
            "sharepack_batch_max_total_bytes": 1_000_000,
            "sharepack_batch_max_files": 5,
        }
    )


def _padded(n: int, size: int) -> bytes:
    """A valid pack of about `size` bytes, the rest a YAML comment."""
    return pack(n) + b"# " + b"x" * (size - len(pack(n)) - 3) + b"\n"


def test_every_key_of_every_batch_answer_is_described(
    client: httpx.Client, runtime: Runtime
) -> None:
    workspace = runtime.settings.sharepack_workspace_urls[0]
    accepted = post_batch(client, workspace, [("a.yaml", pack(1))])
    refused = post_batch(client, workspace, [("a.yaml", pack(1)), ("b.yaml", INVALID)])
    no_header = client.post(BATCH, files=[("files", ("a.yaml", pack(1)))])
    status = client.get(f"/workflow/batch/{accepted.json()['BatchId']}")
    unknown = client.get(f"/workflow/batch/{UNKNOWN}")
    document = Document(client)
    answers = [
        (accepted, BATCH, "post", 202),
        (refused, BATCH, "post", 400),
        (no_header, BATCH, "post", 400),
        (status, "/workflow/batch/{batch_id}", "get", 200),
        (unknown, "/workflow/batch/{batch_id}", "get", 404),
    ]

    for response, path, method, code in answers:
        assert response.status_code == code, response.text
        body = response.json()
        _assert_fully_described(_describing(document.answers(path, method, code), body), body)


def test_a_batch_larger_than_one_file_s_limit_passes_the_body_limit(
    client: httpx.Client, runtime: Runtime
) -> None:
    parts = [(f"p{n}.yaml", _padded(n, 150_000)) for n in (1, 2, 3)]  # 450 KB in all

    response = post_batch(client, runtime.settings.sharepack_workspace_urls[0], parts)

    assert response.status_code == 202, response.text
    assert stored(runtime) == (3, 1, 3)


def test_a_part_over_one_file_s_limit_is_that_file_s_error(
    client: httpx.Client, runtime: Runtime
) -> None:
    parts = [("small.yaml", pack(1)), ("large.yaml", _padded(2, 250_000))]

    response = post_batch(client, runtime.settings.sharepack_workspace_urls[0], parts)

    assert response.status_code == 400, response.text
    files = {f["FileName"]: f["ValidationErrors"] for f in response.json()["Files"]}
    assert files["small.yaml"] == []
    assert "larger than the limit of 200,000 bytes" in files["large.yaml"][0]
    assert stored(runtime) == (0, 0, 0)


def test_a_body_over_the_batch_limit_is_refused_before_it_is_read(
    client: httpx.Client, runtime: Runtime
) -> None:
    parts = [(f"p{n}.yaml", b"x" * 1_000_000) for n in range(5)]  # past 1 MB and the framing

    response = post_batch(client, runtime.settings.sharepack_workspace_urls[0], parts)

    assert response.status_code == 400, response.text
    assert response.headers["Connection"] == "close"
    (error,) = response.json()["ValidationErrors"]
    assert "SHAREPACK_BATCH_MAX_TOTAL_BYTES" in error
    assert stored(runtime) == (0, 0, 0)


def test_the_single_upload_keeps_its_own_smaller_limit(
    client: httpx.Client, runtime: Runtime
) -> None:
    response = client.post(
        "/workflow/sharepack/upload",
        headers={"X-Workspace-URL": runtime.settings.sharepack_workspace_urls[0]},
        files={"file": ("big.yaml", b"x" * 450_000)},
    )

    assert response.status_code == 400
    assert "200,000 bytes" in response.json()["ValidationErrors"][0]


@pytest.mark.parametrize(
    ("statuses", "overall"),
    [
        (["COMPLETED", "IN_PROGRESS", "FAILED"], "IN_PROGRESS"),
        (["COMPLETED", "COMPLETED"], "COMPLETED"),
        (["COMPLETED", "FAILED"], "FAILED"),
        (["FAILED", "FAILED"], "FAILED"),
    ],
)
def test_a_batch_is_in_progress_while_any_pack_is_and_completed_only_when_all_are(
    statuses: list[str], overall: str
) -> None:
    assert overall_status(statuses) == overall
