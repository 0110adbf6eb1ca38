"""The share pack file format: models, readers, validation rules."""

from sharepack.packfile.errors import Problem, SpecError
from sharepack.packfile.loader import LoadedSharePack, ReadLimits, load_share_pack
from sharepack.packfile.models import SharePackConfig

__all__ = [
    "LoadedSharePack",
    "Problem",
    "ReadLimits",
    "SharePackConfig",
    "SpecError",
    "load_share_pack",
]
