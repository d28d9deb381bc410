-- Periodic jobs that one instance at a time should run (the storage clean-up lists every
-- stored file): the instance that moves `held_until` forward runs the job, the others skip it
-- until the lease has run out.
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY NOT NULL,
    held_until INTEGER NOT NULL,
    holder TEXT NOT NULL
);
