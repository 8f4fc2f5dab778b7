-- Shared by the wrk scripts: per-thread status counts and a JSON summary line for bench/run.py.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function load_tokens()
  local tokens = {}
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    table.insert(tokens, line)
  end
  return tokens
end

-- Each user's requests come from an address of its own (the service trusts one proxy's
-- X-Forwarded-For in the bench, PROXY_COUNT=1), as a crowd of buyers does: the per-address hold
-- count then covers one buyer's holds, not every hold of the run.
function client_address(user)
  return "10.0." .. math.floor(user / 256) .. "." .. (user % 256)
end

counts = {}

function count(key)
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for key, value in pairs(thread:get("counts")) do
      total[key] = (total[key] or 0) + value
    end
  end
  local parts = {}
  for key, value in pairs(total) do
    table.insert(parts, string.format('"%s": %d', tostring(key), value))
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"connect_errors": %d, "read_errors": %d, "timeouts": %d, "counts": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.timeout, table.concat(parts, ", ")))
end
