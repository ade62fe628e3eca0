-- The admin dashboard's lookups stay fast at a million users: prefix search on email and
-- name (text_pattern_ops works whatever the database's collation), and the waiting queue.
CREATE INDEX IF NOT EXISTS user_email_prefix_idx ON "user" ("email" text_pattern_ops);
CREATE INDEX IF NOT EXISTS user_name_prefix_idx ON "user" (lower("name") text_pattern_ops);
CREATE INDEX IF NOT EXISTS user_waiting_idx ON "user" ("createdAt", "id")
    WHERE NOT "isWhitelisted" AND NOT "banned" AND "role" <> 'admin';
