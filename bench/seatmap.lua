-- GET /events/<EVENT_ID>/seats, optionally with If-None-Match: ETAG. Env: EVENT_ID, ETAG.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local path, etag

function init(args)
  path = "/events/" .. os.getenv("EVENT_ID") .. "/seats"
  etag = os.getenv("ETAG")
end

function request()
  local headers = {["Accept-Encoding"] = os.getenv("ACCEPT_ENCODING") or "identity"}
  if etag and etag ~= "" then
    headers["If-None-Match"] = etag
  end
  return wrk.format("GET", path, headers)
end

function response(status, headers, body)
  count(status)
end
