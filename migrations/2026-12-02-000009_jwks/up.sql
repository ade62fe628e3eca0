-- Better Auth's jwt plugin's table: the keys that sign the JWTs backends check
-- (GET /api/auth/token), published at GET /api/auth/jwks. A database where Better Auth
-- made it already keeps it as it is.
CREATE TABLE IF NOT EXISTS jwks (
    id text PRIMARY KEY,
    "publicKey" text NOT NULL,
    "privateKey" text NOT NULL,
    "createdAt" timestamptz NOT NULL,
    "expiresAt" timestamptz
);
