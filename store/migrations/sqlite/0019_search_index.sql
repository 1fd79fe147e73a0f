-- Search filters answered by the full-text index (SPEC 13: archive and
-- search p95 < 50 ms). A search filtered by language or topic used to
-- check the filter on every match: 60,000 rows for a common word, even when
-- none passed. Each release now has search_facets ("LANGen TOPICchildren
-- TOPICmigration", written by the store with the release) and the FTS5
-- table indexes it as a fourth column: a search looks for its words in the
-- three text columns and for its filter's facets in this one, so the index
-- yields only releases that can pass. The SQL conditions still decide.
-- A facet is one token ("LANGen" is langen), or a phrase whose first token
-- only that facet has (TOPIChuman-trafficking: topichuman, trafficking),
-- so that the index reads short lists, not one list of every release.
ALTER TABLE releases ADD COLUMN search_facets TEXT NOT NULL DEFAULT '';
UPDATE releases SET search_facets = 'LANG' || language || COALESCE((SELECT ' ' || string_agg('TOPIC' || t.topic, ' ' ORDER BY t.topic)
    FROM release_topics t WHERE t.release_id = releases.id), '');

DROP TRIGGER releases_fts_ins;
DROP TRIGGER releases_fts_del;
DROP TRIGGER releases_fts_upd;
DROP TABLE releases_fts;
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
