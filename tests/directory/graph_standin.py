"""A local stand-in of the Microsoft Graph and Entra ID endpoints `GraphDirectory` calls.

One HTTPS server on 127.0.0.1 serves both sides, as their real hosts do:

- the authority: `POST /{tenant}/oauth2/v2.0/token` (client credentials; a wrong client
  secret is refused with 401 `invalid_client`, as Entra ID does) and
  `GET /{tenant}/v2.0/.well-known/openid-configuration` (what MSAL-based credentials
  discover first);
- Graph v1.0: `GET /v1.0/users` with `$filter` (`mail eq '...' or userPrincipalName eq
  '...'`, quotes doubled inside values) and `$top`, `GET /v1.0/groups/{id}`,
  `GET /v1.0/groups` and `GET /v1.0/groups/{id}/members/graph.user` (the SDK's
  spelling of the `microsoft.graph.user` cast), paged by
  `@odata.nextLink`; every Graph request needs a token the authority issued.

azure-identity accepts only an https authority, so the server speaks TLS with a
certificate for 127.0.0.1 signed by a throwaway CA; `ca_bundle` is the PEM file a client
trusts (the certificate and that CA).
The listening socket is bound before `start()` returns, so the server is ready then: a
client connecting early waits in the backlog until the serving thread accepts it.
"""

from __future__ import annotations

import json
import re
import secrets
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.tls import write_certificate

TENANT = "8c3a1f5e-4b2d-4e6f-9a1b-2c3d4e5f6a7b"
CLIENT_ID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
CLIENT_SECRET = "stand-in-secret-Q~abc123"

#: Graph's default limit of `eq` expressions in one `$filter`.
MAX_FILTER_CLAUSES = 15
_CLAUSE = re.compile(r"(mail|userPrincipalName) eq '((?:[^']|'')*)'")


@dataclass
class StandinUser:
    id: str
    upn: str
    mail: str | None = None
    display_name: str | None = None
    enabled: bool = True

    def resource(self) -> dict[str, Any]:
        """The user as Graph serves it."""
        return {
            "@odata.type": "#microsoft.graph.user",
            "id": self.id,
            "userPrincipalName": self.upn,
            "mail": self.mail,
            "displayName": self.display_name,
            "accountEnabled": self.enabled,
        }


@dataclass
class StandinGroup:
    id: str
    display_name: str
    member_ids: list[str] = field(default_factory=list)

    def resource(self) -> dict[str, Any]:
        """The group as Graph serves it."""
        return {
            "@odata.type": "#microsoft.graph.group",
            "id": self.id,
            "displayName": self.display_name,
        }


@dataclass
class SeenRequest:
    method: str
    path: str
    query: dict[str, str]


