-- (b) POST /api/v1/members: each request signs up a distinct synthetic member.
-- Args: BASE THREADS. Member number n = BASE + (counter - 1) * THREADS + (id - 1), so numbers are
-- unique across requests and threads (login ID, e-mail, RRN and phone all derive from n). Member n
-- signs up from its own address (client_addr, common.lua).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local counter, base, nthreads = 0, 1000000, 1

function init(args)
  base = tonumber(args[1]) or base
  nthreads = tonumber(args[2]) or nthreads
end

function request()
  counter = counter + 1
  local n = base + (counter - 1) * nthreads + (id - 1)
  return wrk.format("POST", "/api/v1/members",
    { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = client_addr(n) }, person_json(n))
end
