-- Rows whose address equals an older row's once case is ignored are marked,
-- not merged; every other row's key is unique.
UPDATE subscribers SET email_dup_of = (
    SELECT MIN(o.id) FROM subscribers o WHERE o.email_key = subscribers.email_key)
WHERE EXISTS (SELECT 1 FROM subscribers o WHERE o.email_key = subscribers.email_key AND o.id < subscribers.id);
CREATE UNIQUE INDEX subscribers_address_key ON subscribers (email_key) WHERE email_dup_of IS NULL;
DROP INDEX subscribers_address_key_all;
-- The subject of each message sent, so that a subscriber's data download
-- can list every message with date, kind and subject (SPEC 11).
ALTER TABLE outbox ADD COLUMN subject TEXT NOT NULL DEFAULT '';
-- Proof-of-work challenges already solved (SPEC 11): a solution is taken
-- once, by whichever instance sees it first; rows go once expired.
CREATE TABLE pow_used (
    challenge  TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX pow_used_expires ON pow_used (expires_at);
