"""The v3 company API: route a request to the company, shape the answer as QBO does."""

from __future__ import annotations

from typing import Any

from qbsync.sim import reports
from qbsync.sim.clock import parse_datetime
from qbsync.sim.company import BY_LOWER, ENTITIES, Company
from qbsync.sim.faults import QBOError
from qbsync.sim.values import loads

MAX_BATCH = 30
CDC_DAYS = 30


def _json_body(raw: bytes) -> dict[str, Any]:
    try:
        body = loads(raw or b"{}")
    except ValueError:
        raise QBOError("2010", detail="Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise QBOError("2010", detail="Request body must be a JSON object")
    return body


def _entity_op(
    company: Company, entity: str, body: dict[str, Any], operation: str, include: str
) -> dict[str, Any]:
    """create, update, delete or void, from the operation parameter and the body."""
    op = operation.lower()
    if op == "delete":
        return {entity: company.delete(entity, body)}
    if op == "void" or include.lower() == "void":
        return {entity: company.view(company.void(entity, body))}
    if op == "update" or body.get("Id") not in (None, "", 0, "0"):
        return {entity: company.view(company.update(entity, body))}
    if op not in ("", "create"):
        raise QBOError("2010", element="operation", detail=f"Unsupported operation {operation}")
    return {entity: company.view(company.create(entity, body))}


def handle(
    company: Company,
    method: str,
    rest: str,
    params: dict[str, str],
    raw: bytes,
) -> tuple[int, dict[str, Any], int]:
    """(HTTP status, body without `time`, batch items run) for one API request."""
    parts = [p for p in rest.split("/") if p]
    head = parts[0].lower() if parts else ""
    try:
        if head == "query":
            text = params.get("query") if method == "GET" else raw.decode("utf-8", "replace")
            if method == "POST" and not (text or "").strip():
                text = params.get("query", "")
            return 200, {"QueryResponse": company.query(text or "", raw=True)}, 0
        if head == "cdc" and method == "GET":
            return 200, cdc(company, params), 0
        if head == "reports" and method == "GET":
            return 200, reports.run(company, parts[1] if len(parts) > 1 else "", params), 0
        if head == "batch" and method == "POST":
            body = _json_body(raw)
            items = batch(company, body, params.get("requestid"))
            return 200, {"BatchItemResponse": items}, len(items)
        entity = BY_LOWER.get(head)
        if entity is None:
            # QBO's router: 400, code 500 "Unsupported Operation", naming the path it missed.
            relative = f"/v3/company/{company.realm_id}/{rest.strip('/')}"
            raise QBOError(
                "500",
                message="Unsupported Operation",
                detail=f"Operation Could not find resource for relative : {relative} "
                f"of full path: {relative} is not supported.",
            )
        if method == "GET":
            if entity in ("CompanyInfo", "Preferences"):
                return 200, {entity: company.view(company.singleton(entity))}, 0
            if len(parts) < 2:
                raise QBOError("2020", element="Id")
            return 200, {entity: company.view(company.read(entity, parts[1]))}, 0
        if method == "POST":
            body = _json_body(raw)
            if entity in ("CompanyInfo", "Preferences") and not body.get("Id"):
                body["Id"] = company.singleton(entity)["Id"]
            return (
                200,
                _entity_op(
                    company, entity, body, params.get("operation", ""), params.get("include", "")
                ),
                0,
            )
        raise QBOError("2010", detail=f"Method {method} is not supported here")
    except QBOError as err:
        return err.status, {"Fault": err.fault()}, 0


def cdc(company: Company, params: dict[str, str]) -> dict[str, Any]:
    names = [n.strip() for n in (params.get("entities") or "").split(",") if n.strip()]
    if not names:
        raise QBOError("2020", element="entities")
    entities = []
    for n in names:
        e = BY_LOWER.get(n.lower())
        if e is None:
            raise QBOError("2010", element="entities", detail=f"Unsupported entity {n} for CDC")
        entities.append(e)
    since_text = params.get("changedSince")
    if not since_text:
        raise QBOError("2020", element="changedSince")
    try:
        since = parse_datetime(since_text).timestamp()
    except ValueError:
        raise QBOError(
            "2010", element="changedSince", detail=f"Invalid changedSince {since_text}"
        ) from None
    if since < company.clock.timestamp() - CDC_DAYS * 86400:
        raise QBOError(
            "6000",
            element="changedSince",
            detail=f"changedSince must be within the last {CDC_DAYS} days.",
        )
    return {"CDCResponse": [{"QueryResponse": company.cdc(entities, since)}]}


def batch(company: Company, body: dict[str, Any], requestid: str | None) -> list[dict[str, Any]]:
    items = body.get("BatchItemRequest")
    if not isinstance(items, list) or not items:
        raise QBOError("2020", element="BatchItemRequest")
    if len(items) > MAX_BATCH:
        raise QBOError(
            "6000",
            element="BatchItemRequest",
            detail=f"The batch has {len(items)} items; at most {MAX_BATCH} are allowed.",
        )
    out: list[dict[str, Any]] = []
    with company.batch_scope():
        for item in items:
            bid = str(item.get("bId", ""))
            key = f"{requestid}:{bid}" if requestid else None
            if key is not None and key in company.replay:
                out.append(company.replay[key][1])
                continue
            resp = _batch_item(company, item, bid)
            if key is not None:
                company.replay[key] = (200, resp)
            out.append(resp)
    return out


def _batch_item(company: Company, item: dict[str, Any], bid: str) -> dict[str, Any]:
    try:
        if "Query" in item:
            return {"bId": bid, "QueryResponse": company.query(str(item["Query"]))}
        entities = [k for k in item if k in ENTITIES]
        if len(entities) != 1:
            raise QBOError("2020", element="BatchItemRequest entity")
        entity = entities[0]
        body = item[entity]
        if not isinstance(body, dict):
            raise QBOError("2010", element=entity)
        op = str(item.get("operation", "")).lower()
        options = str(item.get("optionsData", "") or "")
        if op == "create":
            obj = company.create(entity, body)
            answer = company.view(obj)
            # Later items in this batch must not see it.
            company.hidden.add((entity, obj["Id"]))
            return {"bId": bid, entity: answer}
        if op == "update":
            if options.lower() == "void":
                return {"bId": bid, entity: company.view(company.void(entity, body))}
            return {"bId": bid, entity: company.view(company.update(entity, body))}
        if op == "delete":
            return {"bId": bid, entity: company.delete(entity, body)}
        if op == "void":
            return {"bId": bid, entity: company.view(company.void(entity, body))}
        raise QBOError("2010", element="operation", detail=f"Unsupported operation {op!r}")
    except QBOError as err:
        return {"bId": bid, "Fault": err.fault()}
