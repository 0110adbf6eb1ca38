"""`GraphDirectory`: the directory read from Microsoft Graph through msgraph-sdk.

msgraph-sdk is async, and sharepack's callers are not: FastAPI runs sync routes on worker
threads, the CLI and the worker are plain threads, and some of them may already run an
event loop. So each `GraphDirectory` owns one event loop on one daemon thread, started at
its first call, and every call hands its coroutine to that loop and waits for the answer.
The Graph client, its HTTP connections and the token cache live on that loop for the
object's lifetime (a token is fetched once an hour, not once a call); `close()` ends them.

Failures to get an answer (authority or Graph unreachable, a refused credential, 5xx after
the SDK's retries, missing permissions) leave as `DirectoryUnavailableError` naming the
Graph URL and the cause, never the client secret. "No such user or group" is an answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from azure.core.credentials import AccessToken
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.identity.aio import ClientSecretCredential
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware.options import RetryHandlerOption
from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder
from msgraph.generated.groups.item.group_item_request_builder import GroupItemRequestBuilder
from msgraph.generated.groups.item.members.graph_user.graph_user_request_builder import (
    GraphUserRequestBuilder,
)
from msgraph.generated.models.group import Group
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.user import User
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

from sharepack.directory.protocol import DirectoryGroup, DirectoryUser
from sharepack.errors import ConfigurationError, DirectoryUnavailableError

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Graph limits a `$filter` to 15 `eq`/`in` expressions by default; each address takes two
#: (`mail` and `userPrincipalName`), so 7 addresses make one request.
ADDRESSES_PER_REQUEST = 7
#: The largest page Graph serves for users and groups.
PAGE_SIZE = 999
#: Lookups sent at once: enough to hide latency, few enough to stay clear of throttling.
CONCURRENT_REQUESTS = 4

_USER_FIELDS = ["id", "mail", "displayName", "userPrincipalName", "accountEnabled"]
_MEMBER_FIELDS = ["id", "mail", "userPrincipalName"]
_GROUP_FIELDS = ["id", "displayName"]
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_PERMISSIONS = "User.Read.All and GroupMember.Read.All (application permissions, admin consent)"


@dataclass(frozen=True)
class GraphSettings:
    """Where Microsoft Graph is and how sharepack signs in to it (an Entra app
    registration's client credentials). `ca_bundle` is a PEM file of certificates to trust
    instead of the system's, for both the authority and Graph (a TLS-inspecting proxy).
    `max_retries` is how often a throttled or unavailable request (429, 503, 504) is sent
    again, waiting as Graph's `Retry-After` says."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    graph_url: str = "https://graph.microsoft.com/v1.0"
    authority_host: str = "https://login.microsoftonline.com"
    timeout_seconds: float = 30.0
    ca_bundle: str | None = None
    max_retries: int = 3


class GraphDirectory:
    """The `Directory` port on Microsoft Graph. Safe to share between threads; use it as a
    context manager, or call `close()`, to end its connections and its thread."""

    def __init__(self, settings: GraphSettings) -> None:
        _check(settings)
        self._settings = settings
        self._graph_url = settings.graph_url.rstrip("/")
        self._authority = settings.authority_host.rstrip("/")
        self._loop = _LoopThread(f"graph-directory {urlsplit(self._graph_url).netloc}")
        self._client: _Client | None = None

    def __enter__(self) -> GraphDirectory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections and stop the event loop's thread; idempotent."""
        if self._loop.started and self._client is not None:
            client, self._client = self._client, None
            self._loop.run(client.close())
        self._loop.stop()

    def find_users(self, emails: Iterable[str]) -> dict[str, DirectoryUser | None]:
        wanted = list(dict.fromkeys(emails))
        if not wanted:
            return {}
        batches = [
            wanted[i : i + ADDRESSES_PER_REQUEST]
            for i in range(0, len(wanted), ADDRESSES_PER_REQUEST)
        ]

        async def find() -> list[list[DirectoryUser]]:
            client = await self._connected()
            limit = asyncio.Semaphore(CONCURRENT_REQUESTS)

            async def batch(addresses: list[str]) -> list[DirectoryUser]:
                async with limit:
                    return [user async for user in client.users_matching(addresses)]

            return await asyncio.gather(*(batch(b) for b in batches))

        known: dict[str, DirectoryUser] = {}
        for user in (user for found in self._run(find) for user in found):
            known.setdefault(user.user_principal_name.casefold(), user)
            known.setdefault(user.email.casefold(), user)
        return {email: known.get(email.casefold()) for email in wanted}

    def find_groups(self, object_ids: Iterable[str]) -> dict[str, DirectoryGroup | None]:
        wanted = list(dict.fromkeys(object_ids))
        # Only a GUID can be an object id; anything else is no group, without asking (and
        # never reaches a URL path).
        asked = [oid for oid in wanted if _is_guid(oid)]

        async def find() -> list[DirectoryGroup | None]:
            client = await self._connected()
            limit = asyncio.Semaphore(CONCURRENT_REQUESTS)

            async def one(object_id: str) -> DirectoryGroup | None:
                async with limit:
                    return await client.group(object_id)

            return await asyncio.gather(*(one(oid) for oid in asked))

        found = dict(zip(asked, self._run(find) if asked else [], strict=True))
        return {oid: found.get(oid) for oid in wanted}

    def all_users(self) -> Iterator[DirectoryUser]:
        return self._iterate(lambda client: client.all_users())

    def all_groups(self) -> Iterator[DirectoryGroup]:
        return self._iterate(lambda client: client.all_groups())

    def _iterate(self, pages: Callable[[_Client], AsyncIterator[list[T]]]) -> Iterator[T]:
        """Page by page, each page fetched on the loop when the caller asks for it."""
        source: AsyncIterator[list[T]] | None = None

        async def following() -> list[T] | None:
            nonlocal source
            if source is None:
                source = pages(await self._connected())
            try:
                return await anext(source)
            except StopAsyncIteration:
                return None

        while (page := self._run(following)) is not None:
            yield from page

    async def _connected(self) -> _Client:
        if self._client is None:
            self._client = _Client(self._settings, self._graph_url, self._authority)
        return self._client

    def _run(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run `call()` on this directory's loop; errors as `DirectoryUnavailableError`."""

        async def guarded() -> T:
            try:
                return await call()
            except DirectoryUnavailableError:
                raise
            except (AzureError, APIError, httpx.HTTPError, ssl.SSLError, OSError) as exc:
                raise self._unavailable(exc) from None

        return self._loop.run(guarded())

    def _unavailable(self, exc: BaseException) -> DirectoryUnavailableError:
        settings = self._settings
        if isinstance(exc, ClientAuthenticationError):
            cause = (
                f"the authority {self._authority} refused the credential of application "
                f"{settings.client_id} in tenant {settings.tenant_id}: {_first_line(exc)}"
            )
        elif isinstance(exc, AzureError):  # the token request's transport
            cause = f"cannot get a token from the authority {self._authority}: {_first_line(exc)}"
        elif isinstance(exc, APIError) and exc.response_status_code in (401, 403):
            cause = (
                f"{_api_error(exc)}; the application {settings.client_id} needs the Graph "
                f"permissions {_PERMISSIONS}"
            )
        elif isinstance(exc, APIError):
            cause = _api_error(exc)
        elif isinstance(exc, httpx.TimeoutException):
            cause = f"no answer within {settings.timeout_seconds:g} s ({type(exc).__name__})"
        else:
            cause = f"cannot connect: {_first_line(exc)}"
        message = f"Microsoft Graph at {self._graph_url} could not be used: {cause}"
        if settings.client_secret:
            message = message.replace(settings.client_secret, "***")
        logger.warning("%s", message)
        return DirectoryUnavailableError(message)


class _Client:
    """The msgraph-sdk client and its credential, built and used on the loop's thread."""

    def __init__(self, settings: GraphSettings, graph_url: str, authority: str) -> None:
        verify: bool | str = settings.ca_bundle or True
        self._credential = ClientSecretCredential(
            settings.tenant_id,
            settings.client_id,
            settings.client_secret,
            authority=authority,
            connection_verify=verify,
            connection_timeout=settings.timeout_seconds,
            read_timeout=settings.timeout_seconds,
            retry_total=settings.max_retries,
        )
        scope = f"{urlsplit(graph_url).scheme}://{urlsplit(graph_url).hostname}/.default"
        auth = AzureIdentityAuthenticationProvider(
            _OneSignInAtATime(self._credential),
            scopes=[scope],
            allowed_hosts=[urlsplit(graph_url).hostname or ""],
        )
        tls = ssl.create_default_context(cafile=settings.ca_bundle)
        self._http: httpx.AsyncClient = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(
                timeout=httpx.Timeout(settings.timeout_seconds), verify=tls, http2=True
            ),
            options={
                RetryHandlerOption.get_key(): RetryHandlerOption(max_retries=settings.max_retries)
            },
        )
        adapter = GraphRequestAdapter(auth, client=self._http)
        adapter.base_url = graph_url
        self._graph = GraphServiceClient(request_adapter=adapter)

    async def close(self) -> None:
        await self._http.aclose()
        await self._credential.close()

    async def users_matching(self, addresses: list[str]) -> AsyncIterator[DirectoryUser]:
        clauses = " or ".join(
            f"{attribute} eq '{_quoted(address)}'"
            for address in addresses
            for attribute in ("mail", "userPrincipalName")
        )
        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            filter=clauses, select=_USER_FIELDS, top=PAGE_SIZE
        )
        request = self._graph.users
        page = await request.get(RequestConfiguration(query_parameters=query))
        while page is not None:
            for user in page.value or []:
                if (found := _user(user)) is not None:
                    yield found
            if not page.odata_next_link:
                return
            page = await request.with_url(page.odata_next_link).get()

    async def group(self, object_id: str) -> DirectoryGroup | None:
        query = GroupItemRequestBuilder.GroupItemRequestBuilderGetQueryParameters(
            select=_GROUP_FIELDS
        )
        try:
            group = await self._graph.groups.by_group_id(object_id).get(
                RequestConfiguration(query_parameters=query)
            )
        except APIError as exc:
            if exc.response_status_code == 404:
                return None
            raise
        return _group(group, None) if group is not None else None

    async def all_users(self) -> AsyncIterator[list[DirectoryUser]]:
        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            select=_USER_FIELDS, top=PAGE_SIZE
        )
        request = self._graph.users
        page = await request.get(RequestConfiguration(query_parameters=query))
        while page is not None:
            yield [found for user in page.value or [] if (found := _user(user)) is not None]
            if not page.odata_next_link:
                return
            page = await request.with_url(page.odata_next_link).get()

    async def all_groups(self) -> AsyncIterator[list[DirectoryGroup]]:
        query = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters(
            select=_GROUP_FIELDS, top=PAGE_SIZE
        )
        request = self._graph.groups
        page = await request.get(RequestConfiguration(query_parameters=query))
        while page is not None:
            groups = [group for group in page.value or [] if group.id]
            members = await asyncio.gather(*(self._members(group.id or "") for group in groups))
            yield [_group(group, listed) for group, listed in zip(groups, members, strict=True)]
            if not page.odata_next_link:
                return
            page = await request.with_url(page.odata_next_link).get()

    async def _members(self, group_id: str) -> tuple[str, ...]:
        """The group's direct user members (their email, or UPN), every page of them."""
        query = GraphUserRequestBuilder.GraphUserRequestBuilderGetQueryParameters(
            select=_MEMBER_FIELDS, top=PAGE_SIZE
        )
        request = self._graph.groups.by_group_id(group_id).members.graph_user
        page = await request.get(RequestConfiguration(query_parameters=query))
        members: list[str] = []
        while page is not None:
            members.extend(
                address
                for user in page.value or []
                if (address := user.mail or user.user_principal_name)
            )
            if not page.odata_next_link:
                break
            page = await request.with_url(page.odata_next_link).get()
        return tuple(members)


