-- (d) GET /api/v1/me (My page, masked items) with a bearer token of a seeded member, in turn.
-- Line i of TOKENS_FILE is member i's session, sent from member i's address (client_addr).
-- Also the ceiling's load (bench/ceiling: its tokens file, every row in turn).
-- Args: TOKENS_FILE THREADS.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local counter, tokens, nthreads = 0, nil, 1

function init(args)
  tokens = read_lines(args[1])
  nthreads = tonumber(args[2]) or nthreads
end

function request()
  counter = counter + 1
  local i = ((counter - 1) * nthreads + (id - 1)) % #tokens + 1
  return wrk.format("GET", "/api/v1/me",
    { Authorization = "Bearer " .. tokens[i], ["X-Forwarded-For"] = client_addr(i) })
end
