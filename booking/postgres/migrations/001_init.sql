-- 001_init: bookings, slot capacity, vaccine supply, transactional outbox,
-- idempotency keys and identity sessions. The PostgreSQL translation of
-- booking/sqlite/migrations/001_init.sql; the two stores behave the same.
--
-- Conventions: instants are bigint unix nanoseconds (UTC), as in the SQLite
-- store, so that a time.Time survives the round trip exactly (timestamptz
-- would keep only microseconds); to_timestamp(created_at / 1e9) reads one.
-- Calendar dates are date; a birth date not given is NULL. No column holds a
-- resident registration number: person_key and booked_by are keyed hashes
-- of it, and CHECK constraints reject values shaped like an RRN (13 digits,
-- or YYMMDD-NNNNNNN) as a last line of defence against a caller passing the
-- raw number by mistake.
--
-- Objects are created in the first schema of the connection's search_path.

CREATE TABLE bookings (
    number       text    NOT NULL PRIMARY KEY,
    campaign_id  text    NOT NULL CHECK (campaign_id <> ''),
    cohort_id    text    NOT NULL,
    vaccine_id   text    NOT NULL CHECK (vaccine_id <> ''),
    person_key   text    NOT NULL CONSTRAINT bookings_person_key_not_rrn CHECK (
                     person_key <> ''
                     AND person_key !~ '^[0-9]{13}$'
                     AND person_key !~ '^[0-9]{6}-[0-9]{7}$'),
    name         text    NOT NULL,
    phone        text    NOT NULL,
    birth_date   date,                         -- NULL if not given
    booked_by    text    NOT NULL CONSTRAINT bookings_booked_by_not_rrn CHECK (
                     booked_by !~ '^[0-9]{13}$'
                     AND booked_by !~ '^[0-9]{6}-[0-9]{7}$'),
    dose1_clinic bigint  NOT NULL,
    dose1_date   date    NOT NULL,
    dose1_block  integer NOT NULL,
    dose2_clinic bigint  NOT NULL,
    dose2_date   date    NOT NULL,
    dose2_block  integer NOT NULL,
    status       text    NOT NULL CHECK (status IN ('booked', 'cancelled')),
    supply_doses integer NOT NULL DEFAULT 0,  -- doses counted against vaccine_supply (given back on cancel)
    created_at   bigint  NOT NULL,
    updated_at   bigint  NOT NULL
);

-- One active booking per person per campaign; a cancelled booking no longer
-- counts, so the person may book again. The store maps a violation of this
-- index (by name) to booking.ErrAlreadyBooked.
CREATE UNIQUE INDEX bookings_one_active_per_person
    ON bookings (campaign_id, person_key) WHERE status = 'booked';

-- Live statistics: active bookings per cohort (partial).
CREATE INDEX bookings_active_by_cohort
    ON bookings (cohort_id) WHERE status = 'booked';

-- Bookings held per slot (both doses). A row appears on first booking; its
-- row lock is what serialises concurrent bookings of one slot.
CREATE TABLE slots (
    clinic_id bigint  NOT NULL,
    date      date    NOT NULL,
    block     integer NOT NULL,
    booked    bigint  NOT NULL CHECK (booked >= 0),
    PRIMARY KEY (clinic_id, date, block)
);

-- Dose allocation per vaccine. A vaccine without a row, or with allocated = 0,
-- is not limited.
CREATE TABLE vaccine_supply (
    vaccine_id text   NOT NULL PRIMARY KEY,
    allocated  bigint NOT NULL CHECK (allocated >= 0),
    used       bigint NOT NULL DEFAULT 0 CHECK (used >= 0)
);

-- Transactional outbox: written in the same transaction as the booking
-- change it announces, delivered afterwards.
CREATE TABLE outbox (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_number text   REFERENCES bookings (number),
    kind           text   NOT NULL,
    recipient      text   NOT NULL,
    body           text   NOT NULL,
    created_at     bigint NOT NULL,
    sent_at        bigint
);

CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;

CREATE TABLE idempotency_keys (
    key            text   NOT NULL PRIMARY KEY,
    booking_number text   NOT NULL REFERENCES bookings (number),
    request_hash   bytea  NOT NULL,
    created_at     bigint NOT NULL
);

-- One booking session per identity.
CREATE TABLE identity_sessions (
    person_key text   NOT NULL PRIMARY KEY CONSTRAINT identity_sessions_person_key_not_rrn CHECK (
                   person_key <> ''
                   AND person_key !~ '^[0-9]{13}$'
                   AND person_key !~ '^[0-9]{6}-[0-9]{7}$'),
    session_id text   NOT NULL,
    until      bigint NOT NULL
);
