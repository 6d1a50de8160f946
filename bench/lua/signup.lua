-- (b) POST /api/v1/members: each request signs up a distinct synthetic member.
-- Args: BASE THREADS. Member number n = BASE + (counter - 1) * THREADS + (id - 1), so numbers are
-- unique across requests and threads (login ID, e-mail, RRN and phone all derive from n).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local counter, base, nthreads = 0, 1000000, 1
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  base = tonumber(args[1]) or base
  nthreads = tonumber(args[2]) or nthreads
end

function request()
  counter = counter + 1
  local n = base + (counter - 1) * nthreads + (id - 1)
  return wrk.format("POST", "/api/v1/members", headers, person_json(n))
end
