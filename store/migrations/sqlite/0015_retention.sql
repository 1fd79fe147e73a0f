-- Finished alerts, source baselines and retention (SPEC 9).

-- alerts.finished_at is now written once, by the leader, when no message of
-- the alert is waiting any more; the same update records alert.finished.
-- Alerts that finished before this version are marked finished without an
-- event (no burst of old news to webhook receivers after an upgrade).
UPDATE alerts SET finished_at = COALESCE((SELECT MAX(o.updated_at) FROM outbox o WHERE o.alert_id = alerts.id), queued_at)
WHERE finished_at IS NULL AND queued_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.alert_id = alerts.id AND o.state IN ('queued', 'sending'));
CREATE INDEX alerts_unfinished ON alerts (id) WHERE finished_at IS NULL;

-- sources.baseline_at: when the items already in the feed were taken in
-- without alerts (the first successful poll). Sources polled before this
-- version have their baseline.
ALTER TABLE sources ADD COLUMN baseline_at INTEGER;
UPDATE sources SET baseline_at = COALESCE(last_run_at, created_at)
WHERE EXISTS (SELECT 1 FROM source_items i WHERE i.source_id = sources.id)
   OR EXISTS (SELECT 1 FROM source_runs r WHERE r.source_id = sources.id AND r.status IN ('ok', 'not_modified'));

-- Pruning by age.
CREATE INDEX events_created ON events (created_at);
CREATE INDEX webhook_deliveries_final ON webhook_deliveries (updated_at) WHERE state IN ('delivered', 'failed');
CREATE INDEX source_runs_finished ON source_runs (finished_at);

-- sources.enabled: a paused source keeps its settings and history but is
-- not polled on schedule.
ALTER TABLE sources ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
