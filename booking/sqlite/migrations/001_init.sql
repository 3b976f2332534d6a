-- 001_init: bookings, slot capacity, vaccine supply, transactional outbox,
-- idempotency keys and identity sessions.
--
-- Conventions: instants are INTEGER unix nanoseconds (UTC); calendar dates
-- are TEXT 'YYYY-MM-DD'. No column holds a resident registration number:
-- person_key and booked_by are keyed hashes of it, and CHECK constraints
-- reject values shaped like an RRN (13 digits, or YYMMDD-NNNNNNN) as a last
-- line of defence against a caller passing the raw number by mistake.

CREATE TABLE bookings (
    number       TEXT    NOT NULL PRIMARY KEY,
    campaign_id  TEXT    NOT NULL CHECK (campaign_id <> ''),
    cohort_id    TEXT    NOT NULL,
    vaccine_id   TEXT    NOT NULL CHECK (vaccine_id <> ''),
    person_key   TEXT    NOT NULL CHECK (
                     person_key <> ''
                     AND person_key NOT GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
                     AND person_key NOT GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    name         TEXT    NOT NULL,
    phone        TEXT    NOT NULL,
    birth_date   TEXT    NOT NULL,            -- 'YYYY-MM-DD', '' if not given
    booked_by    TEXT    NOT NULL CHECK (
                     booked_by NOT GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
                     AND booked_by NOT GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    dose1_clinic INTEGER NOT NULL,
    dose1_date   TEXT    NOT NULL,
    dose1_block  INTEGER NOT NULL,
    dose2_clinic INTEGER NOT NULL,
    dose2_date   TEXT    NOT NULL,
    dose2_block  INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('booked', 'cancelled')),
    supply_doses INTEGER NOT NULL DEFAULT 0,  -- doses counted against vaccine_supply (given back on cancel)
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- One active booking per person per campaign; a cancelled booking no longer
-- counts, so the person may book again.
CREATE UNIQUE INDEX bookings_one_active_per_person
    ON bookings (campaign_id, person_key) WHERE status = 'booked';

-- Live statistics: active bookings per cohort (covering, partial).
CREATE INDEX bookings_active_by_cohort
    ON bookings (cohort_id) WHERE status = 'booked';

-- Bookings held per slot (both doses). A row appears on first booking.
CREATE TABLE slots (
    clinic_id INTEGER NOT NULL,
    date      TEXT    NOT NULL,
    block     INTEGER NOT NULL,
    booked    INTEGER NOT NULL CHECK (booked >= 0),
    PRIMARY KEY (clinic_id, date, block)
) WITHOUT ROWID;

-- Dose allocation per vaccine. A vaccine without a row, or with allocated = 0,
-- is not limited.
CREATE TABLE vaccine_supply (
    vaccine_id TEXT    NOT NULL PRIMARY KEY,
    allocated  INTEGER NOT NULL CHECK (allocated >= 0),
    used       INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0)
) WITHOUT ROWID;

-- Transactional outbox: written in the same transaction as the booking
-- change it announces, delivered afterwards.
CREATE TABLE outbox (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    booking_number TEXT    REFERENCES bookings (number),
    kind           TEXT    NOT NULL,
    recipient      TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    sent_at        INTEGER
);

CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;

CREATE TABLE idempotency_keys (
    key            TEXT    NOT NULL PRIMARY KEY,
    booking_number TEXT    NOT NULL REFERENCES bookings (number),
    request_hash   BLOB    NOT NULL,
    created_at     INTEGER NOT NULL
) WITHOUT ROWID;

-- One booking session per identity.
CREATE TABLE identity_sessions (
    person_key TEXT    NOT NULL PRIMARY KEY CHECK (
                   person_key <> ''
                   AND person_key NOT GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
                   AND person_key NOT GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    session_id TEXT    NOT NULL,
    until      INTEGER NOT NULL
) WITHOUT ROWID;
