-- bench/scale.sh: POST /api/v1/sessions for a random member 1..N of the installation (seeded
-- with `jikimi bench-seed`), always with the right password, from the member's own address
-- (client_addr, common.lua). Random, so that at 1 000 000 members the pages read are spread over
-- the whole database rather than a hot few. Args: N THREADS.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local members = 1000

function init(args)
  members = tonumber(args[1]) or members
  -- One sequence per thread: each thread's Lua state has its own generator.
  math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
  local n = math.random(1, members)
  local body = string.format('{"login_id":"member%d","password":"%s"}', n, PASSWORD)
  return wrk.format("POST", "/api/v1/sessions",
    { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = client_addr(n) }, body)
end
