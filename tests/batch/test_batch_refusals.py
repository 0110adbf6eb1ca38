"""A batch is all or nothing: any file's error refuses it with every file listed, and
nothing of it is stored (no pack, no batch, no queue message). SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from sharepack.runtime import Runtime
from tests.batch.conftest import (
    INVALID,
    pack,
    post_batch,
    stored,
    with_declared_size,
    with_encrypted_flag,
    zip_bomb,
    zip_of,
)


def _files(response: httpx.Response) -> dict[str, list[str]]:
    """Each listed file's errors, by name."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["Status"] == "VALIDATION_FAILED"
    return {f["FileName"]: f["ValidationErrors"] for f in body["Files"]}


def test_one_invalid_part_refuses_the_batch_listing_every_file(
    client: httpx.Client, runtime: Runtime
) -> None:
    workspace = runtime.settings.sharepack_workspace_urls[0]

    response = post_batch(
        client, workspace, [("one.yaml", pack(1)), ("bad.yaml", INVALID), ("two.yaml", pack(2))]
    )

    files = _files(response)
    assert list(files) == ["one.yaml", "bad.yaml", "two.yaml"]
    assert files["one.yaml"] == files["two.yaml"] == []
    assert any("nobody" in error for error in files["bad.yaml"]), files
    assert stored(runtime) == (0, 0, 0)


def test_an_invalid_file_and_a_zip_bomb_in_one_zip_are_each_listed_and_nothing_stored(
    client: httpx.Client, runtime: Runtime
) -> None:
    bomb = b"\0" * 10_000_000
    content = zip_of([("good.yaml", pack(1)), ("bad.yaml", INVALID), ("bomb.yaml", bomb)])

    response = post_batch(
        client, runtime.settings.sharepack_workspace_urls[0], [("b.zip", content)]
    )

    files = _files(response)
    assert files["good.yaml"] == []
    assert any("nobody" in error for error in files["bad.yaml"]), files
    (bomb_error,) = files["bomb.yaml"]
    assert bomb_error.startswith("b.zip!bomb.yaml: ")
    assert "5,242,880 bytes" in bomb_error
    assert stored(runtime) == (0, 0, 0)


def test_each_unsafe_zip_is_refused_naming_its_entry_and_nothing_is_stored(
    client: httpx.Client, runtime: Runtime
) -> None:
    workspace = runtime.settings.sharepack_workspace_urls[0]
    unsafe = {
        "bomb.yaml": zip_bomb("bomb.yaml"),
        "lying.yaml": with_declared_size(zip_bomb("lying.yaml"), 100),
        "../x.yaml": zip_of([("../x.yaml", pack(1))]),
        "/etc/x.yaml": zip_of([("/etc/x.yaml", pack(1))]),
        "C:\\x.yaml": zip_of([("C:\\x.yaml", pack(1))]),
        "A.yaml": zip_of([("a.yaml", pack(1)), ("A.yaml", pack(2))]),
        "inner.zip": zip_of([("inner.zip", zip_of([("a.yaml", pack(1))]))]),
        "secret.yaml": with_encrypted_flag(zip_of([("secret.yaml", pack(1))])),
    }

    for entry, content in unsafe.items():
        files = _files(post_batch(client, workspace, [("batch.zip", content)]))

        assert files[entry], (entry, files)
        assert files[entry][0].startswith(f"batch.zip!{entry}: "), (entry, files)
    assert stored(runtime) == (0, 0, 0)


def test_a_zip_of_more_files_than_allowed_is_refused_whole(
    client: httpx.Client, runtime: Runtime
) -> None:
    too_many = runtime.settings.sharepack_batch_max_files + 1
    content = zip_of([(f"p{n}.yaml", pack(n)) for n in range(too_many)])

    response = post_batch(
        client, runtime.settings.sharepack_workspace_urls[0], [("b.zip", content)]
    )

    (error,) = _files(response)["b.zip"]
    assert "at most 50 share pack files (SHAREPACK_BATCH_MAX_FILES)" in error
    assert stored(runtime) == (0, 0, 0)


def test_more_parts_than_allowed_are_refused_as_a_batch(
    client: httpx.Client, runtime: Runtime
) -> None:
    parts = [(f"p{n}.yaml", pack(n)) for n in range(runtime.settings.sharepack_batch_max_files + 1)]

    response = post_batch(client, runtime.settings.sharepack_workspace_urls[0], parts)

    assert response.status_code == 400, response.text
    assert "at most 50 are accepted" in response.json()["ValidationErrors"][0]
    assert stored(runtime) == (0, 0, 0)


def test_a_zip_among_other_parts_is_that_part_s_error(
    client: httpx.Client, runtime: Runtime
) -> None:
    parts = [("one.yaml", pack(1)), ("more.zip", zip_of([("two.yaml", pack(2))]))]

    files = _files(post_batch(client, runtime.settings.sharepack_workspace_urls[0], parts))

    assert files["one.yaml"] == []
    assert "send the zip alone" in files["more.zip"][0]
    assert stored(runtime) == (0, 0, 0)


def test_content_that_starts_like_a_zip_but_is_none_is_refused_by_the_pack_reader(
    client: httpx.Client, runtime: Runtime
) -> None:
    files = _files(
        post_batch(
            client, runtime.settings.sharepack_workspace_urls[0], [("x.zip", b"PK\x03\x04!")]
        )
    )

    assert files["x.zip"], files
    assert stored(runtime) == (0, 0, 0)


def test_a_batch_without_files_or_workspace_is_a_bad_request(
    client: httpx.Client, runtime: Runtime
) -> None:
    no_files = client.post(
        "/workflow/sharepack/batch",
        headers={"X-Workspace-URL": runtime.settings.sharepack_workspace_urls[0]},
        data={"other": "x"},
    )
    no_workspace = client.post("/workflow/sharepack/batch", files=[("files", ("a.yaml", pack(1)))])

    assert (no_files.status_code, no_files.json()["ErrorCode"]) == (400, "BAD_REQUEST")
    assert "'files'" in no_files.json()["Message"]
    assert (no_workspace.status_code, no_workspace.json()["ErrorCode"]) == (400, "BAD_REQUEST")
    assert stored(runtime) == (0, 0, 0)


def test_a_refused_batch_leaves_one_refusal_on_the_audit_trail_naming_its_files(
    client: httpx.Client, runtime: Runtime
) -> None:
    parts = [("one.yaml", pack(1)), ("bad.yaml", INVALID)]

    post_batch(client, runtime.settings.sharepack_workspace_urls[0], parts)

    with runtime.database.reading() as uow:
        uploads = [e for e in uow.audit_trail.search() if e.action == "upload"]
    (refusal,) = uploads
    assert refusal.outcome == "refused"
    assert refusal.details is not None
    assert refusal.details["reason"].startswith("batch of 2 files (one.yaml, bad.yaml): ")
    assert "bad.yaml (1 error)" in refusal.details["reason"]


def test_a_zip_s_files_are_listed_in_the_archive_s_order(
    client: httpx.Client, runtime: Runtime
) -> None:
    content = zip_of([("a.yaml", pack(1)), ("../b.yaml", pack(2)), ("c.yaml", INVALID)])

    files = _files(
        post_batch(client, runtime.settings.sharepack_workspace_urls[0], [("b.zip", content)])
    )

    assert list(files) == ["a.yaml", "../b.yaml", "c.yaml"]
