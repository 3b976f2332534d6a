-- 003_sessions: what a journey in progress needs, kept where every node
-- finds it (booking/state.go): the codes tried against identity
-- challenges, booking sessions (one per identity, replacing
-- identity_sessions, which held only the lock) and look-ups. The PostgreSQL translation of
-- booking/sqlite/migrations/002_sessions.sql. Ids are hashes of the tokens
-- people hold; "sealed" is encrypted by the service (AES-256-GCM,
-- SLUICE_SESSION_KEYS): no name, phone number or birth date of theirs in
-- clear. Expired rows are deleted by the service (PurgeExpired), by expiry.
--
-- Statistics count active bookings per vaccine too: the index on the
-- cohort gains the vaccine.

DROP TABLE identity_sessions;

CREATE TABLE booking_sessions (
    person_key   text   NOT NULL PRIMARY KEY CONSTRAINT booking_sessions_person_key_not_rrn CHECK (
                     person_key <> ''
                     AND person_key !~ '^[0-9]{13}$'
                     AND person_key !~ '^[0-9]{6}-[0-9]{7}$'),
    id           text   NOT NULL UNIQUE,
    sealed       bytea  NOT NULL,
    locked_until bigint NOT NULL,  -- no other session of the identity opens before
    expires      bigint NOT NULL
);

CREATE INDEX booking_sessions_expires ON booking_sessions (expires);

-- A challenge itself travels sealed in its id; here are the codes tried
-- against it (attempts = the most allowed once it is used up).
CREATE TABLE challenge_attempts (
    id       text    NOT NULL PRIMARY KEY,
    attempts integer NOT NULL,
    expires  bigint  NOT NULL
);

CREATE INDEX challenge_attempts_expires ON challenge_attempts (expires);

CREATE TABLE lookup_grants (
    id      text   NOT NULL PRIMARY KEY,
    sealed  bytea  NOT NULL,
    expires bigint NOT NULL
);

CREATE INDEX lookup_grants_expires ON lookup_grants (expires);

DROP INDEX bookings_active_by_cohort;
CREATE INDEX bookings_active_by_cohort_vaccine
    ON bookings (cohort_id, vaccine_id) WHERE status = 'booked';
