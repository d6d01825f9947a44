-- Generated mail that could not be rendered (a template or an address lettre refuses). The
-- planner that made it has moved on (the message is planned, the digest slot considered), so
-- the mail waits here, under the dedup key its outbound row will have, with what it says as JSON
-- (`plan`). Every outbound run renders it again; once that works the mail is queued and the row
-- deleted in one transaction. `docket check` lists the rows and exits 1 while any exist.
CREATE TABLE unrendered (
    dedup_key   TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    space_id    BIGINT,
    recipient   TEXT NOT NULL,
    plan        TEXT NOT NULL,
    error       TEXT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    failed_at   BIGINT NOT NULL
);
