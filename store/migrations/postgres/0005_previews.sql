-- previews are the console's renderings of an unsaved release (its page and
-- its alert mail), kept a while under a random id bound to the session: the
-- frames that show them may be served by another instance.
CREATE TABLE previews (
    id         TEXT COLLATE "C" PRIMARY KEY,
    session    TEXT COLLATE "C" NOT NULL,
    page       TEXT COLLATE "C" NOT NULL,
    mail       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX previews_created ON previews (created_at);
