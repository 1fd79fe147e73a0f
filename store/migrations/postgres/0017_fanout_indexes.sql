-- Fewer index writes per queued message, and no table scan at start.
-- outbox_release was never read: every query of the outbox goes by state,
-- subscriber, alert or digest run. Each alert row paid for it.
DROP INDEX outbox_release;
-- The few subscribers whose address collides with an older one's (0007)
-- are listed at every start and by `herald db check`: an index of just
-- them instead of a scan of every subscriber.
CREATE INDEX subscribers_address_dups ON subscribers (email_dup_of) WHERE email_dup_of IS NOT NULL;
