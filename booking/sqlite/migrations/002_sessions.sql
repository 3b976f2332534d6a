-- 002_sessions: what a journey in progress needs, kept where every node
-- finds it (booking/state.go): the codes tried against identity
-- challenges, booking sessions (one per identity, replacing
-- identity_sessions, which held only the lock) and look-ups. Ids are
-- hashes of the tokens people hold; "sealed" is encrypted by the service
-- (AES-256-GCM, SLUICE_SESSION_KEYS): this database holds no name, phone
-- number or birth date of theirs in clear.
-- Expired rows are deleted by the service (PurgeExpired).
--
-- Statistics count active bookings per vaccine too: the index on the
-- cohort gains the vaccine.

DROP TABLE identity_sessions;

-- These are rowid tables, unlike the others: their rows are written in
-- the order they expire (each kind has one lifetime), so the rows go to the
-- end of the table, and the ids, random hashes, only into a narrow
-- index. PurgeExpired deletes from the oldest rows on, by rowid, and needs
-- no index on the expiry (a session renewed in place keeps its rowid and
-- holds the purge back until it expires in its turn).

CREATE TABLE booking_sessions (
    person_key   TEXT    NOT NULL UNIQUE CHECK (
                     person_key <> ''
                     AND person_key NOT GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
                     AND person_key NOT GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    id           TEXT    NOT NULL UNIQUE,
    sealed       BLOB    NOT NULL,
    locked_until INTEGER NOT NULL,  -- no other session of the identity opens before
    expires      INTEGER NOT NULL
);

-- A challenge itself travels sealed in its id; here are the codes tried
-- against it (attempts = the most allowed once it is used up).
CREATE TABLE challenge_attempts (
    id       TEXT    NOT NULL UNIQUE,
    attempts INTEGER NOT NULL,
    expires  INTEGER NOT NULL
);

CREATE TABLE lookup_grants (
    id      TEXT    NOT NULL UNIQUE,
    sealed  BLOB    NOT NULL,
    expires INTEGER NOT NULL
);

DROP INDEX bookings_active_by_cohort;
CREATE INDEX bookings_active_by_cohort_vaccine
    ON bookings (cohort_id, vaccine_id) WHERE status = 'booked';
