from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from qbsync.sim.core import Simulator
from qbsync.sim.testing import api_path, sim_client
from tests.fixtures.sim import SimOptions


@pytest.fixture
def sim_options() -> SimOptions:
    """This area's simulator: the demo company, with a fixed seed for its random choices."""
    return SimOptions(rng_seed=7)


@pytest.fixture
def sim(sim_options: SimOptions) -> Simulator:
    """The core object itself, not mounted: tests talk to it through `api` or directly."""
    return sim_options.simulator()


@pytest.fixture
def api(sim: Simulator) -> Iterator[Api]:
    with sim_client(sim) as client:
        yield Api(sim, client)


class Api:
    """Thin helper over an in-process client: paths relative to the default company."""

    def __init__(self, sim: Simulator, client: httpx.Client) -> None:
        self.sim = sim
        self.client = client
        self.realm = sim.default_realm

    def renew(self) -> None:
        """A fresh access token (after moving the clock past the old one's hour)."""
        token = self.sim.issue_tokens(self.realm)["access_token"]
        self.client.headers["Authorization"] = f"Bearer {token}"

    def path(self, rest: str) -> str:
        return api_path(self.sim, rest, self.realm)

    def get(self, rest: str, **params: Any) -> httpx.Response:
        return self.client.get(self.path(rest), params={"minorversion": "75", **params})

    def post(self, rest: str, body: Any, **params: Any) -> httpx.Response:
        return self.client.post(self.path(rest), json=body, params={"minorversion": "75", **params})

    def ok(self, resp: httpx.Response) -> dict[str, Any]:
        assert resp.status_code == 200, resp.text
        data: dict[str, Any] = resp.json()
        assert "Fault" not in data, data
        return data

    def fault(self, resp: httpx.Response, code: str, status: int = 400) -> dict[str, Any]:
        assert resp.status_code == status, resp.text
        err: dict[str, Any] = resp.json()["Fault"]["Error"][0]
        assert err["code"] == code, err
        return err

    def query(self, text: str) -> dict[str, Any]:
        qr: dict[str, Any] = self.ok(self.get("query", query=text))["QueryResponse"]
        return qr

    def create(self, entity: str, body: dict[str, Any], **params: Any) -> dict[str, Any]:
        out: dict[str, Any] = self.ok(self.post(entity.lower(), body, **params))[entity]
        return out

    def read(self, entity: str, obj_id: str) -> dict[str, Any]:
        out: dict[str, Any] = self.ok(self.get(f"{entity.lower()}/{obj_id}"))[entity]
        return out

    def invoice(self, customer: str = "1", amount: Any = 100, **extra: Any) -> dict[str, Any]:
        return self.create("Invoice", invoice_body(customer, amount, **extra))


def invoice_body(customer: str = "1", amount: Any = 100, **extra: Any) -> dict[str, Any]:
    return {
        "CustomerRef": {"value": customer},
        "Line": [
            {
                "Amount": amount,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "2"}},
            }
        ],
        **extra,
    }


def ids(sim: Simulator, entity: str, **where: str) -> str:
    """The Id of the demo object whose fields match."""
    for obj in sim.company().data[entity].values():
        if all(obj.get(k) == v for k, v in where.items()):
            return str(obj["Id"])
    raise KeyError(where)
