-- Passkeys sign people in (issue 17). Better Auth's passkey plugin keeps no time of last
-- use; Gatehouse's own column does, for the profile's list.
ALTER TABLE passkey ADD COLUMN IF NOT EXISTS "lastUsedAt" timestamptz;
