-- Outbound mail (SPEC §3): a durable queue sent exactly once per key, the cursor of messages
-- already fanned out, digest bookkeeping, mutes, and the answered state of sender notices.

-- One row per mail to send. `dedup_key` is (kind, recipient, item, period): planners may run any
-- number of times, the same mail is queued once. state: queued → sent | failed.
CREATE TABLE outbound (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key        TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    space_id         BIGINT,
    recipient        TEXT NOT NULL,
    mail_from        TEXT NOT NULL,
    raw              BLOB NOT NULL,
    state            TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    claimed_at       BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE INDEX outbound_due ON outbound (state, next_attempt_at);
CREATE INDEX outbound_sent ON outbound (sent_at);

-- Messages whose fan-out and receipt are planned (queued in the same transaction), and a floor
-- below which every message is settled. The floor starts after the messages stored before this
-- migration: history is not re-sent. It only moves past messages stored a while ago, so a
-- message committed late by a concurrent writer (ids are not commit-ordered on PostgreSQL) is
-- still picked up.
CREATE TABLE outbound_messages (
    message_id  BIGINT PRIMARY KEY
);
CREATE TABLE outbound_cursors (
    name   TEXT PRIMARY KEY,
    value  BIGINT NOT NULL
);
INSERT INTO outbound_cursors (name, value) SELECT 'messages', COALESCE(MAX(id), 0) FROM messages;

-- The last digest slot considered per member (sent, or skipped because nothing was new), and
-- when it was built: the next digest tells what became known after that.
CREATE TABLE digest_state (
    member_id  BIGINT PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
    last_slot  BIGINT NOT NULL,
    last_at    BIGINT NOT NULL
);

-- Mutes: thread_id > 0 mutes one thread, 0 the whole space (no fan-out copies), -1 unsubscribes
-- from every mail of the space.
CREATE TABLE mutes (
    member_id  BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    thread_id  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (member_id, thread_id)
);
