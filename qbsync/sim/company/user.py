"""Changes a QBO user makes in QBO's own screens that the API has no call for: merging two
customers, and editing preferences without a SyncToken. They move SyncToken and
LastUpdatedTime as API writes do, so CDC reports them.
"""

from __future__ import annotations

import copy
from typing import Any

from qbsync.sim.company.balances import Balances
from qbsync.sim.company.model import deep_merge
from qbsync.sim.faults import QBOError


class UserEdits(Balances):
    """`merge_customer` and `set_preferences`."""

    def merge_customer(self, from_id: str, into_id: str) -> tuple[dict[str, Any], int]:
        """QBO's merge: the first customer's transactions move to the second, and the first
        becomes inactive with "(deleted)" after its name. Returns the second customer and how
        many documents moved."""
        src = self.read("Customer", from_id)
        dst = self.read("Customer", into_id)
        if from_id == into_id:
            raise QBOError("6000", detail="A customer can't be merged into itself.")
        moved = 0
        for entity in ("Invoice", "CreditMemo", "Payment"):
            for doc in list(self.data[entity].values()):
                if (doc.get("CustomerRef") or {}).get("value") == from_id:
                    new = copy.deepcopy(doc)
                    new["CustomerRef"] = {"value": into_id, "name": dst["DisplayName"]}
                    self._touch(new)
                    self._put(entity, new)
                    moved += 1
        gone = copy.deepcopy(src)
        gone["Active"] = False
        gone["DisplayName"] = f"{src['DisplayName']} (deleted)"
        gone["FullyQualifiedName"] = gone["DisplayName"]
        self._touch(gone)
        self._put("Customer", gone)
        return self.read("Customer", into_id), moved

    def set_preferences(self, patch: dict[str, Any]) -> dict[str, Any]:
        prefs = copy.deepcopy(self.prefs)
        deep_merge(prefs, patch)
        self._touch(prefs)
        self._put("Preferences", prefs)
        return prefs
