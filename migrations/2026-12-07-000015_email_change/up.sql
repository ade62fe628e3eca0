-- A change of email address (issue 20): asked for on the profile, confirmed from a link
-- mailed to the new address, and undone from a link mailed to the old one. A row a change:
-- the new address waits here until it is confirmed (the user's row holds the address in use
-- until then). Tokens are SHA-256 digests, like every mailed token. `expires_at` ends the
-- confirmation link; `undo_until` ends the old address's links to undo the change: the one
-- mailed with the request, and the one mailed at the confirmation (`second_undo_token`),
-- 24 hours from the request and again from the confirmation.
CREATE TABLE IF NOT EXISTS email_change (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    old_email text NOT NULL,
    new_email text NOT NULL,
    confirm_token text NOT NULL UNIQUE,
    undo_token text NOT NULL UNIQUE,
    second_undo_token text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    confirmed_at timestamptz,
    undo_until timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS email_change_user_id_idx ON email_change (user_id);
