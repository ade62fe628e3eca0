-- Emailed links carry only the token; its SHA-256 is looked up here. Not unique: rows
-- Better Auth wrote may repeat values.
CREATE INDEX IF NOT EXISTS verification_value_idx ON "verification" ("value");
