-- Several instances (SPEC 6): what they share lives here, not in a process.

-- settings holds values every instance must agree on: the link secret and
-- the generated admin token (when HERALD_ADMIN_TOKEN is not set).
CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- leases are named leader leases: one holder at a time, until a time.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    until       INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL
);

-- instances are the running `herald serve` processes, by heartbeat.
CREATE TABLE instances (
    id             TEXT PRIMARY KEY,
    host           TEXT NOT NULL,
    pid            INTEGER NOT NULL,
    version        TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    started_at     INTEGER NOT NULL,
    seen_at        INTEGER NOT NULL
);

-- rate_limits are shared counters (GCRA: tat is the theoretical arrival
-- time of the next request), for login and subscribe limits per client IP.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat INTEGER NOT NULL
);

-- session_revocations are console sessions ended by logout before they
-- expire (the session cookie itself is signed and holds no state).
CREATE TABLE session_revocations (
    id    TEXT PRIMARY KEY,
    until INTEGER NOT NULL
);
