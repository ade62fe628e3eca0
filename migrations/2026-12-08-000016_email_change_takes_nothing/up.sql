-- A change of email address hands over nothing by itself (issue 37). `emailChangedAt` is
-- when the account last took an address by a change of address: from then on ADMIN_EMAILS,
-- ALLOWLIST's addresses and invitations no longer apply to it at sign-in (admins are told
-- instead). `twoFactor."createdAt"` says when an authenticator app was added, so the old
-- address's undo can remove one added after the change was asked for (passkeys and
-- accounts have a "createdAt" already). Rows made before this migration count as made now.
ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "emailChangedAt" timestamptz;
ALTER TABLE "twoFactor" ADD COLUMN IF NOT EXISTS "createdAt" timestamptz NOT NULL DEFAULT now();
