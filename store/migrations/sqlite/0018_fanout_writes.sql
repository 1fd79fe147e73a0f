-- Cheaper writes for a fan-out of a million messages (SPEC 13). PostgreSQL
-- drops the outbox's foreign key to subscribers (a lookup and a row lock per
-- queued message) and leaves room in subscriber pages for digest
-- watermarks. SQLite keeps both as they are: its foreign key check is a
-- read of the same B-tree, and it has no fill factor; PostgreSQL also
-- vacuums the outbox more often (SQLite reuses freed pages without one)
-- and adds id to outbox_due (SQLite's index entries end with the rowid).
-- DeleteSubscriber clears outbox.subscriber_id itself on both engines.
SELECT 1;
