-- Cheaper writes for a fan-out of a million messages (SPEC 13).
-- The outbox's foreign key to subscribers ran a lookup and a row lock
-- (FOR KEY SHARE) on the subscriber for every queued message: a million
-- locks written into subscriber rows by one alert. DeleteSubscriber now
-- clears outbox.subscriber_id itself, and the mailer drops a row whose
-- subscriber is gone ("recipient erased"), so nothing relied on it.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_subscriber_id_fkey;
-- A digest run moves the watermark of every subscriber it reaches. Those
-- columns are in no index, so with room left on each page PostgreSQL
-- rewrites the row in place (a HOT update) instead of adding an entry to
-- each of the table's indexes. Pages written from now on keep that room.
ALTER TABLE subscribers SET (fillfactor = 60);
-- The outbox is a queue: every message is updated twice (sending, sent),
-- leaving dead row versions whose entries in outbox_due the claim query
-- walks past until a vacuum removes them. With the default thresholds
-- (20 % of the table) a busy outbox of millions of rows slowed claims
-- between vacuums; vacuum it after 1 % (and at least 1,000 rows) changed.
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
-- The claim query orders due rows by (next_attempt_at, id). PostgreSQL's
-- index on (state, next_attempt_at) breaks ties by row position, not id,
-- so every claim read and sorted all the rows of the same time: an
-- alert's whole fan-out, queued in one instant (10,000 rows per claim of
-- 16 in bench/instances.sh). SQLite's index ends with the rowid already.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
