-- POST /seats/<random seat>/lock with a random user's token. Env: TOKENS_FILE, SEAT_MIN, SEAT_MAX.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local tokens, seat_min, seat_max

function init(args)
  tokens = load_tokens()
  seat_min, seat_max = tonumber(os.getenv("SEAT_MIN")), tonumber(os.getenv("SEAT_MAX"))
  math.randomseed(os.time() * 1000 + id)
end

function request()
  local seat = math.random(seat_min, seat_max)
  local user = math.random(#tokens)
  local headers = {["Authorization"] = "Bearer " .. tokens[user], ["X-Forwarded-For"] = client_address(user)}
  return wrk.format("POST", "/seats/" .. seat .. "/lock", headers, "")
end

function response(status, headers, body)
  count(status)
end
