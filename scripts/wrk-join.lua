-- wrk script: POST /api/v1/rooms/{room}/tickets without a body (one new
-- ticket per request). Used by `sluice loadtest --compare --client wrk`;
-- by hand:
--   wrk -t1 -c64 -d5s -s scripts/wrk-join.lua http://127.0.0.1:8080/api/v1/rooms/demo/tickets
wrk.method = "POST"
wrk.body = "" -- sends "Content-Length: 0", as an HTTP client library would
