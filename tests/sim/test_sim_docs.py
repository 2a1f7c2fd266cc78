"""docs/simulator.md's examples run: every ```http request block is sent, in page order, to one
in-process simulator (demo seed), and the ```http answer block after it must match what comes
back. In an answer, "..." stands for any value, an object lists the keys it shows (others may
follow), and a list ending in "..." may go on; everything else is compared exactly."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from qbsync.sim.admin import ADMIN_HEADER
from qbsync.sim.core import Simulator
from qbsync.sim.testing import sim_client

PAGE = Path(__file__).resolve().parents[2] / "docs" / "simulator.md"
FENCE = re.compile(r"^```http\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
ANY = "..."


def examples(text: str) -> list[tuple[str, str, Any, int, Any]]:
    """(method, path, body, status, answer) for each request block and the answer after it."""
    blocks = [b.strip() for b in FENCE.findall(text)]
    out: list[tuple[str, str, Any, int, Any]] = []
    for n, block in enumerate(blocks):
        if block.startswith("HTTP/"):
            continue
        first, _, rest = block.partition("\n")
        method, path = first.split(" ", 1)
        body = json.loads(rest) if rest.strip() else None
        assert n + 1 < len(blocks) and blocks[n + 1].startswith("HTTP/"), (
            f"{first}: no answer block follows"
        )
        status_line, _, answer = blocks[n + 1].partition("\n")
        status = int(status_line.split()[1])
        out.append((method, path, body, status, json.loads(answer) if answer.strip() else None))
    return out


def mismatches(want: Any, got: Any, where: str = "$") -> list[str]:
    if want == ANY:
        return []
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where}: object expected, got {got!r:.80}"]
        out: list[str] = []
        for k, v in want.items():
            if k not in got:
                out.append(f"{where}.{k}: missing")
            else:
                out += mismatches(v, got[k], f"{where}.{k}")
        return out
    if isinstance(want, list):
        if not isinstance(got, list):
            return [f"{where}: list expected, got {got!r:.80}"]
        open_ended = bool(want) and want[-1] == ANY
        items = want[:-1] if open_ended else want
        if len(got) < len(items) or (not open_ended and len(got) != len(items)):
            return [f"{where}: {len(items)} items expected, got {len(got)}"]
        out = []
        for n, item in enumerate(items):
            out += mismatches(item, got[n], f"{where}[{n}]")
        return out
    if want != got:
        return [f"{where}: {want!r} expected, got {got!r}"]
    return []


def test_the_page_has_examples_for_every_control_route() -> None:
    text = PAGE.read_text()
    paths = {p.split("?")[0] for _, p, _, _, _ in examples(text)}
    for route in (
        "/_sim/info",
        "/_sim/clock",
        "/_sim/clock/advance",
        "/_sim/faults",
        "/_sim/latency",
        "/_sim/limits",
        "/_sim/consent",
        "/_sim/companies",
        "/_sim/companies/{realm}/preferences",
        "/_sim/companies/{realm}/revoke-tokens",
        "/_sim/counts",
        "/_sim/requests",
        "/_sim/invariants",
        "/_sim/reset",
    ):
        assert route in paths, f"no example for {route}"
    from qbsync.sim.admin import ACTIONS

    acted = {p.rsplit("/", 1)[1] for p in paths if "/act/" in p}
    assert acted == ACTIONS, f"actions without an example: {sorted(ACTIONS - acted)}"


def test_the_pages_examples_answer_as_shown() -> None:
    sim = Simulator(rng_seed=7)
    realm = sim.default_realm
    token = sim.issue_tokens(realm)["access_token"]
    found = examples(PAGE.read_text())
    assert found
    with sim_client(sim, auth=False) as client:
        for method, path, body, status, answer in found:
            url = path.replace("{realm}", realm)
            headers = (
                {ADMIN_HEADER: sim.admin_key}
                if url.startswith("/_sim")
                else {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            )
            resp = client.request(method, url, json=body, headers=headers)
            label = f"{method} {path}"
            assert resp.status_code == status, f"{label}: {resp.status_code} {resp.text[:300]}"
            if answer is not None:
                problems = mismatches(answer, resp.json())
                assert not problems, f"{label}:\n" + "\n".join(problems[:10])


@pytest.mark.parametrize(
    ("want", "got", "ok"),
    [
        ({"a": ANY}, {"a": 1, "b": 2}, True),
        ({"a": 1}, {"a": 2}, False),
        ([1, ANY], [1, 2, 3], True),
        ([1], [1, 2], False),
        ({"a": [{"b": "x"}]}, {"a": [{"b": "y"}]}, False),
    ],
)
def test_the_matcher_is_strict_where_the_page_is(want: Any, got: Any, ok: bool) -> None:
    assert (not mismatches(want, got)) is ok
