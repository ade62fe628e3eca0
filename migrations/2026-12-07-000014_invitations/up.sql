-- Admin invitations (issue 20, part 2): an admin invites an address, with the role and tier
-- the person will have; the mailed link (single use, 7 days) lets them sign up already let
-- in. `token_hash` is the SHA-256 of the link's token (the token itself is never stored);
-- resending replaces it, so the old link stops working. An invitation ends once: accepted,
-- revoked, or found expired by housekeeping (each audited). At most one is pending per
-- address.
CREATE TABLE IF NOT EXISTS invitation (
    id text PRIMARY KEY,
    email text NOT NULL,
    role text NOT NULL DEFAULT 'user',
    tier text NOT NULL DEFAULT 'free',
    token_hash text NOT NULL,
    invited_by text REFERENCES "user" (id) ON DELETE SET NULL,
    invited_by_label text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by text REFERENCES "user" (id) ON DELETE SET NULL,
    revoked_at timestamptz,
    expired_at timestamptz,
    CONSTRAINT invitation_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitation_ends_once CHECK (
        (accepted_at IS NOT NULL)::int + (revoked_at IS NOT NULL)::int
            + (expired_at IS NOT NULL)::int <= 1
    )
);
-- One pending invitation per address; also how sign-in finds one for a verified address.
CREATE UNIQUE INDEX IF NOT EXISTS invitation_pending_email_key ON invitation (email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL AND expired_at IS NULL;
-- What a bulk invitation did to each address, kept an hour for the admin who asked, so the
-- page they are sent back to can show it (`/admin?invite_result=ID`): a link carries only
-- the id, never words, and shows nothing to anyone else.
CREATE TABLE IF NOT EXISTS invitation_result (
    id text PRIMARY KEY,
    admin_id text NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    outcomes jsonb NOT NULL,
    expires_at timestamptz NOT NULL
);
