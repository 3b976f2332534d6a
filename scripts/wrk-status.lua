-- wrk script: GET /api/v1/rooms/{room}/status with the ticket in
-- SLUICE_TICKET as "Authorization: Bearer <ticket>". Used by
-- `sluice loadtest --compare --client wrk`; by hand:
--   SLUICE_TICKET=$(curl -s -X POST http://127.0.0.1:8080/api/v1/rooms/demo/tickets | sed 's/.*"ticket":"\([^"]*\)".*/\1/') \
--     wrk -t1 -c64 -d5s -s scripts/wrk-status.lua http://127.0.0.1:8080/api/v1/rooms/demo/status
local ticket = os.getenv("SLUICE_TICKET")
if ticket == nil or ticket == "" then
  error("set SLUICE_TICKET to a ticket of the room")
end
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. ticket
