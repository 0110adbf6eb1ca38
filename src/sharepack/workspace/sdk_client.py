"""Making a `WorkspaceClient`: its credentials, its timeouts, and a host that answers,
each checked when the client is made and said in one sentence naming the workspace."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.credentials_provider import (
    CredentialsProvider,
    CredentialsStrategy,
    DefaultCredentials,
)
from databricks.sdk.retries import retried

from sharepack.workspace import log_redaction, transport
from sharepack.workspace.errors import (
    InvalidWorkspaceUrlError,
    WorkspaceAuthenticationError,
    WorkspaceCredentialsMissingError,
    WorkspaceUnreachableError,
)
from sharepack.workspace.sdk_errors import unreachable_reason
from sharepack.workspace.urls import is_workspace_url


class CountingCredentials(CredentialsStrategy):
    """The SDK's own credentials, calling `on_request` once per authenticated HTTP request."""

    def __init__(self, on_request: Callable[[], None]) -> None:
        self._inner = DefaultCredentials()
        self._on_request = on_request

    def auth_type(self) -> str:
        return self._inner.auth_type()

    def __call__(self, cfg: Config) -> CredentialsProvider:
        provider = self._inner(cfg)

        def headers() -> dict[str, str]:
            self._on_request()
            return provider()

        return headers


def check_workspace_url(url: str) -> str:
    """`url` if it is http(s)://host[:port][/path]; else `InvalidWorkspaceUrlError`.

    Checked before any client is made: the SDK, given a host it cannot resolve as a URL,
    spends minutes retrying its host-metadata look-up before it fails.
    """
    if not is_workspace_url(url):
        raise InvalidWorkspaceUrlError(
            f"Workspace '{url}' is not a URL: give http(s)://host, "
            "e.g. https://adb-1234567890123456.7.azuredatabricks.net"
        )
    return url


#: The settings that carry a workspace's credentials (`sharepack.settings`), as a person
#: sets them.
TOKEN_SETTING = "DATABRICKS_TOKEN"
PRINCIPAL_SETTINGS = ("CLIENT_ID", "CLIENT_SECRET")
_SET_CREDENTIALS = f"set {TOKEN_SETTING}, or {' and '.join(PRINCIPAL_SETTINGS)}"
#: The SDK's own defaults, when a caller gives no timeout.
_SDK_HTTP_TIMEOUT_SECONDS = 60.0
_SDK_RETRY_SECONDS = 300


def make_client(
    url: str,
    *,
    token: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    http_timeout_seconds: float | None = None,
    retry_timeout_seconds: int | None = None,
    on_request: Callable[[], None] | None = None,
    listeners: Iterable[transport.CallListener] = (),
) -> WorkspaceClient:
    """A client for `url`: a personal access token, a service principal, or the SDK's chain.

    Each HTTP request may take `http_timeout_seconds`; a call is retried for
    `retry_timeout_seconds` (the SDK's defaults when None). Raises
    `WorkspaceUnreachableError` if the host does not answer within that time,
    `WorkspaceCredentialsMissingError` if there are no credentials, and
    `WorkspaceAuthenticationError` if the workspace refuses a service principal (a token is
    only refused by the first call). `on_request`, when given, is called for every API
    request the client sends; `listeners` are told of every HTTP exchange, retries
    included (`transport.CallListener`).
    """
    check_workspace_url(url)
    log_redaction.install()
    check_reachable(
        url,
        http_timeout_seconds=http_timeout_seconds or _SDK_HTTP_TIMEOUT_SECONDS,
        retry_timeout_seconds=retry_timeout_seconds or _SDK_RETRY_SECONDS,
    )
    options: dict[str, Any] = {
        "host": url,
        "http_timeout_seconds": http_timeout_seconds,
        "retry_timeout_seconds": retry_timeout_seconds,
    }
    if token:
        options |= {"token": token, "auth_type": "pat"}
    elif client_id and client_secret:
        options |= {
            "client_id": client_id,
            "client_secret": client_secret,
            "auth_type": "oauth-m2m",
        }
    strategy = CountingCredentials(on_request) if on_request is not None else None
    try:
        config = Config(credentials_strategy=strategy, **options)
    except ValueError as exc:
        if "auth_type" in options:
            raise refused_credentials(url, options["auth_type"], _innermost(exc)) from exc
        raise _no_credentials(url, client_id, client_secret) from exc
    client = WorkspaceClient(config=config)
    listening = tuple(listeners)
    if listening:
        transport.observe(_session(client), listening)
    return client


def _session(client: WorkspaceClient) -> requests.Session:
    """The `requests` session the SDK sends every API call through. The SDK keeps it
    private; a version that moves it fails here, at the first client, not silently."""
    session = getattr(getattr(client.api_client, "_api_client", None), "_session", None)
    if not isinstance(session, requests.Session):
        raise RuntimeError("databricks-sdk no longer keeps its requests session where expected")
    return session


def check_reachable(url: str, *, http_timeout_seconds: float, retry_timeout_seconds: int) -> None:
    """Raise `WorkspaceUnreachableError` unless `url`'s host answers, retried as the SDK
    retries a call. Any HTTP answer will do: this asks the unauthenticated host metadata,
    which the SDK's `Config` asks for too, but gives up on silently, after the same time."""
    ask = retried(
        on=[requests.ConnectionError, requests.Timeout],
        timeout=timedelta(seconds=retry_timeout_seconds),
    )(requests.get)
    try:
        ask(f"{url.rstrip('/')}/.well-known/databricks-config", timeout=http_timeout_seconds)
    except TimeoutError as exc:
        reason = unreachable_reason(exc) or str(exc)
        raise WorkspaceUnreachableError(
            f"Cannot reach workspace {url}: {reason} (gave up after {retry_timeout_seconds} s)"
        ) from exc.__cause__
    except requests.RequestException as exc:
        raise WorkspaceUnreachableError(f"Cannot reach workspace {url}: {exc}") from exc


def refused_credentials(
    url: str, auth_type: str | None, reason: str
) -> WorkspaceAuthenticationError:
    """The workspace refused the credentials of `auth_type`: which setting to check."""
    if auth_type == "pat":
        return WorkspaceAuthenticationError(
            f"Workspace {url} refused the token in {TOKEN_SETTING} ({reason}): set a valid one"
        )
    if auth_type == "oauth-m2m":
        return WorkspaceAuthenticationError(
            f"Workspace {url} refused the service principal in "
            f"{' and '.join(PRINCIPAL_SETTINGS)} ({reason}): set valid ones"
        )
    return WorkspaceAuthenticationError(
        f"Workspace {url} refused the credentials the Databricks SDK found "
        f"({auth_type or 'unknown'}: {reason}): {_SET_CREDENTIALS}"
    )


def _no_credentials(
    url: str, client_id: str | None, client_secret: str | None
) -> WorkspaceCredentialsMissingError:
    if bool(client_id) != bool(client_secret):
        given, missing = PRINCIPAL_SETTINGS if client_id else reversed(PRINCIPAL_SETTINGS)
        return WorkspaceCredentialsMissingError(
            f"No credentials for workspace {url}: {given} is set, {missing} is not set; "
            f"set both, or {TOKEN_SETTING}"
        )
    return WorkspaceCredentialsMissingError(
        f"No credentials for workspace {url}: {_SET_CREDENTIALS}"
    )


def _innermost(exc: BaseException) -> str:
    """The first cause's message: the SDK wraps it in `<auth type>: ` prefixes and adds its
    configuration (`Config: host=...`) to the outermost one."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc).rstrip(" .")
