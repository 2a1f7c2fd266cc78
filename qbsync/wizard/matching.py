"""Matching ledger clients to QuickBooks customers.

Exact: the normalized names are equal, or the email addresses are (normalize.py). Fuzzy: the
rapidfuzz `token_sort_ratio` of the normalized names at or above the configured threshold.
token_sort_ratio sorts the words before an edit-distance comparison, so word order ("Law
Brightside" / "Brightside Law") and typos cost little, while an extra or different word costs
its full length. WRatio was measured and rejected: it takes the best of several partial scores,
so "Harbor Dental" scores 90 against "Harbor Dental Group" and short names against any name
containing them, which are exactly the unrelated look-alikes that must not match.

Nothing is accepted automatically unless it is unambiguous: one active customer matched exactly,
by one client only. Two clients on one customer both go to review; a match to an inactive
customer is shown apart and never accepted on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from qbsync.wizard.normalize import domain_of, emails_of, normalize_email, normalize_name

STATUSES = ("exact", "fuzzy", "review", "inactive", "unmatched", "mapped")
CANDIDATE_FLOOR = 25  # candidates this far below the threshold are still shown for review
MAX_CANDIDATES = 5


@dataclass
class Customer:
    qbo_id: str
    name: str
    email: str | None
    active: bool
    norm: str
    emails: list[str]

    @classmethod
    def from_qbo(cls, obj: Mapping[str, Any]) -> Customer:
        name = str(obj.get("DisplayName") or obj.get("CompanyName") or "")
        email = (obj.get("PrimaryEmailAddr") or {}).get("Address")
        return cls(
            qbo_id=str(obj["Id"]),
            name=name,
            email=email,
            active=obj.get("Active", True) is not False,
            norm=normalize_name(name),
            emails=emails_of(email),
        )


@dataclass
class Client:
    id: str
    name: str
    email: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Client:
        return cls(str(row["id"]), str(row["name"]), row.get("email"))


@dataclass
class Candidate:
    qbo_id: str
    name: str
    score: int
    reason: str  # name | email | domain (joined with "+" when several agree)
    active: bool


@dataclass
class Proposal:
    client_id: str
    client_name: str
    client_email: str | None
    status: str
    why: str
    candidates: list[Candidate] = field(default_factory=list)  # active, best first
    inactive: list[Candidate] = field(default_factory=list)  # shown apart
    mapped_to: str | None = None

    @property
    def target(self) -> Candidate | None:
        """The proposed customer for exact and fuzzy matches."""
        return self.candidates[0] if self.status in ("exact", "fuzzy") and self.candidates else None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _merge(found: dict[str, Candidate], cand: Candidate) -> None:
    seen = found.get(cand.qbo_id)
    if seen is None:
        found[cand.qbo_id] = cand
        return
    reasons = seen.reason.split("+")
    if cand.reason not in reasons:
        reasons.append(cand.reason)
    if "email" in reasons and "domain" in reasons:
        reasons.remove("domain")  # the same address says more than the same domain
    seen.reason = "+".join(r for r in ("email", "name", "domain") if r in reasons)
    seen.score = max(seen.score, cand.score)


class CustomerIndex:
    """Customers indexed by normalized name, email and company domain, plus a choice list for
    rapidfuzz (one C-level scan per client with a score cutoff)."""

    def __init__(self, customers: Iterable[Customer]):
        self.customers = list(customers)
        self.by_id = {c.qbo_id: c for c in self.customers}
        self.by_name: dict[str, list[Customer]] = defaultdict(list)
        self.by_email: dict[str, list[Customer]] = defaultdict(list)
        self.by_domain: dict[str, list[Customer]] = defaultdict(list)
        for c in self.customers:
            if c.norm:
                self.by_name[c.norm].append(c)
            for email in c.emails:
                self.by_email[email].append(c)
                domain = domain_of(email)
                if domain:
                    self.by_domain[domain].append(c)
        self.choices = {c.qbo_id: c.norm for c in self.customers if c.norm}
        # Blocking: a customer is scored against a client only when they share a word, or the
        # first or last three letters of one (a typo inside a word keeps one end intact).
        self.blocks: dict[str, list[str]] = defaultdict(list)
        for c in self.customers:
            for key in block_keys(c.norm):
                self.blocks[key].append(c.qbo_id)
        self.block_cap = max(50, len(self.customers) // 5)

    def nearby(self, norm: str) -> dict[str, str] | None:
        """The customers worth scoring against `norm`, or None to score them all (a one-word
        name, or one made only of words too common to narrow anything down)."""
        keys = block_keys(norm)
        if len(norm.split()) < 2 or not keys:
            return None
        ids: set[str] = set()
        for key in keys:
            block = self.blocks.get(key, [])
            if len(block) <= self.block_cap:
                ids.update(block)
        if not ids:
            return None
        return {i: self.choices[i] for i in ids}

    def search(self, text: str, limit: int = 8) -> list[Candidate]:
        """Customers whose names look like `text` (for linking by hand), best first."""
        query = normalize_name(text)
        if not query:
            return []
        hits = process.extract(
            query, self.choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=50
        )
        out = []
        for _norm, score, qbo_id in hits:
            c = self.by_id[qbo_id]
            out.append(Candidate(c.qbo_id, c.name, round(score), "search", c.active))
        return out


def block_keys(norm: str) -> set[str]:
    keys: set[str] = set()
    for word in norm.split():
        keys.add(f"w:{word}")
        if len(word) >= 4:
            keys.add(f"p:{word[:3]}")
            keys.add(f"s:{word[-3:]}")
    return keys


def _score(a: str, b: str) -> int:
    return round(fuzz.token_sort_ratio(a, b))


def propose(
    client: Client,
    index: CustomerIndex,
    threshold: int,
    mapped_to: str | None = None,
    scorer: Any = fuzz.token_sort_ratio,
) -> Proposal:
    """One client's proposal, before conflicts between clients are looked at."""
    norm = normalize_name(client.name)
    email = normalize_email(client.email)
    if mapped_to is not None:
        mapped = index.by_id.get(mapped_to)
        return Proposal(
            client.id,
            client.name,
            client.email,
            "mapped",
            f"mapped to {mapped.name if mapped else mapped_to}",
            mapped_to=mapped_to,
        )
    exact: dict[str, Candidate] = {}
    for c in index.by_name.get(norm, []) if norm else []:
        _merge(exact, Candidate(c.qbo_id, c.name, 100, "name", c.active))
    for c in index.by_email.get(email, []) if email else []:
        _merge(exact, Candidate(c.qbo_id, c.name, 100, "email", c.active))

    found: dict[str, Candidate] = {k: Candidate(**asdict(v)) for k, v in exact.items()}
    if norm:
        choices = index.nearby(norm)
        for _n, score, qbo_id in process.extract(
            norm,
            index.choices if choices is None else choices,
            scorer=scorer,
            limit=MAX_CANDIDATES * 2,
            score_cutoff=max(0, threshold - CANDIDATE_FLOOR),
        ):
            c = index.by_id[qbo_id]
            _merge(found, Candidate(c.qbo_id, c.name, round(score), "name", c.active))
    domain = domain_of(email) if email else None
    for c in index.by_domain.get(domain, []) if domain else []:
        _merge(found, Candidate(c.qbo_id, c.name, _score(norm, c.norm), "domain", c.active))

    def rank(cand: Candidate) -> tuple[int, int, int, str]:
        return (-int(cand.qbo_id in exact), -cand.score, -cand.reason.count("+"), cand.name)

    ordered = sorted(found.values(), key=rank)
    active = [c for c in ordered if c.active][:MAX_CANDIDATES]
    inactive = [c for c in ordered if not c.active][:MAX_CANDIDATES]
    proposal = Proposal(client.id, client.name, client.email, "unmatched", "", active, inactive)

    exact_active = [c for c in active if c.qbo_id in exact]
    exact_inactive = [c for c in inactive if c.qbo_id in exact]
    if len(exact_active) == 1:
        proposal.status, proposal.why = (
            "exact",
            f"same {exact_active[0].reason.replace('+', ' and ')}",
        )
    elif len(exact_active) > 1:
        proposal.status = "review"
        proposal.why = f"{len(exact_active)} customers match exactly ({', '.join(c.name for c in exact_active)})"
    elif exact_inactive:
        proposal.status = "inactive"
        proposal.why = f"matches inactive customer {exact_inactive[0].name} exactly"
    else:
        above = [c for c in active if c.score >= threshold]
        above_inactive = [c for c in inactive if c.score >= threshold]
        if above and len(above) > 1 and above[1].score == above[0].score:
            proposal.status = "review"
            proposal.why = f"{above[0].name} and {above[1].name} score the same ({above[0].score})"
        elif above:
            proposal.status = "fuzzy"
            proposal.why = f"{above[0].reason} similar ({above[0].score})"
        elif above_inactive:
            proposal.status = "inactive"
            proposal.why = (
                f"looks like inactive customer {above_inactive[0].name} ({above_inactive[0].score})"
            )
        else:
            proposal.why = (
                f"nothing scores {threshold} or more"
                if active or inactive
                else "no similar customer"
            )
    return proposal


