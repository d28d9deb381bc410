-- Integration with back-office and e-file systems: API keys per postbox, idempotent requests,
-- acknowledgement of submissions, and signed webhooks delivered from an outbox.

-- A key belongs to one postbox and reaches nothing else. Only a SHA-256 of its secret is kept
-- (the secret is 256 random bits, so a slow hash adds nothing); `prefix` is the visible start
-- of the key by which administrators recognise it.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    postbox_id TEXT NOT NULL REFERENCES postboxes (id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    secret_sha256 TEXT NOT NULL UNIQUE,
    -- Space-separated: read, acknowledge, reply, fees.
    scopes TEXT NOT NULL,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_keys_postbox ON api_keys (postbox_id, created_at);

-- The first answer to a POST with an `Idempotency-Key`, replayed for repeats of the same
-- request. `status` is NULL while the first request is still running.
CREATE TABLE api_idempotency (
    key_id TEXT NOT NULL REFERENCES api_keys (id),
    idempotency_key TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);

-- The back-office system's answer to a submission: accepted or rejected, exactly once.
ALTER TABLE cases ADD COLUMN ack_outcome TEXT CHECK (ack_outcome IS NULL OR ack_outcome IN ('accepted', 'rejected'));
ALTER TABLE cases ADD COLUMN ack_reason TEXT;
ALTER TABLE cases ADD COLUMN ack_at INTEGER;
ALTER TABLE cases ADD COLUMN ack_key_id TEXT REFERENCES api_keys (id);
-- The API's change feed reads cases of a postbox in (updated_at, id) order.
CREATE INDEX cases_changes ON cases (postbox_id, updated_at, id);

-- Endpoints a postbox's events are sent to. The signing secret must be kept to sign.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    postbox_id TEXT NOT NULL REFERENCES postboxes (id),
    url TEXT NOT NULL,
    -- Space-separated: submission.received, citizen.replied, fee.paid.
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT NOT NULL DEFAULT '',
    -- Start of the current run of failed deliveries; a day of them disables the endpoint.
    failing_since INTEGER,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_postbox ON webhook_endpoints (postbox_id);

-- One event for one endpoint; its id is the `webhook-id` receivers deduplicate by.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- A worker that took the delivery holds it until then (several instances).
    claimed_until INTEGER,
    last_status INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);
