-- POST /events/<id>/checkins: each request scans the next ticket of this wrk thread's share of the
-- codes (thread i takes codes i, i+T, i+2T, ...), so no two requests scan the same ticket.
-- Env: CODES_FILE (one code a line), DOOR_TOKEN, EVENT_ID, WRK_THREADS.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local codes, token, path, step, index

function init(args)
  codes = {}
  for line in io.lines(os.getenv("CODES_FILE")) do
    table.insert(codes, line)
  end
  token = os.getenv("DOOR_TOKEN")
  path = "/events/" .. os.getenv("EVENT_ID") .. "/checkins"
  step = tonumber(os.getenv("WRK_THREADS"))
  index = id + 1
end

function request()
  -- Past the last code a thread scans its first again (answered 409 already_checked_in, counted apart).
  local code = codes[index] or codes[id + 1]
  local body = string.format('{"code": "%s", "nonce": "bench-%d-%d", "gate": "Door %d"}', code, id, index, id)
  index = index + step
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  count(status)
end
