"""Schema for the sync engine (steps 0040-0069): the outbox of outbound operations."""

from __future__ import annotations

from qbsync.store.database import Database


def m0040_outbox(db: Database) -> None:
    # One row per outbound operation. Written in the same transaction as the ledger change that
    # causes it; its request_id is sent to QuickBooks as ?requestid= on every attempt.
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            company TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject_type TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            request_id TEXT NOT NULL UNIQUE,
            qbo_id TEXT,
            qbo_sync_token TEXT,
            last_error TEXT,
            last_error_code TEXT,
            intuit_tid TEXT,
            cycle_id INTEGER,
            -- 1 once a request may have reached QuickBooks without its answer being recorded:
            -- the next attempt looks for the document (requestid replay, then its marker) first.
            uncertain INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK (state IN ('pending', 'in_progress', 'done', 'failed', 'errored', 'cancelled'))
        )
        """
    )
    db.execute("CREATE INDEX outbox_company_state ON outbox(company, state, next_attempt_at)")
    db.execute("CREATE INDEX outbox_subject ON outbox(company, subject_type, subject_id)")


def m0041_links(db: Database) -> None:
    # A ledger document and the QuickBooks object it became (by export, the wizard or a lookup).
    # `baseline` is the comparable shape QuickBooks held after qbsync's last write or accepted
    # change (JSON); drift is any difference from it under a SyncToken qbsync did not write.
    db.execute(
        """
        CREATE TABLE qbo_links (
            company TEXT NOT NULL,
            local_type TEXT NOT NULL,
            local_id TEXT NOT NULL,
            qbo_entity TEXT NOT NULL,
            qbo_id TEXT NOT NULL,
            sync_token TEXT,
            baseline TEXT,
            state TEXT NOT NULL DEFAULT 'synced',
            linked_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (company, local_type, local_id),
            CHECK (state IN ('synced', 'drift', 'voided', 'deleted'))
        )
        """
    )
    db.execute("CREATE UNIQUE INDEX qbo_links_qbo ON qbo_links(company, qbo_entity, qbo_id)")


def m0042_cycles(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE sync_cursors (
            company TEXT PRIMARY KEY,
            cursor TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE sync_cycles (
            id INTEGER PRIMARY KEY,
            company TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            result TEXT NOT NULL DEFAULT 'running',
            trigger TEXT NOT NULL DEFAULT 'manual',
            pid INTEGER,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            cursor_before TEXT,
            cursor_after TEXT,
            inbound_changes INTEGER NOT NULL DEFAULT 0,
            ops_processed INTEGER NOT NULL DEFAULT 0,
            ops_failed INTEGER NOT NULL DEFAULT 0,
            drift_found INTEGER NOT NULL DEFAULT 0,
            payments_applied INTEGER NOT NULL DEFAULT 0,
            exceptions_raised INTEGER NOT NULL DEFAULT 0,
            api_calls INTEGER NOT NULL DEFAULT 0,
            summary TEXT,
            error TEXT,
            CHECK (result IN ('running', 'succeeded', 'failed', 'aborted', 'cancelled'))
        )
        """
    )
    db.execute("CREATE INDEX sync_cycles_company ON sync_cycles(company, id)")


def m0043_exceptions(db: Database) -> None:
    # Deduplicated by (company, kind, subject) while open: raising again bumps `occurrences`.
    db.execute(
        """
        CREATE TABLE sync_exceptions (
            id INTEGER PRIMARY KEY,
            company TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject_type TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            subject_label TEXT,
            qbo_entity TEXT,
            qbo_id TEXT,
            message TEXT NOT NULL,
            hint TEXT,
            data TEXT,
            status TEXT NOT NULL DEFAULT 'open',
            occurrences INTEGER NOT NULL DEFAULT 1,
            raised_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            resolved_at TEXT,
            resolution TEXT,
            note TEXT,
            CHECK (status IN ('open', 'resolved', 'dismissed'))
        )
        """
    )
    db.execute(
        "CREATE UNIQUE INDEX sync_exceptions_open ON sync_exceptions(company, kind, subject_type, "
        "subject_id) WHERE status = 'open'"
    )


