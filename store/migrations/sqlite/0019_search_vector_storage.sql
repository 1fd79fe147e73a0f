-- PostgreSQL keeps each release's search_vector in its row, compressed with
-- lz4 (a search tests thousands of them). SQLite has no such column: its
-- FTS5 index holds the words apart from the rows. Nothing to change here;
-- the number keeps both engines' schema versions equal (db copy needs it).
SELECT 1;
