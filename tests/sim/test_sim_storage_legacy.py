"""A JSON state file written by the simulator before its store (the code on main at the time:
`Simulator(seed="empty", state_file=..., rng_seed=1)`, a customer, three invoices (one through
the API with requestid "legacy-1"), a payment, a deleted invoice) is converted on start."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

from qbsync.sim.core import Simulator
from qbsync.sim.testing import sim_client
from qbsync.sim.values import state_loads

# The file, zlib-compressed and base64-encoded (14,840 bytes of JSON).
LEGACY = (
    "eNrtW1tz2jwavs+v8Hi+i92ZJrENBOjVEgjNGRJI02wnwwhbgBvbciSbhnT631eST/IJnKRs8+32IjOxLL2S"
    "Xj3v6bH4sSPJwLBNZ/IAV/JHSX4eHmBo4E/KaGg2vNroRj3vTl0wmh/i5aQ3hvIHOkK3TOh4E9NgIzqHK+gc"
    "q6rdr3lH/uMzuBlcKeqoOWirN4tbA535z9r39rNGrsKxSH+YoNmMQI8OV/YU3opsFzgmJLTp644k/aB/rNV3"
    "PIhZI2+gk+m8jTbUPgQtXZ94yIaYNqlh04kHbeHRe3LoU509/PyQyMV8vzcjOWgzgAeK5gkaJFlN/o9fj/zp"
    "eOVCLscxoIuI6UGj7zsGCaQKfaOOA28BsdT1MaYqlDqEqUHo65lL1s3DPoxbuxYgxJyZOvBM5HCdp4cF0vTV"
    "NZwJq5RkB9jh4ti6pJEHPEikHrIsgOPRkrwElh/0G/XksPVnRrh3CCzg6DAl/y8OAGXTmFvTW1BVhYog1UT0"
    "fctaXfnAohuHxmW8k1jNUkbPJ1ySmjRcQA/0xFPlK8OQKmFsBuI0RTvYVbVdpTZW2h815WNN2VVaHxVF0M45"
    "IN6NS+EBjc3DctuosPBENbTjDFgkOfnRytHH6AE6gZLi9gmBj7SpkTRwtarN9kFNbdVrSvzCQDYw+fCrw0Ei"
    "gLgAExjNt5NatKyth3p0jtdQh+YSTC1YCvaoq1Tc9w/Y14K9QHvSPzr71//Mgl57p6CvsIHXg/9gO+CvrQf/"
    "COKlqcM+hCcODVrl0M+/rob2a7iEjg//H/Ee6jbn02vvFN759b4ezc1fi+YdYcUByJjG4gaeba1OnBkqy3DC"
    "Lh3DwGldmx7Pm44BniKax7DHRK/dfGIltlP19MylSSjUu8jgOux2xGMxHajyKK4oUjjDLRAnGCLiASsa3Faa"
    "ahFAg7XHx2TaUtgkWFXhSuUenAHf8hgo/o2cwInR5JLa5/45IpOOM4eWeOBH9EislIKYxiBXtzxF6IH8Cz4B"
    "27XgHnUHBYZgEh1YdxBgar/Yu0COt2BDT4HjA7xak92cwzmw1m7x3djK59AFfY1kxstJbOkSoiOHBQgjmVqS"
    "o5Eyc5qR8BDdknQv2J3rIkxXeA6cuQ/mvI6Qqa1VNT91m+ZHCyrTu4A2StlgUreUlBhF8aLcUau1vWYjr3/B"
    "S5+iKXnBQNOy2KghYM4+5862GpV6JnEtEBswg7q+krq86pQ3BJGSzjn7odrIbepdWMwQwxmkyjV60KIIwCu6"
    "qgXiyx9iU9wTfxw43QXUHzZsvwz+Y/DEk/IMzEKraG/RKnqQdvHsAFuxVRxRV4lWEIptJ84SmSLmM4ZiWej7"
    "yfByCFZ2EVL5+4Fj0djS6R5X6BXYaxdgo0Ln0i6ua62odjszD2KK5+KkoNycD/YapanX1nJB5pH6JrTYCr7e"
    "Z15AXDZrMeaE6dQCEw+q4WrpYg/pl7495c6S5QaCGfd8SC02Y2OZ+MzU4fOIcIm8kVhLHj3pCxox4HUgIuca"
    "80vJx2HTKYttHTvNIYmSFeF8BflcMx5dc1xvAJpvMEKLzRO8EgNkdjnhgqi2xKAmFctJL4y9zJyweMi5ZLfk"
    "iNO7oW6B54spkX+FRWvJCGo1LMErWEs82+XgUhy9k/svEfirz4OWgoimoMXHUfCWObLyxIV2fKBRgjOURRCi"
    "b4IjrovT0NZoPZH/KZ/inQQ1GqrK7TAVngTj4srs2EVuInViyURUNev8AdMceMrjP5iJvkqhI+uRYu3+zOWP"
    "9f8GG/E/Gemae1rjT6QriXS13x3pam+NdOLx/gl0vz3QVT6OLca5v3FsUirFpmKX9rtCk7bFKi781PoCBuNl"
    "1K+QCwSEekivljnovPEmtlTLH8l7p5M3Vu3pIDvGQH+gfmjgHAPHyL9Of8NI5LFgSq2g6geAEFitLeIqSTYi"
    "aNVT7PT2s4OtJAFjVILfdWOzBcArA3F9TympcAqLECkdkeJCRE3HRaEUiXiaonh1/+7rE0Qtj5TluK+IAaK6"
    "K8eAGwfQbJr6xWKZSqHMyM/Xtm+PMRUZk3MBW0ltEZINl2VMZ84+OLEBaRqaf57irot2GUIcADF1AIWdQjMQ"
    "o0tivGOIbdNBFprzbzxRsxgYEgYy0/kchZ9jk7585mQACectLVvyuzym00dv05G8yBsJ9ilf+JZnRkOjjySp"
    "s1rHT70L8+KXnvI6SX0cus+N4ql8H2Gb5IfywjQprTJoCd4mtWgaI/ztaGG6LsVSwWDfQ7yoDcrjEohRAAaV"
    "GslLOKJwcQjQGYjCA0vll0y6qaduw0jyLcBOz+cvPBjUgWUoW5MX5DU1pJh1qEGApwx2kqlvCFUE13aQZhZO"
    "GrqZbWaTYUEkOBJW/2xMKXuQ6Nh0oxsUl8jZ9cIMKe5zbBoGzPmV0FzYLO8zJ0ytbOhjWsQTSNXEyvhzk6SD"
    "RNgelxBlJvWW8eXI+4SR7+ZzzpJUNUTTlmizcefLi2EzfhFk2AzvEzKplf29IVP0TbK2Xf8T8WNxE00NxOfP"
    "0DEQjtmO8EKxU3YPQ6YgsOzwpnS7Vle1tlpXm80mXXMz7sI+did3jy1eX+yqSTauKdHmfiTVcOaj6GZ+uCJB"
    "/DKGuApFXJEjFklixqCIEbew3Kta721OscoI4dJicGM1WMgY/kwln2HqEtyA38j/biKANzHAOQpYFefNkr35"
    "IjNVUcZlZuqcXsjpFpG6JaxuBVq3jNfdQOyWMLspojbidjVBY2v521ICV6iIRTL3w5uUvI6p3UjVJsu4T519"
    "AVtbHOdeEeheF+lE61lP2ZbGnFTBnnYx6wvzcnY2Rc9SUy5YbHE4Ko5HQtz0yhWz166pKeUEh3gvRCTqtKbU"
    "czmw8MczP6peDa1+h+1X3OvRBIdTAUj50K82dgS6KUtSF5CLL+U3CiqVNyQPO/yPGZhsBBdPJzxfKEsWZAR8"
    "fj+UKUwGOqOsJh7DefS7qeio4ZNrYkgmwItSJE1TGHC0utY+CO91yXNapkY/46pPG/WW3oKNlqJNWwdhcsKA"
    "FJoRXJ3eHl5MHh76ytnj0d2RXZ/b1xePV8C1jtWzyfkh+uTW+7PnJ2yuRmfX3yfaGTmeHwwuzjE2v3kPHXKw"
    "eLQ/HyOlpetXz2e7k+A+LNMC9zEycN3sPt7wSzNhOIE65r82k3Vwq+1CY0UGYzT8snI+j5qnh/i01tIvlJrW"
    "6R7pn+DdqnccCYhix+OUUJcStTJjwFD3Jj42SYJZeeF5Lvm4v2/AJbSQC/EedVO+6bG7v/tLbX/QocenDWm2"
    "N6eZr2PsX4eCbrAlCyYca4Qf0K/WSXB9nyJtRhGyCISoqvXlDPbbvf6B8e3iWwse1o4OR1fXoL8YPzfu5mf6"
    "cul3nqadwy91fPdl5N+p3867g++R0AXNECdp0LUbtXabGWcGdOvhtjlfZn2WFJQZHkOmSWUQEKmyI70/+qb+"
    "wK9h74GYhcygLtRDFTtqKfV2o2BLVeyI+BQPBBrQCIQ5vmVlTewN5xDvaYe7PZlAriAZ2m5wQ19e0umDUlfd"
    "+fkf+oZD7Q=="
)


def test_a_state_file_written_before_the_store_is_converted(tmp_path: Path) -> None:
    text = zlib.decompress(base64.b64decode(LEGACY)).decode()
    old = state_loads(text)
    path = tmp_path / "sim-state.json"
    path.write_text(text)

    sim = Simulator(state_file=path)

    assert path.read_bytes()[:16] == b"SQLite format 3\x00"
    assert (tmp_path / "sim-state.json.json-old").read_text() == text
    assert (sim.default_realm, sim.admin_key, sim.client_id) == (
        old["default_realm"],
        old["admin_key"],
        old["client_id"],
    )
    [company] = old["companies"]
    c = sim.company()
    for entity, objs in company["data"].items():
        assert len(c.data[entity]) == len(objs), entity
        for oid, obj in objs.items():
            assert c.data[entity][oid] == obj, (entity, oid)
    deleted = {d["Id"] for d in c.cdc(["Invoice"], 0)[0]["Invoice"] if d.get("status")}
    assert deleted == set(company["tombstones"]["Invoice"])
    assert sim.check_invariants() == []
    assert c.query("SELECT COUNT(*) FROM Invoice WHERE CustomerRef = '1'") == {"totalCount": 2}

    # The replayed request answers as it did; ids carry on from the old counters.
    token = sim.issue_tokens()["access_token"]
    body = {
        "CustomerRef": {"value": "1"},
        "Line": [
            {
                "Amount": "7.25",
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 2},
            }
        ],
    }
    with sim_client(sim, token=token) as client:
        url = f"/v3/company/{sim.default_realm}/invoice"
        again = client.post(url, json=body, params={"requestid": "legacy-1"}).json()
        assert again == company["replay"]["legacy-1"][1]
        fresh = client.post(url, json=body).json()["Invoice"]
    assert int(fresh["Id"]) == company["counters"]["txn"] + 1
