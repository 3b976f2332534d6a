-- 005_leftovers: leftover doses (잔여백신) a clinic offers for a day, and
-- the clinics' credentials for posting them (only a SHA-256 of each).
CREATE TABLE leftovers (
    id         bigserial PRIMARY KEY,
    clinic_id  bigint  NOT NULL,
    vaccine_id text    NOT NULL CHECK (vaccine_id <> ''),
    date       date    NOT NULL,             -- Seoul
    doses      integer NOT NULL CHECK (doses > 0),
    booked     integer NOT NULL DEFAULT 0 CHECK (booked >= 0 AND booked <= doses),
    until_at   bigint  NOT NULL,             -- unix ns: bookable before this
    posted_at  bigint  NOT NULL
);
CREATE INDEX leftovers_by_date ON leftovers (date, posted_at);

CREATE TABLE clinic_tokens (
    hash       text   NOT NULL PRIMARY KEY CHECK (length(hash) = 64),
    clinic_id  bigint NOT NULL,
    created_at bigint NOT NULL,
    revoked_at bigint                        -- NULL while valid
);
CREATE INDEX clinic_tokens_by_clinic ON clinic_tokens (clinic_id);

-- A clinic's list of who is coming for a first dose on a day.
CREATE INDEX bookings_active_by_dose1 ON bookings (dose1_clinic, dose1_date) WHERE status = 'booked';
