-- What Gatehouse adds to the shared tables: roles, tiers, the whitelist, bans (named as Better
-- Auth's admin plugin names them), the owner of an artwork job, and every index the lookups need.

-- Columns Better Auth already had were brought to these values by the adoption migration;
-- new ones start with the defaults (nobody is whitelisted or banned).
ALTER TABLE "user"
    ADD COLUMN IF NOT EXISTS "role" text NOT NULL DEFAULT 'user',
    ADD COLUMN IF NOT EXISTS "tier" text NOT NULL DEFAULT 'free',
    ADD COLUMN IF NOT EXISTS "isWhitelisted" boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS "banned" boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS "banReason" text,
    ADD COLUMN IF NOT EXISTS "banExpires" timestamptz;

ALTER TABLE "user"
    ALTER COLUMN "role" SET DEFAULT 'user', ALTER COLUMN "role" SET NOT NULL,
    ALTER COLUMN "tier" SET DEFAULT 'free', ALTER COLUMN "tier" SET NOT NULL,
    ALTER COLUMN "isWhitelisted" SET DEFAULT false, ALTER COLUMN "isWhitelisted" SET NOT NULL,
    ALTER COLUMN "banned" SET DEFAULT false, ALTER COLUMN "banned" SET NOT NULL,
    ADD CONSTRAINT user_role_check CHECK ("role" IN ('user', 'admin')),
    ADD CONSTRAINT user_tier_check CHECK ("tier" IN ('anonymous', 'free', 'member'));

ALTER TABLE artwork_jobs
    ADD COLUMN IF NOT EXISTS user_id text REFERENCES "user" ("id") ON DELETE CASCADE;

-- Better Auth's own unique constraints carry these names; IF NOT EXISTS keeps them.
CREATE UNIQUE INDEX IF NOT EXISTS "user_email_key" ON "user" ("email");
CREATE UNIQUE INDEX IF NOT EXISTS "session_token_key" ON "session" ("token");
CREATE INDEX IF NOT EXISTS "session_userId_idx" ON "session" ("userId");
CREATE INDEX IF NOT EXISTS "session_expiresAt_idx" ON "session" ("expiresAt");
CREATE INDEX IF NOT EXISTS "account_userId_idx" ON "account" ("userId");
CREATE UNIQUE INDEX IF NOT EXISTS "account_providerId_accountId_key" ON "account" ("providerId", "accountId");
CREATE INDEX IF NOT EXISTS "verification_identifier_idx" ON "verification" ("identifier");
CREATE INDEX IF NOT EXISTS "verification_expiresAt_idx" ON "verification" ("expiresAt");
CREATE INDEX IF NOT EXISTS "passkey_userId_idx" ON "passkey" ("userId");
CREATE UNIQUE INDEX IF NOT EXISTS "passkey_credentialID_key" ON "passkey" ("credentialID");
CREATE UNIQUE INDEX IF NOT EXISTS artwork_jobs_job_id_key ON artwork_jobs (job_id);
CREATE INDEX IF NOT EXISTS artwork_jobs_user_id_created_at_idx ON artwork_jobs (user_id, created_at);
-- The admin dashboard's queue of people waiting for access.
CREATE INDEX IF NOT EXISTS "user_createdAt_idx" ON "user" ("createdAt", "id");
