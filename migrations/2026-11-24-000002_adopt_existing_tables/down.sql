-- Nothing to undo: the up migration only normalised what was there (timestamptz read as UTC,
-- ON DELETE CASCADE, lower-case emails, defaults). Those changes lose no data, Better Auth
-- reads the normalised tables as they are, and the sessions it deleted held clear-text
-- tokens that must not come back.
SELECT 1;
