DROP INDEX IF EXISTS "verification_passkey_used_idx";
ALTER TABLE "session" DROP COLUMN IF EXISTS "amr";
