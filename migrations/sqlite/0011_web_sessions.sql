-- Web sign-in: sessions keyed by the SHA-256 of their cookie token (so several nodes share them and
-- a copy of the database signs nobody in), each with the CSRF token its forms carry.
CREATE TABLE web_sessions (
    token_hash  TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
