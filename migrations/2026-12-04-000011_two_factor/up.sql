-- Authenticator-app codes (TOTP) as a second step after a sign-in, as Better Auth's
-- two-factor plugin stores them: "user"."twoFactorEnabled" and a "twoFactor" row a user.
-- Gatehouse's own column: the last time step a code was accepted in, so a code is used once.
ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "twoFactorEnabled" boolean DEFAULT false;
UPDATE "user" SET "twoFactorEnabled" = false WHERE "twoFactorEnabled" IS NULL;
ALTER TABLE "user"
    ALTER COLUMN "twoFactorEnabled" SET DEFAULT false,
    ALTER COLUMN "twoFactorEnabled" SET NOT NULL;

CREATE TABLE IF NOT EXISTS "twoFactor" (
    id text PRIMARY KEY,
    secret text NOT NULL,
    "backupCodes" text NOT NULL,
    "userId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE
);
ALTER TABLE "twoFactor" ADD COLUMN IF NOT EXISTS "lastUsedStep" bigint;
CREATE INDEX IF NOT EXISTS "twoFactor_userId_idx" ON "twoFactor" ("userId");
