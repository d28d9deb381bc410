-- Evidence files: stored once per citizen (and reusable in later applications), frozen into a
-- case when it is submitted. Files live in the storage backend under random keys.
CREATE TABLE documents (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    storage_key TEXT NOT NULL UNIQUE,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX documents_user ON documents (user_id, created_at);

CREATE TABLE case_documents (
    case_id TEXT NOT NULL REFERENCES cases (id),
    document_id TEXT NOT NULL REFERENCES documents (id),
    field_id TEXT NOT NULL,
    PRIMARY KEY (case_id, document_id, field_id)
);
