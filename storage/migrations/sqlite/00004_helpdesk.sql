-- +goose Up
-- What a conversation waits for: the category of a problem being
-- reported (the next text is its description), or the ticket the
-- student's next texts go to.
ALTER TABLE conversations ADD COLUMN report TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN reply_ticket INTEGER NOT NULL DEFAULT 0;

-- A problem a student reported; its id is the number the student and the
-- helpdesk see (#N). Everything in it was redacted before it was written.
CREATE TABLE tickets (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id       INTEGER NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    platform         TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    chat_id          TEXT NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    handle           TEXT NOT NULL DEFAULT '',
    lang             TEXT NOT NULL DEFAULT '',
    node             TEXT NOT NULL DEFAULT '',
    category         TEXT NOT NULL,
    description      TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'resolved')),
    claimed_by       TEXT NOT NULL DEFAULT '',
    claimed_name     TEXT NOT NULL DEFAULT '',
    context          TEXT NOT NULL DEFAULT '{}',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    resolved_at      DATETIME,
    -- When the helpdesk was last told about it while unclaimed.
    announced_at     DATETIME NOT NULL
);
CREATE INDEX tickets_student ON tickets (student_id, status);
CREATE INDEX tickets_status ON tickets (status, announced_at);

-- Messages relayed between the student and the helpdesk, in order.
CREATE TABLE ticket_messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    sender     TEXT NOT NULL CHECK (sender IN ('student', 'agent')),
    author     TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);

-- The platform's ids of the messages posted for a ticket in a helpdesk
-- chat: the post itself (edited when the ticket changes) and its thread
-- messages, so a reply to any of them finds the ticket.
CREATE TABLE ticket_posts (
    platform   TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    ref        TEXT NOT NULL,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (platform, chat_id, ref)
);
CREATE INDEX ticket_posts_ticket ON ticket_posts (ticket_id, platform, chat_id, kind);

-- +goose Down
DROP TABLE ticket_posts;
DROP TABLE ticket_messages;
DROP TABLE tickets;
ALTER TABLE conversations DROP COLUMN reply_ticket;
ALTER TABLE conversations DROP COLUMN report;
