-- (c) POST /api/v1/sessions: logs in the seeded members member1..memberSEED in turn, always with
-- the right password (so no login failure is recorded and no ID is ever locked).
-- Args: SEED THREADS.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local counter, seeded, nthreads = 0, 200, 1
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  seeded = tonumber(args[1]) or seeded
  nthreads = tonumber(args[2]) or nthreads
end

function request()
  counter = counter + 1
  local n = ((counter - 1) * nthreads + (id - 1)) % seeded + 1
  local body = string.format('{"login_id":"member%d","password":"%s"}', n, PASSWORD)
  return wrk.format("POST", "/api/v1/sessions", headers, body)
end
