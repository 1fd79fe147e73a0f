-- Ingest sources (SPEC 9.1): feeds of the organization's own website that
-- herald polls, the items it has seen, and every poll.
CREATE TABLE sources (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    url                  TEXT NOT NULL,
    mode                 TEXT NOT NULL,              -- draft | publish
    language             TEXT NOT NULL DEFAULT '',
    topics               TEXT NOT NULL DEFAULT '[]', -- JSON array of topic slugs
    regions              TEXT NOT NULL DEFAULT '[]', -- JSON array of region slugs
    category_map         TEXT NOT NULL DEFAULT '{}', -- JSON object: feed category -> slug
    interval_ms          INTEGER NOT NULL,
    translation_key_from TEXT NOT NULL DEFAULT 'none', -- none | link
    etag                 TEXT NOT NULL DEFAULT '',   -- of the last answer, for conditional GET
    last_modified        TEXT NOT NULL DEFAULT '',
    next_run_at          INTEGER NOT NULL,           -- also the claim: moved ahead while a poll runs
    failures             INTEGER NOT NULL DEFAULT 0, -- polls failed in a row (backoff)
    last_error           TEXT NOT NULL DEFAULT '',
    last_run_at          INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX sources_due ON sources (next_run_at);

-- source_items: each item seen, by guid (else link), with the release it
-- became and a hash of its content (a changed hash updates the release).
CREATE TABLE source_items (
    source_id  INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    item_key   TEXT NOT NULL,
    release_id INTEGER REFERENCES releases (id) ON DELETE SET NULL,
    hash       TEXT NOT NULL,
    seen_at    INTEGER NOT NULL,
    PRIMARY KEY (source_id, item_key)
);
CREATE INDEX source_items_release ON source_items (release_id);

-- source_runs: every poll, with its counts and error.
CREATE TABLE source_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id   INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    status      TEXT NOT NULL,              -- ok | not_modified | error
    new_items   INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX source_runs_source ON source_runs (source_id, id);
