"""`InMemoryWorkspace`: the `Workspace` protocol held in memory (see `workspace.py`)."""

from sharepack.workspace.memory.held import DEFAULT_URL, DEFAULT_USER
from sharepack.workspace.memory.workspace import InMemoryWorkspace

__all__ = ["DEFAULT_URL", "DEFAULT_USER", "InMemoryWorkspace"]
