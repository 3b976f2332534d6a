-- 005_shares: fair shares of appointment days. A booking made in a window
-- with a share records it (campaign/window); the booking transaction
-- counts a share's active bookings at the first dose's slot.
ALTER TABLE bookings ADD COLUMN share_key TEXT NOT NULL DEFAULT '';
CREATE INDEX bookings_active_by_share
    ON bookings (dose1_clinic, dose1_date, dose1_block, share_key) WHERE status = 'booked' AND share_key <> '';
