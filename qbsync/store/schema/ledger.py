"""Schema for the ledger and the mappings (steps 0020-0039).

The ledger is per company: every table carries `company`, and ids are the billing system's own,
unique per company. Money and quantities are exact decimal text (never REAL).
"""

from __future__ import annotations

from qbsync.store.database import Database


def m0020_ledger_catalog(db: Database) -> None:
    # Clients, the service catalog, tax regions and payment terms: mutable reference data.
    db.execute(
        """
        CREATE TABLE ledger_clients (
            company TEXT NOT NULL,
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            email TEXT,
            currency TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (company, id)
        )
        """
    )
    for table in ("ledger_services", "ledger_tax_regions"):
        db.execute(
            f"""
            CREATE TABLE {table} (
                company TEXT NOT NULL,
                id TEXT NOT NULL,
                name TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (company, id)
            )
            """
        )
    db.execute(
        """
        CREATE TABLE ledger_terms (
            company TEXT NOT NULL,
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            due_days INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (company, id)
        )
        """
    )


def m0021_ledger_documents(db: Database) -> None:
    # Invoices and credit notes. Once finalized their content (content_hash) never changes;
    # a void document stays void.
    db.execute(
        """
        CREATE TABLE ledger_invoices (
            company TEXT NOT NULL,
            id TEXT NOT NULL,
            number TEXT NOT NULL,
            client_id TEXT NOT NULL,
            type TEXT NOT NULL DEFAULT 'standard',
            status TEXT NOT NULL,
            date TEXT NOT NULL,
            due_date TEXT,
            terms_id TEXT,
            currency TEXT,
            memo TEXT,
            subtotal TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            finalized_at TEXT,
            voided_at TEXT,
            void_reason TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (company, id),
            FOREIGN KEY (company, client_id) REFERENCES ledger_clients (company, id),
            FOREIGN KEY (company, terms_id) REFERENCES ledger_terms (company, id),
            CHECK (type IN ('standard', 'credit_note')),
            CHECK (status IN ('draft', 'finalized', 'void'))
        )
        """
    )
    db.execute("CREATE INDEX ledger_invoices_client ON ledger_invoices(company, client_id)")
    db.execute("CREATE INDEX ledger_invoices_status ON ledger_invoices(company, status)")
    db.execute(
        """
        CREATE TABLE ledger_invoice_lines (
            company TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            line_no INTEGER NOT NULL,
            service_id TEXT NOT NULL,
            description TEXT,
            quantity TEXT NOT NULL,
            unit_price TEXT NOT NULL,
            amount TEXT NOT NULL,
            tax_region_id TEXT,
            service_date TEXT,
            PRIMARY KEY (company, invoice_id, line_no),
            FOREIGN KEY (company, invoice_id) REFERENCES ledger_invoices (company, id),
            FOREIGN KEY (company, service_id) REFERENCES ledger_services (company, id),
            FOREIGN KEY (company, tax_region_id) REFERENCES ledger_tax_regions (company, id)
        )
        """
    )


def m0022_ledger_settlements(db: Database) -> None:
    # Payments (local ones go out to QuickBooks; source 'quickbooks' rows are written by the sync
    # engine) and credit applications (a credit note applied to an invoice). Both immutable.
    db.execute(
        """
        CREATE TABLE ledger_payments (
            company TEXT NOT NULL,
            id TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            amount TEXT NOT NULL,
            date TEXT NOT NULL,
            method TEXT,
            reference TEXT,
            source TEXT NOT NULL DEFAULT 'local',
            qbo_id TEXT,
            qbo_sync_token TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (company, id),
            FOREIGN KEY (company, invoice_id) REFERENCES ledger_invoices (company, id),
            CHECK (source IN ('local', 'quickbooks'))
        )
        """
    )
    db.execute("CREATE INDEX ledger_payments_invoice ON ledger_payments(company, invoice_id)")
    db.execute(
        "CREATE UNIQUE INDEX ledger_payments_qbo ON ledger_payments(company, qbo_id) "
        "WHERE qbo_id IS NOT NULL"
    )
    db.execute(
        """
        CREATE TABLE ledger_credit_applications (
            company TEXT NOT NULL,
            id TEXT NOT NULL,
            credit_note_id TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            amount TEXT NOT NULL,
            date TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (company, id),
            FOREIGN KEY (company, credit_note_id) REFERENCES ledger_invoices (company, id),
            FOREIGN KEY (company, invoice_id) REFERENCES ledger_invoices (company, id)
        )
        """
    )
    db.execute(
        "CREATE INDEX ledger_credit_applications_invoice "
        "ON ledger_credit_applications(company, invoice_id)"
    )
    db.execute(
        "CREATE INDEX ledger_credit_applications_note "
        "ON ledger_credit_applications(company, credit_note_id)"
    )


