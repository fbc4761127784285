-- +goose Up
-- The web chat's mailbox: what a web student said and what the bot sent
-- them, in order, so the page shows the conversation on every device and a
-- live page picks up what arrives later (a reminder, a helpdesk answer).
CREATE TABLE web_messages (
    id         BIGSERIAL PRIMARY KEY,
    chat_id    TEXT NOT NULL,
    direction  TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    event_id   TEXT,
    -- The outbox row a message of the bot's delivers: a delivery retried
    -- after a crash shows once.
    outbox_id  BIGINT,
    body       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_messages_chat ON web_messages (chat_id, id);
CREATE UNIQUE INDEX web_messages_event ON web_messages (chat_id, event_id);
CREATE UNIQUE INDEX web_messages_outbox ON web_messages (outbox_id);
CREATE INDEX web_messages_created_at ON web_messages (created_at);

-- People of the admin console: helpdesk agents and admins.
CREATE TABLE console_users (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('agent', 'admin')),
    password_hash TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL
);

-- One-time tokens, stored as hashes: a link to set a console user's
-- password, or to continue a web chat on another device.
CREATE TABLE one_time_tokens (
    hash       TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('password', 'first_admin', 'handoff')),
    subject    TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);

-- Console sessions, stored as hashes of the cookie's id so that a session
-- ends on logout and expiry everywhere at once.
CREATE TABLE console_sessions (
    hash       TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

-- The funnel's first "done" per student and account, on every console view.
CREATE INDEX progress_events_first ON progress_events (kind, status, student_id, account, id);

-- +goose Down
DROP INDEX progress_events_first;
DROP TABLE console_sessions;
DROP TABLE one_time_tokens;
DROP TABLE console_users;
DROP TABLE web_messages;
