-- +goose Up
-- The inbox keeps each accepted event, already redacted, until it is
-- processed: the webhook answers once the event is here, the work follows.
ALTER TABLE inbox
    ADD COLUMN id           BIGSERIAL,
    ADD COLUMN chat_id      TEXT NOT NULL DEFAULT '',
    ADD COLUMN payload      TEXT NOT NULL DEFAULT '',
    ADD COLUMN processed_at TIMESTAMPTZ,
    ADD COLUMN attempts     INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN error        TEXT NOT NULL DEFAULT '';
-- Events recorded before the inbox kept payloads were handled at once.
UPDATE inbox SET processed_at = received_at;
CREATE UNIQUE INDEX inbox_id ON inbox (id);
CREATE INDEX inbox_pending ON inbox (platform, chat_id, id) WHERE processed_at IS NULL;

-- One row per chat the bot talks to: the row that orders the chat's work
-- (enqueuers and the delivery job's last check lock it) and remembers
-- whether the chat can be reached at all.
CREATE TABLE chats (
    platform       TEXT NOT NULL,
    chat_id        TEXT NOT NULL,
    unreachable_at TIMESTAMPTZ,
    reason         TEXT NOT NULL DEFAULT '',
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, chat_id)
);

-- Replies written in the transaction that produced them, sent in id order
-- per chat; a row Telegram or Slack confirmed is never sent again.
CREATE TABLE outbox (
    id          BIGSERIAL PRIMARY KEY,
    platform    TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    -- Whose conversation wrote it, so /forget finds every chat's copy.
    student_id  BIGINT,
    payload     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    parts_sent  INTEGER NOT NULL DEFAULT 0,
    sent_at     TIMESTAMPTZ,
    failed_at   TIMESTAMPTZ,
    error       TEXT NOT NULL DEFAULT '',
    message_ref TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (platform, chat_id, id) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_created_at ON outbox (created_at);
CREATE INDEX outbox_student ON outbox (student_id);

-- Send-rate limits shared by every instance: the theoretical arrival time
-- of the next send (GCRA), in microseconds since the Unix epoch.
CREATE TABLE send_slots (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);

-- Values every instance must agree on, such as a generated webhook secret.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE send_slots;
DROP TABLE outbox;
DROP TABLE chats;
DROP INDEX inbox_pending;
DROP INDEX inbox_id;
ALTER TABLE inbox DROP COLUMN id, DROP COLUMN chat_id, DROP COLUMN payload,
    DROP COLUMN processed_at, DROP COLUMN attempts, DROP COLUMN error;
