-- (e) PATCH /api/v1/me: corrects the address of a seeded member (bearer token, in turn) to
-- "서울특별시 종로구 지킴로 N" with N changing every request.
-- Line i of TOKENS_FILE is member i's session, sent from member i's address (client_addr).
-- Args: TOKENS_FILE THREADS.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local counter, tokens, nthreads = 0, nil, 1

function init(args)
  tokens = read_lines(args[1])
  nthreads = tonumber(args[2]) or nthreads
end

function request()
  counter = counter + 1
  local k = (counter - 1) * nthreads + (id - 1)
  local i = k % #tokens + 1
  local body = string.format('{"items":{"address":"서울특별시 종로구 지킴로 %d"}}', 1 + k % 999)
  return wrk.format("PATCH", "/api/v1/me",
    { Authorization = "Bearer " .. tokens[i], ["Content-Type"] = "application/json",
      ["X-Forwarded-For"] = client_addr(i) }, body)
end
