-- A cheaper search_vector to read (SPEC 13: archive and search p95 < 50 ms).
-- A ranked search walks releases newest first and tests each row's vector
-- until it has its window of matches: 5,000 rows for a word in one release
-- of five. Stored as before (pglz, and out of line when the row is long),
-- each test fetched the vector from the TOAST table and decompressed it.
-- Kept in the row (STORAGE MAIN: the body and its text leave the row
-- first) and compressed with lz4 where the server has it, the same walk
-- costs a third: 32 ms for 10,000 rows before, 11 ms after.
DO $$
BEGIN
    ALTER TABLE releases ALTER COLUMN search_vector SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL server has no lz4: search_vector stays compressed with pglz';
END
$$;
ALTER TABLE releases ALTER COLUMN search_vector SET STORAGE MAIN;
-- Existing rows take the new form when written again: an update computes
-- the generated column anew (one pass over the archive, at the first start).
UPDATE releases SET search_text = search_text;
