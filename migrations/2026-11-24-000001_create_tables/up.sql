-- The tables Gatehouse shares with Better Auth (its default PostgreSQL schema, camelCase
-- columns, text ids) and the Artorizer's artwork_jobs. IF NOT EXISTS: on a database that
-- Better Auth or the Artorizer already made, their tables are kept as they are and adopted by
-- the next migration.
--
-- First, Better Auth's Drizzle schema: `usePlural: true` names the tables `users`,
-- `sessions`, `accounts`, `verifications`, `passkeys`, and Drizzle names the columns in
-- snake_case (`email_verified`; `credential_i_d` before Better Auth 1.3.8). Such tables and
-- columns take Better Auth's default names, which Gatehouse reads. A plural table is renamed
-- only when the singular name is free and its columns show it is Better Auth's.
DO $$
DECLARE
    t record;
    col text;
    snake text;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('users', 'user', 'email'),
        ('sessions', 'session', 'token'),
        ('accounts', 'account', 'password'),
        ('verifications', 'verification', 'identifier'),
        ('passkeys', 'passkey', 'counter')
    ) AS plural(plural, singular, marker)
    LOOP
        IF to_regclass(format('%I', t.plural)) IS NOT NULL
           AND to_regclass(format('%I', t.singular)) IS NULL
           AND EXISTS (SELECT 1 FROM information_schema.columns
                       WHERE table_schema = current_schema() AND table_name = t.plural
                         AND column_name = t.marker) THEN
            EXECUTE format('ALTER TABLE %I RENAME TO %I', t.plural, t.singular);
        END IF;
    END LOOP;

    FOR t IN SELECT * FROM (VALUES
        ('user', ARRAY['emailVerified', 'createdAt', 'updatedAt', 'banReason', 'banExpires']),
        ('session', ARRAY['expiresAt', 'createdAt', 'updatedAt', 'ipAddress', 'userAgent',
                          'userId', 'impersonatedBy']),
        ('account', ARRAY['accountId', 'providerId', 'userId', 'accessToken', 'refreshToken',
                          'idToken', 'accessTokenExpiresAt', 'refreshTokenExpiresAt',
                          'createdAt', 'updatedAt']),
        ('verification', ARRAY['expiresAt', 'createdAt', 'updatedAt']),
        ('passkey', ARRAY['publicKey', 'userId', 'credentialID', 'deviceType', 'backedUp',
                          'createdAt'])
    ) AS camel(tbl, columns)
    LOOP
        FOREACH col IN ARRAY t.columns LOOP
            FOREACH snake IN ARRAY ARRAY[
                lower(regexp_replace(col, '([a-z0-9])([A-Z])', '\1_\2', 'g')),
                lower(regexp_replace(col, '([A-Z])', '_\1', 'g'))
            ] LOOP
                IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                               WHERE table_schema = current_schema() AND table_name = t.tbl
                                 AND column_name = col)
                   AND EXISTS (SELECT 1 FROM information_schema.columns
                               WHERE table_schema = current_schema() AND table_name = t.tbl
                                 AND column_name = snake) THEN
                    EXECUTE format('ALTER TABLE %I RENAME COLUMN %I TO %I', t.tbl, snake, col);
                END IF;
            END LOOP;
        END LOOP;
    END LOOP;
END $$;

CREATE TABLE IF NOT EXISTS "user" (
    "id" text NOT NULL PRIMARY KEY,
    "name" text NOT NULL,
    "email" text NOT NULL UNIQUE,
    "emailVerified" boolean NOT NULL DEFAULT false,
    "image" text,
    "createdAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "session" (
    "id" text NOT NULL PRIMARY KEY,
    "expiresAt" timestamptz NOT NULL,
    "token" text NOT NULL UNIQUE,
    "createdAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ipAddress" text,
    "userAgent" text,
    "userId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS "account" (
    "id" text NOT NULL PRIMARY KEY,
    "accountId" text NOT NULL,
    "providerId" text NOT NULL,
    "userId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    "accessToken" text,
    "refreshToken" text,
    "idToken" text,
    "accessTokenExpiresAt" timestamptz,
    "refreshTokenExpiresAt" timestamptz,
    "scope" text,
    "password" text,
    "createdAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "verification" (
    "id" text NOT NULL PRIMARY KEY,
    "identifier" text NOT NULL,
    "value" text NOT NULL,
    "expiresAt" timestamptz NOT NULL,
    "createdAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Better Auth's passkey plugin.
CREATE TABLE IF NOT EXISTS "passkey" (
    "id" text NOT NULL PRIMARY KEY,
    "name" text,
    "publicKey" text NOT NULL,
    "userId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    "credentialID" text NOT NULL,
    "counter" integer NOT NULL,
    "deviceType" text NOT NULL,
    "backedUp" boolean NOT NULL,
    "transports" text,
    "createdAt" timestamptz DEFAULT CURRENT_TIMESTAMP,
    "aaguid" text
);

-- The Artorizer's jobs; the link to their owner is added by a later migration.
CREATE TABLE IF NOT EXISTS artwork_jobs (
    id text NOT NULL PRIMARY KEY,
    job_id text NOT NULL UNIQUE,
    original_url text NOT NULL,
    protected_url text,
    status text NOT NULL DEFAULT 'queued',
    created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
