"""An embedded QuickBooks Online look-alike, held to QBO's documented behaviour.

Entry points:
- `qbsync.sim.core.Simulator`: state (companies), clock, OAuth registry, limits, faults, latency,
  request log; also acts as a QBO user (edit/void/delete invoices, record/edit/void/delete/deposit
  payments, deactivate/merge customers, change preferences) and checks its own invariants.
- `qbsync.sim.app.create_app(sim)`: the ASGI (Starlette) app, for in-process use.
- `qbsync.sim.server.SimServer`: the same app on a real socket (uvicorn in a thread).
- `qbsync.sim.control.SimControl`: a sync client for the /_sim control surface.
- `qbsync.sim.testing`: in-process clients (`sim_client`, `async_sim_client`).

URL layout (relative to the server URL):
  /.well-known/openid_configuration/ and /.well-known/openid_sandbox_configuration/  discovery
  /connect/oauth2                 authorize (consent page; --auto-consent redirects at once)
  /oauth2/v1/tokens/bearer        token (authorization_code, refresh_token)
  /v2/oauth2/tokens/revoke        revoke
  /v1/openid_connect/userinfo     userinfo;  /op/v1/jwks  jwks
  /v3/company/{realmId}/...       the company API (entity, query, cdc, batch, preferences, ...)
  /_sim/...                       control surface; header X-Sim-Admin-Key required

Latency profiles: "none", "intuit" (250 ms per request + 60 ms per batch item) or
"REQ_MS[+ITEM_MS]", e.g. "150+100".
"""

from qbsync.sim.core import Simulator

__all__ = ["Simulator"]
