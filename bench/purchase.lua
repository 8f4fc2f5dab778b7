-- A purchase per four requests on one connection per thread: lock seat a, lock seat b, order both,
-- pay. Each thread uses its own user and its own stretch of seats. Env: TOKENS_FILE, SEAT_MIN,
-- SEATS_PER_THREAD. Counts "purchases" (200 pays) and each step's statuses ("lock:200", ...).
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local token, address, next_seat, last_seat, step, seat_a, seat_b, order_id
local steps = {"lock", "lock", "order", "pay"}

local function take_seats()
  seat_a, seat_b = next_seat, next_seat + 1
  next_seat = next_seat + 2
  if next_seat > last_seat then
    next_seat = last_seat - 1  -- out of seats: the remaining requests fail, and show it
  end
end

function init(args)
  local tokens = load_tokens()
  token = tokens[(id % #tokens) + 1]
  address = client_address((id % #tokens) + 1)
  local per_thread = tonumber(os.getenv("SEATS_PER_THREAD"))
  next_seat = tonumber(os.getenv("SEAT_MIN")) + id * per_thread
  last_seat = next_seat + per_thread - 1
  step = 1
  take_seats()
end

function request()
  local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json",
                   ["X-Forwarded-For"] = address}
  if step == 1 then
    return wrk.format("POST", "/seats/" .. seat_a .. "/lock", headers, "")
  elseif step == 2 then
    return wrk.format("POST", "/seats/" .. seat_b .. "/lock", headers, "")
  elseif step == 3 then
    return wrk.format("POST", "/orders", headers, '{"seat_ids": [' .. seat_a .. ", " .. seat_b .. "]}")
  end
  return wrk.format("POST", "/orders/" .. order_id .. "/pay", headers, '{"payment_token": "tok_visa"}')
end

function response(status, headers, body)
  count(steps[step] .. ":" .. status)
  local ok = status == 200 or status == 201
  if step == 3 and ok then
    order_id = string.match(body, '"order":{"id":(%d+)')
    ok = order_id ~= nil
  end
  if step == 4 and ok then
    count("purchases")
  end
  if ok and step < 4 then
    step = step + 1
  else
    step = 1
    take_seats()
  end
end
