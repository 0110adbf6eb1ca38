"""A local OpenID Connect issuer for tests: discovery document and JWKS over HTTP, tokens
minted with its RSA keys, and switches to rotate its key or make it unreachable.

    with LocalIssuer() as issuer:
        verifier = OidcVerifier(issuer.settings())
        verifier.verify(issuer.mint({"groups": [GROUP]}))

It serves on 127.0.0.1 on a port of its own from a thread; the socket listens from the
constructor on, so a request made right after never races the server's start. RSA keys are
made once per process (about 50 ms each) and shared by every issuer: a new issuer starts
with the same first key, and `rotate()` moves on to the next.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sharepack.identity.oidc import OidcSettings

TENANT = "8a1f3c52-6d0e-4b7a-9c21-5e4f0d9b7a16"
AUDIENCE = "5d0c7e2a-91b4-4f3e-a8d6-0b2c4e6f8a10"  # the API app registration's client id
Endpoint = Literal["discovery", "jwks"]
_UNSET: Any = object()


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """An RSA key made once per process for `name`."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwk(kid: str, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    return {
        "kty": "RSA",
        "use": "sig",
        "kid": kid,
        "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": _b64(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
    }


class LocalIssuer:
    """An OIDC issuer on 127.0.0.1 shaped as Entra ID's v2.0 endpoints."""

    def __init__(self, *, audience: str = AUDIENCE, tenant: str = TENANT) -> None:
        self.audience = audience
        self.jwks_fetches = 0
        self.discovery_fetches = 0
        self._generation = 1
        self._keys: dict[str, rsa.RSAPrivateKey] = {"key-1": rsa_key("key-1")}
        self._failures: dict[Endpoint, tuple[int, bytes]] = {}
        self._discovery_overrides: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.issuer = f"{self.base_url}/{tenant}/v2.0"
        self.discovery_url = f"{self.issuer}/.well-known/openid-configuration"
        self.jwks_url = f"{self.base_url}/{tenant}/discovery/v2.0/keys"
        self._thread: threading.Thread | None = None

    # -- lifetime ------------------------------------------------------------------------

    def start(self) -> LocalIssuer:
        self._thread = threading.Thread(
            # A short poll: `stop()` waits for the loop to see the shutdown flag.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="local-oidc-issuer",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket: the issuer is unreachable from then on."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LocalIssuer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what a verifier is configured with ---------------------------------------------

    def settings(self, **overrides: Any) -> OidcSettings:
        """Settings of a verifier that trusts this issuer (fields in `overrides` replaced)."""
        fields: dict[str, Any] = {"issuer": self.issuer, "audience": self.audience}
        fields.update(overrides)
        return OidcSettings(**fields)

    # -- keys ----------------------------------------------------------------------------

    @property
    def kid(self) -> str:
        """The key id tokens are signed with by default: the newest key."""
        with self._lock:
            return next(reversed(self._keys))

    @property
    def key(self) -> rsa.RSAPrivateKey:
        with self._lock:
            return self._keys[next(reversed(self._keys))]

    def rotate(self, *, keep_old: bool = False) -> str:
        """Sign with a new key from now on and publish it; the old key is removed from the
        JWKS unless `keep_old`. Returns the new key id."""
        with self._lock:
            self._generation += 1
            kid = f"key-{self._generation}"
            if not keep_old:
                self._keys.clear()
            self._keys[kid] = rsa_key(kid)
            return kid

    # -- switches ------------------------------------------------------------------------

    def fail(
        self, status: int = 503, *, endpoint: Endpoint = "jwks", body: bytes | None = None
    ) -> None:
        """Answer `endpoint` with `status` and `body` (default: a short text) until `recover`."""
        try:
            default = HTTPStatus(status).phrase.encode()
        except ValueError:
            default = b"failure"
        with self._lock:
            self._failures[endpoint] = (status, default if body is None else body)

    def recover(self) -> None:
        with self._lock:
            self._failures.clear()

    def override_discovery(self, **fields: Any) -> None:
        """Serve these fields in the discovery document instead of the issuer's own."""
        with self._lock:
            self._discovery_overrides.update(fields)

    # -- tokens --------------------------------------------------------------------------

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """The claims of a v2.0 access token of this issuer for its audience, valid for an
        hour from now, with `overrides` replaced."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": "xV2bT9kQ1mN7pL4sR8uW3yZ6aC0dE5fG",
            "oid": "c4a7e1f0-3b2d-4e6a-8f9c-1d0b2a3c4e5f",
            "tid": self.issuer.split("/")[-2],
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "ver": "2.0",
            "preferred_username": "alice@example.com",
            "name": "Alice Example",
            "groups": [],
        }
        claims.update(overrides)
        return claims

    def mint(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        kid: str | None = _UNSET,
        headers: Mapping[str, Any] | None = None,
        key: rsa.RSAPrivateKey | None = None,
        omit: Iterable[str] = (),
    ) -> str:
        """An RS256 token: `self.claims()` updated with `claims`, less the `omit` names,
        signed with `key` (default: the newest key) and naming `kid` (default: the newest
        key's; None for no `kid` header)."""
        payload = self.claims(**(claims or {}))
        for name in omit:
            payload.pop(name, None)
        header: dict[str, Any] = {"kid": self.kid if kid is _UNSET else kid}
        if header["kid"] is None:
            del header["kid"]
        header.update(headers or {})
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers=header)

    def forge(
        self,
        header: Mapping[str, Any],
        claims: Mapping[str, Any] | None = None,
        *,
        hmac_secret: bytes | None = None,
    ) -> str:
        """A token as an attacker would build it by hand: `header` as given, signed with
        HMAC-SHA-256 under `hmac_secret`, or with an empty signature when None."""
        payload = self.claims(**(claims or {}))
        signing_input = ".".join(
            _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
        )
        signature = b""
        if hmac_secret is not None:
            signature = hmac.new(hmac_secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    # -- the HTTP side -------------------------------------------------------------------

    def _document(self, endpoint: Endpoint) -> tuple[int, bytes]:
        with self._lock:
            if endpoint == "jwks":
                self.jwks_fetches += 1
            else:
                self.discovery_fetches += 1
            if endpoint in self._failures:
                return self._failures[endpoint]
            if endpoint == "jwks":
                document: dict[str, Any] = {
                    "keys": [_jwk(kid, key) for kid, key in self._keys.items()]
                }
            else:
                document = {
                    "issuer": self.issuer,
                    "jwks_uri": self.jwks_url,
                    "authorization_endpoint": f"{self.base_url}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{self.base_url}/oauth2/v2.0/token",
                    "id_token_signing_alg_values_supported": ["RS256"],
                    **self._discovery_overrides,
                }
        return 200, json.dumps(document).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == issuer.discovery_url.removeprefix(issuer.base_url):
                    status, body = issuer._document("discovery")
                elif path == issuer.jwks_url.removeprefix(issuer.base_url):
                    status, body = issuer._document("jwks")
                else:
                    status, body = 404, b"not found"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests assert on counters, not on a log."""

        return Handler
