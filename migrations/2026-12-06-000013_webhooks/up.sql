-- Signed webhooks to the processing backend (issue 20): an outbox of one row per event and
-- endpoint, written in the transaction of the change it reports, so an event exists exactly
-- when its change committed. A worker delivers each endpoint's rows in `seq` order, one at a
-- time (a row waits while an earlier one is retried), and records how it went: delivered,
-- or given up after 24 hours. `body` is the JSON sent, the same bytes at every attempt;
-- `event_id` is the `webhook-id` a receiver recognises a retry by.
CREATE TABLE IF NOT EXISTS webhook_delivery (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id text NOT NULL,
    event_type text NOT NULL,
    endpoint text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    delivered_at timestamptz,
    failed_at timestamptz,
    CONSTRAINT webhook_delivery_event_id_endpoint_key UNIQUE (event_id, endpoint),
    CONSTRAINT webhook_delivery_finished_once CHECK (delivered_at IS NULL OR failed_at IS NULL)
);
-- Each endpoint's next delivery: the first pending row by `seq`.
CREATE INDEX IF NOT EXISTS webhook_delivery_pending_idx
    ON webhook_delivery (endpoint, seq)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
-- Housekeeping deletes rows by age.
CREATE INDEX IF NOT EXISTS webhook_delivery_created_at_idx ON webhook_delivery (created_at);
