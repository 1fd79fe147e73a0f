-- Staff accounts, their set-password links and personal API tokens (SPEC 7.1, 7.2).

-- staff are the people of the console and the API. email_key is the
-- address in lower case: addresses are unique whatever their case.
-- epoch grows when a member is disabled or changes password: a session
-- made before then (it carries the epoch) no longer counts.
CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT NOT NULL DEFAULT '',
    epoch         INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_login_at INTEGER
);

-- staff_links are set-password links (invitations and resets): only the
-- SHA-256 of the link's token is kept; a link works once, until expires_at.
CREATE TABLE staff_links (
    token_hash TEXT PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES staff(id),
    purpose    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX staff_links_staff ON staff_links(staff_id);

-- api_tokens are personal API tokens: the SHA-256 of the secret, the role
-- they were made with (at most their maker's), and their maker (NULL: the
-- admin token made it).
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    staff_id     INTEGER REFERENCES staff(id),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_staff ON api_tokens(staff_id);
