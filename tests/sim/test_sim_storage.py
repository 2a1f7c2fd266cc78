"""The simulator's storage: SQLite in a file with --state (memory without), incremental and
durable writes, indexed look-ups, query pages in SQL, and old JSON state files converted."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import invoice_body

from qbsync.sim import query as qlang
from qbsync.sim.company import tables
from qbsync.sim.core import Simulator
from qbsync.sim.testing import sim_client
from qbsync.sim.values import state_dumps


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many stored objects were decoded (read from the database, not the cache)."""
    count = [0]
    real = tables.unpack

    def counting(text: str) -> Any:
        count[0] += 1
        return real(text)

    def viewing(text: str) -> Any:
        count[0] += 1
        return real_view(text)

    real_view = tables.view_of
    monkeypatch.setattr(tables, "unpack", counting)
    monkeypatch.setattr(tables, "view_of", viewing)
    yield count


def _fill(sim: Simulator, n: int, **extra: Any) -> list[str]:
    realm = sim.default_realm
    out = []
    for i in range(n):
        body = invoice_body(customer=str(1 + i % 4), amount=f"{10 + i}.25", **extra)
        body["TxnDate"] = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"
        out.append(sim.create(realm, "Invoice", body)["Id"])
    return out


def _forget(sim: Simulator) -> None:
    sim.save()
    sim.store.cache.clear()
    for c in sim.companies.values():
        c._views.clear()


def test_a_json_state_file_is_converted_once_and_kept_aside(tmp_path: Path) -> None:
    # What the simulator wrote before the store: the whole state as JSON (`to_state`, then
    # `state_dumps`, exactly as its `save` did).
    old = Simulator(seed="demo", rng_seed=3)
    realm = old.default_realm
    tokens = old.issue_tokens()
    first, second = _fill(old, 2)
    memo = old.create(realm, "CreditMemo", invoice_body(amount="5.00"))
    old.record_payment(realm, "1", "3.00", invoice_id=first)
    old.delete_invoice(realm, second)
    with sim_client(old, token=tokens["access_token"]) as c:
        replayed = c.post(
            f"/v3/company/{realm}/invoice",
            json=invoice_body(amount="7.00"),
            params={"requestid": "r1"},
        ).json()
    path = tmp_path / "sim.json"
    text = state_dumps(old.to_state())
    path.write_text(text)

    new = Simulator(state_file=path)
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"
    assert (tmp_path / "sim.json.json-old").read_text() == text
    assert (new.default_realm, new.admin_key, new.client_id) == (
        realm,
        old.admin_key,
        old.client_id,
    )
    for entity in ("Customer", "Invoice", "CreditMemo", "Payment", "Item", "Preferences"):
        assert [new.company().view(o) for o in new.company().data[entity].values()] == [
            old.company().view(o) for o in old.company().data[entity].values()
        ], entity
    assert new.check_invariants() == []
    deleted = new.company().cdc(["Invoice"], 0)[0]["Invoice"]
    assert {"Id": second, "status": "Deleted"}.items() <= next(
        d for d in deleted if d["Id"] == second
    ).items()
    assert new.company().data["CreditMemo"][memo["Id"]]["RemainingCredit"] == 0  # applied
    # Counters carry on, tokens still work, a repeated requestid gets its first answer.
    with sim_client(new, token=tokens["access_token"]) as c:
        again = c.post(
            f"/v3/company/{realm}/invoice",
            json=invoice_body(amount="7.00"),
            params={"requestid": "r1"},
        ).json()
        assert again["Invoice"] == replayed["Invoice"]
        fresh = c.post(f"/v3/company/{realm}/invoice", json=invoice_body(amount="1.00")).json()
    assert int(fresh["Invoice"]["Id"]) == int(old.company().counters["txn"]) + 1

    # Read once: a restart opens the store and leaves the old file alone.
    third = Simulator(state_file=path)
    assert third.company().data["Invoice"].get(fresh["Invoice"]["Id"]) is not None
    assert (tmp_path / "sim.json.json-old").read_text() == text


def test_a_write_changes_only_its_rows(tmp_path: Path) -> None:
    sim = Simulator(seed="demo", state_file=tmp_path / "sim.db")
    _fill(sim, 300)
    before = sim.store.db.total_changes
    sim.create(sim.default_realm, "Invoice", invoice_body(amount="1.00"))
    # The invoice, its customer's balance, the company's counters: not the 300 others.
    assert sim.store.db.total_changes - before <= 5


