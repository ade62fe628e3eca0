-- Issue 37, item 6: how each session's sign-in went, as RFC 8176 values (`pwd`, `otp`,
-- `hwk`, `mfa`), for the `amr` claim of its JWTs. Sessions made before this column have none
-- (NULL: unknown), and their JWTs say `amr: []`.
ALTER TABLE "session" ADD COLUMN IF NOT EXISTS "amr" text[];

-- Issue 37, item 7: a passkey sign-in's challenge waits in a sealed cookie, not a row. A
-- challenge that signed someone in is recorded here (identifier `passkey-used:<digest>`, until
-- the challenge would have expired anyway), once: a replayed cookie and answer find it taken.
CREATE UNIQUE INDEX IF NOT EXISTS "verification_passkey_used_idx"
    ON "verification" ("identifier") WHERE "identifier" LIKE 'passkey-used:%';
