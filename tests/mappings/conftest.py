from __future__ import annotations

import pytest

from qbsync.mappings import live
from qbsync.mappings.resolve import ListSource
from tests.mappings.lists import DEMO_LISTS, CountingSource


@pytest.fixture
def demo_lists(monkeypatch: pytest.MonkeyPatch) -> CountingSource:
    """The CLI's live source replaced by the demo lists."""
    source = CountingSource(DEMO_LISTS)

    def open_source(ws: object, company: str) -> ListSource:
        return source

    monkeypatch.setattr(live, "open_source", open_source)
    return source
