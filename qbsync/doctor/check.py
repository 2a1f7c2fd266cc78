"""What a check returns (ok, warn or fail, with the fix), and the company the QuickBooks checks
look at."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal

from qbsync.workspace import Workspace

Status = Literal["ok", "warn", "fail"]


@dataclass
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


CheckFn = Callable[[Workspace, str | None], list[Check]]


def qbo_company(ws: Workspace, company: str | None) -> str | None:
    """The company to check (the given one, else the default); None when none is set up yet."""
    if company is None and not ws.config.companies:
        return None
    return ws.company(company)[0]
