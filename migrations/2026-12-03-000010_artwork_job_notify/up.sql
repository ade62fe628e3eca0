-- Every change to an artwork job is announced on the channel `gatehouse_artwork_jobs`, in
-- the same transaction (PostgreSQL delivers it on commit, never for a rollback), whoever
-- made it: Gatehouse, another instance, or the backend writing to the table itself. The
-- payload names the row (and its job id) and, when its owner changed or it was deleted, the
-- owner before; each instance's listener reads the row and tells the owner's open pages
-- (services::live).
CREATE OR REPLACE FUNCTION gatehouse_artwork_job_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed_row text;
    changed_job text;
    owner_before text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed_row := OLD.id::text;
        changed_job := OLD.job_id::text;
        owner_before := OLD.user_id::text;
    ELSE
        changed_row := NEW.id::text;
        changed_job := NEW.job_id::text;
        IF TG_OP = 'UPDATE' AND OLD.user_id IS DISTINCT FROM NEW.user_id THEN
            owner_before := OLD.user_id::text;
        END IF;
    END IF;
    -- A payload has at most 8000 bytes; ids longer than these never come from Gatehouse,
    -- and a change must not fail for its announcement.
    IF octet_length(changed_row) <= 1000 AND octet_length(changed_job) <= 1000
        AND coalesce(octet_length(owner_before), 0) <= 1000 THEN
        PERFORM pg_notify('gatehouse_artwork_jobs',
            json_build_object('id', changed_row, 'job_id', changed_job, 'was', owner_before)::text);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS artwork_jobs_announce ON artwork_jobs;
CREATE TRIGGER artwork_jobs_announce
    AFTER INSERT OR UPDATE OR DELETE ON artwork_jobs
    FOR EACH ROW EXECUTE FUNCTION gatehouse_artwork_job_changed();
