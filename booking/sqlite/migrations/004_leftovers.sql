-- 004_leftovers: leftover doses (잔여백신) a clinic offers for a day, and
-- the clinics' credentials for posting them (only a SHA-256 of each).
CREATE TABLE leftovers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    clinic_id  INTEGER NOT NULL,
    vaccine_id TEXT    NOT NULL CHECK (vaccine_id <> ''),
    date       TEXT    NOT NULL,             -- 'YYYY-MM-DD' (Seoul)
    doses      INTEGER NOT NULL CHECK (doses > 0),
    booked     INTEGER NOT NULL DEFAULT 0 CHECK (booked >= 0 AND booked <= doses),
    until_at   INTEGER NOT NULL,             -- unix ns: bookable before this
    posted_at  INTEGER NOT NULL
);
CREATE INDEX leftovers_by_date ON leftovers (date, posted_at);

CREATE TABLE clinic_tokens (
    hash       TEXT    NOT NULL PRIMARY KEY CHECK (length(hash) = 64),
    clinic_id  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER                       -- NULL while valid
) WITHOUT ROWID;
CREATE INDEX clinic_tokens_by_clinic ON clinic_tokens (clinic_id);

-- A clinic's list of who is coming for a first dose on a day.
CREATE INDEX bookings_active_by_dose1 ON bookings (dose1_clinic, dose1_date) WHERE status = 'booked';
