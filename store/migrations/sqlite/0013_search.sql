-- Full-text search of releases (SPEC 10): title, summary and the body's
-- plain text (search_text, written by the store from the sanitized HTML),
-- in every language, case and accents ignored (unicode61 with
-- remove_diacritics 2). The FTS5 table keeps no copy of the text: its
-- content is the releases table, and the triggers below keep the index in
-- step with every write, whoever makes it (the daemon, the CLI, a copy).
ALTER TABLE releases ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

CREATE VIRTUAL TABLE releases_fts USING fts5(
    title, summary, search_text,
    content = 'releases', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER releases_fts_ins AFTER INSERT ON releases BEGIN
    INSERT INTO releases_fts (rowid, title, summary, search_text)
    VALUES (new.id, new.title, new.summary, new.search_text);
END;
CREATE TRIGGER releases_fts_del AFTER DELETE ON releases BEGIN
    INSERT INTO releases_fts (releases_fts, rowid, title, summary, search_text)
    VALUES ('delete', old.id, old.title, old.summary, old.search_text);
END;
CREATE TRIGGER releases_fts_upd AFTER UPDATE OF title, summary, search_text ON releases BEGIN
    INSERT INTO releases_fts (releases_fts, rowid, title, summary, search_text)
    VALUES ('delete', old.id, old.title, old.summary, old.search_text);
    INSERT INTO releases_fts (rowid, title, summary, search_text)
    VALUES (new.id, new.title, new.summary, new.search_text);
END;

-- The archive's language filter walks the date order of one language.
CREATE INDEX releases_language_published ON releases (language, published_at DESC, id DESC);

-- A search joins every matching release to check the archive's filters:
-- read from this narrow index, not from rows whose long text comes first
-- (language and dates sit after the body, on overflow pages).
CREATE INDEX releases_search_filter ON releases (id, status, published_at, language);
