-- Web sign-in by magic link: each link's token is kept as its SHA-256 (so a copy of the database
-- signs nobody in), with the address it was mailed to, when it stops working (15 minutes after it
-- was made) and when it was spent (a link works once). The rows also count the links mailed to an
-- address recently, for the rate limit.
CREATE TABLE web_login_tokens (
    token_hash  TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX web_login_tokens_by_email ON web_login_tokens (email, created_at);
