"""The rows of every catalog table, as Parquet files a partner downloads over Delta Sharing.

Each table holds 30 deterministic rows (`id` long, `name` string, `amount` double, and
`region` string, the partition column over us/eu/apac), derived from the table's name and
version, so a table a pipeline re-materialised (a new version) reads differently. Files are
written lazily, one per region partition, into a temporary directory the emulator owns and
removes when it is collected. As Delta data files, they leave the partition column out: a
reader takes it from the file's `partitionValues`.

A file is served under an unguessable token that expires, like the presigned URLs the real
service hands out (PROTOCOL.md, File: `url`, `expirationTimestamp`).
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import uuid
import weakref
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGIONS = ("us", "eu", "apac")
#: A table's first version (`TableEntry.version` starts there); each re-materialisation adds one.
FIRST_VERSION = 1
ROWS_PER_TABLE = 30
PARTITION_COLUMNS = ("region",)
#: The reference server presigns for an hour by default (`preSignedUrlTimeoutSeconds`).
URL_LIFETIME_MS = 3600 * 1000
_FIELDS = (("id", "long"), ("name", "string"), ("amount", "double"), ("region", "string"))
SCHEMA_STRING = json.dumps(
    {
        "type": "struct",
        "fields": [{"name": n, "type": t, "nullable": True, "metadata": {}} for n, t in _FIELDS],
    },
    separators=(",", ":"),
)


def table_rows(full_name: str, version: int) -> list[dict[str, Any]]:
    """The table's rows at `version`: the same for the same name and version, every time."""
    seed = zlib.crc32(f"{full_name.lower()}@{version}".encode())
    short = full_name.lower().rsplit(".", 1)[-1]
    return [
        {
            "id": i,
            "name": f"{short}-{i:02d}",
            "amount": round(((seed >> (i % 16)) % 100_000) / 100 + i, 2),
            "region": REGIONS[i % len(REGIONS)],
        }
        for i in range(1, ROWS_PER_TABLE + 1)
    ]


@dataclass(frozen=True)
class DataFile:
    """One Parquet file of a table version: the rows of one region."""

    id: str
    region: str
    path: Path
    size: int
    stats: str

    @property
    def partition_values(self) -> dict[str, str]:
        return {"region": self.region}


class TableFiles:
    """Writes table files on first use and hands out expiring download tokens for them.

    Callers hold the emulator's lock."""

    def __init__(self) -> None:
        self._root: Path | None = None
        self._files: dict[tuple[str, int], list[DataFile]] = {}
        self._urls: dict[str, tuple[Path, int]] = {}

    def files(self, full_name: str, version: int) -> list[DataFile]:
        """The files of `full_name` at `version`, by region, written now if not yet."""
        key = (full_name.lower(), version)
        if key not in self._files:
            self._files[key] = self._write(key[0], version)
        return self._files[key]

    def presign(self, file: DataFile, now: int) -> tuple[str, int]:
        """A new download token for `file` and the epoch ms at which it stops working."""
        token = secrets.token_urlsafe(32)
        expires = now + URL_LIFETIME_MS
        self._urls[token] = (file.path, expires)
        return token, expires

    def resolve(self, token: str, now: int) -> Path | None:
        """The file behind a download token still valid at `now`, else None."""
        found = self._urls.get(token)
        if found is None or found[1] <= now:
            return None
        return found[0]

    def _directory(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="databricks-emulator-tables-"))
            weakref.finalize(self, shutil.rmtree, self._root, ignore_errors=True)
        return self._root

    def _write(self, full_name: str, version: int) -> list[DataFile]:
        import pyarrow as pa  # lazily: CLI start-up does not pay for pyarrow
        import pyarrow.parquet as pq

        rows = table_rows(full_name, version)
        files = []
        for region in REGIONS:
            part = [r for r in rows if r["region"] == region]
            file_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{full_name}@{version}/{region}"))
            folder = self._directory() / f"{full_name}@{version}" / f"region={region}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"part-00000-{file_id}.c000.snappy.parquet"
            columns = {c: [r[c] for r in part] for c in ("id", "name", "amount")}
            schema = pa.schema(
                [("id", pa.int64()), ("name", pa.string()), ("amount", pa.float64())]
            )
            pq.write_table(pa.table(columns, schema=schema), path)
            files.append(DataFile(file_id, region, path, path.stat().st_size, _stats(part)))
        return files


def _stats(rows: list[dict[str, Any]]) -> str:
    """Per-file statistics as PROTOCOL.md's Per-file Statistics defines them."""
    columns = ("id", "name", "amount")
    return json.dumps(
        {
            "numRecords": len(rows),
            "minValues": {c: min(r[c] for r in rows) for c in columns},
            "maxValues": {c: max(r[c] for r in rows) for c in columns},
            "nullCount": {c: 0 for c in columns},
        },
        separators=(",", ":"),
    )
