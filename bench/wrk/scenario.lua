-- Replays a request file, one request per line: METHOD <tab> PATH <tab> TOKEN|- <tab> BODY.
-- Each thread starts at a different line, so many users' tokens are in play at once.
-- At the end it prints one JSON summary line (see report.lua for the fields).
local lines = {}
for line in io.lines(os.getenv("TASKYARD_BENCH_REQUESTS")) do
  lines[#lines + 1] = line
end

local counter = 1
function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end

local position = 0
function init(args)
  position = tonumber(offset) or 0
end

function request()
  position = position + 1
  local line = lines[(position % #lines) + 1]
  local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
  local headers = {}
  if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
  if body ~= "" then
    headers["Content-Type"] = "application/json"
    return wrk.format(method, path, headers, body)
  end
  return wrk.format(method, path, headers)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_s": %.3f, "socket_errors": %d, "http_errors": %d, ' ..
    '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
