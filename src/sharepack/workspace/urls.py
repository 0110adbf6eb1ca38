"""Workspace URLs: which text is one, and the canonical form they are compared and stored in."""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"https": 443, "http": 80}


def normalise_workspace_url(url: str) -> str:
    """The canonical form of a workspace URL, the one compared and stored.

    `scheme://host[:port][/path]`: scheme and host in lower case, the scheme's default
    port, a trailing slash, user info, query and fragment dropped; the path keeps its
    case. Two spellings of one host (`localhost`, `127.0.0.1`) stay two URLs: which
    workspace a URL reaches is told by the id the workspace answers with, not by this.
    Text that is not an http(s) URL with a host comes back only stripped of spaces.
    """
    canonical = _canonical_workspace_url(url)
    return canonical if canonical is not None else url.strip()


def is_workspace_url(url: str) -> bool:
    """Whether `url` is an http(s) URL with a host (and a numeric port, if any)."""
    return _canonical_workspace_url(url) is not None


def _canonical_workspace_url(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"
