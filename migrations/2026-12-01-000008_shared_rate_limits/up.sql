-- Rate-limit counters every instance shares: one row per limited key (the SHA-256 of what is
-- counted, never the address or email itself), holding the key's theoretical arrival time
-- (GCRA). UNLOGGED: a crash may forget counters, which only ever allows an attempt more,
-- and in exchange counting costs no WAL.
CREATE UNLOGGED TABLE IF NOT EXISTS gatehouse_rate_limit (
    key text PRIMARY KEY,
    tat timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS gatehouse_rate_limit_tat_idx ON gatehouse_rate_limit (tat);
