-- herald schema, version 1.
-- Times are INTEGER Unix milliseconds (UTC). Lists of slugs on subscribers are
-- stored as comma-separated, sorted text; releases use join tables because
-- feeds and the admin list filter on them.

CREATE TABLE topics (
    slug       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    names      TEXT NOT NULL DEFAULT '{}',   -- JSON object: language -> name
    position   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE regions (
    slug       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    names      TEXT NOT NULL DEFAULT '{}',
    parent     TEXT NOT NULL DEFAULT '',     -- '' for a top-level region
    position   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE releases (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    guid            TEXT NOT NULL UNIQUE,    -- urn:uuid:..., the feed item id; never changes
    slug            TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    summary         TEXT NOT NULL,
    summary_derived INTEGER NOT NULL DEFAULT 0, -- 1 when summary came from the body
    body            TEXT NOT NULL,           -- as submitted
    body_format     TEXT NOT NULL,           -- markdown | html
    body_html       TEXT NOT NULL,           -- rendered and sanitized
    url             TEXT NOT NULL DEFAULT '',-- '' means herald's own page
    dateline        TEXT NOT NULL DEFAULT '',
    language        TEXT NOT NULL,
    translation_key TEXT NOT NULL DEFAULT '',
    contacts        TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL,           -- draft | published
    published_at    INTEGER NOT NULL,
    live_at         INTEGER,                 -- when it went live; set once, never cleared
    auto_alert_at   INTEGER,                 -- when the automatic alert fan-out finished
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX releases_published ON releases (published_at DESC, id DESC);
CREATE INDEX releases_translation ON releases (translation_key) WHERE translation_key <> '';
CREATE INDEX releases_pending_live ON releases (published_at) WHERE live_at IS NULL;

CREATE TABLE release_topics (
    release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    topic      TEXT NOT NULL REFERENCES topics (slug),
    PRIMARY KEY (release_id, topic)
);
CREATE INDEX release_topics_topic ON release_topics (topic);

CREATE TABLE release_regions (
    release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    region     TEXT NOT NULL REFERENCES regions (slug),
    PRIMARY KEY (release_id, region)
);
CREATE INDEX release_regions_region ON release_regions (region);

-- versions counts changes that invalidate caches held by a running daemon
-- (feeds, taxonomy). Triggers bump it so that writes from the CLI, in another
-- process, are seen too.
CREATE TABLE versions (
    name    TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
INSERT INTO versions (name, version) VALUES ('releases', 1), ('taxonomy', 1);

CREATE TRIGGER releases_ins AFTER INSERT ON releases BEGIN
    UPDATE versions SET version = version + 1 WHERE name = 'releases';
END;
CREATE TRIGGER releases_upd AFTER UPDATE ON releases BEGIN
    UPDATE versions SET version = version + 1 WHERE name = 'releases';
END;
CREATE TRIGGER releases_del AFTER DELETE ON releases BEGIN
    UPDATE versions SET version = version + 1 WHERE name = 'releases';
END;
CREATE TRIGGER topics_ins AFTER INSERT ON topics BEGIN
    UPDATE versions SET version = version + 1 WHERE name IN ('taxonomy', 'releases');
END;
CREATE TRIGGER regions_ins AFTER INSERT ON regions BEGIN
    UPDATE versions SET version = version + 1 WHERE name IN ('taxonomy', 'releases');
END;

CREATE TABLE subscribers (
    id              INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: tokens name it
    email           TEXT NOT NULL UNIQUE,              -- normalized
    status          TEXT NOT NULL,                     -- pending | active | unsubscribed | bounced
    topics          TEXT NOT NULL DEFAULT '',          -- sorted, comma-separated; '' = all
    regions         TEXT NOT NULL DEFAULT '',
    language        TEXT NOT NULL DEFAULT 'en',
    cadence         TEXT NOT NULL DEFAULT 'daily',     -- immediate | daily | weekly
    timezone        TEXT NOT NULL DEFAULT 'UTC',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    confirmed_at    INTEGER,
    unsubscribed_at INTEGER,
    bounced_at      INTEGER,
    consent_at      INTEGER,
    consent_ip      TEXT NOT NULL DEFAULT '',
    consent_page    TEXT NOT NULL DEFAULT '',
    consent_prefs   TEXT NOT NULL DEFAULT '',          -- JSON of the preferences consented to
    notice_at       INTEGER,                           -- last confirm/manage mail queued
    notice_seq      INTEGER NOT NULL DEFAULT 0,
    digest_since    INTEGER,                           -- digest watermark: releases after this are due
    digest_period   INTEGER                            -- last scheduled digest period handled
);
CREATE INDEX subscribers_fanout ON subscribers (status, cadence, id);

-- suppressions holds a SHA-256 of erased addresses: subscribe and import refuse them.
CREATE TABLE suppressions (
    email_hash TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    release_id  INTEGER NOT NULL,          -- kept when the release is deleted, for history
    audience    TEXT NOT NULL,             -- matching | immediate
    origin      TEXT NOT NULL,             -- auto | staff | test
    test_to     TEXT NOT NULL DEFAULT '',
    recipients  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    queued_at   INTEGER,                   -- fan-out finished
    finished_at INTEGER                    -- every message sent, failed or dropped
);
CREATE INDEX alerts_release ON alerts (release_id);

CREATE TABLE digest_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    cadence     TEXT NOT NULL,
    origin      TEXT NOT NULL,             -- schedule | staff
    run_at      INTEGER NOT NULL,
    recipients  INTEGER NOT NULL DEFAULT 0,
    finished_at INTEGER
);

-- outbox is the durable mail queue (SPEC 5.4). A row names what to send; the
-- mailer renders it when sending, so shared parts are rendered once.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    idem_key        TEXT NOT NULL UNIQUE,  -- queuing the same key twice is a no-op
    kind            TEXT NOT NULL,         -- confirm | manage | alert | digest
    subscriber_id   INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    to_addr         TEXT NOT NULL DEFAULT '', -- only for sends to no subscriber (test copies)
    release_id      INTEGER,
    alert_id        INTEGER,
    digest_run_id   INTEGER,
    payload         TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'queued', -- queued | sending | sent | failed | expired | cancelled
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    expires_at      INTEGER,               -- alerts: dropped as stale after this
    last_error      TEXT NOT NULL DEFAULT '',
    message_id      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_subscriber ON outbox (subscriber_id);
CREATE INDEX outbox_alert ON outbox (alert_id, state) WHERE alert_id IS NOT NULL;
CREATE INDEX outbox_digest_run ON outbox (digest_run_id, state) WHERE digest_run_id IS NOT NULL;
CREATE INDEX outbox_release ON outbox (release_id) WHERE release_id IS NOT NULL;
