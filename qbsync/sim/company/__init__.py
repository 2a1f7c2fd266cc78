"""One QBO company (realm): its entities and the rules QBO enforces when they change.

Every public operation validates everything first and mutates only after that, so a fault
never leaves half an operation behind (the batch and fault-injection runs rely on it).

Company is one object assembled from one mixin per job, each in its own module and each
building only on those listed above it:
  model       entity names, the fields the server owns, value helpers
  tables      the company's tables in the simulator's store (SQLite), with their indexed
              look-ups; extra_tables: deletions, payment links, open credit, replays
  records     the tables, ids and stamps, batch visibility, views, references
  balances    storing a change, and what derives from it: balances, payment links, open credit
  lists       building name-list objects (customers, items, accounts, terms, ...)
  currency    a document's currency and exchange rate
  taxing      a document's tax codes, discount and totals (arithmetic in tax.py)
  documents   building invoices and credit memos (lines, tax, totals, numbers, due dates)
  payments    building payments, deposits, credit applied by itself to a new invoice
  writes      create, update, delete and void
  user        what a user changes in QBO's screens: customer merges, preferences
  queries     the query language and change data capture
  invariants  the self-check of derived state
  state       its row in the store, and to and from plain data (old JSON state files)
"""

from qbsync.sim.company.invariants import Invariants
from qbsync.sim.company.model import BY_LOWER, ENTITIES
from qbsync.sim.company.queries import Queries
from qbsync.sim.company.state import Persistence
from qbsync.sim.company.user import UserEdits
from qbsync.sim.company.writes import Writes


class Company(Writes, UserEdits, Queries, Invariants, Persistence):
    """One company: its objects, their derived state, and the operations QBO offers on them."""


__all__ = ["BY_LOWER", "ENTITIES", "Company"]
