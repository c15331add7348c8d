"""Entra ID bearer-token authentication (spec §9): RS256 JWTs checked against the issuer's JWKS.

The signing keys come from the JWKS that the issuer's OpenID discovery document
(`<issuer>/.well-known/openid-configuration`) points to. They are cached for `jwks_ttl_seconds`; a token
whose `kid` is unknown triggers one refresh (Entra rotates keys), at most once per
`min_refresh_interval_seconds`, and concurrent requests share that one fetch (an asyncio.Lock).
A key endpoint that cannot be reached or answers garbage is a 503, never a 500; a bad token is a 401.
Tokens are never logged.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
import time
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlparse

import httpx
import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from mydocs.settings import Settings

logger = logging.getLogger("mydocs.auth")

ALGORITHM = "RS256"
MAX_TOKEN_CHARS = 16 * 1024           # Entra tokens are a few KB; anything far larger is hostile
MAX_DOCUMENT_BYTES = 1024 * 1024      # discovery document / JWKS size limit
MIN_RSA_BITS = 2048
_TENANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$")  # GUID or verified domain name


class Principal(BaseModel):
    """The authenticated caller."""

    sub: str
    name: str | None = None
    claims: dict[str, Any] = Field(default_factory=dict)


LOCAL_DEV = Principal(sub="local-dev", name="Local developer", claims={})


class AuthError(Exception):
    """Authentication failed (401) or cannot be checked right now (503)."""

    def __init__(self, status_code: int, error_code: str, detail: str, *, www_error: str | None = None):
        super().__init__(detail)
        self.status_code = status_code
        self.error_code = error_code
        self.detail = detail
        # RFC 6750 error attribute for WWW-Authenticate; None = no error attribute (credentials absent).
        self.www_error = www_error

    @classmethod
    def missing(cls, detail: str) -> AuthError:
        return cls(401, "not_authenticated", detail)

    @classmethod
    def invalid(cls, detail: str) -> AuthError:
        return cls(401, "invalid_token", detail, www_error="invalid_token")

    @classmethod
    def unavailable(cls, detail: str) -> AuthError:
        return cls(503, "auth_unavailable", detail)

    @classmethod
    def missing_role(cls, role: str) -> AuthError:
        return cls(403, "missing_role", f"this operation needs the app role {role!r} in the token's roles claim",
                   www_error="insufficient_scope")


class _KeySourceError(Exception):
    """The discovery document or the JWKS could not be fetched or understood (message is log-safe)."""


class EntraTokenValidator:
    """Validates Entra ID access tokens: RS256 only, OIDC discovery -> JWKS, TTL cache, rate-limited refresh."""

    def __init__(self, *, client_id: str, issuer: str, jwks_ttl_seconds: float = 3600,
                 min_refresh_interval_seconds: float = 30, leeway_seconds: int = 60,
                 http_timeout_seconds: float = 5):
        if not client_id:
            raise ValueError("client_id is required")
        u = urlparse(issuer)
        if u.scheme not in ("http", "https") or not u.netloc:
            raise ValueError("issuer must be an http(s) URL")
        self.client_id = client_id
        self.issuer = issuer                       # compared exactly with the token's iss
        self.audiences = [client_id, f"api://{client_id}"]
        self.discovery_url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        self.jwks_ttl_seconds = jwks_ttl_seconds
        self.min_refresh_interval_seconds = min_refresh_interval_seconds
        self.leeway_seconds = leeway_seconds
        self._http = httpx.AsyncClient(timeout=http_timeout_seconds, follow_redirects=False,
                                       headers={"Accept": "application/json"})
        self._lock = asyncio.Lock()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None      # monotonic time of the last successful refresh
        self._attempted_at: float | None = None    # monotonic time of the last refresh attempt
        self._last_error: str | None = None        # why the last attempt failed (None = it succeeded)

    # ---- public API ----

    async def validate(self, token: str) -> Principal:
        """Check signature, algorithm, audience, issuer and lifetime; return the caller or raise AuthError."""
        if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise AuthError.invalid("malformed token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError.invalid("malformed token") from None
        if header.get("alg") != ALGORITHM:
            raise AuthError.invalid(f"token algorithm must be {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError.invalid("token has no key id (kid)")

        key = await self._signing_key(kid)
        try:
            claims = jwt.decode(
                token, key, algorithms=[ALGORITHM], audience=self.audiences, issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"], "verify_signature": True},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError.invalid("token expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError.invalid("token not yet valid") from None
        except jwt.InvalidAudienceError:
            raise AuthError.invalid("token audience is not this API") from None
        except jwt.InvalidIssuerError:
            raise AuthError.invalid("token issuer is not the configured issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError.invalid(f"token lacks the {exc.claim} claim") from None
        except jwt.InvalidSignatureError:
            raise AuthError.invalid("token signature is invalid") from None
        except jwt.PyJWTError:
            raise AuthError.invalid("token is invalid") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise AuthError.invalid("token subject is invalid")
        name = claims.get("name") or claims.get("preferred_username")
        return Principal(sub=sub, name=name if isinstance(name, str) else None, claims=claims)

    async def aclose(self) -> None:
        await self._http.aclose()

    # ---- key cache ----

    def _fresh(self, now: float) -> bool:
        return self._fetched_at is not None and now - self._fetched_at < self.jwks_ttl_seconds

    def _may_refresh(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.min_refresh_interval_seconds

    async def _signing_key(self, kid: str) -> jwt.PyJWK:
        now = time.monotonic()
        key = self._keys.get(kid)
        if key is not None and self._fresh(now):
            return key
        async with self._lock:
            # Another request may have refreshed while this one waited for the lock: look again.
            now = time.monotonic()
            key = self._keys.get(kid)
            if key is not None and self._fresh(now):
                return key
            if self._may_refresh(now):
                await self._refresh(now)
            key = self._keys.get(kid)
            if key is not None:
                return key               # fresh, or stale but kept because the refresh failed
            if self._last_error is not None:
                raise AuthError.unavailable("the identity provider's signing keys cannot be fetched")
            raise AuthError.invalid("token signing key is unknown")

    async def _refresh(self, now: float) -> None:
        """Fetch discovery + JWKS once; on failure keep the previous keys (they may still be valid)."""
        self._attempted_at = now
        try:
            keys = await self._fetch_keys()
        except _KeySourceError as exc:
            self._last_error = str(exc)
            logger.error("auth: cannot refresh signing keys: %s%s", exc,
                         " (keeping the previously fetched keys)" if self._keys else "")
            return
        self._keys = keys
        self._fetched_at = time.monotonic()
        self._last_error = None
        logger.info("auth: fetched %d signing key(s) from the issuer's JWKS", len(keys))

    async def _fetch_keys(self) -> dict[str, jwt.PyJWK]:
        discovery = await self._get_json(self.discovery_url, "discovery document")
        if discovery.get("issuer") not in (None, self.issuer):
            raise _KeySourceError(f"discovery document names issuer {str(discovery.get('issuer'))[:200]!r}, "
                                  f"not the configured {self.issuer!r}")
        jwks_uri = discovery.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise _KeySourceError("discovery document has no jwks_uri")
        u = urlparse(jwks_uri)
        if u.scheme not in ("http", "https") or not u.netloc:
            raise _KeySourceError("discovery document's jwks_uri is not an http(s) URL")
        if urlparse(self.issuer).scheme == "https" and u.scheme != "https":
            raise _KeySourceError("jwks_uri must use https when the issuer does")
        jwks = await self._get_json(jwks_uri, "JWKS")
        raw_keys = jwks.get("keys")
        if not isinstance(raw_keys, list):
            raise _KeySourceError("JWKS has no keys list")
        keys: dict[str, jwt.PyJWK] = {}
        for item in raw_keys:
            if not isinstance(item, dict):
                continue
            kid = item.get("kid")
            if (not isinstance(kid, str) or not kid or item.get("kty") != "RSA"
                    or item.get("use", "sig") != "sig" or item.get("alg", ALGORITHM) != ALGORITHM):
                continue
            try:
                key = jwt.PyJWK(item, algorithm=ALGORITHM)
            except (jwt.PyJWTError, ValueError, TypeError, KeyError):
                logger.warning("auth: skipping an unusable key in the JWKS (kid %r)", kid[:64])
                continue
            if getattr(key.key, "key_size", 0) < MIN_RSA_BITS:
                logger.warning("auth: skipping RSA key shorter than %d bits (kid %r)", MIN_RSA_BITS, kid[:64])
                continue
            keys[kid] = key
        if not keys:
            raise _KeySourceError("JWKS holds no usable RS256 signing key")
        return keys

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with self._http.stream("GET", url) as resp:
                if resp.status_code != 200:
                    raise _KeySourceError(f"{what} at {url} answered HTTP {resp.status_code}")
                body = bytearray()
                async for chunk in resp.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise _KeySourceError(f"{what} at {url} is larger than {MAX_DOCUMENT_BYTES} bytes")
        except httpx.HTTPError as exc:
            raise _KeySourceError(f"{what} at {url} unreachable: {type(exc).__name__}") from None
        try:
            doc = json.loads(body)
        except ValueError:
            raise _KeySourceError(f"{what} at {url} is not JSON") from None
        if not isinstance(doc, dict):
            raise _KeySourceError(f"{what} at {url} is not a JSON object")
        return doc


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_validator(settings: Settings) -> EntraTokenValidator | None:
    """The app's token validator; None (auth off, stub user local-dev) when ENTRA_TENANT_ID is unset."""
    tenant = (settings.ENTRA_TENANT_ID or "").strip()
    if not tenant:
        logger.warning("auth is OFF: ENTRA_TENANT_ID is not set, every /api/v1 request runs as the stub user "
                       "'local-dev'. Set ENTRA_TENANT_ID and ENTRA_CLIENT_ID outside local development.")
        return None
    from mydocs.settings import ConfigError

    problems = []
    if not _TENANT_RE.match(tenant):
        problems.append("ENTRA_TENANT_ID: must be a tenant id (GUID) or domain name")
    client_id = (settings.ENTRA_CLIENT_ID or "").strip()
    if not client_id:
        problems.append("ENTRA_CLIENT_ID: required when ENTRA_TENANT_ID is set (auth is on)")
    if problems:
        raise ConfigError(problems)
    issuer = (settings.ENTRA_ISSUER or "").strip() or f"https://login.microsoftonline.com/{tenant}/v2.0"
    u = urlparse(issuer)
    if u.scheme == "http" and not _is_loopback(u.hostname):
        logger.warning("auth: ENTRA_ISSUER uses plain http; signing keys can be tampered with in transit")
    logger.info("auth is ON: issuer %s, audience %s or api://%s", issuer, client_id, client_id)
    return EntraTokenValidator(client_id=client_id, issuer=issuer)


