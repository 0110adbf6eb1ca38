"""The share pack file format: models, readers, validation rules.

The names below are loaded on first use, not when the package is imported: every
`sharepack` command reads `sharepack.packfile.errors`, and most never load a file (so never
need pydantic, YAML or openpyxl, which the loader brings).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sharepack.packfile.errors import Problem, SpecError
    from sharepack.packfile.loader import LoadedSharePack, ReadLimits, load_share_pack
    from sharepack.packfile.models import SharePackConfig

#: Each public name and the submodule that defines it.
_HOMES = {
    "LoadedSharePack": "loader",
    "Problem": "errors",
    "ReadLimits": "loader",
    "SharePackConfig": "models",
    "SpecError": "errors",
    "load_share_pack": "loader",
}

__all__ = [
    "LoadedSharePack",
    "Problem",
    "ReadLimits",
    "SharePackConfig",
    "SpecError",
    "load_share_pack",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # found directly from now on
    return value
