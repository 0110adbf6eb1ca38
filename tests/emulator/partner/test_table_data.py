"""Table files: the same rows for the same table version, one file per region, and
download tokens that stop working when they expire (PROTOCOL.md, File:
`expirationTimestamp`; an hour, the reference server's `preSignedUrlTimeoutSeconds`)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from databricks_emulator.table_data import URL_LIFETIME_MS, TableFiles, table_rows


def test_rows_are_the_same_for_a_version_and_change_with_it() -> None:
    assert table_rows("c.s.t", 1) == table_rows("C.S.T", 1)
    assert table_rows("c.s.t", 1) != table_rows("c.s.t", 2)
    assert [r["id"] for r in table_rows("c.s.t", 1)] == list(range(1, 31))


def test_each_region_is_one_parquet_file_without_the_partition_column() -> None:
    tables = TableFiles()  # held: the files live as long as their owner
    files = tables.files("c.s.t", 1)

    assert sorted(f.region for f in files) == ["apac", "eu", "us"]
    for file in files:
        written = pq.ParquetFile(file.path)  # the file alone, no hive-style discovery
        assert written.schema_arrow.names == ["id", "name", "amount"]
        assert written.metadata.num_rows == 10
        assert file.size == file.path.stat().st_size


def test_a_download_token_works_until_it_expires() -> None:
    tables = TableFiles()
    file = tables.files("c.s.t", 1)[0]
    token, expires = tables.presign(file, now=1_000)

    assert expires == 1_000 + URL_LIFETIME_MS
    assert tables.resolve(token, now=expires - 1) == file.path
    assert tables.resolve(token, now=expires) is None
    assert tables.resolve("not-a-token", now=1_000) is None


def test_the_files_go_when_their_owner_goes() -> None:
    tables = TableFiles()
    folder: Path = tables.files("c.s.t", 1)[0].path.parents[2]
    assert folder.exists()

    del tables

    assert not folder.exists()