_MISSING = object()
_SCOPE_KEY = "mydocs.principal"   # where BearerAuthMiddleware leaves the caller (this request's ASGI scope)


async def _authenticate(state: Any, authorization: str | None) -> Principal:
    validator = getattr(state, "token_validator", _MISSING)
    if validator is None:
        return LOCAL_DEV
    if not isinstance(validator, EntraTokenValidator):
        # Fail closed: the lifespan did not decide whether auth is on (or set something else).
        logger.error("auth: app.state.token_validator is not set; refusing the request")
        raise AuthError.unavailable("authentication is not initialised")
    if authorization is None or not authorization.strip():
        raise AuthError.missing("missing Authorization header (Bearer token required)")
    scheme, *rest = authorization.split(None, 1)
    if scheme.lower() != "bearer":
        raise AuthError.missing("Authorization header must use the Bearer scheme")
    return await validator.validate(rest[0].strip() if rest else "")


async def require_user(request: Request) -> Principal:
    """FastAPI dependency: the caller from `Authorization: Bearer <token>`, or LOCAL_DEV when auth is off."""
    principal = request.scope.get(_SCOPE_KEY)
    if isinstance(principal, Principal):
        return principal          # already authenticated by BearerAuthMiddleware for this request
    return await _authenticate(request.app.state, request.headers.get("authorization"))


