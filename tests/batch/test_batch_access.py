"""Who may submit a batch and who may read one: a file the caller may not submit refuses
the whole batch (403, naming the file, nothing stored); a batch holding a pack the caller
may not read is answered as unknown. SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from sharepack.identity.principal import Role
from sharepack.runtime import Runtime
from tests.api_server import ServedApi, make_key
from tests.batch.conftest import pack, post_batch, stored

OWN = "Sales Operations"
REQUESTOR_EMAIL = "john.doe@example.com"


def test_a_file_of_a_business_line_the_caller_may_not_submit_refuses_the_batch(
    api: ServedApi, runtime: Runtime
) -> None:
    key = make_key(runtime, Role.REQUESTOR, (OWN,), owner_email=REQUESTOR_EMAIL)
    parts = [("own.yaml", pack(1)), ("finance.yaml", pack(2, business_line="Finance"))]

    with api.client(key=key) as client:
        response = post_batch(client, runtime.settings.sharepack_workspace_urls[0], parts)

    assert response.status_code == 403, response.text
    assert response.json()["ErrorCode"] == "FORBIDDEN"
    assert response.json()["Message"].startswith("finance.yaml: ")
    assert "'Finance'" in response.json()["Message"]
    assert stored(runtime) == (0, 0, 0)


def test_a_requestor_submits_a_batch_of_its_own_business_line(
    api: ServedApi, runtime: Runtime
) -> None:
    key = make_key(runtime, Role.REQUESTOR, (OWN,), owner_email=REQUESTOR_EMAIL)

    with api.client(key=key) as client:
        response = post_batch(
            client,
            runtime.settings.sharepack_workspace_urls[0],
            [("a.yaml", pack(1)), ("b.yaml", pack(2))],
        )

    assert response.status_code == 202, response.text
    assert stored(runtime) == (2, 1, 2)


def test_a_batch_with_a_pack_the_caller_may_not_read_is_not_found_for_it(
    api: ServedApi, client: httpx.Client, runtime: Runtime
) -> None:
    parts = [("own.yaml", pack(1)), ("finance.yaml", pack(2, business_line="Finance"))]
    batch_id = post_batch(client, runtime.settings.sharepack_workspace_urls[0], parts).json()[
        "BatchId"
    ]
    auditor = make_key(runtime, Role.AUDITOR, (OWN,))
    unknown = client.get("/workflow/batch/6f1c1a52-5d3c-4a55-9c52-5f1f0a1e2b3c").json()

    with api.client(key=auditor) as own_only:
        refused = own_only.get(f"/workflow/batch/{batch_id}")
    allowed = client.get(f"/workflow/batch/{batch_id}")

    assert refused.status_code == 404
    assert refused.json()["Message"] == unknown["Message"].replace(
        "6f1c1a52-5d3c-4a55-9c52-5f1f0a1e2b3c", batch_id
    )
    assert allowed.status_code == 200
    assert [p["FileName"] for p in allowed.json()["SharePacks"]] == ["own.yaml", "finance.yaml"]
