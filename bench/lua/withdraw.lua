-- bench/scale.sh: POST /api/v1/me/withdrawal, each request with a session of its own (made by
-- `jikimi bench-seed --sessions`; line = "<member number> <token>"), the password again, from the
-- member's address. A withdrawn member's session is gone, so no token is used twice: thread `id`
-- of THREADS takes lines id, id + THREADS, ...; a thread out of tokens stops (wrk.thread:stop(),
-- sending one harmless GET /healthz last) and done() prints `RAN_OUT threads=K`. wrk still divides
-- by the whole duration and drops the answers in flight when a thread stops, so a run that ran
-- out is not a result (scale.sh says so): give it more sessions or a shorter duration.
-- Args: TOKENS_FILE THREADS.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local counter, lines, nthreads, stopped = 0, nil, 1, false
ran_out = 0

local all_threads = {}
local common_setup, common_done = setup, done

function setup(thread)
  common_setup(thread)
  table.insert(all_threads, thread)
end

function done(summary, latency, requests)
  common_done(summary, latency, requests)
  local k = 0
  for _, t in ipairs(all_threads) do
    k = k + (t:get("ran_out") or 0)
  end
  if k > 0 then
    io.write(string.format("RAN_OUT threads=%d\n", k))
  end
end

function init(args)
  lines = read_lines(args[1])
  nthreads = tonumber(args[2]) or nthreads
end

function request()
  counter = counter + 1
  local i = (counter - 1) * nthreads + id
  if i > #lines then
    if not stopped then
      stopped = true
      ran_out = 1
      wrk.thread:stop()
    end
    return wrk.format("GET", "/healthz")
  end
  local n, token = string.match(lines[i], "^(%d+) (%S+)$")
  return wrk.format("POST", "/api/v1/me/withdrawal",
    { Authorization = "Bearer " .. token, ["Content-Type"] = "application/json",
      ["X-Forwarded-For"] = client_addr(tonumber(n)) },
    string.format('{"password":"%s"}', PASSWORD))
end
