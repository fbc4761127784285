-- +goose Up
-- Linked identities: one student, several platform accounts. Messages the
-- bot sends on its own go to one of them: the one the student chose
-- (/link prefer), else the one they wrote from last.
ALTER TABLE identities ADD COLUMN last_seen_at DATETIME;
ALTER TABLE identities ADD COLUMN preferred BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE identities SET last_seen_at = created_at;

-- One-time link codes, stored as hashes; they go with the identity that
-- asked for them.
CREATE TABLE link_codes (
    code_hash        TEXT PRIMARY KEY,
    platform         TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    created_at       DATETIME NOT NULL,
    expires_at       DATETIME NOT NULL,
    used_at          DATETIME,
    FOREIGN KEY (platform, platform_user_id) REFERENCES identities (platform, platform_user_id) ON DELETE CASCADE
);
CREATE INDEX link_codes_issuer ON link_codes (platform, platform_user_id);
CREATE INDEX link_codes_expires_at ON link_codes (expires_at);

-- Wrong codes typed, per identity, for the limit on guessing.
CREATE TABLE link_failures (
    platform         TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    created_at       DATETIME NOT NULL
);
CREATE INDEX link_failures_identity ON link_failures (platform, platform_user_id, created_at);

-- +goose Down
DROP TABLE link_failures;
DROP TABLE link_codes;
ALTER TABLE identities DROP COLUMN preferred;
ALTER TABLE identities DROP COLUMN last_seen_at;
