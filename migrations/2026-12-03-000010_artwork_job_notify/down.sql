DROP TRIGGER IF EXISTS artwork_jobs_announce ON artwork_jobs;
DROP FUNCTION IF EXISTS gatehouse_artwork_job_changed();
