-- An artist's list by status, newest first, at ten million jobs; the admins' queue of jobs
-- nobody owns yet; and a job's history, which lives in the audit log.
CREATE INDEX IF NOT EXISTS artwork_jobs_user_status_created_idx
    ON artwork_jobs (user_id, status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS artwork_jobs_user_created_id_idx
    ON artwork_jobs (user_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS artwork_jobs_unowned_idx
    ON artwork_jobs (created_at DESC, id DESC) WHERE user_id IS NULL;
CREATE INDEX IF NOT EXISTS audit_event_job_idx
    ON audit_event ((detail ->> 'job_id'), created_at) WHERE detail ? 'job_id';
