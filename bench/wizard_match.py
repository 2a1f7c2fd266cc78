"""Customer matching benchmark: 2,000 ledger clients against 2,000 QuickBooks customers with a
known truth, scored for precision and recall of exact and fuzzy matches.

The pairs: identical names; the same business with its legal form, case or punctuation changed;
typos (no shared email, so only the name can find them); email-only matches (a trading name in
the ledger, the legal name in QuickBooks); unrelated look-alikes (a different business whose
name differs by one word); clients with no customer; customers with no client.

Run: uv run python bench/wizard_match.py [--seed N] [--threshold T]
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from rapidfuzz import fuzz

from qbsync.wizard.matching import Client, Customer, match_customers
from qbsync.wizard.normalize import normalize_name

PLACES = [
    "Harbor",
    "Cedar",
    "Summit",
    "Riverside",
    "Oakwood",
    "Maple",
    "Granite",
    "Pioneer",
    "Lakeside",
    "Northgate",
    "Silverline",
    "Bluewater",
    "Redwood",
    "Highland",
    "Meadow",
    "Ironbridge",
    "Foxglove",
    "Westfield",
    "Brookside",
    "Eastwood",
    "Sterling",
    "Willow",
    "Falcon",
    "Aspen",
    "Crescent",
    "Beacon",
    "Hawthorne",
    "Juniper",
    "Marigold",
    "Evergreen",
    "Copperfield",
    "Stonegate",
    "Birchwood",
    "Clearview",
    "Fairhaven",
    "Goldcrest",
    "Kingsley",
    "Larkspur",
    "Millbrook",
    "Newhaven",
    "Orchard",
    "Pinecrest",
    "Quarry",
    "Rosewood",
    "Sunnyvale",
    "Thornbury",
    "Valley",
    "Windmill",
    "Yellowstone",
    "Zephyr",
    "Alder",
    "Bramble",
    "Canyon",
    "Driftwood",
    "Elmstead",
    "Foxhollow",
    "Glenmore",
    "Hillcrest",
    "Ivybridge",
]
PEOPLE = [
    "Anderson",
    "Baker",
    "Carter",
    "Dawson",
    "Ellis",
    "Foster",
    "Grant",
    "Hughes",
    "Irving",
    "Jensen",
    "Keller",
    "Lawson",
    "Morgan",
    "Nolan",
    "Owens",
    "Parker",
    "Quinn",
    "Reyes",
    "Sawyer",
    "Turner",
    "Underwood",
    "Vaughn",
    "Walsh",
    "Young",
    "Zimmerman",
    "Abbott",
    "Brennan",
    "Castillo",
    "Delgado",
    "Ferreira",
    "Gallagher",
    "Hoffmann",
    "Iqbal",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Rossi",
    "Schmidt",
    "Tanaka",
]
TRADES = [
    "Dental",
    "Law",
    "Clinic",
    "Logistics",
    "Realty",
    "Plumbing",
    "Electric",
    "Roofing",
    "Bakery",
    "Brewing",
    "Accounting",
    "Architects",
    "Veterinary",
    "Pharmacy",
    "Fitness",
    "Landscaping",
    "Printing",
    "Catering",
    "Consulting",
    "Engineering",
    "Optometry",
    "Physiotherapy",
    "Insurance",
    "Marketing",
    "Staffing",
    "Storage",
    "Trucking",
    "Flooring",
    "Glass",
    "Security",
    "Studios",
    "Labs",
    "Motors",
    "Farms",
    "Foods",
    "Outfitters",
    "Partners",
    "Associates",
    "Holdings",
    "Ventures",
]
EXTRA = [
    "Group",
    "Care",
    "Services",
    "Center",
    "Studio",
    "Solutions",
    "Works",
    "Supply",
    "Company",
    "Hub",
    "Collective",
]
SUFFIXES = [
    "Inc",
    "Inc.",
    "LLC",
    "L.L.C.",
    "Ltd",
    "Ltd.",
    "GmbH",
    "Corp",
    "Corp.",
    "Co.",
    "LLP",
    "PLC",
]
CATEGORIES = {  # category: how many clients
    "identical": 600,
    "suffix": 400,
    "typo": 400,
    "email_only": 200,
    "lookalike": 200,
    "no_customer": 200,
}
EXTRA_CUSTOMERS = 200  # customers no client has


def business_name(rng: random.Random) -> str:
    first = (
        rng.choice(PLACES)
        if rng.random() < 0.65
        else f"{rng.choice(PEOPLE)} & {rng.choice(PEOPLE)}"
    )
    if rng.random() < 0.3:
        first = f"{first} {rng.choice(PEOPLE)}"
    return f"{first} {rng.choice(TRADES)}"


def slug(name: str) -> str:
    return "".join(ch for ch in normalize_name(name) if ch.isalnum())[:24]


def typo(rng: random.Random, name: str) -> str:
    words = name.split()
    idx = max(range(len(words)), key=lambda i: len(words[i]) if words[i] != "&" else 0)
    w = words[idx]
    pos = rng.randrange(1, len(w) - 1)
    kind = rng.choice(["swap", "drop", "double", "replace"])
    if kind == "swap":
        w = w[:pos] + w[pos + 1] + w[pos] + w[pos + 2 :]
    elif kind == "drop":
        w = w[:pos] + w[pos + 1 :]
    elif kind == "double":
        w = w[:pos] + w[pos] + w[pos:]
    else:
        w = w[:pos] + rng.choice("aeiourstln") + w[pos + 1 :]
    words[idx] = w
    return " ".join(words)


def restyle(rng: random.Random, name: str) -> str:
    """The same business, legal form and styling changed."""
    out = f"{name}{rng.choice([' ', ', '])}{rng.choice(SUFFIXES)}"
    if rng.random() < 0.3:
        out = out.upper()
    elif rng.random() < 0.3:
        out = out.lower()
    if rng.random() < 0.2:
        out = out.replace(" & ", " and ")
    return out


def lookalike(rng: random.Random, name: str) -> str:
    """A different business with a name one word away."""
    words = name.split()
    choice = rng.random()
    if choice < 0.4:
        return f"{name} {rng.choice(EXTRA)}"
    if choice < 0.8:
        trade = words[-1]
        other = rng.choice([t for t in TRADES if t != trade])
        return " ".join([*words[:-1], other])
    first = rng.choice([p for p in PLACES if p != words[0]])
    return " ".join([first, *words[1:]])


def generate(seed: int) -> tuple[list[Client], list[dict[str, Any]], dict[str, str]]:
    rng = random.Random(seed)
    used: set[str] = set()

    def fresh() -> str:
        while True:
            name = business_name(rng)
            if normalize_name(name) not in used:
                used.add(normalize_name(name))
                return name

    clients: list[Client] = []
    customers: list[dict[str, Any]] = []
    truth: dict[str, str] = {}  # client id -> customer id

    def add_customer(name: str, email: str | None, active: bool = True) -> str:
        cid = str(len(customers) + 1)
        obj: dict[str, Any] = {"Id": cid, "DisplayName": name, "Active": active}
        if email:
            obj["PrimaryEmailAddr"] = {"Address": email}
        customers.append(obj)
        return cid

    n = 0
    for category, count in CATEGORIES.items():
        for _ in range(count):
            n += 1
            client_id = f"CL-{n:05d}"
            base = fresh()
            domain = f"{slug(base)}{n}.example"
            email = f"billing@{domain}"
            if category == "identical":
                cid = add_customer(base, email if rng.random() < 0.5 else None)
                clients.append(Client(client_id, base, email))
                truth[client_id] = cid
            elif category == "suffix":
                cid = add_customer(restyle(rng, base), email if rng.random() < 0.3 else None)
                clients.append(
                    Client(client_id, restyle(rng, base) if rng.random() < 0.5 else base, email)
                )
                truth[client_id] = cid
            elif category == "typo":
                wrong = typo(rng, base)
                if normalize_name(wrong) == normalize_name(base):
                    wrong = typo(rng, wrong)
                used.add(normalize_name(wrong))
                cid = add_customer(base, f"accounts@{domain}")
                clients.append(
                    Client(client_id, wrong, f"owner{n}@gmail.com" if rng.random() < 0.5 else None)
                )
                truth[client_id] = cid
            elif category == "email_only":
                legal = fresh()
                cid = add_customer(legal, email)
                clients.append(
                    Client(client_id, base, email.upper() if rng.random() < 0.3 else email)
                )
                truth[client_id] = cid
            elif category == "lookalike":
                other = lookalike(rng, base)
                if normalize_name(other) in used:
                    other = lookalike(rng, base) + " West"
                used.add(normalize_name(other))
                add_customer(other, f"office@{slug(other)}{n}x.example")
                clients.append(Client(client_id, base, email))
            else:
                clients.append(Client(client_id, base, email if rng.random() < 0.5 else None))
    for _ in range(EXTRA_CUSTOMERS):
        n += 1
        name = fresh()
        add_customer(name, f"hello@{slug(name)}{n}.example", active=rng.random() < 0.8)
    rng.shuffle(customers)
    return clients, customers, truth


def score(
    proposals: list[Any], truth: dict[str, str], categories: dict[str, str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    total_true = len(truth)
    for status in ("exact", "fuzzy"):
        predicted = [p for p in proposals if p.status == status]
        right = [p for p in predicted if truth.get(p.client_id) == p.target.qbo_id]
        out[status] = {
            "predicted": len(predicted),
            "correct": len(right),
            "precision": len(right) / len(predicted) if predicted else 1.0,
        }
    exact_right = out["exact"]["correct"]
    out["exact"]["recall"] = exact_right / total_true
    exactable = [c for c, cat in categories.items() if cat in ("identical", "suffix", "email_only")]
    out["exact"]["recall_of_exactable"] = exact_right / len(exactable)
    left = total_true - exact_right  # true pairs exact matching did not find
    out["fuzzy"]["recall"] = out["fuzzy"]["correct"] / left if left else 1.0
    found = exact_right + out["fuzzy"]["correct"]
    proposed = out["exact"]["predicted"] + out["fuzzy"]["predicted"]
    out["combined"] = {
        "precision": found / proposed if proposed else 1.0,
        "recall": found / total_true,
    }
    review = [p for p in proposals if p.status in ("review", "inactive")]
    out["review"] = {
        "count": len(review),
        "truth_listed_first": sum(
            1 for p in review if p.candidates and truth.get(p.client_id) == p.candidates[0].qbo_id
        ),
    }
    wrong_by_category: dict[str, int] = {}
    for p in proposals:
        if p.status in ("exact", "fuzzy") and truth.get(p.client_id) != p.target.qbo_id:
            cat = categories[p.client_id]
            wrong_by_category[cat] = wrong_by_category.get(cat, 0) + 1
    out["wrong_by_category"] = wrong_by_category
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threshold", type=int, default=85)
    args = parser.parse_args()
    clients, raw, truth = generate(args.seed)
    categories = {}
    n = 0
    for category, count in CATEGORIES.items():
        for _ in range(count):
            n += 1
            categories[f"CL-{n:05d}"] = category
    customers = [Customer.from_qbo(o) for o in raw]
    print(
        f"{len(clients)} clients, {len(customers)} customers, {len(truth)} true pairs, "
        f"threshold {args.threshold}, seed {args.seed}"
    )
    results = {}
    for label, scorer in (("token_sort_ratio", fuzz.token_sort_ratio), ("WRatio", fuzz.WRatio)):
        started = time.perf_counter()
        proposals = match_customers(clients, customers, args.threshold, scorer=scorer)
        seconds = time.perf_counter() - started
        r = score(proposals, truth, categories)
        results[label] = (r, seconds)
        print(f"\nscorer {label}: matched in {seconds:.2f}s")
        for status in ("exact", "fuzzy"):
            s = r[status]
            print(
                f"  {status:<6} precision {s['precision']:.2%} ({s['correct']}/{s['predicted']}), "
                f"recall {s['recall']:.2%}"
                + (
                    f" of all true pairs, {s['recall_of_exactable']:.2%} of those with an equal "
                    "normalized name or email"
                    if status == "exact"
                    else " of the true pairs exact matching left"
                )
            )
        print(
            f"  exact+fuzzy precision {r['combined']['precision']:.2%}, recall {r['combined']['recall']:.2%}"
        )
        print(
            f"  to review: {r['review']['count']} (true customer ranked first in "
            f"{r['review']['truth_listed_first']})"
        )
        print(f"  wrong proposals by category: {r['wrong_by_category'] or 'none'}")
    r, seconds = results["token_sort_ratio"]
    assert r["exact"]["precision"] == 1.0, "exact matches must be 100% precise"
    print(
        f"\nSUMMARY exact precision {r['exact']['precision']:.2%} recall {r['exact']['recall']:.2%}; "
        f"fuzzy precision {r['fuzzy']['precision']:.2%} recall {r['fuzzy']['recall']:.2%}; "
        f"combined precision {r['combined']['precision']:.2%} recall {r['combined']['recall']:.2%}; "
        f"{len(clients)}x{len(customers)} in {seconds:.2f}s"
    )


if __name__ == "__main__":
    main()