def test_an_answered_write_is_committed(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    sim = Simulator(seed="demo", state_file=path)
    token = sim.issue_tokens()["access_token"]
    with sim_client(sim, token=token) as c:
        made = c.post(f"/v3/company/{sim.default_realm}/invoice", json=invoice_body(amount="4.56"))
        assert made.status_code == 200
        # Another connection sees only committed data: the answer came after the commit.
        with sqlite3.connect(path) as other:
            ids = [r[0] for r in other.execute("SELECT id FROM objects WHERE entity = 'Invoice'")]
        assert made.json()["Invoice"]["Id"] in ids


def test_restart_reads_no_objects(tmp_path: Path, decoded: list[int]) -> None:
    path = tmp_path / "sim.db"
    sim = Simulator(seed="demo", state_file=path)
    _fill(sim, 200)
    sim.save()
    decoded[0] = 0
    again = Simulator(state_file=path)
    assert decoded[0] == 0
    assert len(again.company().data["Invoice"]) == 200
    assert again.check_invariants() == []


def test_duplicate_doc_number_is_found_by_index(sim: Simulator, decoded: list[int]) -> None:
    realm = sim.default_realm
    sim.set_preferences(realm, {"SalesFormsPrefs": {"CustomTxnNumbers": True}})
    _fill(sim, 400)
    sim.create(realm, "Invoice", invoice_body(DocNumber="X-1"))
    _forget(sim)
    decoded[0] = 0
    with pytest.raises(Exception, match=r"6140|Duplicate"):
        sim.create(realm, "Invoice", invoice_body(DocNumber="X-1"))
    sim.create(realm, "Invoice", invoice_body(DocNumber="X-2"))
    assert decoded[0] < 20  # the customer, items, tax codes, the one duplicate: no scan


QUERIES = [
    "SELECT * FROM Invoice STARTPOSITION 101 MAXRESULTS 50",
    "SELECT * FROM Invoice WHERE CustomerRef = '2' STARTPOSITION 11 MAXRESULTS 20",
    "SELECT * FROM Invoice WHERE DocNumber IN ('1005', '1100', 'nope')",
    "SELECT * FROM Invoice WHERE TxnDate >= '2026-11-01' MAXRESULTS 1000",
    "SELECT * FROM Invoice WHERE TxnDate < '2026-02-01' AND CustomerRef = '3'",
    "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2020-01-01T00:00:00-08:00' "
    "ORDERBY MetaData.LastUpdatedTime DESC MAXRESULTS 30",
    "SELECT * FROM Invoice ORDERBY Id DESC STARTPOSITION 5 MAXRESULTS 7",
    "SELECT * FROM Invoice ORDER BY TxnDate STARTPOSITION 3 MAXRESULTS 9",
    "SELECT COUNT(*) FROM Invoice WHERE CustomerRef IN ('1', '4')",
    "SELECT * FROM Invoice WHERE TotalAmt > '200' AND CustomerRef = '1' MAXRESULTS 5",
    "SELECT * FROM Customer WHERE DisplayName LIKE '%a%'",
    "SELECT * FROM Customer",
]


def _reference(sim: Simulator, text: str) -> dict[str, Any]:
    """The query evaluated the plain way: every object, `matches`, `sort_key`, then the page."""
    q = qlang.parse(text)
    c = sim.company()
    rows = [
        o
        for o in c.data[q.entity].values()
        if all(qlang.matches(o, cond) for cond in q.where)
        and (q.entity != "Customer" or o.get("Active", True))
    ]
    if q.count:
        return {"totalCount": len(rows)}
    for fld, desc in reversed(q.order):
        rows.sort(key=lambda o: qlang.sort_key(qlang.lookup(o, fld)[1]), reverse=desc)
    page = rows[q.start - 1 : q.start - 1 + q.max_results]
    if not page:
        return {}
    return {q.entity: [c.view(o) for o in page], "startPosition": q.start, "maxResults": len(page)}


@pytest.mark.parametrize("text", QUERIES)
def test_indexed_queries_answer_as_the_plain_evaluation(sim: Simulator, text: str) -> None:
    _fill(sim, 240)
    sim.advance_clock(5)
    sim.edit_invoice(sim.default_realm, "7", {"PrivateNote": "later"})
    _forget(sim)  # pages rendered from the stored text, not from cached objects
    answer = sim.company().query(text)
    assert answer == _reference(sim, text)


def test_a_query_page_decodes_only_its_page(sim: Simulator, decoded: list[int]) -> None:
    _fill(sim, 500)
    _forget(sim)
    decoded[0] = 0
    page = sim.company().query("SELECT * FROM Invoice STARTPOSITION 401 MAXRESULTS 25")
    assert len(page["Invoice"]) == 25 and decoded[0] == 25
    decoded[0] = 0
    sim.company().query("SELECT * FROM Invoice WHERE CustomerRef = '3' MAXRESULTS 10")
    assert decoded[0] == 10
    since = sim.company().data["Invoice"]["400"]["MetaData"]["LastUpdatedTime"]
    decoded[0] = 0
    sim.company().query(f"SELECT COUNT(*) FROM Invoice WHERE MetaData.LastUpdatedTime >= '{since}'")
    assert decoded[0] == 0


def test_memory_is_bounded_by_the_cache(sim: Simulator) -> None:
    from qbsync.sim.storage import CACHE_SIZE

    _fill(sim, 300)
    for _ in sim.company().data["Invoice"].values():
        pass
    assert len(sim.store.cache) <= CACHE_SIZE
    assert len(sim.company()._views) <= CACHE_SIZE


def test_a_simulator_in_memory_saves_to_a_state_file_given_later(tmp_path: Path) -> None:
    sim = Simulator(seed="demo")
    made = sim.create(sim.default_realm, "Invoice", invoice_body(amount="9.99"))
    sim.state_file = tmp_path / "later.db"
    sim.save()
    again = Simulator(state_file=tmp_path / "later.db")
    assert again.admin_key == sim.admin_key
    assert again.get(sim.default_realm, "Invoice", made["Id"]) == made


def test_an_http_query_answer_carries_stored_views_as_they_are(sim: Simulator) -> None:
    from qbsync.sim.values import RawJSON

    _fill(sim, 120)
    text = "SELECT * FROM Invoice WHERE CustomerRef = '2' STARTPOSITION 3 MAXRESULTS 20"
    want = _reference(sim, text)
    _forget(sim)
    assert all(isinstance(v, RawJSON) for v in sim.company().query(text, raw=True)["Invoice"])
    token = sim.issue_tokens()["access_token"]
    with sim_client(sim, token=token) as c:
        url = f"/v3/company/{sim.default_realm}/query"
        got = c.get(url, params={"query": text}).json()
        assert got["QueryResponse"] == want
        # A replayed query answer (POST with a requestid) is stored and given back the same.
        _forget(sim)
        first = c.post(url, content=text, params={"requestid": "q1"}).json()
        again = c.post(url, content=text, params={"requestid": "q1"}).json()
        assert first == again and first["QueryResponse"] == want
