-- (a) GET /healthz: the ceiling of the HTTP stack (router, middleware, JSON) without storage.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.method = "GET"
wrk.path = "/healthz"
