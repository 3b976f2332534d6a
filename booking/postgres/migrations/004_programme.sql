-- 004_programme: several campaigns in one deployment (a programme). A
-- person holds at most one active booking across the whole programme, so
-- the uniqueness moves from (campaign_id, person_key) to person_key. A
-- database in which one person already holds active bookings in two
-- campaigns cannot take this migration: cancel one of them first. The store maps a
-- violation of this index (by name) to booking.ErrAlreadyBooked.
DROP INDEX bookings_one_active_per_person;
CREATE UNIQUE INDEX bookings_one_active_per_person
    ON bookings (person_key) WHERE status = 'booked';

-- Statistics per campaign and cohort (covering, partial).
DROP INDEX bookings_active_by_cohort_vaccine;
CREATE INDEX bookings_active_by_campaign_cohort_vaccine
    ON bookings (campaign_id, cohort_id, vaccine_id) WHERE status = 'booked';
