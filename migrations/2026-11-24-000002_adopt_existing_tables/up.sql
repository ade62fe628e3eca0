-- Bring tables that Better Auth or the Artorizer made into the shape Gatehouse relies on.
-- On a database the previous migration just created, every step here finds nothing to do.
-- Gatehouse runs every pending migration in one transaction, so a refusal below leaves the
-- database exactly as it was. The helpers live in pg_temp, so they vanish with the connection.

-- What adoption did to rows, for `gatehouse db plan` and the start-up log (changes to tables,
-- columns and indexes are read from the catalog instead).
CREATE TEMP TABLE IF NOT EXISTS gatehouse_adoption (n serial, note text NOT NULL);

-- Notes that `count` rows of `tbl` were changed: "<tbl>: <count> <what>".
CREATE OR REPLACE FUNCTION pg_temp.note(tbl text, count bigint, what text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO pg_temp.gatehouse_adoption (note)
    SELECT format('%s: %s %s', tbl, count, what) WHERE count > 0
$$;

-- Runs one data change and notes how many rows it touched.
CREATE OR REPLACE FUNCTION pg_temp.touch(tbl text, what text, statement text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    touched bigint;
BEGIN
    EXECUTE statement;
    GET DIAGNOSTICS touched = ROW_COUNT;
    PERFORM pg_temp.note(tbl, touched, what);
END $$;

CREATE OR REPLACE FUNCTION pg_temp.has_column(tbl text, col text) RETURNS boolean
LANGUAGE sql AS $$
    SELECT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = tbl AND column_name = col)
$$;

CREATE OR REPLACE FUNCTION pg_temp.column_type(tbl text, col text) RETURNS text
LANGUAGE sql AS $$
    SELECT data_type::text FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = tbl AND column_name = col
$$;

-- What adoption cannot do without. Each refusal names the table, the column and SQL that
-- would fix it; nothing has changed when it is raised.
DO $$
DECLARE
    candidate text;
    needed record;
    odd record;
BEGIN
    FOR needed IN SELECT * FROM (VALUES
        ('job_id', '%job%id%', 'text', 'the id the processing backend knows the job by'),
        ('original_url', '%url%', 'text', 'where the uploaded image is')
    ) AS n(col, looks_like, type, meaning)
    LOOP
        IF NOT pg_temp.has_column('artwork_jobs', needed.col) THEN
            SELECT column_name INTO candidate FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = 'artwork_jobs'
              AND column_name LIKE needed.looks_like
              AND column_name NOT IN ('job_id', 'original_url', 'protected_url', 'user_id')
            ORDER BY ordinal_position LIMIT 1;
            RAISE EXCEPTION '%', format(
                'cannot adopt table artwork_jobs: it has no column %s (%s). Fix it, then start again: %s',
                needed.col, needed.meaning,
                CASE WHEN candidate IS NOT NULL
                     THEN format('ALTER TABLE artwork_jobs RENAME COLUMN %I TO %s;', candidate, needed.col)
                     ELSE format('ALTER TABLE artwork_jobs ADD COLUMN %s %s; -- then fill it in',
                                 needed.col, needed.type)
                END);
        END IF;
    END LOOP;

    FOR needed IN SELECT * FROM (VALUES
        ('user', 'role', 'text'), ('user', 'tier', 'text'), ('user', 'isWhitelisted', 'boolean'),
        ('user', 'banned', 'boolean'), ('user', 'banReason', 'text'),
        ('user', 'banExpires', 'timestamp with time zone'),
        ('artwork_jobs', 'protected_url', 'text'), ('artwork_jobs', 'status', 'text')
    ) AS n(tbl, col, type)
    LOOP
        candidate := pg_temp.column_type(needed.tbl, needed.col);
        IF candidate IS NOT NULL AND candidate <> needed.type
           AND NOT (needed.type = 'text' AND candidate IN ('character varying', 'character'))
           AND NOT (needed.type LIKE 'timestamp%' AND candidate LIKE 'timestamp%') THEN
            RAISE EXCEPTION '%', format(
                'cannot adopt table %I: its column %I is %s, and Gatehouse keeps %s there. Keep yours under another name, then start again: ALTER TABLE %I RENAME COLUMN %I TO %I;',
                needed.tbl, needed.col, candidate, needed.type,
                needed.tbl, needed.col, 'own_' || needed.col);
        END IF;
    END LOOP;

    -- A tier Gatehouse does not know would have to be guessed; the owner of the data decides.
    IF pg_temp.has_column('user', 'tier') THEN
        SELECT "tier" AS tier, count(*) AS n INTO odd FROM "user"
        WHERE "tier" IS NOT NULL AND "tier" NOT IN ('anonymous', 'free', 'member')
        GROUP BY "tier" ORDER BY count(*) DESC LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION '%', format(
                'cannot adopt table "user": %s users have the tier %L, and Gatehouse knows the tiers anonymous, free and member. Map it to one of them, then start again: UPDATE "user" SET "tier" = %L WHERE "tier" = %L;',
                odd.n, odd.tier, 'member', odd.tier);
        END IF;
    END IF;

    -- A job's owner must be a user here: Gatehouse links it with a foreign key.
    IF pg_temp.has_column('artwork_jobs', 'user_id') THEN
        EXECUTE 'SELECT user_id::text AS user_id, count(*) OVER () AS n FROM artwork_jobs j
                 WHERE user_id IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM "user" u WHERE u."id" = j.user_id::text)
                 LIMIT 1' INTO odd;
        IF odd.user_id IS NOT NULL THEN
            RAISE EXCEPTION '%', format(
                'cannot adopt table artwork_jobs: %s jobs have a user_id that is no user''s id here (for example %L). Give them to their owners, or leave them unowned to link later with `gatehouse jobs link`, then start again: UPDATE artwork_jobs SET user_id = NULL WHERE user_id::text NOT IN (SELECT "id" FROM "user");',
                odd.n, odd.user_id);
        END IF;
    END IF;