class _OneSignInAtATime:
    """The credential, asked by one request at a time: requests sent together before the
    first token is cached wait for that token instead of each fetching their own."""

    def __init__(self, credential: ClientSecretCredential) -> None:
        self._credential = credential
        self._lock = asyncio.Lock()

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        async with self._lock:
            return await self._credential.get_token(
                *scopes, claims=claims, tenant_id=tenant_id, enable_cae=enable_cae, **kwargs
            )

    async def close(self) -> None:
        await self._credential.close()

    async def __aenter__(self) -> _OneSignInAtATime:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.close()


class _LoopThread:
    """One event loop on one daemon thread, started by the first `run`."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._loop is not None

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the loop and wait for its result (or its exception)."""
        loop = self._start()
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError(f"{self._name}: called from its own event loop")
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    def stop(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop


def _check(settings: GraphSettings) -> None:
    """Refuse settings no request could succeed with, naming the field."""
    for name in ("tenant_id", "client_id", "client_secret"):
        if not getattr(settings, name).strip():
            raise ConfigurationError(f"Microsoft Graph settings: {name} is empty")
    for name in ("graph_url", "authority_host"):
        url = urlsplit(getattr(settings, name))
        if url.scheme != "https" or not url.hostname:
            raise ConfigurationError(
                f"Microsoft Graph settings: {name} must be an https URL "
                f"(got '{getattr(settings, name)}')"
            )
    if settings.timeout_seconds <= 0:
        raise ConfigurationError(
            f"Microsoft Graph settings: timeout_seconds must be positive "
            f"(got {settings.timeout_seconds})"
        )
    if not 0 <= settings.max_retries <= RetryHandlerOption.MAX_MAX_RETRIES:
        raise ConfigurationError(
            f"Microsoft Graph settings: max_retries must be 0 to "
            f"{RetryHandlerOption.MAX_MAX_RETRIES} (got {settings.max_retries})"
        )


def _user(user: User) -> DirectoryUser | None:
    if not user.id or not user.user_principal_name:
        return None
    return DirectoryUser(
        object_id=user.id,
        email=user.mail or user.user_principal_name,
        display_name=user.display_name,
        user_principal_name=user.user_principal_name,
        enabled=bool(user.account_enabled),
    )


def _group(group: Group, members: tuple[str, ...] | None) -> DirectoryGroup:
    object_id = group.id or ""
    return DirectoryGroup(
        object_id=object_id, display_name=group.display_name or object_id, members=members
    )


def _quoted(value: str) -> str:
    """A value inside an OData string literal: a quote is written twice."""
    return value.replace("'", "''")


def _is_guid(value: str) -> bool:
    return _GUID.fullmatch(value) is not None


def _api_error(exc: APIError) -> str:
    status = exc.response_status_code
    if isinstance(exc, ODataError) and exc.error is not None:
        return f"Graph answered {status} {exc.error.code}: {exc.error.message}"
    return f"Graph answered {status}: {_first_line(exc) or 'no details'}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
