-- Responsibility rules: which postbox handles a service for an area. The most specific rule
-- wins: postal code (city districts), municipality (AGS, 8 digits), county (5), state (2).
-- A rule may name a postbox of another authority than the area's own (delegation).
CREATE TABLE responsibility_rules (
    id TEXT PRIMARY KEY NOT NULL,
    service_key TEXT NOT NULL REFERENCES services (service_key),
    area_kind TEXT NOT NULL CHECK (area_kind IN ('postal_code', 'municipality', 'county', 'state')),
    area_code TEXT NOT NULL,
    postbox_id TEXT NOT NULL REFERENCES postboxes (id),
    created_at INTEGER NOT NULL,
    UNIQUE (service_key, area_kind, area_code)
);
CREATE INDEX responsibility_rules_postbox ON responsibility_rules (postbox_id);
