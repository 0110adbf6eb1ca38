"""The `deltashare` database: tables, SCD2 history, repositories, Unit of Work, migrations."""

from sharepack.store.database import Database
from sharepack.store.records import (
    PackResources,
    PipelineRecord,
    Reader,
    RecipientRecord,
    ResourceRecord,
    SharePackRecord,
    ShareRecord,
)
from sharepack.store.uow import UnitOfWork

__all__ = [
    "Database",
    "PackResources",
    "PipelineRecord",
    "Reader",
    "RecipientRecord",
    "ResourceRecord",
    "SharePackRecord",
    "ShareRecord",
    "UnitOfWork",
]
