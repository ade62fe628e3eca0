DROP TABLE IF EXISTS audit_event;
DROP FUNCTION IF EXISTS audit_event_append_only();
