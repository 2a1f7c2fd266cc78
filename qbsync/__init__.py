"""qbsync: keep a billing ledger and QuickBooks Online in two-way sync."""

import sys

__version__ = "0.1.0"

# httpx imports its own command line (and with it click and pygments) whenever click is
# installed, as it is here: 20-35 ms on every command that talks to QuickBooks. qbsync never
# uses httpx's command line; None in sys.modules makes that import fail, which httpx allows for.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
