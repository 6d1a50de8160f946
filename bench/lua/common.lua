-- Shared by every wrk script of the jikimi load benchmarks (loaded with dofile from each script).
--
-- Provides the wrk hooks setup(), response() and done(): each thread gets a 1-based `id`;
-- every response that is not 2xx is counted (by status) and the first one's body is kept as a
-- sample; done() prints one machine-readable line:
--   RESULT scenario=NAME requests=N secs=S rps=R p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. non2xx=N
--          errors_connect=N errors_read=N errors_write=N errors_timeout=N statuses=CODE:N,...
-- and, if any, a `SAMPLE` line with the first non-2xx status and the start of its body.
-- Also the synthetic person generator used by the sign-up script (person_json).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

non2xx = 0
statuses = ""
local by_status = {}
sample = nil

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    by_status[status] = (by_status[status] or 0) + 1
    local parts = {}
    for code, n in pairs(by_status) do
      table.insert(parts, code .. ":" .. n)
    end
    statuses = table.concat(parts, ",")
    if not sample then
      sample = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local bad, codes, first = 0, {}, nil
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    local s = t:get("statuses")
    if s and s ~= "" then
      table.insert(codes, s)
    end
    first = first or t:get("sample")
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT scenario=%s requests=%d secs=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d statuses=%s\n",
    os.getenv("BENCH_SCENARIO") or "?", summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, bad, e.connect, e.read, e.write, e.timeout,
    (#codes > 0) and table.concat(codes, ",") or "-"))
  if first then
    io.write("SAMPLE " .. string.gsub(first, "\n", " ") .. "\n")
  end
end

-- Synthetic people -------------------------------------------------------------------------------
-- Member number n → values that are all unique per n (for n < 8,000,000): login ID member<n>,
-- e-mail member<n>@example.com, an RRN with a valid check digit (birth date from n / 100000,
-- serial n % 100000), phone 02-xxx-xxxx. Names, postal codes (03xxx) and addresses repeat.
-- bench/run.sh has the same generator in bash for seeding; keep the two in step.

local SURNAMES = { "김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권", "황" }
local GIVEN = { "지", "킴", "보", "람", "서", "윤", "하", "늘", "도", "현", "채", "온", "새", "별", "누", "리", "민", "준", "연", "우" }
local WEIGHTS = { 2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5 }
PASSWORD = "Jikimi-bench-pw!"

local floor = math.floor

function synthetic_rrn(n)
  local k = floor(n / 100000)
  local year = 1970 + k % 30
  local month = 1 + floor(k / 30) % 12
  local day = 1 + floor(k / 360) % 28
  local body = string.format("%02d%02d%02d%d%05d", year % 100, month, day, 1 + n % 2, n % 100000)
  local sum = 0
  for i = 1, 12 do
    sum = sum + tonumber(string.sub(body, i, i)) * WEIGHTS[i]
  end
  local check = (11 - sum % 11) % 10
  return string.sub(body, 1, 6) .. "-" .. string.sub(body, 7) .. check
end

function person_json(n)
  local name = SURNAMES[n % #SURNAMES + 1] .. GIVEN[floor(n / 3) % #GIVEN + 1]
      .. GIVEN[(floor(n / 7) + 5) % #GIVEN + 1]
  local x = n % 8000000
  return string.format(
    '{"login_id":"member%d","password":"%s","items":{"name":"%s","rrn":"%s","phone":"02-%03d-%04d",'
      .. '"postal_code":"03%03d","address":"서울특별시 종로구 지킴로 %d","address_detail":"%d동 %d호",'
      .. '"email":"member%d@example.com"},"consents":{"privacy_policy":true}}',
    n, PASSWORD, name, synthetic_rrn(n), 200 + floor(x / 10000), x % 10000,
    n % 1000, 1 + n % 300, 101 + n % 9, 1001 + n % 90, n)
end

-- Client addresses ------------------------------------------------------------------------------
-- jikimi's abuse limits count per client address (ARCHITECTURE.md, "Limits"), and all benchmark
-- traffic comes from 127.0.0.1. run.sh starts the server with --trusted-proxy 127.0.0.1 and every
-- script sends X-Forwarded-For with member n's own address in the benchmarking range 198.18.0.0/15
-- (RFC 2544): 198.(18 + n / 65536 % 2).(n / 256 % 256).(n % 256). So each synthetic member is its own
-- client, as in real life, and the limiter's real cost is measured. Same formula as member_addr in
-- run.sh; keep the two in step.
function client_addr(n)
  return string.format("198.%d.%d.%d", 18 + floor(n / 65536) % 2, floor(n / 256) % 256, n % 256)
end

-- Reads one token per line.
function read_lines(path)
  local out = {}
  local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in f:lines() do
    if line ~= "" then
      table.insert(out, line)
    end
  end
  f:close()
  assert(#out > 0, "no lines in " .. path)
  return out
end
