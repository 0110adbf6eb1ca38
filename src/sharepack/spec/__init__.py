"""The share pack file format: models, readers, validation rules."""

from sharepack.spec.errors import Problem, SpecError
from sharepack.spec.loader import LoadedSharePack, ReadLimits, load_share_pack
from sharepack.spec.models import SharePackConfig

__all__ = [
    "LoadedSharePack",
    "Problem",
    "ReadLimits",
    "SharePackConfig",
    "SpecError",
    "load_share_pack",
]
