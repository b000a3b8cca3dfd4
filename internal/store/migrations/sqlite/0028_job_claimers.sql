-- Which process holds a job's lease (its id worker lease's holder): a job
-- whose process is gone — its id worker lease ended — is due again at
-- once, without waiting for the rest of the job's lease. Several processes
-- share a PostgreSQL database; one killed mid-job loses nothing for long.
ALTER TABLE jobs ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
