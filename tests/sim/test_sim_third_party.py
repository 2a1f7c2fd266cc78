"""Third-party clients, unmodified, against the simulator over a real socket.

- intuit-oauth (Intuit's own OAuth client): AuthClient takes a discovery-document URL in place of
  'sandbox'/'production' as its `environment`, so pointing it at the simulator needs no patching.
- python-quickbooks: its QuickBooks client reads the API base from the class attributes
  api_url_v3 / sandbox_api_url_v3; a subclass sets them. Its session (requests-oauthlib) refuses
  plain http unless OAUTHLIB_INSECURE_TRANSPORT is set, which the tests do (localhost only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlparse

import httpx
import pytest

from qbsync.sim.server import SimServer

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

REDIRECT = "http://localhost:8765/callback"


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    with SimServer(seed="demo", auto_consent=True) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _insecure_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def _auth_client(server: SimServer) -> Any:
    from intuitlib.client import AuthClient

    return AuthClient(
        client_id=server.client_id,
        client_secret=server.client_secret,
        redirect_uri=REDIRECT,
        environment=server.discovery_url,
    )


def _connected(server: SimServer) -> Any:
    from intuitlib.enums import Scopes

    auth = _auth_client(server)
    url = auth.get_authorization_url([Scopes.ACCOUNTING])
    resp = httpx.get(url, follow_redirects=False)
    assert resp.status_code == 302
    cb = dict(parse_qsl(urlparse(resp.headers["location"]).query))
    assert cb["state"] == auth.state_token
    auth.get_bearer_token(cb["code"], realm_id=cb["realmId"])
    return auth


def test_intuit_oauth_exchange_refresh_revoke(server: SimServer) -> None:
    from intuitlib.exceptions import AuthClientError

    auth = _connected(server)
    assert auth.auth_endpoint == f"{server.url}/connect/oauth2"
    assert auth.realm_id == server.realm_id
    assert auth.access_token and auth.refresh_token and auth.expires_in == 3600
    first_refresh = auth.refresh_token
    auth.refresh()
    assert auth.refresh_token != first_refresh and auth.access_token
    api = f"{server.url}/v3/company/{server.realm_id}/companyinfo/{server.realm_id}"
    headers = {"Authorization": f"Bearer {auth.access_token}", "Accept": "application/json"}
    assert httpx.get(api, headers=headers).status_code == 200
    assert auth.revoke() is True
    assert httpx.get(api, headers=headers).status_code == 401
    with pytest.raises(AuthClientError) as err:
        auth.refresh()
    assert err.value.status_code == 400 and b"invalid_grant" in err.value.content


@pytest.fixture
def qb(server: SimServer) -> Any:
    from quickbooks import QuickBooks

    class SimQuickBooks(QuickBooks):
        api_url_v3 = f"{server.url}/v3"
        sandbox_api_url_v3 = f"{server.url}/v3"

    auth = _connected(server)
    return SimQuickBooks(
        auth_client=auth,
        refresh_token=auth.refresh_token,
        company_id=server.realm_id,
        minorversion=75,
    )


def test_python_quickbooks_crud_query_void_delete(qb: Any, server: SimServer) -> None:
    from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException
    from quickbooks.objects.base import LinkedTxn
    from quickbooks.objects.customer import Customer
    from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
    from quickbooks.objects.invoice import Invoice
    from quickbooks.objects.item import Item
    from quickbooks.objects.payment import Payment, PaymentLine

    cust = Customer()
    cust.DisplayName = "Third Party Co"
    cust = cust.save(qb=qb)
    assert cust.Id and cust.SyncToken == "0"

    dup = Customer()
    dup.DisplayName = "Third Party Co"
    with pytest.raises(QuickbooksException) as err:
        dup.save(qb=qb)
    assert err.value.error_code == 6240

    items = Item.all(qb=qb)
    assert any(i.Name == "Managed Services" for i in items)
    item = next(i for i in items if i.Name == "Managed Services")

    inv = Invoice()
    line = SalesItemLine()
    line.Amount = 300
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    line.SalesItemLineDetail.Qty = 2
    line.SalesItemLineDetail.UnitPrice = 150
    inv.Line.append(line)
    inv.CustomerRef = cust.to_ref()
    inv = inv.save(qb=qb)
    assert inv.TotalAmt == 300 and inv.Balance == 300 and inv.DocNumber

    read = Invoice.get(inv.Id, qb=qb)
    assert read.Id == inv.Id and read.CustomerRef.value == cust.Id

    found = Invoice.filter(CustomerRef=cust.Id, qb=qb)
    assert [i.Id for i in found] == [inv.Id]
    assert Invoice.count(where_clause=f"CustomerRef = '{cust.Id}'", qb=qb) == 1
    assert Invoice.where("TotalAmt > '1000'", qb=qb) == []

    # Sparse update: only the note changes.
    read.sparse = True
    read.PrivateNote = "sparse from python-quickbooks"
    updated = read.save(qb=qb)
    assert updated.PrivateNote == "sparse from python-quickbooks"
    assert updated.SyncToken == "1" and updated.TotalAmt == 300

    pay = Payment()
    pay.CustomerRef = cust.to_ref()
    pay.TotalAmt = 100
    pl = PaymentLine()
    pl.Amount = 100
    lt = LinkedTxn()
    lt.TxnId = inv.Id
    lt.TxnType = "Invoice"
    pl.LinkedTxn.append(lt)
    pay.Line.append(pl)
    pay = pay.save(qb=qb)
    assert Invoice.get(inv.Id, qb=qb).Balance == 200

    pay.void(qb=qb)
    assert Invoice.get(inv.Id, qb=qb).Balance == 300

    current = Invoice.get(inv.Id, qb=qb)
    current.void(qb=qb)
    voided = Invoice.get(inv.Id, qb=qb)
    assert voided.TotalAmt == 0 and voided.PrivateNote.startswith("Voided")

    voided.delete(qb=qb)
    with pytest.raises(ObjectNotFoundException):
        Invoice.get(inv.Id, qb=qb)
    assert server.sim.check_invariants() == []


def test_python_quickbooks_batch_and_cdc(qb: Any, server: SimServer) -> None:
    from quickbooks.batch import batch_create
    from quickbooks.cdc import change_data_capture
    from quickbooks.objects.customer import Customer
    from quickbooks.objects.invoice import Invoice

    server.sim.advance_clock(2)
    since = server.sim.now()  # with its offset; a naive time would be read as company time
    fresh = []
    for name in ("Batch One", "Batch Two", "Acme Dental"):
        c = Customer()
        c.DisplayName = name
        fresh.append(c)
    result = batch_create(fresh, qb=qb)
    assert sorted(c.DisplayName for c in result.successes) == ["Batch One", "Batch Two"]
    assert len(result.faults) == 1 and result.faults[0].Error[0].code == "6240"

    cdc = change_data_capture([Customer, Invoice], since, qb=qb)
    names = {c.DisplayName for c in cdc.Customer}
    assert {"Batch One", "Batch Two"} <= names
