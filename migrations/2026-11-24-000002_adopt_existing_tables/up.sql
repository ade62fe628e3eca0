-- Bring tables that Better Auth or the Artorizer made into the shape Gatehouse relies on.
-- On a database the previous migration just created, every step here finds nothing to do.
-- The helpers live in pg_temp, so they vanish with the connection.

-- Older Better Auth versions wrote `timestamp`: it held UTC, so read it as UTC.
CREATE OR REPLACE FUNCTION pg_temp.to_timestamptz(tbl text, col text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = tbl AND column_name = col
          AND data_type = 'timestamp without time zone'
    ) THEN
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE timestamptz USING %I AT TIME ZONE ''UTC''',
                       tbl, col, col);
    END IF;
END $$;

-- Older Better Auth versions wrote the user foreign keys without ON DELETE CASCADE.
CREATE OR REPLACE FUNCTION pg_temp.cascade_to_user(tbl text, col text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    fk record;
BEGIN
    FOR fk IN
        SELECT con.conname, con.confdeltype
        FROM pg_constraint con
        JOIN pg_class rel ON rel.oid = con.conrelid
        JOIN pg_namespace ns ON ns.oid = rel.relnamespace
        JOIN pg_attribute att ON att.attrelid = rel.oid AND att.attnum = ANY (con.conkey)
        WHERE con.contype = 'f' AND ns.nspname = current_schema()
          AND rel.relname = tbl AND att.attname = col
    LOOP
        IF fk.confdeltype <> 'c' THEN
            EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', tbl, fk.conname);
        END IF;
    END LOOP;
    IF NOT EXISTS (
        SELECT 1
        FROM pg_constraint con
        JOIN pg_class rel ON rel.oid = con.conrelid
        JOIN pg_namespace ns ON ns.oid = rel.relnamespace
        JOIN pg_attribute att ON att.attrelid = rel.oid AND att.attnum = ANY (con.conkey)
        WHERE con.contype = 'f' AND ns.nspname = current_schema()
          AND rel.relname = tbl AND att.attname = col
    ) THEN
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (%I) REFERENCES "user" ("id") ON DELETE CASCADE',
                       tbl, tbl || '_' || col || '_fkey', col);
    END IF;
END $$;

SELECT pg_temp.to_timestamptz('user', 'createdAt');
SELECT pg_temp.to_timestamptz('user', 'updatedAt');
SELECT pg_temp.to_timestamptz('session', 'expiresAt');
SELECT pg_temp.to_timestamptz('session', 'createdAt');
SELECT pg_temp.to_timestamptz('session', 'updatedAt');
SELECT pg_temp.to_timestamptz('account', 'accessTokenExpiresAt');
SELECT pg_temp.to_timestamptz('account', 'refreshTokenExpiresAt');
SELECT pg_temp.to_timestamptz('account', 'createdAt');
SELECT pg_temp.to_timestamptz('account', 'updatedAt');
SELECT pg_temp.to_timestamptz('verification', 'expiresAt');
SELECT pg_temp.to_timestamptz('verification', 'createdAt');
SELECT pg_temp.to_timestamptz('verification', 'updatedAt');
SELECT pg_temp.to_timestamptz('passkey', 'createdAt');
SELECT pg_temp.to_timestamptz('artwork_jobs', 'created_at');
SELECT pg_temp.to_timestamptz('artwork_jobs', 'updated_at');

SELECT pg_temp.cascade_to_user('session', 'userId');
SELECT pg_temp.cascade_to_user('account', 'userId');
SELECT pg_temp.cascade_to_user('passkey', 'userId');

-- Older Better Auth versions left verification's timestamps nullable.
UPDATE "verification" SET "createdAt" = CURRENT_TIMESTAMP WHERE "createdAt" IS NULL;
UPDATE "verification" SET "updatedAt" = CURRENT_TIMESTAMP WHERE "updatedAt" IS NULL;
ALTER TABLE "verification"
    ALTER COLUMN "createdAt" SET DEFAULT CURRENT_TIMESTAMP, ALTER COLUMN "createdAt" SET NOT NULL,
    ALTER COLUMN "updatedAt" SET DEFAULT CURRENT_TIMESTAMP, ALTER COLUMN "updatedAt" SET NOT NULL;
ALTER TABLE "user"
    ALTER COLUMN "emailVerified" SET DEFAULT false,
    ALTER COLUMN "createdAt" SET DEFAULT CURRENT_TIMESTAMP,
    ALTER COLUMN "updatedAt" SET DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE "session"
    ALTER COLUMN "createdAt" SET DEFAULT CURRENT_TIMESTAMP,
    ALTER COLUMN "updatedAt" SET DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE "account"
    ALTER COLUMN "createdAt" SET DEFAULT CURRENT_TIMESTAMP,
    ALTER COLUMN "updatedAt" SET DEFAULT CURRENT_TIMESTAMP;

-- Emails are stored lower-case. An address that differs from another only by case is left
-- alone rather than merged: an admin decides which account is the real one.
UPDATE "user" u SET "email" = lower(u."email")
WHERE u."email" <> lower(u."email")
  AND NOT EXISTS (SELECT 1 FROM "user" o WHERE o."email" = lower(u."email"));

-- Better Auth keeps session tokens in the clear. Gatehouse stores only their SHA-256, so the
-- adopted sessions are deleted (their users sign in again) rather than kept as usable secrets.
-- This migration runs once per database, so it never touches a session Gatehouse made.
DELETE FROM "session";

-- The Artorizer's ids may be uuid; every id column here is text.
DO $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'artwork_jobs'
          AND column_name = 'id' AND data_type <> 'text'
    ) THEN
        ALTER TABLE artwork_jobs ALTER COLUMN id TYPE text USING id::text;
    END IF;
END $$;
UPDATE artwork_jobs SET created_at = CURRENT_TIMESTAMP WHERE created_at IS NULL;
UPDATE artwork_jobs SET updated_at = created_at WHERE updated_at IS NULL;
UPDATE artwork_jobs SET status = 'queued' WHERE status IS NULL;
ALTER TABLE artwork_jobs
    ALTER COLUMN created_at SET DEFAULT CURRENT_TIMESTAMP, ALTER COLUMN created_at SET NOT NULL,
    ALTER COLUMN updated_at SET DEFAULT CURRENT_TIMESTAMP, ALTER COLUMN updated_at SET NOT NULL,
    ALTER COLUMN status SET DEFAULT 'queued', ALTER COLUMN status SET NOT NULL;
