-- 002_supply_shards: stripe each vaccine's dose counter over 16 rows.
--
-- Until now every booking of a vaccine with a supply limit updated the one
-- vaccine_supply row of the vaccine and held its row lock until commit, so
-- the bookings of one vaccine committed one at a time. From here on the doses
-- are counted in vaccine_supply_shards, 16 rows ("shards") per vaccine, each
-- with a part of the allocation (allocated) and the doses taken from it
-- (used); a booking takes its doses from one shard with room, preferably one
-- no other transaction holds, and records the shard, so that a cancel gives
-- them back to the same shard. The store's package comment has the rules;
-- in short, for a vaccine whose vaccine_supply.allocated A is not 0 (0: no
-- limit), with U the sum of the shards' used doses:
--
--   * every shard has 0 <= used <= allocated (CHECKs below), and the room of
--     every shard (allocated - used) is a whole number of bookings (2 doses),
--     so the shards never hold between them room for a booking that no
--     single shard has;
--   * the room of all shards together, less vaccine_supply.debt, is the room
--     a single counter would have: 2 * floor((A - U) / 2), so exactly as many
--     bookings succeed as before, never more;
--   * debt is not 0 only while A is below the doses already used (the
--     allocation was lowered under them): every shard is then full
--     (allocated = used), and each cancel lowers its shard's allocation with
--     its used doses and pays off 2 of the debt, until used falls below A.
--
-- vaccine_supply keeps the allocation exactly as set (what Supply reports,
-- odd numbers included); its used column, which no statement would keep up
-- to date any more, is dropped: the doses used are the sum of the shards'.
--
-- The existing counters carry over exactly: a vaccine's used doses all go to
-- shard 0, and its room (in whole bookings) is spread over the 16 shards.
-- Bookings made before this migration have no supply_shard (NULL); the doses
-- they hold, if any, are in shard 0 of their vaccine, and a cancel gives them
-- back there. Every vaccine_supply row gets its 16 shards, also a vaccine
-- without a limit (allocated = 0), whose shards then have no room (a limit
-- set later spreads room over them).

CREATE TABLE vaccine_supply_shards (
    vaccine_id text    NOT NULL,
    shard      integer NOT NULL CHECK (shard >= 0),
    allocated  bigint  NOT NULL,
    used       bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (vaccine_id, shard),
    CONSTRAINT vaccine_supply_shards_used_range CHECK (0 <= used AND used <= allocated)
);

ALTER TABLE vaccine_supply
    ADD COLUMN debt bigint NOT NULL DEFAULT 0 CONSTRAINT vaccine_supply_debt_nonnegative CHECK (debt >= 0);

-- The shard a booking's supply doses (bookings.supply_doses) were taken from;
-- NULL if it took none, or was made before this migration (shard 0).
ALTER TABLE bookings ADD COLUMN supply_shard integer;

INSERT INTO vaccine_supply_shards (vaccine_id, shard, allocated, used)
SELECT v.vaccine_id, s.shard,
       CASE WHEN s.shard = 0 THEN v.used ELSE 0 END
           + 2 * (r.bookings / 16 + CASE WHEN s.shard < r.bookings % 16 THEN 1 ELSE 0 END),
       CASE WHEN s.shard = 0 THEN v.used ELSE 0 END
FROM vaccine_supply v
CROSS JOIN LATERAL (
    SELECT CASE WHEN v.allocated > v.used THEN (v.allocated - v.used) / 2 ELSE 0 END AS bookings
) r
CROSS JOIN generate_series(0, 15) AS s(shard);

UPDATE vaccine_supply SET debt = 2 * ((used - allocated + 1) / 2)
WHERE allocated > 0 AND used > allocated;

ALTER TABLE vaccine_supply DROP COLUMN used;
