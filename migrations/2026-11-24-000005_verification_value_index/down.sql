DROP INDEX IF EXISTS verification_value_idx;
