"""Catalogs, schemas and tables: seeded from a fixture file, extended at run time.

Unity Catalog names are case-insensitive and kept in lower case, so every look-up folds
case. Seeded objects carry a fixed creation time, so the seeded catalog reads the same on
every start.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from databricks_emulator.errors import invalid, not_found

SEED_TIME_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z
TABLE_TYPES = ("MANAGED", "EXTERNAL", "VIEW", "MATERIALIZED_VIEW", "STREAMING_TABLE")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class TableSeed:
    name: str
    table_type: str = "MANAGED"

    @classmethod
    def parse(cls, entry: object) -> TableSeed:
        """`"cat.schema.table"` or `{"name": ..., "table_type": "VIEW"}`."""
        if isinstance(entry, str):
            return cls(entry)
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            table_type = str(entry.get("table_type", "MANAGED")).upper()
            if table_type not in TABLE_TYPES:
                raise invalid(f"Unknown table_type '{table_type}' for '{entry['name']}'.")
            return cls(entry["name"], table_type)
        raise invalid(f"A table is a name or {{name, table_type}}, not {entry!r}.")


@dataclass(frozen=True)
class Seed:
    """What the emulator holds after a reset: a fixture file's catalog objects and resources."""

    tables: tuple[TableSeed, ...]
    schemas: tuple[str, ...] = ()
    recipients: tuple[dict[str, Any], ...] = ()
    shares: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Seed:
        return cls(
            tables=tuple(TableSeed.parse(t) for t in data.get("tables") or ()),
            schemas=tuple(str(s) for s in data.get("schemas") or ()),
            recipients=tuple(dict(r) for r in data.get("recipients") or ()),
            shares=tuple(dict(s) for s in data.get("shares") or ()),
        )


def load_seed(path: Path | None) -> Seed:
    """The seed fixture at `path`, or the default one shipped in this package."""
    if path is None:
        text = files("databricks_emulator").joinpath("fixtures/default.json").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    return Seed.from_json(json.loads(text))


@dataclass
class TableEntry:
    full_name: str
    table_type: str
    created_at: int
    created_by: str
    #: The Delta version a partner reads (`table_data.FIRST_VERSION` at first); a pipeline
    #: update that re-materialises the table bumps it.
    version: int = 1

    @property
    def parts(self) -> tuple[str, str, str]:
        catalog, schema, name = self.full_name.split(".")
        return catalog, schema, name


@dataclass
class Catalog:
    """Three-level names; a table implies its schema and catalog."""

    owner: str
    metastore_id: str
    tables: dict[str, TableEntry] = field(default_factory=dict)
    schemas: dict[str, int] = field(default_factory=dict)
    catalogs: dict[str, int] = field(default_factory=dict)

    def add_table(
        self, full_name: str, table_type: str = "MANAGED", created_at: int | None = None
    ) -> TableEntry:
        key = full_name.lower()
        parts = key.split(".")
        if len(parts) != 3 or not all(parts):
            raise invalid(f"'{full_name}' is not a catalog.schema.table name.")
        when = created_at if created_at is not None else now_ms()
        self.add_schema(f"{parts[0]}.{parts[1]}", when)
        entry = TableEntry(key, table_type, when, self.owner)
        self.tables[key] = entry
        return entry

    def add_schema(self, full_name: str, created_at: int | None = None) -> None:
        key = full_name.lower()
        parts = key.split(".")
        if len(parts) != 2 or not all(parts):
            raise invalid(f"'{full_name}' is not a catalog.schema name.")
        when = created_at if created_at is not None else now_ms()
        self.catalogs.setdefault(parts[0], when)
        self.schemas.setdefault(key, when)

    def add_seed(self, seed: Seed) -> None:
        for schema in seed.schemas:
            self.add_schema(schema, SEED_TIME_MS)
        for table in seed.tables:
            self.add_table(table.name, table.table_type, SEED_TIME_MS)

    def add_tables(self, entries: Iterable[object]) -> None:
        parsed = [TableSeed.parse(e) for e in entries]
        for table in parsed:
            self.add_table(table.name, table.table_type)

    def drop_table(self, full_name: str) -> None:
        self.require_table(full_name)
        del self.tables[full_name.lower()]

    def has_table(self, full_name: str) -> bool:
        return full_name.lower() in self.tables

    def require_table(self, full_name: str) -> TableEntry:
        entry = self.tables.get(full_name.lower())
        if entry is None:
            raise not_found(f"Table '{full_name}' does not exist.")
        return entry

    def require_schema(self, full_name: str) -> None:
        if full_name.lower() not in self.schemas:
            raise not_found(f"Schema '{full_name}' does not exist.")

    def require_catalog(self, name: str) -> None:
        if name.lower() not in self.catalogs:
            raise not_found(f"Catalog '{name}' does not exist.")

    def table_info(self, full_name: str) -> dict[str, Any]:
        entry = self.require_table(full_name)
        catalog, schema, name = entry.parts
        info: dict[str, Any] = {
            "name": name,
            "catalog_name": catalog,
            "schema_name": schema,
            "full_name": entry.full_name,
            "table_type": entry.table_type,
            "table_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"table:{entry.full_name}")),
            "metastore_id": self.metastore_id,
            "owner": self.owner,
            "created_at": entry.created_at,
            "created_by": entry.created_by,
            "updated_at": entry.created_at,
            "updated_by": entry.created_by,
        }
        if entry.table_type != "VIEW":
            info["data_source_format"] = "DELTA"
        return info

    def schema_info(self, full_name: str) -> dict[str, Any]:
        self.require_schema(full_name)
        key = full_name.lower()
        catalog, name = key.split(".")
        return {
            "name": name,
            "catalog_name": catalog,
            "full_name": key,
            "metastore_id": self.metastore_id,
            "owner": self.owner,
            "created_at": self.schemas[key],
            "created_by": self.owner,
        }

    def catalog_info(self, name: str) -> dict[str, Any]:
        self.require_catalog(name)
        key = name.lower()
        return {
            "name": key,
            "full_name": key,
            "catalog_type": "MANAGED_CATALOG",
            "metastore_id": self.metastore_id,
            "owner": self.owner,
            "created_at": self.catalogs[key],
            "created_by": self.owner,
        }

    def schema_names(self, catalog: str) -> list[str]:
        prefix = f"{catalog.lower()}."
        return [s for s in self.schemas if s.startswith(prefix)]

    def table_names(self, schema: str) -> list[str]:
        prefix = f"{schema.lower()}."
        return [t for t in self.tables if t.startswith(prefix)]
