-- +goose Up
-- The inbox keeps each accepted event, already redacted, until it is
-- processed: the webhook answers once the event is here, the work follows.
-- SQLite cannot add an autoincrement column, so the table is rebuilt.
CREATE TABLE inbox_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    platform     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    chat_id      TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL DEFAULT '',
    received_at  DATETIME NOT NULL,
    processed_at DATETIME,
    attempts     INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    UNIQUE (platform, event_id)
);
-- Events recorded before the inbox kept payloads were handled at once.
INSERT INTO inbox_new (platform, event_id, received_at, processed_at)
    SELECT platform, event_id, received_at, received_at FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_new RENAME TO inbox;
CREATE INDEX inbox_received_at ON inbox (received_at);
CREATE INDEX inbox_pending ON inbox (platform, chat_id, id) WHERE processed_at IS NULL;

-- One row per chat the bot talks to: the row that orders the chat's work
-- and remembers whether the chat can be reached at all.
CREATE TABLE chats (
    platform       TEXT NOT NULL,
    chat_id        TEXT NOT NULL,
    unreachable_at DATETIME,
    reason         TEXT NOT NULL DEFAULT '',
    updated_at     DATETIME NOT NULL,
    PRIMARY KEY (platform, chat_id)
);

-- Replies written in the transaction that produced them, sent in id order
-- per chat; a row the platform confirmed is never sent again.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    platform    TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    -- Whose conversation wrote it, so /forget finds every chat's copy.
    student_id  INTEGER,
    payload     TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    parts_sent  INTEGER NOT NULL DEFAULT 0,
    sent_at     DATETIME,
    failed_at   DATETIME,
    error       TEXT NOT NULL DEFAULT '',
    message_ref TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (platform, chat_id, id) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_created_at ON outbox (created_at);
CREATE INDEX outbox_student ON outbox (student_id);

-- Send-rate limits: the theoretical arrival time of the next send (GCRA),
-- in microseconds since the Unix epoch.
CREATE TABLE send_slots (
    key TEXT PRIMARY KEY,
    tat INTEGER NOT NULL
);

-- Values every process must agree on, such as a generated webhook secret.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE send_slots;
DROP TABLE outbox;
DROP TABLE chats;
CREATE TABLE inbox_old (
    platform    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    received_at DATETIME NOT NULL,
    PRIMARY KEY (platform, event_id)
);
INSERT INTO inbox_old SELECT platform, event_id, received_at FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_old RENAME TO inbox;
CREATE INDEX inbox_received_at ON inbox (received_at);
