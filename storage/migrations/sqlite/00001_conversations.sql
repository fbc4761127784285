-- +goose Up
CREATE TABLE students (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at DATETIME NOT NULL
);

-- A person on one platform; several identities may later share a student.
CREATE TABLE identities (
    platform         TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    student_id       INTEGER NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    chat_id          TEXT NOT NULL DEFAULT '',
    display_name     TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    PRIMARY KEY (platform, platform_user_id)
);
CREATE INDEX identities_student_id ON identities (student_id);

-- One row per student, created with the student: the row every message locks.
CREATE TABLE conversations (
    student_id INTEGER PRIMARY KEY REFERENCES students (id) ON DELETE CASCADE,
    node       TEXT NOT NULL DEFAULT '',
    shown      TEXT NOT NULL DEFAULT '',
    lang       TEXT NOT NULL DEFAULT '',
    updated_at DATETIME NOT NULL
);

CREATE TABLE account_progress (
    student_id INTEGER NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    account    TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('not_started', 'waiting', 'done', 'problem')),
    wait_until DATETIME,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (student_id, account)
);
CREATE INDEX account_progress_status ON account_progress (account, status);

-- Redacted before it is written: no secret a student typed ever lands here.
CREATE TABLE transcript (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id INTEGER NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    direction  TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    body       TEXT NOT NULL,
    intent     TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);
CREATE INDEX transcript_student ON transcript (student_id, id);
CREATE INDEX transcript_created_at ON transcript (created_at);

-- Platform event ids already accepted, so a redelivery is dropped.
CREATE TABLE inbox (
    platform    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    received_at DATETIME NOT NULL,
    PRIMARY KEY (platform, event_id)
);
CREATE INDEX inbox_received_at ON inbox (received_at);

-- +goose Down
DROP TABLE inbox;
DROP TABLE transcript;
DROP TABLE account_progress;
DROP TABLE conversations;
DROP TABLE identities;
DROP TABLE students;
