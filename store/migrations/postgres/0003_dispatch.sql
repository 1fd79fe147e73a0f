-- Digest scheduling selects active subscribers of a cadence by time zone.
CREATE INDEX subscribers_digest ON subscribers (status, cadence, timezone, id);
-- Automatic alerts look for releases that went live and were not alerted yet.
CREATE INDEX releases_auto_alert ON releases (live_at) WHERE auto_alert_at IS NULL AND live_at IS NOT NULL;
-- Alerts to every cadence walk active subscribers in id order.
CREATE INDEX subscribers_active ON subscribers (status, id);
