-- Search filters answered by the full-text index, and a vector cheaper to
-- test, part 2 (see 0019): search_vector again, with the facets, kept in
-- the row and compressed with lz4 where the server has it.
DO $$
BEGIN
    PERFORM set_config('default_toast_compression', 'lz4', true); -- for the rows written below
EXCEPTION WHEN invalid_parameter_value OR feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL server has no lz4: search_vector stays compressed with pglz';
END
$$;
ALTER TABLE releases ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('herald_search', title), 'A') ||
    setweight(to_tsvector('herald_search', summary), 'B') ||
    setweight(to_tsvector('herald_search', search_text), 'C') ||
    array_to_tsvector(string_to_array(search_facets, ' '))
) STORED;
DO $$
BEGIN
    ALTER TABLE releases ALTER COLUMN search_vector SET COMPRESSION lz4; -- for the rows written later
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$;
ALTER TABLE releases ALTER COLUMN search_vector SET STORAGE MAIN;
CREATE INDEX releases_search ON releases USING GIN (search_vector);
