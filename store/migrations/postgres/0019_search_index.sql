-- Search filters answered by the full-text index, and a vector cheaper to
-- test (SPEC 13: archive and search p95 < 50 ms).
--
-- Facets. A search filtered by language or topic used to check the filter
-- on every match: 60,000 rows for a common word, even when none passed.
-- Each release now has search_facets ("LANGen TOPICchildren
-- TOPICmigration", written by the store with the release), and
-- search_vector holds them as lexemes of their own (array_to_tsvector keeps
-- "LANGen" as written, while every lexeme of a text or a search is
-- lower-cased, so no search can match one). A search ANDs its filter's facets to its words, and the
-- GIN index yields only releases that can pass. The SQL conditions still
-- decide.
--
-- Storage. A ranked search walks releases newest first and tests each
-- vector until its window holds 1,000 matches: 5,000 rows for a word in one
-- release of five. Fetched from the TOAST table and decompressed with pglz,
-- 10,000 tests took 32 ms; kept in the row (STORAGE MAIN: the body and its
-- text leave the row first) and compressed with lz4 where the server has
-- it, 11 ms.
ALTER TABLE releases DROP COLUMN search_vector; -- and its index, releases_search
ALTER TABLE releases ADD COLUMN search_facets TEXT NOT NULL DEFAULT '';
-- One statement here (PostgreSQL keeps no statement journal); the store's
-- step for 0019 (migrateSearchFacets) then finds nothing left to fill.
UPDATE releases r SET search_facets = 'LANG' || r.language || COALESCE((SELECT ' ' || string_agg('TOPIC' || t.topic, ' ' ORDER BY t.topic)
    FROM release_topics t WHERE t.release_id = r.id), '');
