-- Back office: staff memberships in postboxes, the processing state of cases, their timeline,
-- internal notes, the message thread with the citizen, reply templates and the audit log.

-- A caseworker works in the postboxes they are a member of; a lead also manages its templates.
CREATE TABLE memberships (
    postbox_id TEXT NOT NULL REFERENCES postboxes (id),
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('caseworker', 'lead')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (postbox_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- Days within which a postbox aims to decide; cases past it are overdue.
ALTER TABLE postboxes ADD COLUMN processing_days BIGINT NOT NULL DEFAULT 30;

-- `status` stays the outcome of submission (submitted / unrouted); `state` is where the case
-- stands in processing. Transitions are enforced by the application (backoffice::state).
ALTER TABLE cases ADD COLUMN state TEXT NOT NULL DEFAULT 'received'
    CHECK (state IN ('received', 'in_progress', 'awaiting_citizen', 'approved', 'rejected', 'closed'));
ALTER TABLE cases ADD COLUMN assignee_id TEXT REFERENCES users (id) ON DELETE SET NULL;
-- Shown in the inbox and searched by name; taken from the answers at submission.
ALTER TABLE cases ADD COLUMN applicant_name TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
-- Processing deadline, and the deadline of an open request for information.
ALTER TABLE cases ADD COLUMN due_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN reply_due_at BIGINT;
-- Items the other side has not read yet (kept on the case so lists need no counting).
ALTER TABLE cases ADD COLUMN citizen_unread BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN staff_unread BIGINT NOT NULL DEFAULT 0;
UPDATE cases SET updated_at = submitted_at, due_at = submitted_at + 2592000000;

-- Keyset pagination of the inbox: every tab reads one of these in order.
CREATE INDEX cases_inbox_state ON cases (postbox_id, state, submitted_at, id);
CREATE INDEX cases_inbox_all ON cases (postbox_id, submitted_at, id);
CREATE INDEX cases_assignee ON cases (assignee_id, submitted_at, id);
CREATE INDEX cases_inbox_due ON cases (postbox_id, due_at);

-- One row per lower-cased word of the applicant's name, for search within a postbox: each word
-- is read in date order straight from the primary key.
CREATE TABLE case_search (
    postbox_id TEXT NOT NULL,
    term TEXT COLLATE "C" NOT NULL,
    submitted_at BIGINT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    PRIMARY KEY (postbox_id, term, submitted_at, case_id)
);
CREATE INDEX case_search_case ON case_search (case_id);

-- What happened to a case, in order. `public` events are shown to the citizen.
CREATE TABLE case_events (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    actor_id TEXT,
    actor_label TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    public BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX case_events_case ON case_events (case_id, at);

-- Internal notes: never shown to the citizen.
CREATE TABLE case_notes (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    author_id TEXT,
    author_label TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX case_notes_case ON case_notes (case_id, created_at);

-- The thread between authority and citizen: messages, requests for information (with a
-- deadline, answered by a reply), decisions and forward notices.
CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('message', 'request', 'reply', 'decision', 'forwarded')),
    from_citizen BIGINT NOT NULL,
    author_id TEXT,
    author_label TEXT NOT NULL,
    body TEXT NOT NULL,
    outcome TEXT CHECK (outcome IS NULL OR outcome IN ('approved', 'rejected')),
    deadline_at BIGINT,
    in_reply_to TEXT REFERENCES messages (id),
    answered_at BIGINT,
    read_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX messages_case ON messages (case_id, created_at);

CREATE TABLE message_documents (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    document_id TEXT NOT NULL REFERENCES documents (id),
    PRIMARY KEY (message_id, document_id)
);
CREATE INDEX message_documents_document ON message_documents (document_id);

CREATE TABLE reply_templates (
    id TEXT PRIMARY KEY NOT NULL,
    postbox_id TEXT NOT NULL REFERENCES postboxes (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (postbox_id, title)
);

-- Append-only record of staff actions and staff reads of cases and evidence. The triggers
-- refuse changes, so not even a bug in the application can rewrite it.
CREATE TABLE audit_log (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id TEXT,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    client_ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_subject ON audit_log (subject_kind, subject_id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
