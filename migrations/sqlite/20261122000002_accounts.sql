-- Accounts: sessions (tower-sessions' schema), single-use tokens, profile for once-only use,
-- postal code table, rate-limit counters.

ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;

CREATE TABLE tower_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    data BLOB NOT NULL,
    expiry_date INTEGER NOT NULL
);

CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'change_email')),
    new_email TEXT,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

CREATE TABLE profiles (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    given_name TEXT NOT NULL DEFAULT '',
    family_name TEXT NOT NULL DEFAULT '',
    birth_date TEXT NOT NULL DEFAULT '',
    street TEXT NOT NULL DEFAULT '',
    house_number TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    place TEXT NOT NULL DEFAULT '',
    ags TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);

-- Where profile data was used to prefill an application (filled by the applications feature).
CREATE TABLE profile_usage (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    used_for TEXT NOT NULL,
    used_at INTEGER NOT NULL
);
CREATE INDEX profile_usage_user ON profile_usage (user_id, used_at);

CREATE TABLE postal_codes (
    postal_code TEXT NOT NULL CHECK (length(postal_code) = 5),
    ags TEXT NOT NULL CHECK (length(ags) = 8),
    place TEXT NOT NULL,
    county TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (postal_code, ags)
);

CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL
);
