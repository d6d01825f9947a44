-- SMTP/LMTP intake: quarantine reasons, sender notices, mail to the commands address, rate limits.

-- Quarantined deliveries keep state 'quarantined' and the policy's reason code here
-- (the description goes to `error`); `docket quarantine release` processes them normally.
ALTER TABLE inbound ADD COLUMN reason TEXT;
CREATE INDEX inbound_by_sender ON inbound (mail_from, received_at);
CREATE INDEX inbound_by_state ON inbound (state, id);

-- One notice per (recipient, reason) telling a human sender why their mail was not posted;
-- the outbound worker sends it and sets sent_at.
CREATE TABLE notices (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    space_id    BIGINT NOT NULL REFERENCES spaces(id),
    recipient   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    inbound_id  BIGINT REFERENCES inbound(id),
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT,
    UNIQUE (recipient, reason)
);

-- Mail to the commands address (docket@DOMAIN), kept until answered.
CREATE TABLE command_mail (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedup_key    TEXT NOT NULL UNIQUE,
    raw          BYTEA NOT NULL,
    mail_from    TEXT,
    received_at  BIGINT NOT NULL,
    state        TEXT NOT NULL,
    error        TEXT
);
