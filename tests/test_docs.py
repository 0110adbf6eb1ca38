"""The README and `docs/` stand on their own: every file they point to is in the
repository, and they send a reader to no document the repository does not hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
# [text](target): relative targets only; a URL or an in-page anchor is not a file.
LINK = re.compile(r"\[[^\]]*\]\((?!https?://|#|mailto:)([^)#\s]+)")
# `path/like/this.ext` or `dir/`: a backticked name with a folder or a file extension that
# names a file of the repository (commands, settings and Python names are not paths).
PATH = re.compile(r"`((?:\.?[\w.-]+/)+[\w.-]*|[\w-]+\.(?:md|py|yaml|yml|json|toml|ini|cfg))`")
# Names of things outside the repository a reader cannot open.
ELSEWHERE = re.compile(r"\b[Tt]he seeds?\b|\b[Ss]eed \d{3}\b|\.\./shared|ARCHITECTURE\.md")
# Paths a README names that exist only once something ran (made by the reader's commands).
MADE_AT_RUN_TIME = {".sharepack", ".venv", "node_modules", "pack.yaml", "pack.xlsx"}


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(REPO_ROOT)) for p in paths]


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids(DOCUMENTS))
def test_every_link_of_a_document_reaches_a_file_of_the_repository(document: Path) -> None:
    missing = [
        target
        for target in LINK.findall(document.read_text(encoding="utf-8"))
        if not (document.parent / target).exists()
    ]
    assert missing == [], f"{document.name} links to what the repository does not hold"


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids(DOCUMENTS))
def test_every_repository_path_a_document_names_exists(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    named = {p.removeprefix("./") for p in PATH.findall(text) if not p.startswith(("http", "/"))}
    missing = sorted(
        p
        for p in named
        if p.split("/", 1)[0] not in MADE_AT_RUN_TIME
        and not any((root / p).exists() for root in (REPO_ROOT, REPO_ROOT / "src"))
        and _looks_like_ours(p)
    )
    assert missing == [], f"{document.name} names files the repository does not hold"


def _looks_like_ours(path: str) -> bool:
    """A path under one of the repository's top folders, or a document of its root."""
    top = path.lstrip("./").split("/", 1)[0]
    ours = {p.name for p in REPO_ROOT.iterdir()} | {p.name for p in (REPO_ROOT / "src").iterdir()}
    return top in ours or path.endswith(".md")


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids(DOCUMENTS))
def test_a_document_sends_the_reader_nowhere_outside_the_repository(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    found = [m.group(0) for m in ELSEWHERE.finditer(text)]
    assert found == [], f"{document.name} refers to documents outside the repository"