def m0023_mappings(db: Database) -> None:
    # Local id -> QuickBooks id per company and kind. qbo_name is the name it was resolved from
    # (or a label); the id is what the sync engine sends.
    db.execute(
        """
        CREATE TABLE mappings (
            company TEXT NOT NULL,
            kind TEXT NOT NULL,
            local_id TEXT NOT NULL,
            qbo_id TEXT NOT NULL,
            qbo_name TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (company, kind, local_id),
            CHECK (kind IN ('items', 'tax_codes', 'terms', 'customers', 'payment_methods',
                            'accounts', 'defaults'))
        )
        """
    )


def m0024_ledger_tax(db: Database) -> None:
    # The whole invoice: per line and in total amount, discount, tax and total; whether prices
    # include tax; an exchange rate and home-currency total; the tax per region and rate; and
    # the rates of tax regions. Documents stored before carried no tax or discount: they get
    # discount 0, tax 0 and total = subtotal, prices exclusive.
    for column, default in (
        ("discount", "'0.00'"),
        ("tax", "'0.00'"),
        ("total", "'0.00'"),
        ("amounts", "'exclusive'"),
    ):
        db.execute(
            f"ALTER TABLE ledger_invoices ADD COLUMN {column} TEXT NOT NULL DEFAULT {default}"
        )
    for column in ("tax_total", "exchange_rate", "home_total"):
        db.execute(f"ALTER TABLE ledger_invoices ADD COLUMN {column} TEXT")
    db.execute("UPDATE ledger_invoices SET total = subtotal")
    for column, default in (("discount", "'0.00'"), ("tax", "'0.00'"), ("total", "'0.00'")):
        db.execute(
            f"ALTER TABLE ledger_invoice_lines ADD COLUMN {column} TEXT NOT NULL DEFAULT {default}"
        )
    db.execute("ALTER TABLE ledger_invoice_lines ADD COLUMN tax_amount TEXT")
    db.execute("UPDATE ledger_invoice_lines SET total = amount")
    db.execute(
        """
        CREATE TABLE ledger_invoice_discounts (
            company TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            line_no INTEGER NOT NULL,
            description TEXT,
            amount TEXT,
            percent TEXT,
            taxable INTEGER NOT NULL DEFAULT 1,
            discount TEXT NOT NULL,
            PRIMARY KEY (company, invoice_id, line_no),
            FOREIGN KEY (company, invoice_id) REFERENCES ledger_invoices (company, id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE ledger_invoice_taxes (
            company TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            tax_region_id TEXT NOT NULL,
            name TEXT NOT NULL,
            rate TEXT,
            base TEXT NOT NULL,
            amount TEXT NOT NULL,
            PRIMARY KEY (company, invoice_id, tax_region_id, name),
            FOREIGN KEY (company, invoice_id) REFERENCES ledger_invoices (company, id)
        )
        """
    )
    db.execute("ALTER TABLE ledger_tax_regions ADD COLUMN rate TEXT")
    db.execute("ALTER TABLE ledger_tax_regions ADD COLUMN components TEXT")  # JSON [{name, rate}]
    db.execute("ALTER TABLE ledger_payments ADD COLUMN home_amount TEXT")


def m0025_ledger_quickbooks_settlements(db: Database) -> None:
    # A QuickBooks Payment may settle several invoices, one line each: the ledger keeps a row per
    # line, keyed by the Payment's Id and the line (`qbo_line`, the QuickBooks invoice the line
    # settles). Rows written before this step hold no line; the next read of their payment
    # rewrites them.
    db.execute("ALTER TABLE ledger_payments ADD COLUMN qbo_line TEXT")
    db.execute("DROP INDEX ledger_payments_qbo")
    db.execute(
        "CREATE UNIQUE INDEX ledger_payments_qbo_line "
        "ON ledger_payments(company, qbo_id, ifnull(qbo_line, '')) WHERE qbo_id IS NOT NULL"
    )
    # A QuickBooks Payment that moves credit (a credit memo line, no cash) is a credit
    # application, not a payment: `qbo_id` names that Payment (NULL for the ledger's own).
    db.execute("ALTER TABLE ledger_credit_applications ADD COLUMN qbo_id TEXT")
    db.execute(
        "CREATE INDEX ledger_credit_applications_qbo ON ledger_credit_applications(company, qbo_id) "
        "WHERE qbo_id IS NOT NULL"
    )


