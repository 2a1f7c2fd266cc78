"""SimControl: a small synchronous client for the simulator's /_sim control surface."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

from qbsync.sim.admin import ADMIN_HEADER


class SimControlError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"simulator control call failed ({status}): {body}")
        self.status = status
        self.body = body


class SimControl:
    def __init__(self, url: str, admin_key: str, *, timeout: float = 10.0) -> None:
        self._http = httpx.Client(
            base_url=url.rstrip("/") + "/_sim",
            headers={ADMIN_HEADER: admin_key},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SimControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        resp = self._http.request(
            method, path, json=json, params={k: v for k, v in params.items() if v is not None}
        )
        body = resp.json() if resp.content else None
        if resp.status_code >= 400:
            raise SimControlError(resp.status_code, body)
        return body

    # -------------------------------------------------------------- simulator-wide

    def info(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/info")
        return result

    def inject_fault(
        self,
        path_pattern: str,
        *,
        method: str | None = None,
        status: int = 500,
        code: str | int | None = None,
        kind: str = "http",
        probability: float | None = None,
        count: int | None = None,
        realm: str | None = None,
        when: str = "before",
        hang_seconds: float = 130.0,
    ) -> dict[str, Any]:
        """Fault requests whose path (or path?query) matches the glob `path_pattern`.

        kind: http (status + Intuit fault code), timeout (hang, then close), drop (close without
        an answer), auth401 / xml401 / throttle (Intuit's own bodies), gateway (status 502/503:
        the proxy's HTML page; 504: Intuit's XML 6002). when="after" runs the
        operation first, so the write happens but the client never sees the answer."""
        rule: dict[str, Any] = self._call(
            "POST",
            "/faults",
            {
                "path_pattern": path_pattern,
                "method": method,
                "status": status,
                "code": None if code is None else str(code),
                "kind": kind,
                "probability": probability,
                "count": count,
                "realm": realm,
                "when": when,
                "hang_seconds": hang_seconds,
            },
        )
        return rule

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/faults")["faults"]
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def set_latency(self, per_request_ms: float = 0, per_batch_item_ms: float = 0) -> None:
        self._call(
            "POST",
            "/latency",
            {"per_request_ms": per_request_ms, "per_batch_item_ms": per_batch_item_ms},
        )

    def set_limits(self, mode: str) -> None:
        self._call("POST", "/limits", {"mode": mode})

    def set_auto_consent(self, auto: bool = True) -> None:
        self._call("POST", "/consent", {"auto": auto})

    def advance_clock(self, seconds: float) -> str:
        now: str = self._call("POST", "/clock/advance", {"seconds": seconds})["now"]
        return now

    def now(self) -> str:
        now: str = self._call("GET", "/clock")["now"]
        return now

    def add_company(self, name: str, country: str = "US", seed: str = "empty") -> str:
        rid: str = self._call(
            "POST", "/companies", {"name": name, "country": country, "seed": seed}
        )["realm_id"]
        return rid

    def companies(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/companies")["companies"]
        return result

    def set_preferences(self, realm: str, patch: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", f"/companies/{realm}/preferences", {"patch": patch}
        )["Preferences"]
        return result

    def counts(self, realm: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/counts", realm=realm)
        return result

    def request_log(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/requests")["requests"]
        return result

    def clear_request_log(self) -> None:
        self._call("DELETE", "/requests")

    def revoke_all_tokens(self, realm: str) -> int:
        n: int = self._call("POST", f"/companies/{realm}/revoke-tokens")["revoked"]
        return n

    def invariants(self) -> list[str]:
        problems: list[str] = self._call("GET", "/invariants")["problems"]
        return problems

    def reset(self) -> None:
        self._call("POST", "/reset")

    def get(self, realm: str, entity: str, obj_id: str) -> dict[str, Any]:
        """Read any object without a token (inspection)."""
        result: dict[str, Any] = self._call("GET", f"/companies/{realm}/entities/{entity}/{obj_id}")
        return result

    # -------------------------------------------------------------- acting as a QBO user

    def _act(self, realm: str, action: str, **kwargs: Any) -> Any:
        return self._call("POST", f"/companies/{realm}/act/{action}", kwargs)["result"]

    def create(self, realm: str, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._act(realm, "create", entity=entity, body=body)
        return result

    def edit(self, realm: str, entity: str, obj_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._act(
            realm, "edit", entity=entity, obj_id=obj_id, changes=changes
        )
        return result

    def edit_invoice(self, realm: str, invoice_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._act(
            realm, "edit_invoice", invoice_id=invoice_id, changes=changes
        )
        return result

    def void_invoice(self, realm: str, invoice_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._act(realm, "void_invoice", invoice_id=invoice_id)
        return result

    def delete_invoice(self, realm: str, invoice_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._act(realm, "delete_invoice", invoice_id=invoice_id)
        return result

    def delete_credit_memo(self, realm: str, memo_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._act(realm, "delete_credit_memo", memo_id=memo_id)
        return result

    def record_payment(
        self,
        realm: str,
        customer_id: str,
        amount: Any,
        invoice_id: str | None = None,
        credit_memo_ids: Iterable[str] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        """extra: txn_date, payment_method_id, ref_num, deposit_to_account_id, private_note."""
        result: dict[str, Any] = self._act(
            realm,
            "record_payment",
            customer_id=customer_id,
            amount=str(amount),
            invoice_id=invoice_id,
            credit_memo_ids=list(credit_memo_ids),
            **extra,
        )
        return result

    def edit_payment(self, realm: str, payment_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._act(
            realm, "edit_payment", payment_id=payment_id, changes=changes
        )
        return result

    def void_payment(self, realm: str, payment_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._act(realm, "void_payment", payment_id=payment_id)
        return result

    def delete_payment(self, realm: str, payment_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._act(realm, "delete_payment", payment_id=payment_id)
        return result

    def deposit_payment(
        self, realm: str, payment_id: str, account_id: str | None = None
    ) -> dict[str, Any]:
        """Deposit the payment (default into "Checking"); QBO then refuses to change it (6540)."""
        result: dict[str, Any] = self._act(
            realm, "deposit_payment", payment_id=payment_id, account_id=account_id
        )
        return result

    def deactivate_customer(self, realm: str, customer_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._act(realm, "deactivate_customer", customer_id=customer_id)
        return result

    def merge_customer(self, realm: str, from_id: str, into_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._act(
            realm, "merge_customer", from_id=from_id, into_id=into_id
        )
        return result
