from __future__ import annotations

import base64
from urllib.parse import parse_qsl, urlparse

import httpx
import pytest

from qbsync.sim.core import Simulator
from qbsync.sim.oauth import REFRESH_TTL
from qbsync.sim.testing import sim_client

REDIRECT = "http://localhost:8765/callback"
SCOPE = "com.intuit.quickbooks.accounting"


@pytest.fixture
def web(sim: Simulator) -> httpx.Client:
    return sim_client(sim, auth=False)


def _authorize(web: httpx.Client, sim: Simulator, **over: str) -> httpx.Response:
    params = {
        "client_id": sim.client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": REDIRECT,
        "state": "st4te",
        **over,
    }
    return web.get("/connect/oauth2", params=params)


def _callback(resp: httpx.Response) -> dict[str, str]:
    assert resp.status_code == 302, resp.text
    loc = resp.headers["location"]
    assert loc.startswith(REDIRECT)
    return dict(parse_qsl(urlparse(loc).query))


def _token(web: httpx.Client, sim: Simulator, data: dict[str, str], **kw: object) -> httpx.Response:
    return web.post(
        "/oauth2/v1/tokens/bearer", data=data, auth=(sim.client_id, sim.client_secret), **kw
    )


def _exchange(web: httpx.Client, sim: Simulator) -> dict[str, object]:
    code = _callback(_authorize(web, sim))["code"]
    resp = _token(
        web, sim, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, object] = resp.json()
    return body


def test_discovery_points_back_at_the_simulator(web: httpx.Client) -> None:
    for path in (
        "/.well-known/openid_configuration/",
        "/.well-known/openid_sandbox_configuration/",
    ):
        doc = web.get(path).json()
        for key in (
            "authorization_endpoint",
            "token_endpoint",
            "revocation_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
        ):
            assert doc[key].startswith("http://sim.test/"), (key, doc[key])
        assert doc["token_endpoint"].endswith("/oauth2/v1/tokens/bearer")
        assert doc["revocation_endpoint"].endswith("/v2/oauth2/tokens/revoke")


def test_consent_page_connect_and_cancel(sim: Simulator, web: httpx.Client) -> None:
    sim.auto_consent = False
    other = sim.add_company("Second Co", seed="empty")
    page = _authorize(web, sim)
    assert page.status_code == 200
    assert "Connect" in page.text and "Cancel" in page.text and "Second Co" in page.text
    form = {
        "client_id": sim.client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": REDIRECT,
        "state": "st4te",
    }
    ok = _callback(web.post("/connect/oauth2", data={**form, "realm": other, "action": "connect"}))
    assert ok["realmId"] == other and ok["state"] == "st4te" and ok["code"]
    no = _callback(web.post("/connect/oauth2", data={**form, "action": "cancel"}))
    assert no == {"error": "access_denied", "state": "st4te"}


def test_authorize_rejects_unregistered_redirect(sim: Simulator, web: httpx.Client) -> None:
    resp = _authorize(web, sim, redirect_uri="https://evil.example/cb")
    assert resp.status_code == 400 and "location" not in resp.headers


def test_code_exchange_token_shape_and_single_use(sim: Simulator, web: httpx.Client) -> None:
    q = _callback(_authorize(web, sim))
    assert q["realmId"] == sim.default_realm
    data = {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT}
    resp = _token(web, sim, data, headers={"x-include-refresh-token-hard-expires-in": "true"})
    body = resp.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == REFRESH_TTL
    assert body["x_refresh_token_hard_expires_in"] > REFRESH_TTL
    again = _token(web, sim, data)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_code_needs_exact_redirect_and_expires(sim: Simulator, web: httpx.Client) -> None:
    code = _callback(_authorize(web, sim))["code"]
    bad = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT + "/"}
    assert _token(web, sim, bad).json()["error"] == "invalid_grant"
    code = _callback(_authorize(web, sim))["code"]
    sim.advance_clock(301)
    late = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert _token(web, sim, late).json()["error"] == "invalid_grant"


def test_client_auth_basic_or_form(sim: Simulator, web: httpx.Client) -> None:
    tok = _exchange(web, sim)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": str(tok["refresh_token"]),
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
    }
    assert web.post("/oauth2/v1/tokens/bearer", data=form).status_code == 200
    wrong = base64.b64encode(f"{sim.client_id}:nope".encode()).decode()
    resp = web.post(
        "/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers={"Authorization": f"Basic {wrong}"},
    )
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"
    resp = _token(web, sim, {"grant_type": "password"})
    assert resp.json()["error"] == "unsupported_grant_type"


