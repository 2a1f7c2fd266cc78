"""An embedded QuickBooks Online look-alike: OAuth, the v3 company API, CDC, batch, limits, faults.

Public entry points: `Simulator` (core), `create_app` (app), `SimServer` (server) and
`SimControl` (control).
"""

from qbsync.sim.core import Simulator

__all__ = ["Simulator"]
