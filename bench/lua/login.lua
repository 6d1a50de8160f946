-- (c) POST /api/v1/sessions: logs in the seeded members member1..memberSEED in turn, always with
-- the right password (so no login failure is recorded and no ID is ever locked).
-- Member n logs in from its own address (client_addr, common.lua). Args: SEED THREADS.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local counter, seeded, nthreads = 0, 200, 1

function init(args)
  seeded = tonumber(args[1]) or seeded
  nthreads = tonumber(args[2]) or nthreads
end

function request()
  counter = counter + 1
  local n = ((counter - 1) * nthreads + (id - 1)) % seeded + 1
  local body = string.format('{"login_id":"member%d","password":"%s"}', n, PASSWORD)
  return wrk.format("POST", "/api/v1/sessions",
    { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = client_addr(n) }, body)
end
