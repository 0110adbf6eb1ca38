"""What a rule finds: a problem (or warning) at a path of the model."""

from __future__ import annotations

from dataclasses import dataclass

from sharepack.packfile.yaml_reader import Path


@dataclass(frozen=True)
class Finding:
    """A problem with the value at `path`, found from it and from the values `depends_on`
    names (`ANY` for every position of a list): it holds only if all of them were read."""

    path: Path
    message: str
    warning: bool = False
    depends_on: tuple[Path, ...] = ()
