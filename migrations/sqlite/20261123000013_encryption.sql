-- Encryption at rest (envelope encryption): a random data key per draft and case, stored only
-- wrapped (XChaCha20-Poly1305) by a deployment key, with that key's id so rotation can find
-- what to re-wrap. A case takes over its draft's key; a document records the key its file was
-- encrypted with, so evidence reused in a later application stays readable. No foreign keys:
-- retention deletes a data key itself, once nothing refers to it any more.
CREATE TABLE data_keys (
    id TEXT PRIMARY KEY NOT NULL,
    kek_id TEXT NOT NULL,
    wrapped TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX data_keys_kek ON data_keys (kek_id);

ALTER TABLE drafts ADD COLUMN data_key_id TEXT;
ALTER TABLE cases ADD COLUMN data_key_id TEXT;
ALTER TABLE documents ADD COLUMN data_key_id TEXT;
CREATE INDEX cases_data_key ON cases (data_key_id);
CREATE INDEX drafts_data_key ON drafts (data_key_id);
CREATE INDEX documents_data_key ON documents (data_key_id);
