DROP INDEX IF EXISTS audit_event_job_idx;
DROP INDEX IF EXISTS artwork_jobs_unowned_idx;
DROP INDEX IF EXISTS artwork_jobs_user_created_id_idx;
DROP INDEX IF EXISTS artwork_jobs_user_status_created_idx;
