-- Integrations (SPEC 9.2, 9.3): events, outgoing webhooks and the WebSub hub.

-- events are what happened (a release went live, a subscriber confirmed...),
-- recorded in the same transaction as the change. Two fan-outs read them:
-- webhooks (hooked_at) and WebSub (pushed_at; set at once for events that
-- change no feed).
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    uid        TEXT NOT NULL UNIQUE,   -- the webhook-id of its messages (msg_<uid>)
    type       TEXT NOT NULL,          -- release.published, subscriber.confirmed, ...
    data       TEXT NOT NULL,          -- JSON object
    created_at INTEGER NOT NULL,
    hooked_at  INTEGER,
    pushed_at  INTEGER
);
CREATE INDEX events_unhooked ON events (id) WHERE hooked_at IS NULL;
CREATE INDEX events_unpushed ON events (id) WHERE pushed_at IS NULL;

-- webhooks are the receivers staff registered (Standard Webhooks).
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,         -- ",release.published,alert.finished," (leading and trailing commas)
    secret      TEXT NOT NULL,         -- whsec_<base64>
    description TEXT NOT NULL DEFAULT '',
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- webhook_deliveries: one event for one webhook, retried until delivered
-- (any 2xx) or expired (24 h); the durable queue of webhook posts.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL,
    msg_id          TEXT NOT NULL,          -- webhook-id header, the same on every attempt
    type            TEXT NOT NULL,
    body            TEXT NOT NULL,          -- {"type","timestamp","data"}, the same on every attempt
    state           TEXT NOT NULL DEFAULT 'queued', -- queued | sending | delivered | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    expires_at      INTEGER NOT NULL,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);

-- webhook_attempts lists every post made, with its outcome.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0,  -- HTTP status, 0 when none came
    error       TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- websub_subscriptions are verified WebSub subscriptions to one exact
-- topic URL, until their lease expires.
CREATE TABLE websub_subscriptions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    topic         TEXT NOT NULL,
    callback      TEXT NOT NULL,
    secret        TEXT NOT NULL DEFAULT '',
    lease_seconds INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (topic, callback)
);
CREATE INDEX websub_subscriptions_expiry ON websub_subscriptions (expires_at);

-- websub_jobs is the hub's durable queue: intent verifications (verify),
-- content distribution (content; at most one queued per subscription: the
-- feed is rendered when sent, so later changes ride along) and pings of
-- external hubs (publish).
CREATE TABLE websub_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,          -- verify | content | publish
    subscription_id INTEGER REFERENCES websub_subscriptions (id) ON DELETE CASCADE,
    topic           TEXT NOT NULL,
    callback        TEXT NOT NULL DEFAULT '', -- verify: the callback; publish: the hub
    mode            TEXT NOT NULL DEFAULT '', -- verify: subscribe | unsubscribe
    secret          TEXT NOT NULL DEFAULT '',
    lease_seconds   INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL DEFAULT 'queued', -- queued | sending | done | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    expires_at      INTEGER NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX websub_jobs_due ON websub_jobs (state, next_attempt_at);
CREATE UNIQUE INDEX websub_jobs_one_content ON websub_jobs (subscription_id) WHERE kind = 'content' AND state = 'queued';
