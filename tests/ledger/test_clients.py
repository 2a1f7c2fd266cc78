"""Clients with addresses, phone, terms, tax region/exemption and a parent: imported from YAML,
JSON or CSV, validated naming file/line/field (all or nothing), and handed back by
`ledger export clients`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from qbsync.ledger.clients import get
from qbsync.store import open_store
from qbsync.store.database import Database
from tests.fixtures.ledger import ensure_company
from tests.ledger.util import fingerprint
from tests.support import run, run_json

YAML = """\
version: 1
terms:
  - {id: T-30, name: Net 30, due_days: 30}
tax_regions:
  - {id: TR-DE, name: Germany, rate: "19"}
clients:
  - id: C-1
    name: Berlin Robotics GmbH
    email: ap@berlin-robotics.example
    cc_email: cfo@berlin-robotics.example
    phone: "+49 30 1234567"
    currency: EUR
    terms: T-30
    tax_region: TR-DE
    bill_address:
      line1: Invalidenstrasse 1
      city: Berlin
      postal_code: "10115"
      country: DE
    ship_address: {line1: Dock 4, city: Hamburg, country: DE}
  - id: C-1-J
    name: Berlin Robotics GmbH - Warehouse
    parent: C-1
    tax_exempt: true
"""

CSV = """\
id,name,email,currency,parent,tax_exempt,bill_line1,bill_city,bill_postal_code,bill_country
C-2,Hudson Bakery,ar@hudson.example,USD,,no,12 Main St,Albany,12207,US
C-3,Hudson Bakery - Catering,,USD,C-2,yes,,,,
"""


def _import(path: Path, code: int = 0) -> dict:
    return run_json("ledger", "import", str(path), "--company", "acme", code=code)


def test_clients_carry_addresses_terms_and_parent(tmp_path: Path) -> None:
    ensure_company("acme")
    path = tmp_path / "ledger.yaml"
    path.write_text(YAML, encoding="utf-8")
    out = _import(path)
    assert out["data"]["counts"]["clients"] == {"added": 2, "updated": 0, "unchanged": 0}
    db = open_store()
    one = get(db, "acme", "C-1")
    assert one is not None
    assert one["bill_address"] == {
        "line1": "Invalidenstrasse 1",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    }
    assert one["ship_address"] == {"line1": "Dock 4", "city": "Hamburg", "country": "DE"}
    assert (one["phone"], one["terms_id"], one["tax_region_id"]) == (
        "+49 30 1234567",
        "T-30",
        "TR-DE",
    )
    job = get(db, "acme", "C-1-J")
    assert job is not None and job["parent_id"] == "C-1" and job["tax_exempt"] is True
    # The same file again changes nothing; a changed address is an update.
    assert _import(path)["data"]["counts"]["clients"]["unchanged"] == 2
    path.write_text(YAML.replace("Dock 4", "Dock 5"), encoding="utf-8")
    assert _import(path)["data"]["counts"]["clients"]["updated"] == 1


def test_clients_from_csv_and_export_round_trip(tmp_path: Path) -> None:
    ensure_company("acme")
    path = tmp_path / "clients.csv"
    path.write_text(CSV, encoding="utf-8")
    _import(path)
    exported = run("ledger", "export", "clients", "--company", "acme", "--format", "csv")
    assert exported.exit_code == 0, exported.stderr
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(exported.stdout))}
    assert rows["C-2"]["bill_city"] == "Albany" and rows["C-2"]["tax_exempt"] == "false"
    assert rows["C-3"]["parent"] == "C-2" and rows["C-3"]["tax_exempt"] == "true"
    # The export is an import file the ledger reads back unchanged.
    back = tmp_path / "back" / "clients.csv"
    back.parent.mkdir()
    keep = [c for c in rows["C-2"] if c not in ("qbo_id", "updated_at")]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=keep, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows.values())
    back.write_text(out.getvalue(), encoding="utf-8")
    assert _import(back)["data"]["counts"]["clients"] == {
        "added": 0,
        "updated": 0,
        "unchanged": 2,
    }
    as_json = json.loads(
        run("ledger", "export", "clients", "--company", "acme", "--format", "json").stdout
    )
    assert as_json[0]["bill_address"]["postal_code"] == "12207"


def test_bad_clients_name_file_line_field_and_write_nothing(
    tmp_path: Path, ledger_db: Database
) -> None:
    ensure_company("acme")
    before = fingerprint(ledger_db)
    shape = tmp_path / "shape.yaml"
    shape.write_text(YAML.replace('postal_code: "10115"', "postal_code: [1]"), encoding="utf-8")
    err = _import(shape, code=2)["error"]["message"]
    assert "shape.yaml:18: clients[0].bill_address.postal_code: expected text" in err
    path = tmp_path / "bad.yaml"
    path.write_text(
        YAML.replace("parent: C-1", "parent: C-9").replace("terms: T-30\n", "terms: T-99\n"),
        encoding="utf-8",
    )
    err = _import(path, code=2)["error"]["message"]
    assert "bad.yaml:" in err
    assert "clients[1].parent: unknown client 'C-9'" in err
    assert "clients[0].terms: unknown terms 'T-99'" in err
    loop = tmp_path / "loop.yaml"
    loop.write_text(
        "version: 1\nclients:\n  - {id: A, name: A, parent: B}\n  - {id: B, name: B, parent: A}\n",
        encoding="utf-8",
    )
    assert "parents form a loop" in _import(loop, code=2)["error"]["message"]
    assert fingerprint(ledger_db) == before


def test_an_existing_store_migrates_its_clients() -> None:
    from qbsync.store.db import apply_migrations, configure

    db = configure(Database(memory=True))
    apply_migrations(db, stop_before="0027_ledger_client_details")
    db.execute(
        "INSERT INTO ledger_clients (company, id, name, email, currency, created_at, updated_at) "
        "VALUES ('acme', 'C-OLD', 'Old Client', 'a@old.example', 'USD', 'x', 'x')"
    )
    apply_migrations(db)
    old = get(db, "acme", "C-OLD")
    assert old is not None
    assert (old["email"], old["tax_exempt"], old["bill_address"], old["parent_id"]) == (
        "a@old.example",
        False,
        None,
        None,
    )