END $$;

-- Older Better Auth versions (and Drizzle) wrote `timestamp`: it held UTC, so read it as UTC.
CREATE OR REPLACE FUNCTION pg_temp.to_timestamptz(tbl text, col text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_temp.column_type(tbl, col) = 'timestamp without time zone' THEN
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
SELECT pg_temp.to_timestamptz('user', 'banExpires');
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

-- A jobs table keyed by job_id alone gets an id of Gatehouse's kind, one per row.
DO $$
BEGIN
    IF NOT pg_temp.has_column('artwork_jobs', 'id') THEN
        ALTER TABLE artwork_jobs ADD COLUMN id text NOT NULL DEFAULT gen_random_uuid()::text;
        CREATE UNIQUE INDEX artwork_jobs_id_key ON artwork_jobs (id);
    END IF;
END $$;

-- Every id and userId is text (DESIGN.md): the Artorizer's may be serial, bigint or uuid.
DO $$
DECLARE
    col text;
BEGIN
    FOREACH col IN ARRAY ARRAY['id', 'user_id'] LOOP
        IF pg_temp.column_type('artwork_jobs', col) NOT IN ('text', 'character varying') THEN
            IF EXISTS (SELECT 1 FROM information_schema.columns
                       WHERE table_schema = current_schema() AND table_name = 'artwork_jobs'
                         AND column_name = col AND is_identity = 'YES') THEN
                EXECUTE format('ALTER TABLE artwork_jobs ALTER COLUMN %I DROP IDENTITY', col);
            END IF;
            EXECUTE format('SELECT pg_temp.note(''artwork_jobs'', count(*), %L) FROM artwork_jobs WHERE %I IS NOT NULL',
                           format('%ss converted from %s to text', col, pg_temp.column_type('artwork_jobs', col)), col);
            EXECUTE format('ALTER TABLE artwork_jobs ALTER COLUMN %I TYPE text USING %I::text', col, col);
        END IF;
    END LOOP;
END $$;

SELECT pg_temp.cascade_to_user('session', 'userId');
SELECT pg_temp.cascade_to_user('account', 'userId');
SELECT pg_temp.cascade_to_user('passkey', 'userId');
-- The Artorizer's own owner column is kept, and linked like every other.
SELECT pg_temp.cascade_to_user('artwork_jobs', 'user_id')
WHERE pg_temp.has_column('artwork_jobs', 'user_id');

-- Older Better Auth versions left verification's timestamps nullable.
SELECT pg_temp.touch('verification', 'creation times filled in',
    $$UPDATE "verification" SET "createdAt" = CURRENT_TIMESTAMP WHERE "createdAt" IS NULL$$);
SELECT pg_temp.touch('verification', 'update times filled in',
    $$UPDATE "verification" SET "updatedAt" = CURRENT_TIMESTAMP WHERE "updatedAt" IS NULL$$);
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
SELECT pg_temp.touch('user', 'emails lower-cased', $$
    UPDATE "user" u SET "email" = lower(u."email")
    WHERE u."email" <> lower(u."email")
      AND NOT EXISTS (SELECT 1 FROM "user" o WHERE o."email" = lower(u."email"))
$$);

-- Better Auth's admin plugin and additionalFields may already hold Gatehouse's user columns.
-- A role is a comma-separated list there: one that names admin makes a Gatehouse admin; every
-- other is a plain user. Empty values take Gatehouse's defaults. A ban and its end are kept.
SELECT pg_temp.touch('user', 'roles mapped to admin (Better Auth role lists that name admin)', $$
    UPDATE "user" SET "role" = 'admin'
    WHERE "role" <> 'admin' AND 'admin' = ANY (string_to_array(replace("role", ' ', ''), ','))
$$) WHERE pg_temp.has_column('user', 'role');
SELECT pg_temp.touch('user', 'roles mapped to user (none, or roles Gatehouse does not have)',
    $$UPDATE "user" SET "role" = 'user' WHERE "role" IS NULL OR "role" NOT IN ('user', 'admin')$$)
WHERE pg_temp.has_column('user', 'role');
SELECT pg_temp.touch('user', 'empty tiers set to free',
    $$UPDATE "user" SET "tier" = 'free' WHERE "tier" IS NULL$$)
WHERE pg_temp.has_column('user', 'tier');
SELECT pg_temp.touch('user', 'empty whitelist flags set to false',
    $$UPDATE "user" SET "isWhitelisted" = false WHERE "isWhitelisted" IS NULL$$)
WHERE pg_temp.has_column('user', 'isWhitelisted');
SELECT pg_temp.touch('user', 'empty ban flags set to false (not banned)',
    $$UPDATE "user" SET "banned" = false WHERE "banned" IS NULL$$)
WHERE pg_temp.has_column('user', 'banned');

-- Not a change, but what adoption means for them: Better Auth lets people sign in without
-- confirming their address unless told otherwise; Gatehouse lets no unconfirmed address in.
SELECT pg_temp.note('user', (SELECT count(*) FROM "user" WHERE NOT "emailVerified"),
    'have not confirmed their address: each confirms it by mail, with their password, at their next sign-in');

-- Better Auth keeps session tokens in the clear. Gatehouse stores only their SHA-256, so the
-- adopted sessions are deleted (their users sign in again) rather than kept as usable secrets.
-- This migration runs once per database, so it never touches a session Gatehouse made.
SELECT pg_temp.touch('session', 'Better Auth sessions deleted (their tokens were stored in the clear; those people sign in again)',
    $$DELETE FROM "session"$$);

-- The Artorizer's jobs: the columns Gatehouse shows are added where missing, with values that
-- say what is known (a job with a protected image is done).
ALTER TABLE artwork_jobs
    ADD COLUMN IF NOT EXISTS protected_url text,
    ADD COLUMN IF NOT EXISTS status text,
    ADD COLUMN IF NOT EXISTS created_at timestamptz,
    ADD COLUMN IF NOT EXISTS updated_at timestamptz;
SELECT pg_temp.touch('artwork_jobs', 'creation times filled in (now: the table kept none)',
    $$UPDATE artwork_jobs SET created_at = CURRENT_TIMESTAMP WHERE created_at IS NULL$$);
SELECT pg_temp.touch('artwork_jobs', 'update times filled in from their creation times',
    $$UPDATE artwork_jobs SET updated_at = created_at WHERE updated_at IS NULL$$);
SELECT pg_temp.touch('artwork_jobs', 'statuses set to done (they have a protected image)',
    $$UPDATE artwork_jobs SET status = 'done' WHERE status IS NULL AND protected_url IS NOT NULL$$);
SELECT pg_temp.touch('artwork_jobs', 'statuses set to queued',
    $$UPDATE artwork_jobs SET status = 'queued' WHERE status IS NULL$$);
ALTER TABLE artwork_jobs
    ALTER COLUMN created_at SET DEFAULT CURRENT_TIMESTAMP, ALTER COLUMN created_at SET NOT NULL,
    ALTER COLUMN updated_at SET DEFAULT CURRENT_TIMESTAMP, ALTER COLUMN updated_at SET NOT NULL,
    ALTER COLUMN status SET DEFAULT 'queued', ALTER COLUMN status SET NOT NULL;
