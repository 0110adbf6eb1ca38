"""sharepack: provision Databricks Delta Sharing from declarative share pack files."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    __version__: str


def __getattr__(name: str) -> str:
    # The version is looked up when asked for, not on import: importlib.metadata costs
    # tens of milliseconds, and every `sharepack` command imports this package.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sharepack")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0.0.0"
