from __future__ import annotations

import pytest
from conftest import Api

from qbsync.sim.core import Simulator


def test_where_and_operators(api: Api) -> None:
    for amt in (10, 20, 30, 40):
        api.invoice(amount=amt)
    q = api.query("SELECT * FROM Invoice WHERE TotalAmt >= '20' AND TotalAmt < '40'")
    assert [i["TotalAmt"] for i in q["Invoice"]] == [20, 30]
    assert q["startPosition"] == 1 and q["maxResults"] == 2
    assert len(api.query("select * from Invoice where TotalAmt > 10")["Invoice"]) == 3
    assert len(api.query("select * from Invoice where TotalAmt <= 10")["Invoice"]) == 1
    assert len(api.query("select * from Invoice where Id IN ('1', '3', '99')")["Invoice"]) == 2
    assert len(api.query("SELECT * FROM Invoice WHERE CustomerRef = '1'")["Invoice"]) == 4


def test_like_and_case_insensitive_names(api: Api) -> None:
    names = [
        c["DisplayName"]
        for c in api.query("select * from Customer where DisplayName LIKE 'b%'")["Customer"]
    ]
    assert names == ["Brightside Law LLP"]
    assert api.query("select * from Customer where DisplayName LIKE '%clinic'")["Customer"][0]["Id"]
    assert api.query("select * from Customer where DisplayName = 'acme dental'")["Customer"]


def test_orderby_paging_and_count(api: Api) -> None:
    for amt in (5, 50, 15):
        api.invoice(amount=amt)
    q = api.query("SELECT * FROM Invoice ORDERBY TotalAmt DESC")
    assert [i["TotalAmt"] for i in q["Invoice"]] == [50, 15, 5]
    q = api.query("SELECT * FROM Invoice ORDER BY TotalAmt STARTPOSITION 2 MAXRESULTS 1")
    assert [i["TotalAmt"] for i in q["Invoice"]] == [15]
    assert q["startPosition"] == 2 and q["maxResults"] == 1
    assert api.query("SELECT COUNT(*) FROM Invoice") == {"totalCount": 3}
    assert api.query("SELECT count(*) FROM Customer WHERE Active = false") == {"totalCount": 1}


def test_empty_result_is_empty_query_response(api: Api) -> None:
    assert api.query("SELECT * FROM Invoice") == {}
    assert api.query("SELECT * FROM Customer STARTPOSITION 100") == {}


def test_last_updated_time_comparison(api: Api, sim: Simulator) -> None:
    api.invoice()
    sim.advance_clock(120)
    mark = sim.now()
    sim.advance_clock(60)
    late = api.invoice()
    q = api.query(f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '{mark}'")
    assert [i["Id"] for i in q["Invoice"]] == [late["Id"]]


def test_post_query_with_application_text(api: Api) -> None:
    resp = api.client.post(
        api.path("query"),
        content=b"select * from Term",
        headers={"Content-Type": "application/text"},
        params={"minorversion": "75"},
    )
    assert len(api.ok(resp)["QueryResponse"]["Term"]) == 3


def test_maxresults_pages_up_to_1000(api: Api, sim: Simulator) -> None:
    c = sim.company()
    for n in range(1005):
        c.create("Customer", {"DisplayName": f"Bulk {n}"})
    q = api.query("select * from Customer MAXRESULTS 1000")
    assert q["maxResults"] == 1000
    assert len(api.query("select * from Customer")["Customer"]) == 100
    api.fault(api.get("query", query="select * from Customer MAXRESULTS 5000"), "4001")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SELECT * FROM Invoice WHERE TotalAmt > 1 OR TotalAmt < 0", "4000"),
        ("SELEC * FROM Invoice", "4000"),
        ("SELECT * FROM", "4000"),
        ("SELECT * FROM Invoice WHERE", "4000"),
        ("SELECT * FROM Invoice WHERE TotalAmt ! 3", "4000"),
        ("SELECT * FROM Invoice JOIN Customer", "4000"),
        ("SELECT Id FROM Invoice", "4000"),
        ("SELECT * FROM Widget", "4001"),
        ("SELECT * FROM Invoice WHERE Colour = 'red'", "4001"),
        ("", "4000"),
    ],
)
def test_query_faults(api: Api, text: str, code: str) -> None:
    api.fault(api.get("query", query=text), code)
