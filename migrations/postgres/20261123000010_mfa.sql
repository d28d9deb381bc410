-- Two-factor login (TOTP, RFC 6238) and one-time recovery codes.

-- One authenticator per account; a row exists exactly while two-factor login is on. The key is
-- kept as Base32 text, not yet encrypted at rest. `last_step` is the time step of the last code
-- accepted, so a code is never accepted twice (a conditional update raises it).
CREATE TABLE mfa_totp (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    last_step BIGINT NOT NULL,
    enabled_at BIGINT NOT NULL
);

-- Ten codes per account, each usable once; only a SHA-256 of each is stored (80 random bits
-- per code, so a slow hash adds nothing).
CREATE TABLE mfa_recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_sha256 TEXT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, code_sha256)
);