def m0026_ledger_handover_and_marks(db: Database) -> None:
    # What `ledger export payments` handed to the billing system: one row per movement, never
    # changed once written (a payment as first handed over; then a reversal, negative, when
    # QuickBooks voids, deletes or reduces it; or more money on the same line). The rows of a
    # payment add up to what QuickBooks holds for it now. Payments recorded before this step
    # count as handed over already (an export may have listed them).
    db.execute(
        """
        CREATE TABLE ledger_payment_handovers (
            company TEXT NOT NULL,
            id TEXT NOT NULL,
            payment_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            amount TEXT NOT NULL,
            date TEXT NOT NULL,
            method TEXT,
            reference TEXT,
            qbo_id TEXT,
            reason TEXT,
            updated_at TEXT NOT NULL,
            home_amount TEXT,
            handed_at TEXT NOT NULL,
            PRIMARY KEY (company, id),
            CHECK (kind IN ('payment', 'reversal'))
        )
        """
    )
    db.execute(
        "CREATE INDEX ledger_payment_handovers_payment "
        "ON ledger_payment_handovers(company, payment_id)"
    )
    db.execute(
        "INSERT INTO ledger_payment_handovers (company, id, payment_id, kind, invoice_id, amount, "
        "date, method, reference, qbo_id, reason, updated_at, home_amount, handed_at) "
        "SELECT company, id, id, 'payment', invoice_id, amount, date, method, reference, qbo_id, "
        "NULL, updated_at, home_amount, updated_at FROM ledger_payments WHERE source = 'quickbooks' "
        "ORDER BY company, date, id"
    )
    # Invoices the CSV fallback wrote to a file for QuickBooks' import: the sync links each once
    # QuickBooks holds it, and creates none of them until then unless a person releases it.
    # `released_at` ends the hold; `outcome` says how: linked (found in QuickBooks) or released.
    db.execute(
        """
        CREATE TABLE ledger_csv_written (
            company TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            file TEXT NOT NULL,
            written_at TEXT NOT NULL,
            released_at TEXT,
            outcome TEXT,
            PRIMARY KEY (company, invoice_id),
            FOREIGN KEY (company, invoice_id) REFERENCES ledger_invoices (company, id)
        )
        """
    )
    # The number QuickBooks gave a document it numbered itself (`numbering: quickbooks`).
    db.execute("ALTER TABLE ledger_invoices ADD COLUMN qbo_number TEXT")


def m0028_ledger_reversed(db: Database) -> None:
    # Payments and credit applications taken off the ledger (QuickBooks voided or deleted what
    # they came from, or a person voided their document with --unapply): a later import of the
    # billing file that still lists one does not take it again (nor push it to QuickBooks).
    db.execute(
        """
        CREATE TABLE ledger_reversed (
            company TEXT NOT NULL,
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            reason TEXT NOT NULL,
            reversed_at TEXT NOT NULL,
            PRIMARY KEY (company, kind, id),
            CHECK (kind IN ('payment', 'credit_application'))
        )
        """
    )


def m0027_ledger_client_details(db: Database) -> None:
    # What a QuickBooks customer carries: a second e-mail, phone, default terms and tax region,
    # tax exemption, a parent client (sub-customer / job), and the billing and shipping
    # addresses as JSON text (line1, line2, city, region, postal_code, country).
    for column, kind in (
        ("cc_email", "TEXT"),
        ("phone", "TEXT"),
        ("terms_id", "TEXT"),
        ("tax_region_id", "TEXT"),
        ("tax_exempt", "INTEGER NOT NULL DEFAULT 0"),
        ("parent_id", "TEXT"),
        ("bill_address", "TEXT"),
        ("ship_address", "TEXT"),
    ):
        db.execute(f"ALTER TABLE ledger_clients ADD COLUMN {column} {kind}")


STEPS = [
    m0020_ledger_catalog,
    m0021_ledger_documents,
    m0022_ledger_settlements,
    m0023_mappings,
    m0024_ledger_tax,
    m0025_ledger_quickbooks_settlements,
    m0026_ledger_handover_and_marks,
    m0027_ledger_client_details,
    m0028_ledger_reversed,
]
