"""`qbsync wizard customers`: scripted runs against the simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from qbsync.errors import InputError
from qbsync.wizard import service
from qbsync.workspace import Workspace
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import sim_docs
from tests.wizard.helpers import add_reconcile_customers, customer_mappings


@pytest.fixture
def reconcile(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger, tmp_path: Path
) -> tuple[ConnectedCompany, dict[str, str]]:
    return connected_company, add_reconcile_customers(connected_company, tmp_path)


def by_client(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["client_id"]: p for p in data["proposals"]}


def test_accept_exact_maps_only_unambiguous_active_matches(
    reconcile: tuple[ConnectedCompany, dict[str, str]],
) -> None:
    company, ids = reconcile
    data = run_json("wizard", "customers", "--accept-exact")["data"]
    assert sorted(a["client"] for a in data["accepted"]) == ["CL-1", "CL-2", "CL-3", "CL-4"]
    assert data["counts"] == {
        "exact": 4,
        "fuzzy": 1,
        "review": 2,
        "inactive": 1,
        "unmatched": 1,
        "mapped": 0,
    }
    rest = by_client(data)
    assert rest["CL-6"]["status"] == "fuzzy"
    assert rest["CL-6"]["candidates"][0]["qbo_id"] == ids["Fjord Analytics"]
    assert rest["CL-6"]["candidates"][0]["score"] >= 85
    assert rest["CL-6"]["candidates"][0]["reason"] == "name"
    # two clients on one customer: both to review
    assert rest["CL-7"]["status"] == rest["CL-8"]["status"] == "review"
    assert "2 clients match customer Granite Works" in rest["CL-7"]["why"]
    # the inactive customer is shown apart, never proposed
    assert rest["CL-5"]["status"] == "inactive"
    assert [c["name"] for c in rest["CL-5"]["inactive"]] == ["Evergreen Realty"]
    assert all(c["active"] for c in rest["CL-5"]["candidates"])
    assert rest["CL-9"]["status"] == "unmatched"
    mapped = customer_mappings(company.key)
    assert set(mapped) == {"CL-1", "CL-2", "CL-3", "CL-4"}
    # a second run proposes nothing new for them
    again = run_json("wizard", "customers", "--accept-exact")["data"]
    assert again["accepted"] == [] and again["counts"]["mapped"] == 4


def test_plan_out_then_edited_plan_applies(
    reconcile: tuple[ConnectedCompany, dict[str, str]], tmp_path: Path
) -> None:
    company, ids = reconcile
    plan = tmp_path / "plan.yaml"
    out = run_json("wizard", "customers", "--plan-out", str(plan))["data"]
    assert out["entries"] == 9
    text = plan.read_text(encoding="utf-8")
    assert text.startswith("# qbsync wizard plan: customers for company acme")
    data = yaml.safe_load(text)
    entries = {e["client"]: e for e in data["decisions"]}
    assert entries["CL-1"]["action"] == "link" and entries["CL-1"]["proposed"] == "exact"
    assert (
        entries["CL-6"]["action"] == "review"
        and entries["CL-6"]["qbo_id"] == ids["Fjord Analytics"]
    )
    assert entries["CL-6"]["candidates"][0]["score"] >= 85
    assert entries["CL-5"]["inactive"][0]["name"] == "Evergreen Realty"
    # the accountant's edits
    entries["CL-6"]["action"] = "link"
    entries["CL-7"].update(action="link", qbo_id=ids["Granite Works"])
    entries["CL-8"]["action"] = "skip"
    entries["CL-9"]["action"] = "create"
    plan.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    result = run_json("wizard", "customers", "--plan", str(plan))["data"]
    assert (result["linked"], result["created"], result["skipped"], result["left_for_review"]) == (
        6,
        1,
        1,
        1,
    )
    created = [
        c for c in sim_docs(company.server, "Customer") if c["DisplayName"] == "Nobody Matches Here"
    ]
    assert len(created) == 1
    mapped = customer_mappings(company.key)
    assert mapped["CL-6"] == ids["Fjord Analytics"] and mapped["CL-7"] == ids["Granite Works"]
    assert mapped["CL-9"] == str(created[0]["Id"])
    assert "CL-8" not in mapped and "CL-5" not in mapped
    # round trip: a fresh plan holds only what is still open
    run_json("wizard", "customers", "--plan-out", str(plan))
    left = {e["client"] for e in yaml.safe_load(plan.read_text(encoding="utf-8"))["decisions"]}
    assert left == {"CL-5", "CL-8"}


def test_a_wrong_plan_writes_nothing_and_names_the_lines(
    reconcile: tuple[ConnectedCompany, dict[str, str]], tmp_path: Path
) -> None:
    company, ids = reconcile
    plan = tmp_path / "plan.yaml"
    run_json("wizard", "customers", "--plan-out", str(plan))
    data = yaml.safe_load(plan.read_text(encoding="utf-8"))
    entries = {e["client"]: e for e in data["decisions"]}
    entries["CL-6"].update(action="link", qbo_id="99999")  # no such customer
    entries["CL-5"]["action"] = "create"  # the inactive customer holds the name
    entries["CL-7"].update(action="link", qbo_id=ids["Granite Works"])
    entries["CL-8"].update(action="link", qbo_id=ids["Granite Works"])  # taken twice
    entries["CL-9"]["action"] = "create"  # fine on its own
    plan.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    lines = plan.read_text(encoding="utf-8").splitlines()

    def line_of(client: str) -> int:
        return next(i for i, text in enumerate(lines, start=1) if text == f"- client: {client}")

    customers_before = len(sim_docs(company.server, "Customer"))
    out = run_json("wizard", "customers", "--plan", str(plan), code=2)
    message = out["error"]["message"]
    assert out["error"]["code"] == "invalid_input"
    assert "nothing was applied" in message
    assert f"plan.yaml:{line_of('CL-6') + 5}: client CL-6: no QuickBooks customer 99999" in message
    assert (
        f"plan.yaml:{line_of('CL-5')}: client CL-5: the name 'Evergreen Realty' is held by inactive customer"
        in message
    )
    assert (
        f"clients CL-7 (line {line_of('CL-7')}) and CL-8 both link customer {ids['Granite Works']}"
        in message
    )
    assert customer_mappings(company.key) == {}  # not even the valid exact links
    assert len(sim_docs(company.server, "Customer")) == customers_before  # nothing created

    plan.write_text("version: 1\nstep: history\ncompany: acme\ndecisions: []\n", encoding="utf-8")
    out = run_json("wizard", "customers", "--plan", str(plan), code=2)
    assert "plan.yaml:2: this is a 'history' plan" in out["error"]["message"]


def test_duplicate_name_clash_says_which_record_holds_the_name(
    reconcile: tuple[ConnectedCompany, dict[str, str]],
) -> None:
    company, _ = reconcile
    with Workspace() as ws:
        customers = service.read_customers(ws, company.key)
        evergreen = next(c for c in customers if c.name == "Evergreen Realty")
        # QuickBooks itself refuses (6240); the message names the inactive holder.
        with pytest.raises(InputError) as err:
            service.create_and_map(
                ws, company.key, "CL-5", "evergreen realty", None, customers, source="test"
            )
    assert err.value.message == (
        f"QuickBooks refused the name 'evergreen realty': inactive customer {evergreen.qbo_id} "
        "(Evergreen Realty) holds it"
    )
    assert "make that customer active" in (err.value.hint or "")
    assert customer_mappings(company.key) == {}


def test_without_a_terminal_bare_wizard_shows_help_and_customers_only_proposes(
    reconcile: tuple[ConnectedCompany, dict[str, str]],
) -> None:
    company, _ = reconcile
    result = run("wizard")
    assert result.exit_code == 0 and "customers" in result.stdout and "go-live" in result.stdout
    data = run_json("wizard", "customers")["data"]
    assert data["counts"]["exact"] == 4
    shown = run("wizard", "customers")
    assert shown.exit_code == 0, shown.stderr
    assert "4 exact, 1 fuzzy, 2 review, 1 inactive, 1 unmatched" in shown.stdout
    assert "Fjord Analytcs, LLC" in shown.stdout
    assert customer_mappings(company.key) == {}
    out = run_json("wizard", "customers", "--accept-exact", "--plan-out", "x.yaml", code=2)
    assert out["error"]["code"] == "usage"


def test_a_skip_is_remembered_by_accept_exact(
    reconcile: tuple[ConnectedCompany, dict[str, str]], tmp_path: Path
) -> None:
    company, _ = reconcile
    plan = tmp_path / "plan.yaml"
    run_json("wizard", "customers", "--plan-out", str(plan))
    data = yaml.safe_load(plan.read_text(encoding="utf-8"))
    data["decisions"] = [dict(e, action="skip") for e in data["decisions"] if e["client"] == "CL-1"]
    plan.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert run_json("wizard", "customers", "--plan", str(plan))["data"]["skipped"] == 1
    accepted = run_json("wizard", "customers", "--accept-exact")["data"]["accepted"]
    assert sorted(a["client"] for a in accepted) == ["CL-2", "CL-3", "CL-4"]
    assert "CL-1" not in customer_mappings(company.key)
