"""The async QuickBooks Online client: one request path with pacing, retries, one refresh on
401, and typed faults.

Retry rules: reads, queries and CDC are always safe to retry. A write is retried only when it
carries a requestid (Intuit answers a repeat with the original result); without one, a lost
answer raises UnknownOutcome, and so does a write with a requestid whose retries ran out after an
answer was lost. A 429 means the call did not run, so it is retried for writes too.
"""

from __future__ import annotations

import datetime as dt
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from qbsync.logs import get_logger
from qbsync.qbo.errors import (
    AuthenticationError,
    QboError,
    QboNetworkError,
    UnknownOutcome,
    fault_from_dict,
    parse_fault,
)
from qbsync.qbo.limits import Limits
from qbsync.qbo.pacing import RealmPacer, pacer_for
from qbsync.qbo.retry import RetryPolicy, pause
from qbsync.qbo.token_source import TokenSource
from qbsync.qbo.transport import async_client

if TYPE_CHECKING:  # batch.py loads with the first batch: cron's usual cycle sends none
    from qbsync.qbo.batch import BatchItem, BatchResult

_log = get_logger("qbo.client")

# Transport failures that happen before a request is sent: retrying cannot duplicate anything.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_GET_QUERY_MAX = 1500  # longer queries go as a POST body


DEFAULT_RETRY = RetryPolicy()  # the sync engine's patience; doctor and tests pass their own


