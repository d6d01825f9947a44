-- The parts a thread-starting message lacks (docs/mail-flow.md "Writing that stands on its own"):
-- one row per missing part ('context', 'ask', 'deadline', 'if_no_response'), in receipt order.
-- Written when the message is stored; the receipt planner reads them.
CREATE TABLE message_nudges (
    message_id  BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    code        TEXT NOT NULL,
    PRIMARY KEY (message_id, position)
);
