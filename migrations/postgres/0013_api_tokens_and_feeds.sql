-- The JSON API's bearer tokens and the per-member feed keys.
-- A token is shown once when created; only its SHA-256 (hex) is kept, so a copy of the database
-- opens nothing. It acts as the member `email` (what they see is decided per request from their
-- memberships). `last_used_at` is refreshed at most once a minute.
CREATE TABLE api_tokens (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL,
    label         TEXT,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX api_tokens_by_email ON api_tokens (email);

-- Feed keys are derived (HMAC of the server secret, the address and `generation`), so
-- `docket member feeds` can print them again; rotating bumps `generation`, and the old URLs stop
-- working. `key_hash` (SHA-256 of the current key) finds the member from a feed URL.
CREATE TABLE feed_keys (
    email       TEXT PRIMARY KEY,
    generation  BIGINT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    updated_at  BIGINT NOT NULL
);
