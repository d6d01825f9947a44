-- Items recorded from tags (SPEC §2): goals, decisions, tasks, proposals, objections, the links
-- between them, and a history of every change (who, from which message, when).

CREATE TABLE goals (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    space_id    BIGINT NOT NULL REFERENCES spaces(id),
    slug        TEXT NOT NULL,
    title       TEXT,
    created_at  BIGINT NOT NULL,
    UNIQUE (space_id, slug)
);

CREATE TABLE decisions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    space_id     BIGINT NOT NULL REFERENCES spaces(id),
    thread_id    BIGINT NOT NULL,
    message_id   BIGINT REFERENCES messages(id),
    text         TEXT NOT NULL,
    author       TEXT,
    decided_at   BIGINT NOT NULL,
    goal_id      BIGINT REFERENCES goals(id),
    source       TEXT NOT NULL,
    proposal_id  BIGINT
);
CREATE INDEX decisions_by_thread ON decisions (thread_id);

CREATE TABLE tasks (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    space_id    BIGINT NOT NULL REFERENCES spaces(id),
    thread_id   BIGINT NOT NULL,
    message_id  BIGINT REFERENCES messages(id),
    title       TEXT NOT NULL,
    owner       TEXT,
    watchers    TEXT NOT NULL,
    due         BIGINT,
    due_text    TEXT,
    status      TEXT NOT NULL,
    created_by  TEXT,
    created_at  BIGINT NOT NULL,
    done_at     BIGINT,
    goal_id     BIGINT REFERENCES goals(id)
);
CREATE INDEX tasks_by_thread ON tasks (thread_id);
CREATE INDEX tasks_by_owner ON tasks (owner, status);

CREATE TABLE proposals (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    space_id     BIGINT NOT NULL REFERENCES spaces(id),
    thread_id    BIGINT NOT NULL,
    message_id   BIGINT REFERENCES messages(id),
    text         TEXT NOT NULL,
    author       TEXT,
    created_at   BIGINT NOT NULL,
    closes_at    BIGINT,
    status       TEXT NOT NULL,
    decision_id  BIGINT,
    goal_id      BIGINT REFERENCES goals(id)
);
CREATE INDEX proposals_by_status ON proposals (status, closes_at);

CREATE TABLE objections (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    proposal_id  BIGINT NOT NULL REFERENCES proposals(id),
    by_addr      TEXT,
    at           BIGINT NOT NULL,
    text         TEXT NOT NULL,
    message_id   BIGINT REFERENCES messages(id)
);
CREATE INDEX objections_by_proposal ON objections (proposal_id);

-- Undirected links: items created in one message, and explicit T-n / D-n / P-n references.
CREATE TABLE item_links (
    a_kind  TEXT NOT NULL,
    a_id    BIGINT NOT NULL,
    b_kind  TEXT NOT NULL,
    b_id    BIGINT NOT NULL,
    PRIMARY KEY (a_kind, a_id, b_kind, b_id)
);

CREATE TABLE item_history (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT NOT NULL,
    item_id     BIGINT NOT NULL,
    field       TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    by_addr     TEXT,
    message_id  BIGINT,
    at          BIGINT NOT NULL
);
CREATE INDEX item_history_by_item ON item_history (kind, item_id);

-- What tag parsing warned about, per message (shown in receipts and `docket thread`).
CREATE TABLE message_warnings (
    message_id  BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    text        TEXT NOT NULL,
    PRIMARY KEY (message_id, position)
);
