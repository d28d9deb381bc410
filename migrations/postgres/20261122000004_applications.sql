-- Applications: versioned form definitions per service, drafts, and submitted cases.

-- Catalogue details of a service come from its current form definition.
ALTER TABLE services ADD COLUMN current_version BIGINT;
ALTER TABLE services ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN life_situations TEXT NOT NULL DEFAULT '';

CREATE TABLE service_definitions (
    service_key TEXT NOT NULL REFERENCES services (service_key),
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    retired_at BIGINT,
    PRIMARY KEY (service_key, version)
);

CREATE TABLE drafts (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    service_key TEXT NOT NULL,
    version BIGINT NOT NULL,
    answers TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    FOREIGN KEY (service_key, version) REFERENCES service_definitions (service_key, version)
);
CREATE INDEX drafts_user ON drafts (user_id, updated_at);

-- One case per draft: the unique draft_id makes a submission happen exactly once, however
-- often and however concurrently it is sent.
CREATE TABLE cases (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    draft_id TEXT NOT NULL UNIQUE,
    user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    service_key TEXT NOT NULL,
    version BIGINT NOT NULL,
    answers TEXT NOT NULL,
    ags TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    postbox_id TEXT REFERENCES postboxes (id),
    status TEXT NOT NULL CHECK (status IN ('submitted', 'unrouted')),
    submitted_at BIGINT NOT NULL,
    FOREIGN KEY (service_key, version) REFERENCES service_definitions (service_key, version)
);
CREATE INDEX cases_user ON cases (user_id, submitted_at);
CREATE INDEX cases_postbox ON cases (postbox_id, submitted_at);
