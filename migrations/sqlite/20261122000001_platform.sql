-- Platform: accounts (minimal, extended by the accounts feature), authorities, postboxes,
-- services, the transactional mail outbox and administrator alerts.
-- Timestamps are Unix milliseconds; flags are integers (identical on PostgreSQL).

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('citizen', 'caseworker', 'admin')),
    locale TEXT NOT NULL DEFAULT 'de' CHECK (locale IN ('de', 'en')),
    email_verified_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE authorities (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    ags TEXT NOT NULL CHECK (length(ags) = 8),
    street TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    city TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE postboxes (
    id TEXT PRIMARY KEY NOT NULL,
    authority_id TEXT NOT NULL REFERENCES authorities (id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (authority_id, name)
);

CREATE TABLE services (
    service_key TEXT PRIMARY KEY NOT NULL CHECK (length(service_key) = 14),
    title_de TEXT NOT NULL,
    title_en TEXT NOT NULL,
    summary_de TEXT NOT NULL,
    summary_en TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);

CREATE TABLE admin_alerts (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    resolved_at INTEGER
);
CREATE INDEX admin_alerts_open ON admin_alerts (resolved_at, created_at);