def match_customers(
    clients: Sequence[Client],
    customers: Sequence[Customer],
    threshold: int,
    mapped: Mapping[str, str] | None = None,
    *,
    scorer: Any = fuzz.token_sort_ratio,
) -> list[Proposal]:
    """A proposal per client. Clients already mapped come back as `mapped`; a customer that
    two clients would take (or that another client is mapped to already) sends both to review."""
    mapped = dict(mapped or {})
    index = CustomerIndex(customers)
    proposals = [propose(c, index, threshold, mapped.get(c.id), scorer) for c in clients]
    taken_by_mapping: dict[str, str] = {q: c for c, q in mapped.items()}
    claims: dict[str, list[Proposal]] = defaultdict(list)
    for p in proposals:
        target = p.target
        if target is not None:
            claims[target.qbo_id].append(p)
    for qbo_id, claimants in claims.items():
        holder = taken_by_mapping.get(qbo_id)
        if len(claimants) > 1:
            names = ", ".join(p.client_name for p in claimants)
            for p in claimants:
                p.status = "review"
                p.why = f"{len(claimants)} clients match customer {claimants[0].candidates[0].name} ({names})"
        elif holder is not None:
            p = claimants[0]
            p.status = "review"
            p.why = f"customer {p.candidates[0].name} is mapped to client {holder} already"
    return proposals


def counts(proposals: Iterable[Proposal]) -> dict[str, int]:
    out = dict.fromkeys(STATUSES, 0)
    for p in proposals:
        out[p.status] += 1
    return out