def test_rotation_grace_then_invalid_grant(sim: Simulator, web: httpx.Client) -> None:
    first = str(_exchange(web, sim)["refresh_token"])
    r1 = _token(web, sim, {"grant_type": "refresh_token", "refresh_token": first}).json()
    second = r1["refresh_token"]
    assert second != first
    # A racing client still holding the old token, inside the grace, converges on the new one.
    sim.advance_clock(23 * 3600)
    r2 = _token(web, sim, {"grant_type": "refresh_token", "refresh_token": first}).json()
    assert r2["refresh_token"] == second and r2["access_token"]
    sim.advance_clock(3601)
    late = _token(web, sim, {"grant_type": "refresh_token", "refresh_token": first})
    assert late.status_code == 400 and late.json() == {
        "error": "invalid_grant",
        "error_description": "refresh token rotated",
    }
    assert (
        _token(web, sim, {"grant_type": "refresh_token", "refresh_token": second}).status_code
        == 200
    )


def test_refresh_token_expires_after_100_days_unused(sim: Simulator, web: httpx.Client) -> None:
    rt = str(_exchange(web, sim)["refresh_token"])
    sim.advance_clock(REFRESH_TTL + 1)
    resp = _token(web, sim, {"grant_type": "refresh_token", "refresh_token": rt})
    assert resp.json()["error"] == "invalid_grant"


def test_access_token_expires_after_an_hour(sim: Simulator, web: httpx.Client) -> None:
    at = str(_exchange(web, sim)["access_token"])
    path = f"/v3/company/{sim.default_realm}/companyinfo/{sim.default_realm}"
    h = {"Authorization": f"Bearer {at}"}
    assert web.get(path, headers=h).status_code == 200
    sim.advance_clock(3600)
    resp = web.get(path, headers=h)
    assert resp.status_code == 401
    err = resp.json()["fault"]["error"][0]
    assert err["code"] == "3200" and err["detail"] == "Token expired"
    assert "errorCode=003200" in err["message"]
    xml = web.get(path, headers={**h, "Accept": "application/xml"})
    assert xml.status_code == 401 and '<Error code="100">' in xml.text
    assert "AuthenticationFault" in xml.text


def test_revoke_kills_the_whole_grant(sim: Simulator, web: httpx.Client) -> None:
    tok = _exchange(web, sim)
    resp = web.post(
        "/v2/oauth2/tokens/revoke",
        json={"token": tok["refresh_token"]},
        auth=(sim.client_id, sim.client_secret),
    )
    assert resp.status_code == 200
    path = f"/v3/company/{sim.default_realm}/preferences"
    resp = web.get(path, headers={"Authorization": f"Bearer {tok['access_token']}"})
    assert resp.status_code == 401 and resp.json()["fault"]["error"][0]["detail"] == "Token revoked"
    again = _token(
        web, sim, {"grant_type": "refresh_token", "refresh_token": str(tok["refresh_token"])}
    )
    assert again.json()["error"] == "invalid_grant"


def test_admin_disconnect_revokes_realm_tokens(sim: Simulator, web: httpx.Client) -> None:
    tok = _exchange(web, sim)
    assert sim.revoke_all_tokens(sim.default_realm) == 1
    resp = web.get(
        f"/v3/company/{sim.default_realm}/preferences",
        headers={"Authorization": f"Bearer {tok['access_token']}"},
    )
    assert resp.status_code == 401


def test_token_of_one_realm_is_refused_by_another(sim: Simulator, web: httpx.Client) -> None:
    other = sim.add_company("Other", seed="empty")
    tok = _exchange(web, sim)
    resp = web.get(
        f"/v3/company/{other}/preferences",
        headers={"Authorization": f"Bearer {tok['access_token']}"},
    )
    assert resp.status_code == 403
    assert resp.json()["fault"]["error"][0]["code"] == "3100"


def test_userinfo_and_jwks(sim: Simulator, web: httpx.Client) -> None:
    tok = _exchange(web, sim)
    info = web.get(
        "/v1/openid_connect/userinfo", headers={"Authorization": f"Bearer {tok['access_token']}"}
    )
    assert info.status_code == 200 and "email" in info.json()
    assert web.get("/op/v1/jwks").json() == {"keys": []}
