"""The /_sim control surface (tests and demos): faults, latency, clock, acting as a user."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from qbsync.sim.faults import Latency, QBOError
from qbsync.sim.values import render

if TYPE_CHECKING:
    from qbsync.sim.core import Simulator

ADMIN_HEADER = "X-Sim-Admin-Key"
ACTIONS = {
    "create",
    "edit",
    "edit_invoice",
    "void_invoice",
    "delete_invoice",
    "delete_credit_memo",
    "record_payment",
    "edit_payment",
    "void_payment",
    "delete_payment",
    "deposit_payment",
    "deactivate_customer",
    "merge_customer",
}
FAULT_FIELDS = {
    "path_pattern",
    "method",
    "status",
    "code",
    "kind",
    "probability",
    "count",
    "realm",
    "when",
    "hang_seconds",
}

Handler = Callable[["Simulator", Request, dict[str, Any]], Any]


def _ok(data: Any, status: int = 200) -> Response:
    return JSONResponse(render(data), status_code=status)


def routes(sim: Simulator) -> list[Route]:
    def guard(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            key = request.headers.get(ADMIN_HEADER, "")
            if not key or not secrets.compare_digest(key, sim.admin_key):
                return JSONResponse({"error": "forbidden: X-Sim-Admin-Key missing or wrong"}, 403)
            body: dict[str, Any] = {}
            if request.method in ("POST", "PUT"):
                raw = await request.body()
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return JSONResponse({"error": "body is not JSON"}, 400)
            try:
                result = fn(sim, request, body)
            except QBOError as err:
                return JSONResponse({"Fault": err.fault()}, err.status)
            except KeyError as err:
                return JSONResponse({"error": f"not found: {err}"}, 404)
            except (TypeError, ValueError) as err:
                return JSONResponse({"error": str(err)}, 400)
            return result if isinstance(result, Response) else _ok(result)

        return endpoint

    def r(path: str, fn: Handler, methods: list[str]) -> Route:
        return Route("/_sim" + path, guard(fn), methods=methods)

    return [
        r("/info", _info, ["GET"]),
        r("/clock", _clock, ["GET"]),
        r("/clock/advance", _advance, ["POST"]),
        r("/faults", _faults, ["GET", "POST", "DELETE"]),
        r("/latency", _latency, ["GET", "POST"]),
        r("/limits", _limits, ["POST"]),
        r("/consent", _consent, ["POST"]),
        r("/companies", _companies, ["GET", "POST"]),
        r("/companies/{realm}/preferences", _preferences, ["POST"]),
        r("/companies/{realm}/revoke-tokens", _revoke, ["POST"]),
        r("/companies/{realm}/act/{action}", _act, ["POST"]),
        r("/companies/{realm}/entities/{entity}/{id}", _get, ["GET"]),
        r("/counts", _counts, ["GET"]),
        r("/requests", _requests, ["GET", "DELETE"]),
        r("/invariants", _invariants, ["GET"]),
        r("/reset", _reset, ["POST"]),
    ]


def _info(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    return {
        "url": str(request.base_url).rstrip("/"),
        "realm_id": sim.default_realm,
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "realms": list(sim.companies),
        "now": sim.now(),
    }


def _clock(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    return {"now": sim.now(), "offset": sim.clock.offset}


def _advance(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    return {"now": sim.advance_clock(float(body["seconds"])), "offset": sim.clock.offset}


def _faults(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    if request.method == "DELETE":
        sim.faults.clear()
        return {"cleared": True}
    if request.method == "POST":
        unknown = set(body) - FAULT_FIELDS
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return sim.inject_fault(**body).to_dict()
    return {"faults": [f.to_dict() for f in sim.faults.rules()]}


def _latency(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    if request.method == "POST":
        sim.latency = Latency(
            float(body.get("per_request_ms", 0)), float(body.get("per_batch_item_ms", 0))
        )
    return {
        "per_request_ms": sim.latency.per_request_ms,
        "per_batch_item_ms": sim.latency.per_batch_item_ms,
    }


def _limits(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    sim.set_limits(str(body.get("mode", "off")))
    return {"mode": body.get("mode", "off")}


def _consent(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    sim.auto_consent = bool(body.get("auto", True))
    return {"auto_consent": sim.auto_consent}


def _companies(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    if request.method == "POST":
        rid = sim.add_company(
            str(body.get("name", "Sim Company")),
            country=str(body.get("country", "US")),
            seed=str(body.get("seed", "empty")),
        )
        sim.save()
        return {"realm_id": rid}
    return {
        "companies": [
            {"realm_id": rid, "name": c.name, "country": c.country}
            for rid, c in sim.companies.items()
        ]
    }


def _preferences(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    return {"Preferences": sim.set_preferences(request.path_params["realm"], body["patch"])}


def _revoke(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    return {"revoked": sim.revoke_all_tokens(request.path_params["realm"])}


def _act(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    sim.company(request.path_params["realm"])  # 404 for an unknown realm
    result = getattr(sim, action)(request.path_params["realm"], **body)
    return {"result": result}


def _get(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    p = request.path_params
    return sim.get(p["realm"], p["entity"], p["id"])


def _counts(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    return sim.log.snapshot(request.query_params.get("realm"))


def _requests(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    if request.method == "DELETE":
        sim.log.clear()
        return {"cleared": True}
    return {"requests": sim.log.list()}


def _invariants(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    return {"problems": sim.check_invariants()}


def _reset(sim: Simulator, request: Request, body: dict[str, Any]) -> Any:
    sim.reset()
    return {"reset": True, "realm_id": sim.default_realm}
