-- Full-text search of releases (SPEC 10): title, summary and the body's
-- plain text (search_text, written by the store from the sanitized HTML),
-- in every language, case and accents ignored.
--
-- herald_search is the 'simple' configuration (no stemming, no stop words:
-- right for every language at once) with the unaccent dictionary in front
-- of it, so that lexemes are unaccent(lower(word)) while ts_headline still
-- shows and marks the words as written. The extension is trusted (any
-- owner of the database may create it); it goes into public, and the
-- configuration names it wherever it lives. The advisory lock keeps two
-- first starts (or tests in their own schemas) from creating it twice.
SELECT pg_advisory_xact_lock(hashtext('herald-extension-unaccent'));
CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;

DO $$
DECLARE
    s text;
BEGIN
    SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'unaccent';
    CREATE TEXT SEARCH CONFIGURATION herald_search (COPY = pg_catalog.simple);
    EXECUTE format('ALTER TEXT SEARCH CONFIGURATION herald_search ALTER MAPPING FOR '
        'asciiword, asciihword, hword_asciipart, word, hword, hword_part, numword, numhword, hword_numpart '
        'WITH %I.unaccent, pg_catalog.simple', s);
END
$$;

ALTER TABLE releases ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
-- Weighted so that a word of the title ranks above one of the summary,
-- above one of the body. Generated: never written, never copied.
ALTER TABLE releases ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('herald_search', title), 'A') ||
    setweight(to_tsvector('herald_search', summary), 'B') ||
    setweight(to_tsvector('herald_search', search_text), 'C')
) STORED;
CREATE INDEX releases_search ON releases USING GIN (search_vector);

-- The archive's language filter walks the date order of one language.
CREATE INDEX releases_language_published ON releases (language, published_at DESC, id DESC);
