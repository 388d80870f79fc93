-- One scenario of the load benchmark (benches/load.rs starts wrk with this
-- script). The scenario comes from the environment: BENCH_METHOD, BENCH_PATHS
-- (space-separated, taken in turn), BENCH_TOKENS (space-separated bearer
-- tokens, taken in turn) and BENCH_BODY. It counts answers by status and
-- prints one JSON line of figures at the end.

local function words(text)
  local list = {}
  for word in string.gmatch(text or "", "%S+") do
    list[#list + 1] = word
  end
  return list
end

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body == "" then body = nil end
local paths = words(os.getenv("BENCH_PATHS"))
local tokens = words(os.getenv("BENCH_TOKENS"))

local threads = {}

function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  turn = offset
end

function request()
  turn = turn + 1
  local headers = { ["Accept"] = "application/json" }
  if body then headers["Content-Type"] = "application/json" end
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[(turn % #tokens) + 1]
  end
  return wrk.format(method, paths[(turn % #paths) + 1], headers, body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    parts[#parts + 1] = string.format('"%s":%d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
