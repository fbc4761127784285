-- +goose Up
-- Proactive messages: whether the student wants them (/stop, /start),
-- since when they are at their step (a nudge is for a step they are stuck
-- on), and how many nudges they had in all.
ALTER TABLE conversations ADD COLUMN opted_out_at TIMESTAMPTZ;
ALTER TABLE conversations ADD COLUMN node_since TIMESTAMPTZ;
ALTER TABLE conversations ADD COLUMN nudges INTEGER NOT NULL DEFAULT 0;
-- The broadcast an admin is composing in a private chat (JSON), if any.
ALTER TABLE conversations ADD COLUMN admin_draft TEXT NOT NULL DEFAULT '';

-- What happened, for the funnel: every step a student reached and every
-- change of an account's status, so each figure is a query, not a counter.
CREATE TABLE progress_events (
    id         BIGSERIAL PRIMARY KEY,
    student_id BIGINT NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('step', 'account')),
    node       TEXT NOT NULL DEFAULT '',
    account    TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX progress_events_student ON progress_events (student_id, id);
CREATE INDEX progress_events_created_at ON progress_events (created_at);
-- Students from before the funnel: where they are now, and since when, is
-- what is known of them.
INSERT INTO progress_events (student_id, kind, node, created_at)
    SELECT student_id, 'step', node, updated_at FROM conversations WHERE node <> '';
INSERT INTO progress_events (student_id, kind, account, status, created_at)
    SELECT student_id, 'account', account, status, updated_at FROM account_progress WHERE status <> 'not_started';
UPDATE conversations SET node_since = updated_at;

-- A message an admin sends to a segment of students, now or later.
CREATE TABLE broadcasts (
    id           BIGSERIAL PRIMARY KEY,
    segment      TEXT NOT NULL,
    texts        TEXT NOT NULL,
    button       BOOLEAN NOT NULL DEFAULT FALSE,
    status       TEXT NOT NULL CHECK (status IN ('scheduled', 'sending', 'sent', 'cancelled')),
    send_at      TIMESTAMPTZ NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- One row per proactive message to a student: a reminder, a nudge or a
-- broadcast's copy. A broadcast has at most one per student (exactly once
-- per recipient); the status follows the outbox row that carries it.
CREATE TABLE proactive_sends (
    id           BIGSERIAL PRIMARY KEY,
    student_id   BIGINT NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('reminder', 'nudge', 'broadcast')),
    broadcast_id BIGINT REFERENCES broadcasts (id) ON DELETE CASCADE,
    platform     TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    lang         TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL CHECK (status IN ('pending', 'queued', 'sent', 'failed', 'skipped')),
    reason       TEXT NOT NULL DEFAULT '',
    outbox_id    BIGINT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX proactive_sends_recipient ON proactive_sends (broadcast_id, student_id);
CREATE INDEX proactive_sends_pending ON proactive_sends (broadcast_id, status, id);
CREATE INDEX proactive_sends_outbox ON proactive_sends (outbox_id);
CREATE INDEX proactive_sends_student ON proactive_sends (student_id, created_at);

-- Who did what and when: broadcasts, erasures, ticket actions, logins.
-- It says that something happened, never what was erased.
CREATE TABLE audit_log (
    id         BIGSERIAL PRIMARY KEY,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_created_at ON audit_log (created_at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE proactive_sends;
DROP TABLE broadcasts;
DROP TABLE progress_events;
ALTER TABLE conversations DROP COLUMN admin_draft;
ALTER TABLE conversations DROP COLUMN nudges;
ALTER TABLE conversations DROP COLUMN node_since;
ALTER TABLE conversations DROP COLUMN opted_out_at;
