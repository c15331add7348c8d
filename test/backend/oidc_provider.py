"""A real OpenID Connect key server for the auth tests (and for running the backend locally with auth on).

It listens on 127.0.0.1 (a free port), serves `<issuer>/.well-known/openid-configuration` and the JWKS it
points to, shaped like Entra ID's (`/<tenant>/v2.0` issuer, `/<tenant>/discovery/v2.0/keys`). The RSA keys
are generated here; `token()` signs access tokens with them. The server can rotate keys, answer garbage or
errors, be slow, go down and come back on the same port, and counts the requests it receives.

    with OidcProvider(tenant="t1", client_id="c1") as idp:
        token = idp.token()
        ... ENTRA_ISSUER=idp.issuer ...

Run it alone (prints the issuer and a token valid for an hour):  python test/backend/oidc_provider.py [--port N]
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_KEY_POOL: list[rsa.RSAPrivateKey] = []   # RSA generation is slow; reuse keys across providers in one run
_POOL_LOCK = threading.Lock()


def _fresh_rsa_key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    def public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return jwk

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


class OidcProvider:
    """Discovery document + JWKS over real HTTP, with the knobs the tests need."""

    def __init__(self, *, tenant: str = "11111111-2222-3333-4444-555555555555",
                 client_id: str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"):
        self.tenant = tenant
        self.client_id = client_id
        self.port = 0
        self.mode = "ok"               # ok | garbage (not JSON) | error (HTTP 500) | empty (no keys)
        self.jwks_delay = 0.0          # seconds the JWKS answer is held back (makes concurrency visible)
        self.requests: Counter[str] = Counter()
        self._keys: dict[str, SigningKey] = {}
        self._pooled = 0
        self._published: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.current_kid = self.add_key()
        self.publish(self.current_kid)

    # ---- addresses ----

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/{self.tenant}/v2.0"

    @property
    def discovery_path(self) -> str:
        return f"/{self.tenant}/v2.0/.well-known/openid-configuration"

    @property
    def jwks_path(self) -> str:
        return f"/{self.tenant}/discovery/v2.0/keys"

    @property
    def jwks_requests(self) -> int:
        return self.requests[self.jwks_path]

    @property
    def discovery_requests(self) -> int:
        return self.requests[self.discovery_path]

    # ---- keys ----

    def add_key(self, kid: str | None = None, *, bits: int = 2048) -> str:
        """Create a signing key (not yet published) and return its kid."""
        kid = kid or uuid.uuid4().hex[:16]
        if bits == 2048:   # the n-th 2048-bit key of every provider is the n-th key of the shared pool
            with _POOL_LOCK:
                if len(_KEY_POOL) <= self._pooled:
                    _KEY_POOL.append(_fresh_rsa_key(bits))
                key = _KEY_POOL[self._pooled]
                self._pooled += 1
        else:
            key = _fresh_rsa_key(bits)
        with self._lock:
            self._keys[kid] = SigningKey(kid, key)
        return kid

    def key(self, kid: str | None = None) -> SigningKey:
        return self._keys[kid or self.current_kid]

    def publish(self, *kids: str) -> None:
        """Serve exactly these keys in the JWKS."""
        with self._lock:
            self._published = list(kids)

    def rotate(self, *, keep_old: bool = False) -> str:
        """Create a new key, make it the signing key and publish it (alone, or beside the old ones)."""
        kid = self.add_key()
        published = [*self._published, kid] if keep_old else [kid]
        self.publish(*published)
        self.current_kid = kid
        return kid

    # ---- tokens ----

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": self.client_id, "sub": "user-sub-123", "oid": "user-oid-123",
            "name": "Test User", "preferred_username": "test.user@example.com", "tid": self.tenant,
            "iat": now, "nbf": now, "exp": now + 3600, "scp": "access_as_user", "ver": "2.0",
        }
        for k, v in overrides.items():
            if v is None:
                claims.pop(k, None)
            else:
                claims[k] = v
        return claims

    def token(self, *, kid: str | None = None, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        """An RS256 token signed with key `kid` (default the current one); claim=None drops a claim."""
        key = self.key(kid)
        return jwt.encode(self.claims(**claims), key.private_key, algorithm="RS256",
                          headers={"kid": key.kid, "typ": "JWT", **(headers or {})})

    # ---- server ----

    def start(self) -> OidcProvider:
        """Listen (again) — on the same port after stop(), so the issuer URL stays the same."""
        if self._server is not None:
            return self
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                provider._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # silence per-request stderr lines
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="oidc-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Go down: the port refuses connections until start()."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.split("?", 1)[0]
        with self._lock:
            self.requests[path] += 1
            mode = self.mode
            published = [self._keys[k].public_jwk() for k in self._published]
        if path == self.discovery_path:
            body: Any = {
                "issuer": self.issuer,
                "jwks_uri": f"{self.base_url}{self.jwks_path}",
                "authorization_endpoint": f"{self.base_url}/{self.tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{self.base_url}/{self.tenant}/oauth2/v2.0/token",
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "subject_types_supported": ["pairwise"],
            }
        elif path == self.jwks_path:
            if self.jwks_delay:
                time.sleep(self.jwks_delay)
            body = {"keys": [] if mode == "empty" else published}
        else:
            self._send(req, 404, b'{"error":"not_found"}')
            return
        if mode == "error":
            self._send(req, 500, b'{"error":"server_error"}')
        elif mode == "garbage":
            self._send(req, 200, b"<html>this is not the JSON you are looking for</html>", "text/html")
        else:
            self._send(req, 200, json.dumps(body).encode())

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, body: bytes,
              content_type: str = "application/json") -> None:
        req.send_response(status)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)


def unsigned_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """Assemble a JWT by hand (for tokens no honest library would produce: alg none, HS256 with a public key)."""
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), b64url(signature)])


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="A local OIDC key server; prints ENTRA_* values and a token.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    idp = OidcProvider()
    idp.port = parser.parse_args().port
    idp.start()
    print(f"ENTRA_TENANT_ID={idp.tenant}\nENTRA_CLIENT_ID={idp.client_id}\nENTRA_ISSUER={idp.issuer}")
    print(f"TOKEN={idp.token()}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        idp.stop()
