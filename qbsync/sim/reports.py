"""The Reports API for receivables: AgedReceivables, AgedReceivableDetail, CustomerBalance and
CustomerBalanceDetail, in QBO's report JSON (Header, Columns.Column[], Rows.Row[] with ColData,
sections and summaries), computed from a company's open documents.

What is open on a report date: invoices and credit memos dated on or before it, less what
payments dated on or before it applied to them, and the unapplied part of payments dated on or
before it. Invoices count positive; credit memos and unapplied payments negative. Aging counts
days past the due date (an invoice's DueDate; a credit memo's or payment's TxnDate).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from qbsync.sim.clock import iso_seconds
from qbsync.sim.company import Company
from qbsync.sim.company.model import ZERO, dec, ref_id
from qbsync.sim.faults import QBOError
from qbsync.sim.values import cents

REPORTS = ("AgedReceivables", "AgedReceivableDetail", "CustomerBalance", "CustomerBalanceDetail")
BY_LOWER = {r.lower(): r for r in REPORTS}

Bucket = tuple[str, str, int | None]


def aging_buckets(period: int = 30, periods: int = 4) -> tuple[Bucket, ...]:
    """(summary column title, detail section title, lowest days past due), oldest first, then
    Current: `periods` buckets past due, each `period` days long, the oldest open-ended."""
    over = (periods - 1) * period + 1
    out: list[Bucket] = [(f"{over} and over", f"{over} or more days past due", over)]
    for k in range(periods - 1, 0, -1):
        low, high = (k - 1) * period + 1, k * period
        out.append((f"{low} - {high}", f"{low} - {high} days past due", low))
    out.append(("Current", "Current", None))
    return tuple(out)


BUCKETS = aging_buckets()
TYPE_NAMES = {"Invoice": "Invoice", "CreditMemo": "Credit Memo", "Payment": "Payment"}


@dataclass
class Open:
    """One document's open amount on the report date (negative for credits)."""

    txn_type: str
    txn_id: str
    customer_id: str
    txn_date: str
    due_date: str
    doc_num: str
    amount: Decimal
    open: Decimal


def run(company: Company, name: str, params: dict[str, str]) -> dict[str, Any]:
    report = BY_LOWER.get(name.lower())
    if report is None:
        raise QBOError(
            "2010",
            element="report",
            detail=f"Report {name} is not supported by this simulator; it offers "
            + ", ".join(REPORTS),
        )
    today = company.clock.today()
    report_date = _date_param(params, "report_date", today)
    method = (params.get("aging_method") or "Report_Date").strip()
    if method.lower() not in ("report_date", "current"):
        raise QBOError("2010", element="aging_method", detail=f"Invalid aging_method {method}")
    aged_on = today if method.lower() == "current" else report_date
    customers = _customer_param(company, params)
    docs = open_documents(company, report_date, customers)
    options = [{"Name": "report_date", "Value": report_date.isoformat()}]
    header: dict[str, Any] = {
        "Time": iso_seconds(company.clock.now()),
        "ReportName": report,
        "EndPeriod": report_date.isoformat(),
        "Currency": "USD",
    }
    if customers is not None:
        header["Customer"] = ",".join(sorted(customers, key=_id_key))
    if report == "AgedReceivables":
        columns, rows = _aged_summary(company, docs, aged_on)
    elif report == "AgedReceivableDetail":
        buckets = aging_buckets(
            _int_param(params, "aging_period", 30), _int_param(params, "num_periods", 4)
        )
        columns, rows = _aged_detail(company, docs, aged_on, buckets)
    elif report == "CustomerBalance":
        columns, rows = _balance_summary(company, docs)
    else:
        columns, rows = _balance_detail(company, docs)
    options.append({"Name": "NoReportData", "Value": "false" if docs else "true"})
    header["Option"] = options
    return {"Header": header, "Columns": {"Column": columns}, "Rows": {"Row": rows}}


# ---------------------------------------------------------------- what is open


