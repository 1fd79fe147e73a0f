-- Bounces and complaints (SPEC 8.3): every event kept, whether refused at
-- SMTP time, read from the bounce mailbox or told by a provider's webhook.
-- dedup_key (kind, the message or the provider's event, the recipient)
-- makes the same event reported twice (mailbox and webhook, a webhook
-- retried) one row. email is cleared when the subscriber is erased.
CREATE TABLE bounces (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    subscriber_id INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    email         TEXT NOT NULL DEFAULT '',
    kind          TEXT NOT NULL,               -- hard | soft | complaint
    source        TEXT NOT NULL,               -- smtp | mailbox | ses | postmark | sendgrid | mailgun
    message_id    TEXT NOT NULL DEFAULT '',
    diagnostic    TEXT NOT NULL DEFAULT '',
    dedup_key     TEXT NOT NULL UNIQUE
);
CREATE INDEX bounces_at ON bounces (at, id);
CREATE INDEX bounces_subscriber ON bounces (subscriber_id, kind, at);
