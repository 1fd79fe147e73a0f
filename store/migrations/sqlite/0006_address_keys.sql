-- Addresses are unique case-insensitively (SPEC 11). email_key is the form
-- two addresses are compared in: the address lower-cased, its domain in
-- ASCII (IDNA). Here every row gets lower(email), which is that key for
-- the ASCII addresses; a step in Go (store/migrate_addresses.go) then
-- converts the addresses with non-ASCII characters. Migration 0007 marks
-- the rows whose keys collide and adds the unique index.
ALTER TABLE subscribers ADD COLUMN email_key TEXT;
-- email_dup_of: for an address that equals an older subscriber's once case
-- is ignored, that subscriber's id. Such rows are reported (herald db check,
-- the log at start), never merged; lookups by address do not see them.
ALTER TABLE subscribers ADD COLUMN email_dup_of INTEGER;
UPDATE subscribers SET email_key = lower(email);
CREATE INDEX subscribers_address_key_all ON subscribers (email_key);
