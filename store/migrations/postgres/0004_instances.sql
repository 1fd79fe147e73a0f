-- Several instances (SPEC 6): what they share lives here, not in a process.

-- settings holds values every instance must agree on: the link secret and
-- the generated admin token (when HERALD_ADMIN_TOKEN is not set).
CREATE TABLE settings (
    name       TEXT COLLATE "C" PRIMARY KEY,
    value      TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);

-- leases are named leader leases: one holder at a time, until a time.
CREATE TABLE leases (
    name        TEXT COLLATE "C" PRIMARY KEY,
    holder      TEXT COLLATE "C" NOT NULL,
    until       BIGINT NOT NULL,
    acquired_at BIGINT NOT NULL
);

-- instances are the running `herald serve` processes, by heartbeat.
CREATE TABLE instances (
    id             TEXT COLLATE "C" PRIMARY KEY,
    host           TEXT COLLATE "C" NOT NULL,
    pid            BIGINT NOT NULL,
    version        TEXT COLLATE "C" NOT NULL,
    schema_version BIGINT NOT NULL,
    started_at     BIGINT NOT NULL,
    seen_at        BIGINT NOT NULL
);

-- rate_limits are shared counters (GCRA: tat is the theoretical arrival
-- time of the next request), for login and subscribe limits per client IP.
CREATE TABLE rate_limits (
    key TEXT COLLATE "C" PRIMARY KEY,
    tat BIGINT NOT NULL
);

-- session_revocations are console sessions ended by logout before they
-- expire (the session cookie itself is signed and holds no state).
CREATE TABLE session_revocations (
    id    TEXT COLLATE "C" PRIMARY KEY,
    until BIGINT NOT NULL
);