class GraphStandin:
    """The stand-in's state (users, groups, issued tokens, requests seen) and its server.

    Tests change `users`, `groups`, `page_size` and `client_secret` directly, and
    `fail_graph` makes the next Graph requests answer an error status.
    """

    def __init__(self, certificate_dir: Path, *, page_size: int = 100) -> None:
        self.tenant = TENANT
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.page_size = page_size
        self.users: dict[str, StandinUser] = {}
        self.groups: dict[str, StandinGroup] = {}
        self.requests: list[SeenRequest] = []
        self._tokens: set[str] = set()
        self._failures: list[tuple[int, int | None]] = []
        self._lock = threading.Lock()
        certificate = write_certificate(certificate_dir)
        #: What a client trusts: the PEM file of the certificate and its CA.
        self.ca_bundle = certificate.cert_file
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.load_cert_chain(certificate.cert_file, certificate.key_file)
        self._server = _Server(self)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="graph-standin",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """The authority host (`authority_host`); Graph is under `/v1.0` of the same."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def graph_url(self) -> str:
        return f"{self.url}/v1.0"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def add_users(self, users: Iterable[StandinUser]) -> None:
        with self._lock:
            self.users.update((user.id, user) for user in users)

    def add_groups(self, groups: Iterable[StandinGroup]) -> None:
        with self._lock:
            self.groups.update((group.id, group) for group in groups)

    def fail_graph(self, status: int, times: int, retry_after: int | None = None) -> None:
        """The next `times` Graph requests answer `status` (with `Retry-After` if given)."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * times)

    def graph_requests(self, path: str) -> list[SeenRequest]:
        """The Graph requests seen for `path` (under /v1.0), oldest first."""
        with self._lock:
            return [r for r in self.requests if r.path == f"/v1.0{path}"]

    # What the handler calls, under the lock.

    def token(self, tenant: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if tenant != self.tenant:
            return 400, _aad_error("invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return 400, _aad_error("unsupported_grant_type", "AADSTS70003: grant not supported.")
        if form.get("client_id") != self.client_id:
            return 400, _aad_error(
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not "
                "found in the directory.",
            )
        if form.get("client_secret") != self.client_secret:
            return 401, _aad_error(
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent "
                f"in the request is the client secret value, not the client secret ID, for a "
                f"secret added to app '{self.client_id}'.",
            )
        token = secrets.token_urlsafe(24)
        self._tokens.add(token)
        return 200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token}

    def graph(
        self, path: str, query: dict[str, str], authorization: str
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, body, extra headers) of a Graph request."""
        if self._failures:
            status, retry_after = self._failures.pop(0)
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return status, _graph_error("serviceNotAvailable", "Stand-in failure"), headers
        return (*self._resource(path, query, authorization), {})

    def _resource(self, path: str, query: dict[str, str], authorization: str) -> tuple[int, Any]:
        if authorization.removeprefix("Bearer ") not in self._tokens:
            return 401, _graph_error("InvalidAuthenticationToken", "Access token is empty.")
        parts = path.removeprefix("/v1.0/").split("/")
        if parts == ["users"]:
            return self._users(query)
        if parts == ["groups"]:
            return self._page([g.resource() for g in self.groups.values()], "groups", query)
        if len(parts) == 2 and parts[0] == "groups":
            group = self.groups.get(parts[1].lower())
            if group is None:
                return 404, _graph_error(
                    "Request_ResourceNotFound", f"Resource '{parts[1]}' does not exist."
                )
            return 200, group.resource()
        if (
            len(parts) == 4
            and parts[0] == "groups"
            and parts[2] == "members"
            and parts[3] in ("graph.user", "microsoft.graph.user")
        ):
            group = self.groups.get(parts[1].lower())
            if group is None:
                return 404, _graph_error("Request_ResourceNotFound", "No such group.")
            members = [self.users[m].resource() for m in group.member_ids if m in self.users]
            return self._page(members, path.removeprefix("/v1.0/"), query)
        return 400, _graph_error("BadRequest", f"Resource not found for the segment '{path}'.")

    def _users(self, query: dict[str, str]) -> tuple[int, Any]:
        users = [u.resource() for u in self.users.values()]
        if "$filter" in query:
            wanted = _parse_filter(query["$filter"])
            if wanted is None:
                return 400, _graph_error("BadRequest", f"Invalid filter clause: {query['$filter']}")
            if len(wanted) > MAX_FILTER_CLAUSES:
                return 400, _graph_error(
                    "Request_UnsupportedQuery",
                    "Too many child clauses specified in search filter expression containing "
                    f"'OR' operators: {len(wanted)}. Max allowed: {MAX_FILTER_CLAUSES}.",
                )
            users = [
                u
                for u in users
                if any(
                    (u[attribute] or "").casefold() == value.casefold()
                    for attribute, value in wanted
                )
            ]
        return self._page(users, "users", query)

    def _page(
        self, items: list[dict[str, Any]], resource: str, query: dict[str, str]
    ) -> tuple[int, Any]:
        size = min(int(query.get("$top", self.page_size)), self.page_size)
        start = int(query.get("$skiptoken", "0"))
        body: dict[str, Any] = {"value": items[start : start + size]}
        if start + size < len(items):
            following = {k: v for k, v in query.items() if k != "$skiptoken"}
            following["$skiptoken"] = str(start + size)
            body["@odata.nextLink"] = f"{self.graph_url}/{resource}?{urlencode(following)}"
        return 200, body


def _parse_filter(expression: str) -> list[tuple[str, str]] | None:
    """`mail eq 'a' or userPrincipalName eq 'b'` -> [(attribute, value)], None if the
    expression is anything else."""
    clauses: list[tuple[str, str]] = []
    position = 0
    while True:
        match = _CLAUSE.match(expression, position)
        if match is None:
            return None
        clauses.append((match.group(1), match.group(2).replace("''", "'")))
        position = match.end()
        if position == len(expression):
            return clauses
        if not expression.startswith(" or ", position):
            return None
        position += len(" or ")


def _aad_error(code: str, description: str) -> dict[str, Any]:
    return {"error": code, "error_description": description, "error_codes": [0]}


def _graph_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {"request-id": "0"}}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, standin: GraphStandin) -> None:
        self.standin = standin
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake happens here, in the connection's own thread.
        try:
            tls = self.standin._tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(tls, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read `requests` instead."""

    def do_GET(self) -> None:
        self._answer("GET", {})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self._answer("POST", form)

    def _answer(self, method: str, form: dict[str, str]) -> None:
        standin = self.server.standin
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        headers: dict[str, str] = {}
        with standin._lock:
            standin.requests.append(SeenRequest(method, url.path, query))
            parts = url.path.strip("/").split("/")
            if method == "POST" and parts[1:] == ["oauth2", "v2.0", "token"]:
                status, body = standin.token(parts[0], form)
            elif method == "GET" and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                status, body = 200, _openid_configuration(standin.url, parts[0])
            elif method == "GET" and parts[0] == "v1.0":
                authorization = self.headers.get("Authorization", "")
                status, body, headers = standin.graph(url.path, query, authorization)
            else:
                status, body = 404, _graph_error("NotFound", f"No route {method} {url.path}")
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def _openid_configuration(base: str, tenant: str) -> dict[str, Any]:
    return {
        "issuer": f"{base}/{tenant}/v2.0",
        "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
        "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
        "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
        "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "tenant_region_scope": "EU",
    }
