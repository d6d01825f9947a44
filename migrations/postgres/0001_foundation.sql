-- Foundation schema: spaces, members, the durable raw-message log, threads and messages.
-- Times are unix seconds (BIGINT) so the same queries run on SQLite and PostgreSQL through sqlx Any.

CREATE TABLE spaces (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE members (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    space_id     BIGINT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    handle       TEXT NOT NULL,
    tz           TEXT,
    delivery     TEXT NOT NULL,
    digest_time  TEXT,
    digest_days  TEXT,
    role         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (space_id, email),
    UNIQUE (space_id, handle)
);

-- Every accepted delivery, written and committed before anything else happens.
CREATE TABLE inbound (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    space_id       BIGINT NOT NULL REFERENCES spaces(id),
    dedup_key      TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    raw            BYTEA NOT NULL,
    source         TEXT NOT NULL,
    mail_from      TEXT,
    rcpt_to        TEXT NOT NULL,
    received_at    BIGINT NOT NULL,
    state          TEXT NOT NULL,
    error          TEXT,
    UNIQUE (space_id, dedup_key)
);

CREATE TABLE threads (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    space_id          BIGINT NOT NULL REFERENCES spaces(id),
    subject           TEXT NOT NULL,
    base_subject      TEXT NOT NULL,
    started_at        BIGINT NOT NULL,
    last_activity_at  BIGINT NOT NULL
);
CREATE INDEX threads_by_subject ON threads (space_id, base_subject, last_activity_at);

CREATE TABLE messages (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    space_id      BIGINT NOT NULL REFERENCES spaces(id),
    thread_id     BIGINT NOT NULL REFERENCES threads(id),
    inbound_id    BIGINT NOT NULL REFERENCES inbound(id),
    message_id    TEXT,
    from_addr     TEXT,
    from_name     TEXT,
    subject       TEXT NOT NULL,
    date          BIGINT NOT NULL,
    date_header   BIGINT,
    text_body     TEXT,
    html_body     TEXT,
    visible_text  TEXT NOT NULL,
    flags         TEXT NOT NULL
);
CREATE INDEX messages_by_thread ON messages (thread_id, date, id);
CREATE INDEX messages_by_message_id ON messages (space_id, message_id);

-- The References/In-Reply-To chain of each message, nearest parent first (position 0).
CREATE TABLE message_refs (
    message_id  BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    space_id    BIGINT NOT NULL,
    position    BIGINT NOT NULL,
    ref         TEXT NOT NULL,
    PRIMARY KEY (message_id, position)
);
CREATE INDEX message_refs_by_ref ON message_refs (space_id, ref);

CREATE TABLE attachments (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id    BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    filename      TEXT,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL
);
CREATE INDEX attachments_by_message ON attachments (message_id);

-- Resumable archive imports: how far each file has been read.
CREATE TABLE imports (
    path        TEXT NOT NULL,
    space_id    BIGINT NOT NULL REFERENCES spaces(id),
    file_size   BIGINT NOT NULL,
    offset_done BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (path, space_id)
);
