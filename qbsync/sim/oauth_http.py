"""HTTP side of the OAuth server: discovery, consent page, token, revoke, userinfo, jwks."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from qbsync.sim.oauth import ACCOUNTING_SCOPE, KNOWN_SCOPES, OAuthError

if TYPE_CHECKING:
    from qbsync.sim.core import Simulator

AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
USERINFO_PATH = "/v1/openid_connect/userinfo"
JWKS_PATH = "/op/v1/jwks"


async def _form(request: Request) -> dict[str, str]:
    """application/x-www-form-urlencoded body (parsed here: no multipart dependency)."""
    raw = await request.body()
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def discovery(sim: Simulator, request: Request) -> Response:
    base = _base(request)
    doc = {
        "issuer": f"{base}/op/v1",
        "authorization_endpoint": f"{base}{AUTHORIZE_PATH}",
        "token_endpoint": f"{base}{TOKEN_PATH}",
        "userinfo_endpoint": f"{base}{USERINFO_PATH}",
        "revocation_endpoint": f"{base}{REVOKE_PATH}",
        "jwks_uri": f"{base}{JWKS_PATH}",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": [
            "aud",
            "exp",
            "iat",
            "iss",
            "realmid",
            "sub",
        ],
    }
    return JSONResponse(doc)


def _error_page(message: str, status: int = 400) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><title>Authorization error</title><h1>Authorization error</h1>"
        f"<p>{html.escape(message)}</p>",
        status_code=status,
    )


def _redirect(uri: str, params: dict[str, str]) -> RedirectResponse:
    sep = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{sep}{urlencode(params)}", status_code=302)


async def authorize(sim: Simulator, request: Request) -> Response:
    if request.method == "POST":
        params = await _form(request)
    else:
        params = dict(request.query_params)
    app = sim.oauth.apps.get(params.get("client_id", ""))
    if app is None:
        return _error_page("Unknown client_id.")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri or not app.redirect_ok(redirect_uri):
        # Never redirect to an unregistered URI: show the error instead.
        return _error_page("The redirect_uri is not registered for this app.")
    state = params.get("state", "")
    extra = {"state": state} if state else {}
    if params.get("response_type") != "code":
        return _redirect(redirect_uri, {"error": "unsupported_response_type", **extra})
    scopes = params.get("scope", "").split()
    if not scopes or any(s not in KNOWN_SCOPES for s in scopes):
        return _redirect(redirect_uri, {"error": "invalid_scope", **extra})
    scope = " ".join(scopes)
    if request.method == "GET" and not sim.auto_consent:
        return _consent_page(sim, params)
    if request.method == "POST" and params.get("action") != "connect":
        return _redirect(redirect_uri, {"error": "access_denied", **extra})
    realm = params.get("realm") or sim.default_realm
    if realm not in sim.companies:
        return _error_page("Unknown company.")
    code = sim.oauth.issue_code(app, realm, redirect_uri, scope, sim.clock.timestamp())
    out = {"code": code, **extra}
    if ACCOUNTING_SCOPE in scopes or "com.intuit.quickbooks.payment" in scopes:
        out["realmId"] = realm
    return _redirect(redirect_uri, out)


def _consent_page(sim: Simulator, params: dict[str, str]) -> HTMLResponse:
    app = sim.oauth.apps[params["client_id"]]
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k in ("client_id", "redirect_uri", "scope", "state", "response_type")
    )
    options = "".join(
        f'<option value="{html.escape(rid)}"{" selected" if rid == sim.default_realm else ""}>'
        f"{html.escape(c.name)} ({html.escape(rid)})</option>"
        for rid, c in sim.companies.items()
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Connect to QuickBooks (simulator)</title>
<style>body{{font-family:sans-serif;max-width:34em;margin:3em auto}}
button{{padding:.5em 1.5em;margin-right:1em}}</style></head>
<body><h1>Connect {html.escape(app.name)} to QuickBooks</h1>
<p>This is the qbsync QuickBooks Online simulator. {html.escape(app.name)} asks to read and
write your company's accounting data ({html.escape(params.get("scope", ""))}).</p>
<form method="post" action="/connect/oauth2">{hidden}
<label for="realm">Company</label>
<select id="realm" name="realm">{options}</select>
<p><button type="submit" name="action" value="connect" id="connect">Connect</button>
<button type="submit" name="action" value="cancel" id="cancel">Cancel</button></p>
</form></body></html>"""
    return HTMLResponse(page)


def _token_error(err: OAuthError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status)


async def token(sim: Simulator, request: Request) -> Response:
    form = await _form(request)
    try:
        app = sim.oauth.authenticate_client(request.headers.get("authorization"), form)
        grant_type = form.get("grant_type", "")
        now = sim.clock.timestamp()
        hard = request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true"
        if grant_type == "authorization_code":
            if not form.get("code") or not form.get("redirect_uri"):
                raise OAuthError("invalid_request")
            body = sim.oauth.exchange_code(app, form["code"], form["redirect_uri"], now, hard)
        elif grant_type == "refresh_token":
            if not form.get("refresh_token"):
                raise OAuthError("invalid_request")
            body = sim.oauth.refresh(app, form["refresh_token"], now, hard)
        elif not grant_type:
            raise OAuthError("invalid_request")
        else:
            raise OAuthError("unsupported_grant_type")
    except OAuthError as err:
        return _token_error(err)
    sim.save()
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def revoke(sim: Simulator, request: Request) -> Response:
    raw = await request.body()
    form: dict[str, Any] = {}
    try:
        if "json" in request.headers.get("content-type", ""):
            form = json.loads(raw or b"{}")
        else:
            form = await _form(request)
    except ValueError:
        return _token_error(OAuthError("invalid_request"))
    try:
        sim.oauth.authenticate_client(request.headers.get("authorization"), form)
    except OAuthError as err:
        return _token_error(err)
    tok = str(form.get("token") or "")
    if not tok:
        return _token_error(OAuthError("invalid_request"))
    sim.oauth.revoke(tok)
    sim.save()
    # RFC 7009: an unknown token is not an error.
    return Response(b"", status_code=200)


def userinfo(sim: Simulator, request: Request) -> Response:
    auth = request.headers.get("authorization", "")
    grant, why = sim.oauth.check_access(auth[7:].strip(), sim.clock.timestamp())
    if grant is None or not auth.lower().startswith("bearer "):
        return JSONResponse({"error": "invalid_token", "error_description": why}, 401)
    return JSONResponse(
        {
            "sub": f"sim-user-{grant.realm_id}",
            "email": "owner@example.com",
            "emailVerified": True,
            "givenName": "Sim",
            "familyName": "Owner",
        }
    )


def jwks(sim: Simulator, request: Request) -> Response:
    return JSONResponse({"keys": []})


def routes(sim: Simulator) -> list[Route]:
    def bind(fn: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            result = fn(sim, request)
            if hasattr(result, "__await__"):
                result = await result
            response: Response = result
            return response

        return endpoint

    return [
        Route("/.well-known/openid_configuration/", bind(discovery)),
        Route("/.well-known/openid_configuration", bind(discovery)),
        Route("/.well-known/openid_sandbox_configuration/", bind(discovery)),
        Route("/.well-known/openid_sandbox_configuration", bind(discovery)),
        Route(AUTHORIZE_PATH, bind(authorize), methods=["GET", "POST"]),
        Route(TOKEN_PATH, bind(token), methods=["POST"]),
        Route(REVOKE_PATH, bind(revoke), methods=["POST"]),
        Route(USERINFO_PATH, bind(userinfo)),
        Route(JWKS_PATH, bind(jwks)),
    ]
