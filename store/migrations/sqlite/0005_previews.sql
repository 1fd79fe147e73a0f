-- previews are the console's renderings of an unsaved release (its page and
-- its alert mail), kept a while under a random id bound to the session: the
-- frames that show them may be served by another instance.
CREATE TABLE previews (
    id         TEXT PRIMARY KEY,
    session    TEXT NOT NULL,
    page       TEXT NOT NULL,
    mail       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX previews_created ON previews (created_at);