def _path_name(entity: str) -> str:
    return entity.lower()


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class QboClient:
    def __init__(
        self,
        *,
        base_url: str,
        realm_id: str,
        tokens: TokenSource,
        limits: Limits,
        timeout: float = 120,
        http: httpx.AsyncClient | None = None,
        pacer: RealmPacer | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.realm_id = realm_id
        self.tokens = tokens
        self.limits = limits
        self.pacer = pacer or pacer_for(realm_id, limits)
        self.retry = retry or DEFAULT_RETRY
        self._own_http = http is None
        self.http = http or async_client(self.base_url, timeout=timeout)
        self.timeout = timeout
        self.last_server_time: dt.datetime | None = None
        self.calls = 0

    async def __aenter__(self) -> QboClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    # ---------------------------------------------------------------- the one request path

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        text_body: str | None = None,
        write: bool = False,
        request_id: str | None = None,
        batch: bool = False,
    ) -> dict[str, Any]:
        """Send one API call and return its JSON answer, or raise a typed QboError."""
        query = {**(params or {}), "minorversion": str(self.limits.minor_version)}
        if request_id:
            query["requestid"] = request_id
        url = f"{self.base_url}/v3/company/{self.realm_id}/{path}"
        label = f"{method} /{path.split('?')[0]}"
        retry_ok = not write or bool(request_id)
        token = await self.tokens.access_token()
        refreshed = False
        lost = False  # an earlier try of this write may have run without us seeing the answer
        attempt = 0
        while True:
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            content: bytes | None = None
            if text_body is not None:
                headers["Content-Type"] = "application/text"
                content = text_body.encode()
            ticket = await self.pacer.acquire(batch)
            self.calls += 1
            started = time.monotonic()
            try:
                try:
                    response = await self.http.request(
                        method,
                        url,
                        params=query,
                        json=json_body,
                        content=content,
                        headers=headers,
                        timeout=self.timeout,
                    )
                finally:
                    self.pacer.settle(ticket)  # answered, failed or cancelled: no longer in flight
            except httpx.TransportError as exc:
                sent = not isinstance(exc, _NOT_SENT)
                _log.warning("%s failed: %s (attempt %d)", label, type(exc).__name__, attempt + 1)
                if sent and write and not retry_ok:
                    raise UnknownOutcome(
                        f"the answer to {label} was lost ({type(exc).__name__}); QuickBooks may "
                        "or may not have applied it",
                        "look for the object before writing it again",
                    ) from None
                lost = lost or (sent and write)
                attempt += 1
                if attempt >= self.retry.attempts:
                    raise self._exhausted(label, lost, f"{type(exc).__name__}") from None
                await pause(self.retry.delay(attempt - 1))
                continue

            tid = response.headers.get("intuit_tid")
            status = response.status_code
            elapsed = time.monotonic() - started
            if status < 400:
                data = self._json(response, label, tid)
                _log.debug("%s %d %.2fs intuit_tid=%s", label, status, elapsed, tid)
                return data
            error = parse_fault(status, response.text, tid)
            _log.warning("%s %d: %s (attempt %d)", label, status, error.message, attempt + 1)
            if status == 401:
                # Never counted as an attempt: one refresh, one retry, then give up.
                if refreshed:
                    raise self._as_auth_error(error)
                token = await self.tokens.refreshed(token)
                refreshed = True
                continue
            if status == 429 or status >= 500:
                if status >= 500 and write and not retry_ok:
                    raise UnknownOutcome(
                        f"{label} answered HTTP {status} (code {error.qbo_code or '-'}); "
                        "QuickBooks may or may not have applied it",
                        "look for the object before writing it again",
                        status=status,
                        qbo_code=error.qbo_code,
                        detail=error.detail,
                        intuit_tid=tid,
                    )
                lost = lost or (status >= 500 and write)
                attempt += 1
                if attempt >= self.retry.attempts:
                    if lost:
                        raise self._exhausted(label, lost, f"HTTP {status}", tid)
                    raise error
                await pause(self.retry.delay(attempt - 1, throttled=status == 429))
                continue
            raise error

    def _json(self, response: httpx.Response, label: str, tid: str | None) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise parse_fault(response.status_code, response.text, tid) from None
        if not isinstance(data, dict):
            raise QboError(f"{label}: unexpected answer shape", intuit_tid=tid)
        fault = data.get("Fault") or data.get("fault")
        if isinstance(fault, dict):
            raise fault_from_dict(fault, status=response.status_code, intuit_tid=tid)
        server_time = _parse_time(data.get("time"))
        if server_time is not None:
            self.last_server_time = server_time
        return data

    @staticmethod
    def _as_auth_error(error: QboError) -> AuthenticationError:
        if isinstance(error, AuthenticationError):
            return error
        return AuthenticationError(
            error.message,
            "reconnect with `qbsync connect`",
            status=error.status,
            fault_type=error.fault_type,
            qbo_code=error.qbo_code,
            detail=error.detail,
            intuit_tid=error.intuit_tid,
        )

    @staticmethod
    def _exhausted(label: str, lost: bool, why: str, tid: str | None = None) -> QboError:
        if lost:
            return UnknownOutcome(
                f"{label}: retries ran out ({why}) after an answer was lost; QuickBooks may or "
                "may not have applied it",
                "look for the object before writing it again",
                intuit_tid=tid,
            )
        return QboNetworkError(
            f"{label}: QuickBooks could not be reached ({why})",
            "check the network (and the simulator URL, for a simulated company)",
            intuit_tid=tid,
        )

    # ---------------------------------------------------------------- reads

    async def query(self, sql: str) -> list[dict[str, Any]]:
        """One page: the entity list of the QueryResponse (empty when nothing matched)."""
        response = await self._query(sql)
        return _entity_list(response.get("QueryResponse") or {})

    async def _query(self, sql: str) -> dict[str, Any]:
        if len(sql) <= _GET_QUERY_MAX:
            return await self.request("GET", "query", params={"query": sql})
        return await self.request("POST", "query", text_body=sql)

    async def query_all(
        self,
        entity: str,
        where: str | None = None,
        order_by: str | None = None,
        page_size: int = 1000,
    ) -> list[dict[str, Any]]:
        """Every match, page after page (STARTPOSITION) until a short page."""
        page_size = max(1, min(page_size, 1000))
        base = f"SELECT * FROM {entity}"
        if where:
            base += f" WHERE {where}"
        if order_by:
            base += f" ORDERBY {order_by}"
        found: list[dict[str, Any]] = []
        start = 1
        while True:
            page = await self.query(f"{base} STARTPOSITION {start} MAXRESULTS {page_size}")
            found.extend(page)
            if len(page) < page_size:
                return found
            start += page_size

    async def count(self, entity: str, where: str | None = None) -> int:
        sql = f"SELECT COUNT(*) FROM {entity}" + (f" WHERE {where}" if where else "")
        response = await self._query(sql)
        return int((response.get("QueryResponse") or {}).get("totalCount", 0))

    async def read(self, entity: str, id: str) -> dict[str, Any]:
        data = await self.request("GET", f"{_path_name(entity)}/{id}")
        return _entity_of(data, entity)

    async def company_info(self) -> dict[str, Any]:
        data = await self.request("GET", f"companyinfo/{self.realm_id}")
        return _entity_of(data, "CompanyInfo")

    async def preferences(self) -> dict[str, Any]:
        data = await self.request("GET", "preferences")
        return _entity_of(data, "Preferences")

    async def cdc(self, entities: list[str], changed_since: dt.datetime) -> dict[str, list[dict]]:
        """Changes since `changed_since` per entity; deleted objects carry status "Deleted"."""
        if changed_since.tzinfo is None:
            raise ValueError("changed_since needs a time zone")
        data = await self.request(
            "GET",
            "cdc",
            params={
                "entities": ",".join(entities),
                "changedSince": changed_since.isoformat(timespec="seconds"),
            },
        )
        out: dict[str, list[dict]] = {e: [] for e in entities}
        for block in data.get("CDCResponse") or []:
            for response in block.get("QueryResponse") or []:
                for name, value in response.items():
                    if isinstance(value, list):
                        out.setdefault(name, []).extend(value)
        return out

    # ---------------------------------------------------------------- writes

    async def create(
        self, entity: str, body: dict[str, Any], *, request_id: str | None = None
    ) -> dict[str, Any]:
        data = await self.request(
            "POST", _path_name(entity), json_body=body, write=True, request_id=request_id
        )
        return _entity_of(data, entity)

    async def update(
        self,
        entity: str,
        body: dict[str, Any],
        *,
        sparse: bool = True,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        payload = {k: v for k, v in body.items() if k != "sparse"}
        if sparse:
            payload["sparse"] = True
        data = await self.request(
            "POST", _path_name(entity), json_body=payload, write=True, request_id=request_id
        )
        return _entity_of(data, entity)

    async def delete(
        self, entity: str, id: str, sync_token: str, *, request_id: str | None = None
    ) -> dict[str, Any]:
        data = await self.request(
            "POST",
            _path_name(entity),
            params={"operation": "delete"},
            json_body={"Id": id, "SyncToken": sync_token},
            write=True,
            request_id=request_id,
        )
        return _entity_of(data, entity)

    async def void(
        self, entity: str, id: str, sync_token: str, *, request_id: str | None = None
    ) -> dict[str, Any]:
        if entity == "Payment":
            # A payment is voided by a sparse update with include=void.
            params = {"operation": "update", "include": "void"}
            body: dict[str, Any] = {"Id": id, "SyncToken": sync_token, "sparse": True}
        else:
            params = {"operation": "void"}
            body = {"Id": id, "SyncToken": sync_token}
        data = await self.request(
            "POST",
            _path_name(entity),
            params=params,
            json_body=body,
            write=True,
            request_id=request_id,
        )
        return _entity_of(data, entity)

    async def batch(
        self, items: list[BatchItem], *, request_id: str | None = None
    ) -> list[BatchResult]:
        """Up to `limits.batch_items` operations in one call; faults come back per item."""
        from qbsync.qbo.batch import batch_results

        if not items:
            return []
        if len(items) > self.limits.batch_items:
            raise ValueError(f"a batch holds at most {self.limits.batch_items} items")
        write = any(item.operation != "query" for item in items)
        data = await self.request(
            "POST",
            "batch",
            json_body={"BatchItemRequest": [item.payload() for item in items]},
            write=write,
            request_id=request_id,
            batch=True,
        )
        return batch_results(items, data)


def _entity_list(query_response: dict[str, Any]) -> list[dict[str, Any]]:
    for value in query_response.values():
        if isinstance(value, list):
            return value
    return []


def _entity_of(data: dict[str, Any], entity: str) -> dict[str, Any]:
    body = data.get(entity)
    if isinstance(body, dict):
        return body
    # Some answers name the entity differently in case; accept the one object present.
    for key, value in data.items():
        if key.lower() == entity.lower() and isinstance(value, dict):
            return value
    raise QboError(f"the answer carried no {entity}")
