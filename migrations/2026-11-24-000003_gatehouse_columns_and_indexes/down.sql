-- user_email_key, session_token_key and artwork_jobs_job_id_key stay: on a new database they
-- are the unique constraints the first migration made, and Better Auth made its own.
DROP INDEX IF EXISTS "user_createdAt_idx";
DROP INDEX IF EXISTS artwork_jobs_user_id_created_at_idx;
DROP INDEX IF EXISTS "passkey_credentialID_key";
DROP INDEX IF EXISTS "passkey_userId_idx";
DROP INDEX IF EXISTS "verification_expiresAt_idx";
DROP INDEX IF EXISTS "verification_identifier_idx";
DROP INDEX IF EXISTS "account_providerId_accountId_key";
DROP INDEX IF EXISTS "account_userId_idx";
DROP INDEX IF EXISTS "session_expiresAt_idx";
DROP INDEX IF EXISTS "session_userId_idx";
ALTER TABLE artwork_jobs DROP COLUMN IF EXISTS user_id;
ALTER TABLE "user"
    DROP CONSTRAINT IF EXISTS user_tier_check,
    DROP CONSTRAINT IF EXISTS user_role_check,
    DROP COLUMN IF EXISTS "banExpires",
    DROP COLUMN IF EXISTS "banReason",
    DROP COLUMN IF EXISTS "banned",
    DROP COLUMN IF EXISTS "isWhitelisted",
    DROP COLUMN IF EXISTS "tier",
    DROP COLUMN IF EXISTS "role";
