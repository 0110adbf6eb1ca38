"""The workspace tree: folders, notebooks and files under `/`, as `/api/2.0/workspace` keeps them.

`/`, `/Shared`, `/Users` and the current user's home exist from the start. Importing needs
the parent folder to exist (`mkdirs` makes it), as on a workspace.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from dataclasses import dataclass, field
from typing import Any

from databricks_emulator.catalog import now_ms
from databricks_emulator.errors import ApiError, already_exists, invalid, not_found

NOTEBOOK_FORMATS = ("SOURCE", "HTML", "JUPYTER", "DBC", "R_MARKDOWN")
NOTEBOOK_HEADER = b"# Databricks notebook source"
_EXTENSIONS = {"PYTHON": "py", "SQL": "sql", "SCALA": "scala", "R": "r"}


@dataclass
class WorkspaceObject:
    path: str
    object_type: str  # DIRECTORY, NOTEBOOK or FILE
    object_id: int
    created_at: int
    language: str | None = None
    content: bytes = b""

    def info(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "path": self.path,
            "object_type": self.object_type,
            "object_id": self.object_id,
        }
        if self.object_type != "DIRECTORY":
            answer.update(
                created_at=self.created_at, modified_at=self.created_at, size=len(self.content)
            )
        if self.language:
            answer["language"] = self.language
        return answer


@dataclass
class WorkspaceFiles:
    user: str
    objects: dict[str, WorkspaceObject] = field(default_factory=dict)
    next_id: int = 1_000_000

    def __post_init__(self) -> None:
        for path in ("/", "/Shared", "/Users", f"/Users/{self.user}"):
            self._add(path, "DIRECTORY")

    def _add(
        self, path: str, object_type: str, language: str | None = None, content: bytes = b""
    ) -> WorkspaceObject:
        previous = self.objects.get(path)
        object_id = previous.object_id if previous else self.next_id
        if previous is None:
            self.next_id += 1
        obj = WorkspaceObject(path, object_type, object_id, now_ms(), language, content)
        self.objects[path] = obj
        return obj

    @staticmethod
    def _normal(path: object) -> str:
        if not isinstance(path, str) or not path.startswith("/"):
            raise invalid(f"Path ({path}) must be absolute.")
        return posixpath.normpath(path) if path != "/" else "/"

    def require(self, path: object) -> WorkspaceObject:
        normal = self._normal(path)
        if normal not in self.objects:
            raise not_found(f"Path ({normal}) doesn't exist.")
        return self.objects[normal]

    def is_notebook(self, path: str) -> bool:
        obj = self.objects.get(path)
        return obj is not None and obj.object_type == "NOTEBOOK"

    def exists(self, path: str) -> bool:
        return path in self.objects

    def mkdirs(self, path: object) -> None:
        normal = self._normal(path)
        parts = [p for p in normal.split("/") if p]
        for depth in range(1, len(parts) + 1):
            current = "/" + "/".join(parts[:depth])
            existing = self.objects.get(current)
            if existing is None:
                self._add(current, "DIRECTORY")
            elif existing.object_type != "DIRECTORY":
                raise already_exists(f"{current} already exists and it is not a folder")

    def import_(self, body: dict[str, Any]) -> None:
        path = self._normal(body.get("path"))
        parent = posixpath.dirname(path)
        if self.objects.get(parent) is None or self.objects[parent].object_type != "DIRECTORY":
            raise not_found(f"The parent folder ({parent}) does not exist.")
        try:
            content = base64.b64decode(str(body.get("content", "")), validate=True)
        except (binascii.Error, ValueError):
            raise invalid("The content must be base64-encoded.") from None
        existing = self.objects.get(path)
        if existing is not None and (
            existing.object_type == "DIRECTORY" or not body.get("overwrite")
        ):
            raise already_exists(f"Path ({path}) already exists.")
        fmt = str(body.get("format") or "SOURCE")
        language = body.get("language")
        notebook = fmt in NOTEBOOK_FORMATS or (
            fmt == "AUTO" and content.startswith(NOTEBOOK_HEADER)
        )
        if notebook and fmt == "SOURCE" and not language:
            raise invalid("The language is required to import a notebook in SOURCE format.")
        if notebook:
            self._add(path, "NOTEBOOK", str(language or "PYTHON"), content)
        else:
            self._add(path, "FILE", None, content)

    def delete(self, path: object, recursive: bool) -> None:
        normal = self.require(path).path
        inside = [p for p in self.objects if p.startswith(normal.rstrip("/") + "/")]
        if inside and not recursive:
            raise ApiError(400, "DIRECTORY_NOT_EMPTY", f"Folder ({normal}) is not empty.")
        for p in [normal, *inside]:
            del self.objects[p]

    def children(self, path: object) -> list[dict[str, Any]]:
        directory = self.require(path)
        if directory.object_type != "DIRECTORY":
            return [directory.info()]
        return [
            obj.info()
            for p, obj in sorted(self.objects.items())
            if p != directory.path and posixpath.dirname(p) == directory.path
        ]

    def export(self, path: object) -> dict[str, Any]:
        obj = self.require(path)
        if obj.object_type == "DIRECTORY":
            raise invalid(f"Path ({obj.path}) is a folder; export it in DBC format.")
        extension = _EXTENSIONS.get(obj.language or "", "")
        return {
            "content": base64.b64encode(obj.content).decode("ascii"),
            **({"file_type": extension} if extension else {}),
        }

    def snapshot(self) -> list[str]:
        return sorted(p for p, o in self.objects.items() if o.object_type != "DIRECTORY")
