-- Media of releases (SPEC 10): images and PDFs, in the order staff give
-- them (position); the first image is the release's lead image. The bytes
-- live in files under $HERALD_DATA_DIR/media/ on SQLite (media_blobs stays
-- empty here, except in a database copied from PostgreSQL, whose blobs
-- are read from it); see store/media_blobs.go.
CREATE TABLE media (
    id             INTEGER PRIMARY KEY,
    release_id     INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    kind           TEXT NOT NULL,              -- image | pdf
    name           TEXT NOT NULL DEFAULT '',   -- the uploaded file's name, cleaned
    key            TEXT NOT NULL UNIQUE,       -- served name of the file as uploaded: /media/{key}
    type           TEXT NOT NULL,              -- its media type, judged by content
    bytes          INTEGER NOT NULL,
    width          INTEGER NOT NULL DEFAULT 0, -- pixels; 0 for a PDF
    height         INTEGER NOT NULL DEFAULT 0,
    sha256         TEXT NOT NULL,
    display_key    TEXT NOT NULL UNIQUE,       -- the copy pages, feeds and mail show (at most 1200 px wide); = key when no copy was needed
    display_type   TEXT NOT NULL,
    display_bytes  INTEGER NOT NULL,
    display_width  INTEGER NOT NULL DEFAULT 0,
    display_height INTEGER NOT NULL DEFAULT 0,
    alt            TEXT NOT NULL DEFAULT '',
    caption        TEXT NOT NULL DEFAULT '',
    credit         TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL
);
CREATE INDEX media_release ON media (release_id, position, id);

CREATE TABLE media_blobs (
    key      TEXT PRIMARY KEY,
    media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    data     BLOB NOT NULL
);
CREATE INDEX media_blobs_media ON media_blobs (media_id);

-- A change of media changes pages and feeds: caches in every process
-- render them again (see versions in 0001).
CREATE TRIGGER media_ins AFTER INSERT ON media BEGIN
    UPDATE versions SET version = version + 1 WHERE name = 'releases';
END;
CREATE TRIGGER media_upd AFTER UPDATE ON media BEGIN
    UPDATE versions SET version = version + 1 WHERE name = 'releases';
END;
CREATE TRIGGER media_del AFTER DELETE ON media BEGIN
    UPDATE versions SET version = version + 1 WHERE name = 'releases';
END;