CurrentUser = Annotated[Principal, Depends(require_user)]


def has_role(principal: Principal, role: str) -> bool:
    """Entra app roles arrive as a list of strings in the access token's `roles` claim."""
    roles = principal.claims.get("roles")
    return isinstance(roles, list) and role in roles


async def require_admin(request: Request) -> Principal:
    """FastAPI dependency for server-side operations (ingest of server paths, sync, migrate): the caller
    must hold MYDOCS_ADMIN_ROLE. With auth off (stub user local-dev) everything is allowed."""
    principal = await require_user(request)
    if getattr(request.app.state, "token_validator", None) is None and principal is LOCAL_DEV:
        return principal
    role = request.app.state.ctx.settings.MYDOCS_ADMIN_ROLE
    if not has_role(principal, role):
        raise AuthError.missing_role(role)
    return principal


AdminUser = Annotated[Principal, Depends(require_admin)]


def _error_response(exc: AuthError, state: Any) -> JSONResponse:
    headers: dict[str, str] = {}
    if exc.status_code in (401, 403):
        headers["WWW-Authenticate"] = (f'Bearer error="{exc.www_error}", error_description="{exc.detail}"'
                                       if exc.www_error else "Bearer")
    elif exc.status_code == 503:
        validator = getattr(state, "token_validator", None)
        retry = getattr(validator, "min_refresh_interval_seconds", 30)
        headers["Retry-After"] = str(max(1, int(retry)))
    return JSONResponse(status_code=exc.status_code, headers=headers,
                        content={"detail": exc.detail, "error_code": exc.error_code})


def _auth_error_response(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthError)
    return _error_response(exc, request.app.state)


def install_auth_error_handler(app: FastAPI) -> None:
    """Turn AuthError into {"detail", "error_code"} with WWW-Authenticate on 401 and Retry-After on 503."""
    app.add_exception_handler(AuthError, _auth_error_response)


class BearerAuthMiddleware:
    """Authenticates every request under `prefix` before the app reads its body.

    FastAPI reads (and parses) a JSON body before it runs route dependencies, so with `require_user`
    alone an anonymous client can make the server buffer a large body, or get a 422 describing the
    schema, before it is told 401. This pure ASGI middleware answers 401/503 first and leaves the
    caller in the request's scope, where `require_user` (kept on the routers as the authoritative
    check) picks it up without validating the token twice.
    `app.add_middleware(BearerAuthMiddleware, prefix="/api/v1")`.
    """

    def __init__(self, app: Any, prefix: str = "/api/v1"):
        self.app = app
        self.prefix = prefix.rstrip("/")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == self.prefix or path.startswith(self.prefix + "/")) or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        authorization = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        try:
            principal = await _authenticate(state, authorization)
        except AuthError as exc:
            await _error_response(exc, state)(scope, receive, send)
            return
        scope[_SCOPE_KEY] = principal
        await self.app(scope, receive, send)
