-- Fee notices (Gebührenbescheide) and the payments that settle them: bank statements
-- (camt.053) and online payments through an XBezahldienste provider.

-- The account fee notices of an authority ask citizens to pay to.
ALTER TABLE authorities ADD COLUMN payee_name TEXT NOT NULL DEFAULT '';
ALTER TABLE authorities ADD COLUMN payee_iban TEXT NOT NULL DEFAULT '';
ALTER TABLE authorities ADD COLUMN payee_bic TEXT NOT NULL DEFAULT '';
-- The postbox's template for fee notices: instructions on legal remedies and payment period.
ALTER TABLE postboxes ADD COLUMN fee_remedy TEXT NOT NULL DEFAULT '';
ALTER TABLE postboxes ADD COLUMN fee_due_days INTEGER NOT NULL DEFAULT 30;

-- A notice keeps everything it said when it was issued (payee, address, texts), so later
-- changes to the authority or the profile never change a notice after the fact. A correction
-- is a new notice that `replaces` the old one; both stay.
CREATE TABLE fee_notices (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    authority_id TEXT NOT NULL REFERENCES authorities (id),
    number INTEGER NOT NULL,
    payment_reference TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('open', 'paid', 'cancelled', 'replaced')),
    total_cents INTEGER NOT NULL CHECK (total_cents > 0),
    paid_cents INTEGER NOT NULL DEFAULT 0,
    -- Last day to pay, YYYY-MM-DD.
    due_date TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    remedy TEXT NOT NULL,
    payee_name TEXT NOT NULL,
    payee_iban TEXT NOT NULL,
    payee_bic TEXT NOT NULL,
    -- Recipient's address lines as a JSON array.
    recipient TEXT NOT NULL,
    replaces_id TEXT REFERENCES fee_notices (id),
    message_id TEXT REFERENCES messages (id),
    document_id TEXT REFERENCES documents (id),
    issued_by TEXT,
    issued_by_label TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    closed_at INTEGER,
    close_reason TEXT NOT NULL DEFAULT '',
    UNIQUE (case_id, number)
);
CREATE INDEX fee_notices_authority ON fee_notices (authority_id, state);

CREATE TABLE fee_items (
    notice_id TEXT NOT NULL REFERENCES fee_notices (id),
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    PRIMARY KEY (notice_id, position)
);

-- One imported camt.053 file.
CREATE TABLE bank_statements (
    id TEXT PRIMARY KEY NOT NULL,
    authority_id TEXT NOT NULL REFERENCES authorities (id),
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    account_iban TEXT NOT NULL,
    entries INTEGER NOT NULL,
    new_payments INTEGER NOT NULL,
    matched INTEGER NOT NULL,
    imported_by TEXT,
    imported_by_label TEXT NOT NULL,
    imported_at INTEGER NOT NULL
);
CREATE INDEX bank_statements_authority ON bank_statements (authority_id, imported_at);

-- Money received. `entry_ref` is the bank's reference of the entry (AcctSvcrRef, with the
-- transaction's position for batch bookings) or the provider's transaction id, so the same
-- payment is recorded once however often a statement is imported.
CREATE TABLE payments (
    id TEXT PRIMARY KEY NOT NULL,
    authority_id TEXT NOT NULL REFERENCES authorities (id),
    source TEXT NOT NULL CHECK (source IN ('bank', 'online')),
    account_iban TEXT NOT NULL,
    entry_ref TEXT NOT NULL,
    statement_id TEXT REFERENCES bank_statements (id),
    amount_cents INTEGER NOT NULL,
    booking_date TEXT NOT NULL DEFAULT '',
    payer_name TEXT NOT NULL DEFAULT '',
    payer_iban TEXT NOT NULL DEFAULT '',
    remittance TEXT NOT NULL DEFAULT '',
    notice_id TEXT REFERENCES fee_notices (id),
    -- How it was matched: reference (structured RF), remittance (found in the free text),
    -- manual, online, or none (waiting for a person).
    matched_by TEXT NOT NULL CHECK (matched_by IN ('reference', 'remittance', 'manual', 'online', 'none')),
    suggested_notice_id TEXT REFERENCES fee_notices (id),
    matched_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (account_iban, entry_ref)
);
CREATE INDEX payments_notice ON payments (notice_id);
CREATE INDEX payments_open ON payments (authority_id, matched_by, created_at);

-- Online payments: one provider transaction per attempt. `id` is the request id sent to the
-- provider, which refuses a second transaction with the same one.
CREATE TABLE payment_transactions (
    id TEXT PRIMARY KEY NOT NULL,
    notice_id TEXT NOT NULL REFERENCES fee_notices (id),
    provider_transaction_id TEXT,
    payment_url TEXT,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX payment_transactions_notice ON payment_transactions (notice_id, created_at);
