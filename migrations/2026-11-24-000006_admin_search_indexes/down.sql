DROP INDEX IF EXISTS user_waiting_idx;
DROP INDEX IF EXISTS user_name_prefix_idx;
DROP INDEX IF EXISTS user_email_prefix_idx;
