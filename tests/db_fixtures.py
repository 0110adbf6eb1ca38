"""Database fixtures: every test that uses them runs on SQLite and on PostgreSQL.

`database_url` is an empty database (a file under tmp_path, or a fresh PostgreSQL
database); `database` is a `Database` on it, built by the real Alembic migrations.
PostgreSQL comes from SHAREPACK_TEST_POSTGRES_URL (default: the local server's `test`
database); each test gets a database of its own, created from the server's admin
connection and dropped afterwards. Without a server the PostgreSQL variant skips, saying
how to enable it; when the environment variable CI is set it fails instead.

Load it with `pytest_plugins = ["tests.db_fixtures"]` in the top-level conftest.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from sqlalchemy.engine import make_url

from sharepack.store import Database

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str:
    return os.environ.get("SHAREPACK_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _connect_admin() -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(postgres_admin_url()).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _without_password(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _unavailable(reason: str) -> NoReturn:
    message = (
        f"PostgreSQL is not reachable at {_without_password(postgres_admin_url())} ({reason}). "
        "Start PostgreSQL there, or set SHAREPACK_TEST_POSTGRES_URL to a server where the "
        "user may CREATE DATABASE (with CI set, this fails instead of skipping)."
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    try:
        admin = _connect_admin()
    except psycopg.OperationalError as exc:
        _unavailable(str(exc).strip().splitlines()[0])
    name = f"sp_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(postgres_admin_url()).set(database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{(tmp_path / 'sharepack.db').as_posix()}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated `Database` on SQLite or PostgreSQL, disposed after the test."""
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()