def open_documents(company: Company, on: date, customers: set[str] | None = None) -> list[Open]:
    """Every document with an open amount on `on`, oldest due first."""
    day = on.isoformat()
    dated = {pid for pid, p in company.data["Payment"].items() if str(p.get("TxnDate")) <= day}
    out: list[Open] = []

    def later(txn_type: str, txn_id: str) -> Decimal:
        """What payments dated after the report date applied to a document."""
        links = company.links.get((txn_type, txn_id), {})
        return sum((a for pid, a in links.items() if pid not in dated), ZERO)

    for txn_type, sign in (("Invoice", 1), ("CreditMemo", -1)):
        for doc in company.data[txn_type].values():
            cid = ref_id(doc.get("CustomerRef")) or ""
            if str(doc.get("TxnDate")) > day or (customers is not None and cid not in customers):
                continue
            left = dec(doc.get("Balance" if txn_type == "Invoice" else "RemainingCredit"))
            left += later(txn_type, doc["Id"])
            if left == 0:
                continue
            txn_date = str(doc.get("TxnDate"))
            out.append(
                Open(
                    txn_type,
                    doc["Id"],
                    cid,
                    txn_date,
                    str(doc.get("DueDate") or txn_date),
                    str(doc.get("DocNumber") or ""),
                    sign * dec(doc.get("TotalAmt")),
                    sign * left,
                )
            )
    for pid in dated:
        p = company.data["Payment"][pid]
        cid = ref_id(p.get("CustomerRef")) or ""
        unapplied = dec(p.get("UnappliedAmt"))
        if unapplied == 0 or (customers is not None and cid not in customers):
            continue
        txn_date = str(p.get("TxnDate"))
        out.append(
            Open(
                "Payment",
                pid,
                cid,
                txn_date,
                txn_date,
                str(p.get("PaymentRefNum") or ""),
                -dec(p.get("TotalAmt")),
                -unapplied,
            )
        )
    out.sort(key=lambda d: (d.due_date, d.txn_date, _id_key(d.txn_id)))
    return out


def bucket_of(doc: Open, aged_on: date, buckets: tuple[Bucket, ...] = BUCKETS) -> int:
    """Index into `buckets`."""
    past_due = (aged_on - date.fromisoformat(doc.due_date)).days
    for n, (_, _, lowest) in enumerate(buckets):
        if lowest is not None and past_due >= lowest:
            return n
    return len(buckets) - 1


# ---------------------------------------------------------------- the four reports