def m0044_inbound_payments(db: Database) -> None:
    # Payments recorded in QuickBooks, as last seen: what they were applied to in the ledger,
    # so that an edit or delete can be reversed exactly. (Id, SyncToken) dedupes re-reads.
    db.execute(
        """
        CREATE TABLE qbo_payments (
            company TEXT NOT NULL,
            qbo_id TEXT NOT NULL,
            sync_token TEXT,
            customer_qbo_id TEXT,
            total TEXT,
            txn_date TEXT,
            lines TEXT,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (company, qbo_id),
            CHECK (state IN ('applied', 'waiting', 'rejected', 'deleted', 'ours'))
        )
        """
    )


def m0045_company_facts(db: Database) -> None:
    # CompanyInfo and Preferences as last read: country, home currency, numbering, tax and
    # credit settings shape every payload. Cached so that an idle cycle costs one API call.
    db.execute(
        """
        CREATE TABLE company_facts (
            company TEXT PRIMARY KEY,
            data TEXT NOT NULL,
            fetched_at TEXT NOT NULL
        )
        """
    )


def m0046_cycles_interrupted(db: Database) -> None:
    """A cycle stopped by Ctrl-C is `interrupted`, not `cancelled` (which `sync cancel` asked
    for). SQLite cannot change a CHECK in place: the table is rebuilt with the same columns."""
    db.execute(
        """
        CREATE TABLE sync_cycles_new (
            id INTEGER PRIMARY KEY,
            company TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            result TEXT NOT NULL DEFAULT 'running',
            trigger TEXT NOT NULL DEFAULT 'manual',
            pid INTEGER,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            cursor_before TEXT,
            cursor_after TEXT,
            inbound_changes INTEGER NOT NULL DEFAULT 0,
            ops_processed INTEGER NOT NULL DEFAULT 0,
            ops_failed INTEGER NOT NULL DEFAULT 0,
            drift_found INTEGER NOT NULL DEFAULT 0,
            payments_applied INTEGER NOT NULL DEFAULT 0,
            exceptions_raised INTEGER NOT NULL DEFAULT 0,
            api_calls INTEGER NOT NULL DEFAULT 0,
            summary TEXT,
            error TEXT,
            CHECK (result IN ('running', 'succeeded', 'failed', 'aborted', 'cancelled',
                              'interrupted'))
        )
        """
    )
    db.execute("INSERT INTO sync_cycles_new SELECT * FROM sync_cycles")
    # Cycles the earlier code stored as cancelled with the error "interrupted" were Ctrl-C'd.
    db.execute(
        "UPDATE sync_cycles_new SET result = 'interrupted' "
        "WHERE result = 'cancelled' AND error = 'interrupted'"
    )
    db.execute("DROP TABLE sync_cycles")
    db.execute("ALTER TABLE sync_cycles_new RENAME TO sync_cycles")
    db.execute("CREATE INDEX sync_cycles_company ON sync_cycles(company, id)")


def m0047_customer_baselines(db: Database) -> None:
    # What a linked QuickBooks customer last held of a client's fields (name, e-mail, phone,
    # addresses) as qbsync wrote or accepted it: a client that differs is pushed
    # (customers.update), a customer that differs came back changed (drift).
    db.execute(
        """
        CREATE TABLE customer_baselines (
            company TEXT NOT NULL,
            client_id TEXT NOT NULL,
            qbo_id TEXT NOT NULL,
            shape TEXT NOT NULL,
            push INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (company, client_id)
        )
        """
    )


STEPS = [
    m0040_outbox,
    m0041_links,
    m0042_cycles,
    m0043_exceptions,
    m0044_inbound_payments,
    m0045_company_facts,
    m0046_cycles_interrupted,
    m0047_customer_baselines,
]
