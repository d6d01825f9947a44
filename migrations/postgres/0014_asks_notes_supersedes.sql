-- Meeting notes (N-n), asks with a default (A-n), and decisions that supersede others
-- (docs/tags.md). Items a set of notes created point at it through notes_id.
CREATE TABLE notes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    space_id    BIGINT NOT NULL REFERENCES spaces(id),
    thread_id   BIGINT NOT NULL,
    message_id  BIGINT REFERENCES messages(id),
    title       TEXT NOT NULL,
    author      TEXT,
    created_at  BIGINT NOT NULL,
    goal_id     BIGINT REFERENCES goals(id)
);
CREATE INDEX notes_by_space ON notes (space_id, created_at);

-- An ask is open until an asked member (anyone but the asker when nobody is named) replies in its
-- thread (answered), or its closing time passes: then its default becomes decision_id
-- (defaulted), or, without a default, the asker is told (expired).
CREATE TABLE asks (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    space_id        BIGINT NOT NULL REFERENCES spaces(id),
    thread_id       BIGINT NOT NULL,
    message_id      BIGINT REFERENCES messages(id),
    text            TEXT NOT NULL,
    asked_by        TEXT,
    created_at      BIGINT NOT NULL,
    closes_at       BIGINT,
    default_action  TEXT,
    status          TEXT NOT NULL,
    answered_by     TEXT,
    answered_at     BIGINT,
    decision_id     BIGINT REFERENCES decisions(id),
    goal_id         BIGINT REFERENCES goals(id),
    notes_id        BIGINT REFERENCES notes(id)
);
CREATE INDEX asks_by_status ON asks (status, closes_at);
CREATE INDEX asks_by_thread ON asks (thread_id);

-- The members an ask names (none: the whole space).
CREATE TABLE ask_members (
    ask_id  BIGINT NOT NULL REFERENCES asks(id),
    email   TEXT NOT NULL,
    PRIMARY KEY (ask_id, email)
);

ALTER TABLE decisions ADD COLUMN status TEXT NOT NULL DEFAULT 'standing';
ALTER TABLE decisions ADD COLUMN supersedes_id BIGINT REFERENCES decisions(id);
ALTER TABLE decisions ADD COLUMN notes_id BIGINT REFERENCES notes(id);
ALTER TABLE decisions ADD COLUMN ask_id BIGINT REFERENCES asks(id);
ALTER TABLE tasks ADD COLUMN notes_id BIGINT REFERENCES notes(id);
ALTER TABLE proposals ADD COLUMN notes_id BIGINT REFERENCES notes(id);
