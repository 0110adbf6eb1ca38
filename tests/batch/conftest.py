"""The batch tests' share packs, zips and counts of what is stored."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterator, Sequence

import httpx
import pytest
from sqlalchemy import func, select

from sharepack.runtime import Runtime
from sharepack.store.own_tables import batches, queue_messages
from sharepack.store.tables import share_packs
from tests.api_server import ServedApi, running_api

TABLES = ("transactions", "customers", "orders", "products", "returns")
BATCH = "/workflow/sharepack/batch"


def pack(n: int, *, business_line: str = "Sales Operations") -> bytes:
    """A valid pack of its own recipient and share, reading one seeded table."""
    return f"""metadata:
  requestor: john.doe@example.com
  project_name: Batch project {n}
  business_line: {business_line}
  strategy: NEW
  description: Pack {n} of a batch
recipient:
  - name: batch-analyst-{n}
    type: D2O
    email: analyst{n}@partner.example.com
    allowed_ips: [198.51.100.{n + 10}]
    comment: Analyst {n}
share:
  - name: batch_share_{n}
    comment: Share {n}
    recipients: [batch-analyst-{n}]
    data_objects:
      - prod_catalog.sales.{TABLES[n % len(TABLES)]}
""".encode()


#: A pack whose share names a recipient it does not declare.
INVALID = pack(9).replace(b"recipients: [batch-analyst-9]", b"recipients: [nobody]")


def zip_of(entries: Sequence[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_bomb(name: str = "bomb.yaml", size: int = 10_000_000) -> bytes:
    """`size` bytes of zeros, compressed to about a thousandth of that."""
    return zip_of([(name, b"\0" * size)])


def with_declared_size(archive: bytes, size: int) -> bytes:
    """The one-entry `archive` with both its headers declaring `size` uncompressed bytes."""
    patched = bytearray(archive)
    struct.pack_into("<I", patched, patched.find(b"PK\x03\x04") + 22, size)
    struct.pack_into("<I", patched, patched.find(b"PK\x01\x02") + 24, size)
    return bytes(patched)


def with_encrypted_flag(archive: bytes) -> bytes:
    """The one-entry `archive` with its entry marked encrypted (general purpose bit 0)."""
    patched = bytearray(archive)
    for header, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = patched.find(header) + offset
        (flags,) = struct.unpack_from("<H", patched, at)
        struct.pack_into("<H", patched, at, flags | 0x1)
    return bytes(patched)


def stored(runtime: Runtime) -> tuple[int, int, int]:
    """(share_packs rows, batches rows, queue messages) in the database now."""
    with runtime.database.unit_of_work() as uow:
        return tuple(  # type: ignore[return-value]
            int(uow.session.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (share_packs, batches, queue_messages)
        )


def post_batch(
    client: httpx.Client, workspace: str, files: Sequence[tuple[str, bytes]]
) -> httpx.Response:
    parts = [("files", (name, content, "application/octet-stream")) for name, content in files]
    return client.post(BATCH, headers={"X-Workspace-URL": workspace}, files=parts)


@pytest.fixture
def api(runtime: Runtime) -> Iterator[ServedApi]:
    """The API served without a worker: what is stored stays queued."""
    with running_api(runtime, with_worker=False) as served:
        yield served


@pytest.fixture
def client(api: ServedApi) -> Iterator[httpx.Client]:
    with api.client() as client:
        yield client
