"""Workspace files through the SDK: folders, a notebook imported and exported, deletion."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service import workspace

NOTEBOOK = "# Databricks notebook source\nprint('hello from sharepack')\n"


@pytest.fixture
def folder(client: WorkspaceClient, name: str) -> Iterator[str]:
    """A fresh folder under the caller's home, removed with all it holds afterwards."""
    path = f"/Users/{client.current_user.me().user_name}/{name}"
    client.workspace.mkdirs(path)
    yield path
    with contextlib.suppress(NotFound):
        client.workspace.delete(path, recursive=True)


def _import_notebook(client: WorkspaceClient, path: str) -> None:
    client.workspace.import_(
        path,
        content=base64.b64encode(NOTEBOOK.encode()).decode(),
        format=workspace.ImportFormat.SOURCE,
        language=workspace.Language.PYTHON,
    )


def test_mkdirs_makes_a_directory(client: WorkspaceClient, folder: str) -> None:
    client.workspace.mkdirs(f"{folder}/a/b")

    status = client.workspace.get_status(f"{folder}/a/b")

    assert status.object_type == workspace.ObjectType.DIRECTORY
    assert client.workspace.get_status(f"{folder}/a").object_type == workspace.ObjectType.DIRECTORY


def test_imported_notebook_has_a_status(client: WorkspaceClient, folder: str) -> None:
    path = f"{folder}/notebook"
    _import_notebook(client, path)

    status = client.workspace.get_status(path)

    assert status.path == path
    assert status.object_type == workspace.ObjectType.NOTEBOOK
    assert status.language == workspace.Language.PYTHON
    assert status.object_id


def test_listing_a_folder_shows_its_notebook(client: WorkspaceClient, folder: str) -> None:
    path = f"{folder}/notebook"
    _import_notebook(client, path)

    listed = [(o.path, o.object_type) for o in client.workspace.list(folder)]

    assert listed == [(path, workspace.ObjectType.NOTEBOOK)]


def test_export_round_trips_the_imported_source(client: WorkspaceClient, folder: str) -> None:
    path = f"{folder}/notebook"
    _import_notebook(client, path)

    exported = client.workspace.export(path, format=workspace.ExportFormat.SOURCE)

    assert exported.content is not None
    assert base64.b64decode(exported.content).decode().rstrip("\n") == NOTEBOOK.rstrip("\n")


def test_deleted_notebook_is_gone(client: WorkspaceClient, folder: str) -> None:
    path = f"{folder}/notebook"
    _import_notebook(client, path)

    client.workspace.delete(path)

    with pytest.raises(NotFound):
        client.workspace.get_status(path)
    assert list(client.workspace.list(folder)) == []


def test_status_of_a_missing_path_is_not_found(client: WorkspaceClient, folder: str) -> None:
    missing = f"{folder}/missing"

    with pytest.raises(NotFound, match="doesn't exist"):
        client.workspace.get_status(missing)
