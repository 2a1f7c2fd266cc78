"""Batch requests: the items sent in one call, and each item's answer or fault.

An item the answer leaves out is an UnknownOutcome: QuickBooks may or may not have applied it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from qbsync.qbo.errors import QboError, UnknownOutcome, fault_from_dict


@dataclass
class BatchItem:
    bid: str
    operation: Literal["create", "update", "delete", "query"]
    entity: str | None
    body: dict[str, Any] | None = None
    query: str | None = None
    options_data: str | None = None

    def payload(self) -> dict[str, Any]:
        item: dict[str, Any] = {"bId": self.bid}
        if self.operation == "query":
            item["Query"] = self.query
            return item
        if not self.entity or self.body is None:
            raise ValueError(f"batch item {self.bid}: {self.operation} needs entity and body")
        item["operation"] = self.operation
        item[self.entity] = self.body
        if self.options_data:
            item["optionsData"] = self.options_data
        return item


@dataclass
class BatchResult:
    bid: str
    entity: str | None
    body: dict[str, Any] | None
    fault: QboError | None


def batch_results(items: list[BatchItem], data: dict[str, Any]) -> list[BatchResult]:
    """One result per item, in the items' order, from a BatchItemResponse."""
    by_bid: dict[str, BatchResult] = {}
    for answer in data.get("BatchItemResponse") or []:
        bid = str(answer.get("bId"))
        fault = answer.get("Fault") or answer.get("fault")
        if isinstance(fault, dict):
            by_bid[bid] = BatchResult(
                bid, None, None, fault_from_dict(fault, status=None, intuit_tid=None)
            )
            continue
        if isinstance(answer.get("QueryResponse"), dict):
            by_bid[bid] = BatchResult(bid, None, answer["QueryResponse"], None)
            continue
        name = next((k for k, v in answer.items() if k != "bId" and isinstance(v, dict)), None)
        by_bid[bid] = BatchResult(bid, name, answer.get(name) if name else None, None)
    results = []
    for item in items:
        result = by_bid.get(item.bid)
        if result is None:
            result = BatchResult(
                item.bid,
                item.entity,
                None,
                UnknownOutcome(f"batch item {item.bid}: no answer in the batch response"),
            )
        results.append(result)
    return results
