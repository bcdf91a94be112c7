-- Prints one JSON line with throughput, latency percentiles (ms) and errors when wrk is done.
-- With POST_BODY set, each request posts it, with {n} replaced by a running number.
local counter = 0
local body = os.getenv("POST_BODY")

request = function()
  if body then
    counter = counter + 1
    -- a headers table passed to wrk.format replaces the -H headers, so copy them (the cookie)
    local headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local filled = body:gsub("{n}", tostring(counter) .. "-" .. tostring(math.random(1e9)))
    return wrk.format("POST", nil, headers, filled)
  end
  return wrk.format(nil)
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50": %.2f, "p95": %.2f, "p99": %.2f, "errors": %d, "non2xx3xx": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    errors, summary.errors.status))
end
