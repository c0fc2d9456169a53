-- wrk script for bench/run.sh: POST a fixed JSON body with the benchmark
-- headers, and print one machine-readable summary line at the end.
--
-- Environment:
--   BENCH_BODY_FILE  path of the JSON request body (required)
--   BENCH_API_KEY    bearer token (default sk-bench)

local path = os.getenv("BENCH_BODY_FILE")
if path == nil or path == "" then
  error("BENCH_BODY_FILE is not set")
end
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()

local key = os.getenv("BENCH_API_KEY")
if key == nil or key == "" then
  key = "sk-bench"
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key

-- No response() callback on purpose: defining one makes wrk hand every
-- response to Lua, which costs load-generator CPU on a 2-core machine.
-- wrk itself counts status >= 400 in summary.errors.status.

function done(summary, latency, requests)
  local e = summary.errors
  -- Latencies are in microseconds, duration in microseconds.
  io.write(string.format(
    "BENCH_RESULT {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d," ..
    "\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"mean_us\":%.1f," ..
    "\"err_connect\":%d,\"err_read\":%d,\"err_write\":%d,\"err_timeout\":%d,\"err_status\":%d}\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout, e.status))
end
