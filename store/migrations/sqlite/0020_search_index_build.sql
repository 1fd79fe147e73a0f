-- Search filters answered by the full-text index, part 2 (see 0019): the
-- FTS5 table indexes search_facets as a fourth column, filled from every
-- release (0019 wrote their facets), and the triggers keep it in step.
CREATE VIRTUAL TABLE releases_fts USING fts5(
    title, summary, search_text, search_facets,
    content = 'releases', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER releases_fts_ins AFTER INSERT ON releases BEGIN
    INSERT INTO releases_fts (rowid, title, summary, search_text, search_facets)
    VALUES (new.id, new.title, new.summary, new.search_text, new.search_facets);
END;
CREATE TRIGGER releases_fts_del AFTER DELETE ON releases BEGIN
    INSERT INTO releases_fts (releases_fts, rowid, title, summary, search_text, search_facets)
    VALUES ('delete', old.id, old.title, old.summary, old.search_text, old.search_facets);
END;
CREATE TRIGGER releases_fts_upd AFTER UPDATE OF title, summary, search_text, search_facets ON releases BEGIN
    INSERT INTO releases_fts (releases_fts, rowid, title, summary, search_text, search_facets)
    VALUES ('delete', old.id, old.title, old.summary, old.search_text, old.search_facets);
    INSERT INTO releases_fts (rowid, title, summary, search_text, search_facets)
    VALUES (new.id, new.title, new.summary, new.search_text, new.search_facets);
END;
INSERT INTO releases_fts (releases_fts) VALUES ('rebuild');
