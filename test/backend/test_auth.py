"""Auth (spec §9) against a real OIDC discovery + JWKS server on 127.0.0.1 (oidc_provider.py); no HTTP mocks."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel

from mydocs.backend.auth import (LOCAL_DEV, AuthError, BearerAuthMiddleware, CurrentUser, EntraTokenValidator,
                                 Principal, build_validator, install_auth_error_handler, require_user)
from oidc_provider import OidcProvider, b64url, unsigned_token


@pytest.fixture
def idp():
    with OidcProvider() as provider:
        yield provider


@pytest.fixture
async def validator(idp):
    v = EntraTokenValidator(client_id=idp.client_id, issuer=idp.issuer, min_refresh_interval_seconds=1,
                            http_timeout_seconds=2)
    yield v
    await v.aclose()


async def reject(validator: EntraTokenValidator, token: str, *, status: int = 401, code: str = "invalid_token",
                 detail: str | None = None) -> AuthError:
    with pytest.raises(AuthError) as info:
        await validator.validate(token)
    err = info.value
    assert (err.status_code, err.error_code) == (status, code), err.detail
    if detail is not None:
        assert detail in err.detail
    return err


# ---- the validator ----

async def test_valid_token(idp, validator):
    p = await validator.validate(idp.token())
    assert p.sub == "user-sub-123"
    assert p.name == "Test User"
    assert p.claims["oid"] == "user-oid-123"
    assert idp.discovery_requests == 1 and idp.jwks_requests == 1
    await validator.validate(idp.token(sub="someone-else"))
    assert idp.jwks_requests == 1, "keys are cached"


async def test_api_uri_audience_accepted(idp, validator):
    p = await validator.validate(idp.token(aud=f"api://{idp.client_id}"))
    assert p.sub == "user-sub-123"


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c", "not a token at all", "x" * 20000,
                                   "eyJhbGciOiJSUzI1NiJ9.e30.", "....", "€€€.€€€.€€€"])
async def test_malformed(validator, token):
    await reject(validator, token)


async def test_expired(idp, validator):
    now = int(time.time())
    await reject(validator, idp.token(iat=now - 7200, nbf=now - 7200, exp=now - 3600), detail="expired")


async def test_expiry_leeway(idp, validator):
    now = int(time.time())
    # 60 s leeway: expired 20 s ago is still fine, 120 s ago is not.
    await validator.validate(idp.token(iat=now - 3600, nbf=now - 3600, exp=now - 20))
    await reject(validator, idp.token(iat=now - 3600, nbf=now - 3600, exp=now - 120), detail="expired")


async def test_not_yet_valid(idp, validator):
    now = int(time.time())
    await reject(validator, idp.token(nbf=now + 600, exp=now + 4000), detail="not yet valid")


async def test_missing_exp(idp, validator):
    await reject(validator, idp.token(exp=None), detail="exp")


async def test_wrong_audience(idp, validator):
    await reject(validator, idp.token(aud="some-other-api"), detail="audience")
    await reject(validator, idp.token(aud=f"api://{idp.client_id}/extra"), detail="audience")
    await reject(validator, idp.token(aud=None), detail="aud")


async def test_wrong_issuer(idp, validator):
    await reject(validator, idp.token(iss="https://login.microsoftonline.com/another-tenant/v2.0"),
                 detail="issuer")
    await reject(validator, idp.token(iss=idp.issuer + "/"), detail="issuer")


async def test_alg_none(idp, validator):
    claims = idp.claims()
    await reject(validator, unsigned_token({"alg": "none", "typ": "JWT", "kid": idp.current_kid}, claims),
                 detail="RS256")
    await reject(validator, unsigned_token({"alg": "None", "kid": idp.current_kid}, claims), detail="RS256")
    await reject(validator, unsigned_token({"kid": idp.current_kid}, claims), detail="RS256")


async def test_hs256_signed_with_public_key(idp, validator):
    """The classic key-confusion attack: HMAC keyed with the RSA public key the JWKS publishes."""
    key = idp.key()
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(idp.claims()).encode())}"
    for secret in (key.public_pem(), json.dumps(key.public_jwk()).encode()):
        sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        await reject(validator, f"{signing_input}.{b64url(sig)}", detail="RS256")


async def test_other_algorithms_refused(idp, validator):
    # Even a correctly signed PS256/RS512 token with a published key is refused: RS256 only.
    for alg in ("RS512", "PS256"):
        token = __import__("jwt").encode(idp.claims(), idp.key().private_key, algorithm=alg,
                                         headers={"kid": idp.current_kid})
        await reject(validator, token, detail="RS256")


async def test_tampered_signature(idp, validator):
    token = idp.token()
    head, payload, sig = token.split(".")
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    await reject(validator, f"{head}.{payload}.{flipped}", detail="signature")


async def test_tampered_payload(idp, validator):
    head, _, sig = idp.token().split(".")
    forged = b64url(json.dumps(idp.claims(sub="admin")).encode())
    await reject(validator, f"{head}.{forged}.{sig}", detail="signature")


async def test_signed_by_unpublished_key_under_published_kid(idp, validator):
    rogue = idp.add_key()  # never published
    token = __import__("jwt").encode(idp.claims(), idp.key(rogue).private_key, algorithm="RS256",
                                     headers={"kid": idp.current_kid})
    await reject(validator, token, detail="signature")


async def test_unknown_kid_then_rotation(idp, validator):
    old_token = idp.token()
    await validator.validate(old_token)
    assert idp.jwks_requests == 1

    # Right after a fetch, an unknown kid does not fetch again (rate limit): 401.
    pending = idp.add_key()
    await reject(validator, idp.token(kid=pending), detail="unknown")
    assert idp.jwks_requests == 1
    # Later, a token signed with a key the IdP does not publish (yet): one refresh, then 401.
    await asyncio.sleep(1.1)
    await reject(validator, idp.token(kid=pending), detail="unknown")
    assert idp.jwks_requests == 2

    # The IdP rotates: the new key is published, the old one withdrawn.
    await asyncio.sleep(1.1)  # past min_refresh_interval_seconds
    new_kid = idp.rotate()
    p = await validator.validate(idp.token(kid=new_kid))
    assert p.sub == "user-sub-123"
    assert idp.jwks_requests == 3, "exactly one refresh for the new kid"
    await validator.validate(idp.token(kid=new_kid))
    assert idp.jwks_requests == 3


async def test_refresh_rate_limit(idp, validator):
    await validator.validate(idp.token())
    assert idp.jwks_requests == 1
    # A flood of tokens with random unknown kids causes at most one fetch per interval.
    await asyncio.sleep(1.1)
    for i in range(20):
        await reject(validator, idp.token(headers={"kid": f"bogus-{i}"}), detail="unknown")
    assert idp.jwks_requests == 2
    await asyncio.sleep(1.1)
    await reject(validator, idp.token(headers={"kid": "bogus-late"}), detail="unknown")
    assert idp.jwks_requests == 3
    # Known keys keep working without fetching.
    await validator.validate(idp.token())
    assert idp.jwks_requests == 3


async def test_concurrent_new_kid_fetches_once(idp, validator):
    await validator.validate(idp.token())
    assert idp.jwks_requests == 1
    await asyncio.sleep(1.1)
    new_kid = idp.rotate(keep_old=True)
    idp.jwks_delay = 0.3  # every request arrives while the refresh is in flight
    results = await asyncio.gather(*(validator.validate(idp.token(kid=new_kid, sub=f"u{i}")) for i in range(25)))
    assert sorted(p.sub for p in results) == sorted(f"u{i}" for i in range(25))
    assert idp.jwks_requests == 2, f"{idp.jwks_requests - 1} JWKS fetches for one new kid"
    assert idp.discovery_requests == 2


async def test_concurrent_cold_start_fetches_once(idp, validator):
    idp.jwks_delay = 0.3
    results = await asyncio.gather(*(validator.validate(idp.token()) for _ in range(10)))
    assert len(results) == 10
    assert idp.jwks_requests == 1


async def test_ttl_expiry_refetches(idp):
    v = EntraTokenValidator(client_id=idp.client_id, issuer=idp.issuer, jwks_ttl_seconds=0.5,
                            min_refresh_interval_seconds=0.1)
    try:
        await v.validate(idp.token())
        await v.validate(idp.token())
        assert idp.jwks_requests == 1
        await asyncio.sleep(0.6)
        await v.validate(idp.token())
        assert idp.jwks_requests == 2
        # The IdP withdraws the key: after the TTL the cache drops it too.
        idp.rotate()
        await asyncio.sleep(0.6)
        await reject(v, idp.token(kid=next(k for k in idp._keys if k != idp.current_kid)), detail="unknown")
    finally:
        await v.aclose()


async def test_key_endpoint_down(idp, validator):
    token = idp.token()
    idp.stop()
    err = await reject(validator, token, status=503, code="auth_unavailable")
    assert "signing keys" in err.detail
    # Rate-limited: a second request within the interval does not hammer the endpoint (nor reach it).
    await reject(validator, token, status=503, code="auth_unavailable")
    idp.start()  # back on the same port
    await asyncio.sleep(1.1)
    assert (await validator.validate(token)).sub == "user-sub-123"
    assert idp.jwks_requests == 1


@pytest.mark.parametrize("mode", ["garbage", "error", "empty"])
async def test_key_endpoint_garbage(idp, validator, mode):
    idp.mode = mode
    await reject(validator, idp.token(), status=503, code="auth_unavailable")


async def test_key_endpoint_slow_is_503(idp):
    v = EntraTokenValidator(client_id=idp.client_id, issuer=idp.issuer, http_timeout_seconds=0.2)
    idp.jwks_delay = 1.0
    try:
        await reject(v, idp.token(), status=503, code="auth_unavailable")
    finally:
        await v.aclose()


async def test_stale_keys_survive_an_outage(idp):
    v = EntraTokenValidator(client_id=idp.client_id, issuer=idp.issuer, jwks_ttl_seconds=0.3,
                            min_refresh_interval_seconds=0.1)
    try:
        await v.validate(idp.token())
        idp.stop()
        await asyncio.sleep(0.4)
        # TTL passed and the refresh fails: the keys already fetched still verify tokens.
        assert (await v.validate(idp.token())).sub == "user-sub-123"
        # A kid never seen cannot be judged while the IdP is down: 503, not 401.
        await reject(v, idp.token(kid=idp.add_key()), status=503, code="auth_unavailable")
    finally:
        await v.aclose()
        idp.start()


async def test_discovery_issuer_mismatch_is_503(idp):
    v = EntraTokenValidator(client_id=idp.client_id, issuer=idp.issuer + "/")
    try:
        await reject(v, idp.token(iss=idp.issuer + "/"), status=503, code="auth_unavailable")
    finally:
        await v.aclose()


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_short_rsa_keys_are_ignored(idp, validator):
    weak = idp.add_key(bits=1024)
    idp.publish(idp.current_kid, weak)
    await validator.validate(idp.token())
    await reject(validator, idp.token(kid=weak), detail="unknown")


async def test_missing_sub_or_kid(idp, validator):
    await reject(validator, idp.token(sub=None), detail="sub")
    token = __import__("jwt").encode(idp.claims(), idp.key().private_key, algorithm="RS256")
    await reject(validator, token, detail="kid")


def test_constructor_refuses_bad_config():
    with pytest.raises(ValueError):
        EntraTokenValidator(client_id="", issuer="https://login.microsoftonline.com/t/v2.0")
    with pytest.raises(ValueError):
        EntraTokenValidator(client_id="c", issuer="login.microsoftonline.com/t/v2.0")


# ---- the FastAPI wiring (a real app, real ASGI stack, the validator above) ----

class Echo(BaseModel):
    paths: list[str]


def make_app(validator: EntraTokenValidator | None, *, gate: bool = False) -> FastAPI:
    app = FastAPI()
    app.state.token_validator = validator
    install_auth_error_handler(app)
    if gate:
        app.add_middleware(BearerAuthMiddleware, prefix="/api/v1")
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(require_user)])

    @api.get("/whoami")
    async def whoami(user: CurrentUser) -> dict:
        return {"sub": user.sub, "name": user.name}

    @api.post("/echo")
    async def echo(body: Echo, user: CurrentUser) -> dict:
        return {"sub": user.sub, "paths": body.paths}

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    app.include_router(api)
    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_http_valid_and_bad_tokens(idp, validator):
    async with client_for(make_app(validator)) as c:
        r = await c.get("/api/v1/whoami", headers={"Authorization": f"Bearer {idp.token()}"})
        assert r.status_code == 200 and r.json() == {"sub": "user-sub-123", "name": "Test User"}
        r = await c.get("/api/v1/whoami", headers={"Authorization": f"bearer  {idp.token()}"})
        assert r.status_code == 200, "scheme is case-insensitive"
        r = await c.get("/api/v1/whoami", headers={"Authorization": f"Bearer\t{idp.token()}"})
        assert r.status_code == 200, "any whitespace separates scheme and token"

        r = await c.get("/api/v1/whoami")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error_code"] == "not_authenticated" and r.json()["detail"]

        r = await c.get("/api/v1/whoami", headers={"Authorization": f"Basic {b64url(b'user:pass')}"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error_code"] == "not_authenticated"

        for bad in ("Bearer", "Bearer ", "Bearer garbage", f"Bearer {idp.token(aud='x')}"):
            r = await c.get("/api/v1/whoami", headers={"Authorization": bad})
            assert r.status_code == 401, bad
            assert r.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
            body = r.json()
            assert body["error_code"] == "invalid_token" and set(body) == {"detail", "error_code"}

        r = await c.get("/health")
        assert r.status_code == 200


@pytest.mark.parametrize("gate", [False, True])
async def test_http_same_answers_with_and_without_gate(idp, validator, gate):
    async with client_for(make_app(validator, gate=gate)) as c:
        r = await c.post("/api/v1/echo", json={"paths": ["a"]}, headers={"Authorization": f"Bearer {idp.token()}"})
        assert r.status_code == 200 and r.json() == {"sub": "user-sub-123", "paths": ["a"]}
        r = await c.get("/api/v1/whoami", headers={"Authorization": "Bearer x.y.z"})
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
        r = await c.get("/api/v1/whoami", headers={"Authorization": "Basic abc"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert (await c.get("/health")).status_code == 200


async def test_gate_answers_before_the_body_is_read(idp, validator):
    """With BearerAuthMiddleware an anonymous client gets 401 without the server reading its body."""
    consumed = 0

    async def body():
        nonlocal consumed
        for _ in range(64):
            consumed += 1
            yield b"x" * 65536

    async with client_for(make_app(validator, gate=True)) as c:
        r = await c.post("/api/v1/echo", content=body(), headers={"content-type": "application/json"})
        assert r.status_code == 401 and r.json()["error_code"] == "not_authenticated"
        assert consumed <= 1, f"{consumed} chunks read before the 401"
        r = await c.post("/api/v1/echo", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 401, "malformed body from an anonymous client: 401, not 422"
        idp.stop()
        try:
            r = await c.post("/api/v1/echo", content=b"{", headers={"content-type": "application/json",
                                                                  "Authorization": f"Bearer {idp.token()}"})
            assert r.status_code == 503 and r.json()["error_code"] == "auth_unavailable"
        finally:
            idp.start()
    async with client_for(make_app(None, gate=True)) as c:
        r = await c.post("/api/v1/echo", json={"paths": []})
        assert r.status_code == 200 and r.json()["sub"] == "local-dev"


async def test_http_key_endpoint_down_is_503(idp, validator):
    token = idp.token()
    idp.stop()
    try:
        async with client_for(make_app(validator)) as c:
            r = await c.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 503
            assert r.json() == {"detail": r.json()["detail"], "error_code": "auth_unavailable"}
            assert int(r.headers["retry-after"]) >= 1
            assert (await c.get("/health")).status_code == 200
    finally:
        idp.start()


async def test_http_token_never_logged(idp, validator, caplog):
    caplog.set_level(logging.DEBUG)
    token = idp.token()
    bad = idp.token(aud="elsewhere")
    async with client_for(make_app(validator)) as c:
        await c.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        await c.get("/api/v1/whoami", headers={"Authorization": f"Bearer {bad}"})
    idp.stop()
    try:
        v2 = EntraTokenValidator(client_id=idp.client_id, issuer=idp.issuer)
        async with client_for(make_app(v2)) as c:
            await c.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        await v2.aclose()
    finally:
        idp.start()
    text = caplog.text
    assert "cannot refresh signing keys" in text
    for t in (token, bad):
        for part in t.split("."):
            assert part not in text


async def test_http_auth_off_is_local_dev():
    async with client_for(make_app(None)) as c:
        r = await c.get("/api/v1/whoami")
        assert r.status_code == 200 and r.json()["sub"] == "local-dev"
        r = await c.get("/api/v1/whoami", headers={"Authorization": "Bearer whatever"})
        assert r.json()["sub"] == LOCAL_DEV.sub


async def test_http_validator_unset_fails_closed():
    app = make_app(None)
    del app.state.token_validator
    async with client_for(app) as c:
        r = await c.get("/api/v1/whoami")
        assert r.status_code == 503 and r.json()["error_code"] == "auth_unavailable"


# ---- build_validator (settings -> validator) ----

class _S:
    """Just the three Entra fields build_validator reads (the real Settings is exercised in test_app_auth)."""

    def __init__(self, tenant=None, client=None, issuer=None):
        self.ENTRA_TENANT_ID, self.ENTRA_CLIENT_ID, self.ENTRA_ISSUER = tenant, client, issuer


async def test_build_validator_off_warns(caplog):
    caplog.set_level(logging.WARNING, logger="mydocs.auth")
    assert build_validator(_S()) is None
    assert build_validator(_S(tenant="")) is None
    assert "auth is OFF" in caplog.text


async def test_build_validator_defaults_to_entra_issuer():
    v = build_validator(_S(tenant="contoso.onmicrosoft.com", client="cid"))
    try:
        assert v is not None
        assert v.issuer == "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
        assert v.discovery_url == ("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
                                   "/.well-known/openid-configuration")
        assert v.audiences == ["cid", "api://cid"]
    finally:
        await v.aclose()


def test_build_validator_refuses_bad_values():
    from mydocs.settings import ConfigError

    with pytest.raises(ConfigError) as info:
        build_validator(_S(tenant="../../evil", client=None))
    assert len(info.value.problems) == 2


async def test_build_validator_with_issuer(idp):
    v = build_validator(_S(tenant=idp.tenant, client=idp.client_id, issuer=idp.issuer))
    try:
        p = await v.validate(idp.token())
        assert isinstance(p, Principal) and p.sub == "user-sub-123"
    finally:
        await v.aclose()


# ---- through the real app (create_app, lifespan, FerretDB + Azurite from conftest) ----

@pytest.fixture
def auth_settings(make_settings, idp):
    return make_settings(ENTRA_TENANT_ID=idp.tenant, ENTRA_CLIENT_ID=idp.client_id, ENTRA_ISSUER=idp.issuer)


async def test_app_auth_on(make_client, auth_settings, idp):
    async with make_client(auth_settings) as c:
        for path in ("/api/v1/documents", "/api/v1/info", "/api/v1/documents/0123456789abcdef0123456789abcdef"):
            r = await c.get(path)
            assert r.status_code == 401, path
            assert r.headers["www-authenticate"] == "Bearer"
            assert r.json()["error_code"] == "not_authenticated"
        r = await c.post("/api/v1/documents/upload", files={"files": ("a.txt", b"hello")})
        assert r.status_code == 401, "no upload without a token"
        r = await c.get("/api/v1/documents", headers={"Authorization": f"Bearer {idp.token(aud='other')}"})
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith('Bearer error="invalid_token"')

        auth = {"Authorization": f"Bearer {idp.token()}"}
        r = await c.get("/api/v1/documents", headers=auth)
        assert r.status_code == 200 and r.json()["total"] == 0
        r = await c.get("/api/v1/info", headers=auth)
        assert r.status_code == 200 and r.json()["auth_enabled"] is True

        for path in ("/health", "/health/ready"):
            r = await c.get(path)
            assert r.status_code == 200, (path, r.text)


async def test_app_key_endpoint_down(make_client, auth_settings, idp):
    token = idp.token()
    idp.stop()
    try:
        async with make_client(auth_settings) as c:
            r = await c.get("/api/v1/documents", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 503
            assert r.json()["error_code"] == "auth_unavailable"
            assert (await c.get("/health")).status_code == 200
    finally:
        idp.start()


async def test_app_auth_off_local_dev(make_client, settings, caplog):
    caplog.set_level(logging.WARNING, logger="mydocs.auth")
    async with make_client(settings) as c:
        assert "auth is OFF" in caplog.text
        r = await c.get("/api/v1/documents")
        assert r.status_code == 200
        r = await c.get("/api/v1/info")
        assert r.status_code == 200 and r.json()["auth_enabled"] is False
        assert (await c.get("/health")).status_code == 200