def _aged_summary(
    company: Company, docs: list[Open], aged_on: date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    order = list(reversed(range(len(BUCKETS))))  # Current first, as QBO's columns run
    columns = [{"ColTitle": "", "ColType": "Customer"}]
    columns += [{"ColTitle": BUCKETS[n][0], "ColType": "Money"} for n in order]
    columns.append({"ColTitle": "Total", "ColType": "Money"})
    per: dict[str, list[Decimal]] = {}
    for doc in docs:
        sums = per.setdefault(doc.customer_id, [ZERO] * len(BUCKETS))
        sums[bucket_of(doc, aged_on)] += doc.open
    rows: list[dict[str, Any]] = []
    grand = [ZERO] * len(BUCKETS)
    for cid in _by_name(company, per):
        sums = per[cid]
        grand = [g + s for g, s in zip(grand, sums, strict=True)]
        cells = [_customer_cell(company, cid)]
        cells += [{"value": _money(sums[n], blank_zero=True)} for n in order]
        cells.append({"value": _money(sum(sums, ZERO), blank_zero=True)})
        rows.append({"ColData": cells})
    total = [{"value": "TOTAL"}] + [{"value": _money(grand[n])} for n in order]
    total.append({"value": _money(sum(grand, ZERO))})
    rows.append(_grand_total(total))
    return columns, rows


_DETAIL_COLUMNS = [
    ("Date", "tx_date"),
    ("Transaction Type", "txn_type"),
    ("Num", "doc_num"),
    ("Customer", "cust_name"),
    ("Due Date", "due_date"),
    ("Amount", "subt_neg_amount"),
    ("Open Balance", "subt_neg_open_bal"),
]


def _detail_cells(company: Company, doc: Open) -> list[dict[str, Any]]:
    return [
        {"value": doc.txn_date},
        {"value": TYPE_NAMES[doc.txn_type], "id": doc.txn_id},
        {"value": doc.doc_num},
        _customer_cell(company, doc.customer_id),
        {"value": doc.due_date},
        {"value": _money(doc.amount)},
        {"value": _money(doc.open)},
    ]


def _aged_detail(
    company: Company, docs: list[Open], aged_on: date, buckets: tuple[Bucket, ...]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    columns = [{"ColTitle": t, "ColType": c} for t, c in _DETAIL_COLUMNS]
    width = len(columns)
    rows: list[dict[str, Any]] = []
    amount = opened = ZERO
    for n, (_, title, _) in enumerate(buckets):
        members = [d for d in docs if bucket_of(d, aged_on, buckets) == n]
        if not members:
            continue
        s_amount = sum((d.amount for d in members), ZERO)
        s_open = sum((d.open for d in members), ZERO)
        amount += s_amount
        opened += s_open
        rows.append(
            _section(
                title,
                [{"ColData": _detail_cells(company, d), "type": "Data"} for d in members],
                f"Total for {title}",
                width,
                {5: s_amount, 6: s_open},
            )
        )
    rows.append(_grand_total(_summary_cells("TOTAL", width, {5: amount, 6: opened})))
    return columns, rows


def _balance_summary(
    company: Company, docs: list[Open]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    columns = [{"ColTitle": "", "ColType": "Customer"}, {"ColTitle": "Total", "ColType": "Money"}]
    per: dict[str, Decimal] = {}
    for doc in docs:
        per[doc.customer_id] = per.get(doc.customer_id, ZERO) + doc.open
    rows: list[dict[str, Any]] = [
        {"ColData": [_customer_cell(company, cid), {"value": _money(per[cid])}]}
        for cid in _by_name(company, per)
    ]
    rows.append(_grand_total([{"value": "TOTAL"}, {"value": _money(sum(per.values(), ZERO))}]))
    return columns, rows


def _balance_detail(
    company: Company, docs: list[Open]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    titles = [
        ("Date", "tx_date"),
        ("Transaction Type", "txn_type"),
        ("Num", "doc_num"),
        ("Due Date", "due_date"),
        ("Amount", "subt_neg_amount"),
        ("Open Balance", "subt_neg_open_bal"),
        ("Balance", "rbal_neg_open_bal"),
    ]
    columns = [{"ColTitle": t, "ColType": c} for t, c in titles]
    width = len(columns)
    per: dict[str, list[Open]] = {}
    for doc in sorted(docs, key=lambda d: (d.txn_date, _id_key(d.txn_id))):
        per.setdefault(doc.customer_id, []).append(doc)
    rows: list[dict[str, Any]] = []
    amount = opened = ZERO
    for cid in _by_name(company, per):
        running = ZERO
        data: list[dict[str, Any]] = []
        for d in per[cid]:
            running += d.open
            cells = [
                {"value": d.txn_date},
                {"value": TYPE_NAMES[d.txn_type], "id": d.txn_id},
                {"value": d.doc_num},
                {"value": d.due_date},
                {"value": _money(d.amount)},
                {"value": _money(d.open)},
                {"value": _money(running)},
            ]
            data.append({"ColData": cells, "type": "Data"})
        c_amount = sum((d.amount for d in per[cid]), ZERO)
        amount += c_amount
        opened += running
        name = _customer_name(company, cid)
        section = _section(name, data, f"Total for {name}", width, {4: c_amount, 5: running})
        section["Header"]["ColData"][0]["id"] = cid
        rows.append(section)
    rows.append(_grand_total(_summary_cells("TOTAL", width, {4: amount, 5: opened})))
    return columns, rows


# ---------------------------------------------------------------- pieces


def _section(
    title: str,
    data: list[dict[str, Any]],
    total_title: str,
    width: int,
    sums: dict[int, Decimal],
) -> dict[str, Any]:
    head = [{"value": title}] + [{"value": ""} for _ in range(width - 1)]
    return {
        "Header": {"ColData": head},
        "Rows": {"Row": data},
        "Summary": {"ColData": _summary_cells(total_title, width, sums)},
        "type": "Section",
    }


def _summary_cells(title: str, width: int, sums: dict[int, Decimal]) -> list[dict[str, Any]]:
    cells = [{"value": title}] + [{"value": ""} for _ in range(width - 1)]
    for n, amount in sums.items():
        cells[n] = {"value": _money(amount)}
    return cells


def _grand_total(cells: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Summary": {"ColData": cells}, "type": "Section", "group": "GrandTotal"}


def _money(amount: Decimal, *, blank_zero: bool = False) -> str:
    if blank_zero and amount == 0:
        return ""
    return f"{cents(amount):.2f}"


def _customer_name(company: Company, cid: str) -> str:
    cust = company.data["Customer"].get(cid) or {}
    return str(cust.get("FullyQualifiedName") or cust.get("DisplayName") or cid)


def _customer_cell(company: Company, cid: str) -> dict[str, Any]:
    return {"value": _customer_name(company, cid), "id": cid}


def _by_name(company: Company, ids: Any) -> list[str]:
    return sorted(ids, key=lambda cid: (_customer_name(company, cid).casefold(), _id_key(cid)))


def _id_key(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (0, text)


def _date_param(params: dict[str, str], name: str, default: date) -> date:
    text = (params.get(name) or "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise QBOError(
            "2010", element=name, detail=f"Invalid date {text!r} for {name}: use YYYY-MM-DD"
        ) from None


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    text = (params.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise QBOError("2010", element=name, detail=f"Invalid {name} {text!r}: a whole number >= 1")
    return int(text)


def _customer_param(company: Company, params: dict[str, str]) -> set[str] | None:
    text = (params.get("customer") or "").strip()
    if not text:
        return None
    wanted = {part.strip() for part in text.split(",") if part.strip()}
    for cid in wanted:
        if cid not in company.data["Customer"]:
            raise QBOError("2500", element="customer", detail=f"Customer does not exist. Id={cid}")
    return wanted
