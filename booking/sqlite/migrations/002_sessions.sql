-- 002_sessions: what a journey in progress needs, kept where every node
-- finds it (booking/state.go): identity challenges, booking sessions (one
-- per identity, replacing identity_sessions, which held only the lock)
-- and look-ups. Ids are hashes of the tokens people hold; "sealed" is
-- encrypted by the service (AES-256-GCM, SLUICE_SESSION_KEYS): this
-- database holds no name, phone number or birth date of theirs in clear.
-- Expired rows are deleted by the service (PurgeExpired), by expiry.
--
-- Statistics count active bookings per vaccine too: the index on the
-- cohort gains the vaccine.

DROP TABLE identity_sessions;

CREATE TABLE booking_sessions (
    person_key   TEXT    NOT NULL PRIMARY KEY CHECK (
                     person_key <> ''
                     AND person_key NOT GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
                     AND person_key NOT GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    id           TEXT    NOT NULL UNIQUE,
    sealed       BLOB    NOT NULL,
    locked_until INTEGER NOT NULL,  -- no other session of the identity opens before
    expires      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX booking_sessions_expires ON booking_sessions (expires);

CREATE TABLE challenges (
    id       TEXT    NOT NULL PRIMARY KEY,
    sealed   BLOB    NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    expires  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX challenges_expires ON challenges (expires);

CREATE TABLE lookup_grants (
    id      TEXT    NOT NULL PRIMARY KEY,
    sealed  BLOB    NOT NULL,
    expires INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX lookup_grants_expires ON lookup_grants (expires);

DROP INDEX bookings_active_by_cohort;
CREATE INDEX bookings_active_by_cohort_vaccine
    ON bookings (cohort_id, vaccine_id) WHERE status = 'booked';
