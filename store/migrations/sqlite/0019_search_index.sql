-- Search filters answered by the full-text index, part 1 (SPEC 13: archive and
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
-- The store fills search_facets for the releases already stored, one row
-- at a time (migrateSearchFacets, in Go): a single UPDATE of every row
-- kept a copy of every page of the table in memory for its statement
-- journal (1.4 GB for 100,000 releases). The old index goes first, so that
-- those updates index nothing; 0020 builds the new one.
DROP TRIGGER releases_fts_ins;
DROP TRIGGER releases_fts_del;
DROP TRIGGER releases_fts_upd;
DROP TABLE releases_fts;
