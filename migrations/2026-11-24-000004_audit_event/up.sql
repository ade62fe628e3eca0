-- Who did what to whom, when, from where. Append-only: the trigger refuses every UPDATE and
-- TRUNCATE, and every DELETE except from the retention job, which says so for its transaction
-- with SET LOCAL gatehouse.audit_retention = 'on'.
CREATE TABLE audit_event (
    id text NOT NULL PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    -- No foreign keys: the record outlives the people in it. The labels keep the email (or
    -- `system`) as it was when the event happened.
    actor_user_id text,
    actor_label text NOT NULL,
    action text NOT NULL,
    target_user_id text,
    target_label text,
    ip_address text,
    user_agent text,
    detail jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX audit_event_created_at_idx ON audit_event (created_at DESC, id DESC);
CREATE INDEX audit_event_actor_idx ON audit_event (actor_user_id, created_at DESC);
CREATE INDEX audit_event_target_idx ON audit_event (target_user_id, created_at DESC);
CREATE INDEX audit_event_action_idx ON audit_event (action, created_at DESC);

CREATE FUNCTION audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('gatehouse.audit_retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only (% refused)', TG_OP;
END $$;

CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
