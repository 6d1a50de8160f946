#!/usr/bin/env bash
# Records which functions of the release binary the server runs, and writes them to
# crates/jikimi/link-order.txt, the order the release build lays its code out in (crates/jikimi/build.rs).
#
#   bench/link-order.sh                   # SQLite and PostgreSQL (needs scripts/test-postgres.sh)
#   BACKENDS=sqlite bench/link-order.sh   # SQLite only
#
# Run it again after `cargo update` or a toolchain change: function names carry a hash of their
# crate's version and build, so names from an older build stop matching (bench/run.sh says how many
# still do). Needs valgrind, wrk and curl; takes about two minutes after the build.
#
# For each backend: a fresh data directory, `jikimi serve` under valgrind's callgrind (which counts
# every function run, however rarely), then what members and the bench do: the public pages, sign-up,
# login, My page read and correction over the API, one withdrawal; then a clean shutdown. The
# functions of the binary that ran are written out: those that ran with every backend first, then
# each backend's own; within a group in the order of their address in the build that was profiled,
# so code that sat together stays together.
# All traffic goes to 127.0.0.1; every personal value is synthetic (bench/lua/common.lua).
set -euo pipefail
export LC_ALL=C

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
BACKENDS=${BACKENDS:-sqlite postgres}
OUT_FILE="$ROOT/crates/jikimi/link-order.txt"
PASSWORD='Jikimi-bench-pw!' # as lua/common.lua
export BENCH_LUA_DIR="$BENCH/lua"
# wait_port, pg_store:
source "$BENCH/lib.sh"

for backend in $BACKENDS; do
    [[ $backend == sqlite || $backend == postgres ]] || { echo "BACKENDS: sqlite and/or postgres, not $backend" >&2; exit 2; }
done
tools=(valgrind wrk curl nm)
[[ " $BACKENDS " == *" postgres "* ]] && tools+=(psql)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install valgrind wrk curl binutils postgresql)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/jikimi-order.XXXXXX")
SERVER_PID=""
PGTEST_DIR=""
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n "$PGTEST_DIR" ]]; then "$ROOT/scripts/test-postgres.sh" stop "$PGTEST_DIR" || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$ROOT" && cargo build --release -p jikimi --locked --target-dir "$ROOT/target")
BIN="$ROOT/target/release/jikimi"
unset_jikimi=()
for v in $(compgen -e | grep '^JIKIMI_' || true); do unset_jikimi+=(-u "$v"); done

# The member's flows against BASE, a few of each (the server runs about fifty times slower under
# callgrind). wrk builds one request before it starts, so the sign-ups are members 2..N+1.
flows() {
    local base=$1 n tokens="$WORK/tokens.txt" code
    for page in / /privacy /signup /login /assets/site.css /healthz /api/openapi.json; do
        curl -fsS -o /dev/null "$base$page"
    done
    wrk -t1 -c2 -d6s --timeout 60s -s "$BENCH/lua/signup.lua" "$base" -- 1 1 >"$WORK/wrk.out"
    n=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
    ((n >= 4)) || { cat "$WORK/wrk.out" >&2; echo "too few sign-ups under valgrind" >&2; exit 1; }
    : >"$tokens"
    for i in 2 3 4; do
        curl -fsS -H 'Content-Type: application/json' -H "X-Forwarded-For: 198.18.0.$i" \
            --data "{\"login_id\":\"member$i\",\"password\":\"$PASSWORD\"}" "$base/api/v1/sessions" |
            grep -o '"token":"[^"]*"' | cut -d'"' -f4 >>"$tokens"
    done
    [[ $(wc -l <"$tokens") -eq 3 ]] || { echo "login failed" >&2; exit 1; }
    # Member 1 never signed up: its logins are refused (401), the rest must succeed.
    wrk -t1 -c2 -d3s --timeout 60s -s "$BENCH/lua/login.lua" "$base" -- "$n" 1 >"$WORK/wrk.out"
    grep -Eq '^RESULT .* statuses=(-|401:[0-9]+)$' "$WORK/wrk.out" || { cat "$WORK/wrk.out" >&2; exit 1; }
    head -2 "$tokens" >"$WORK/me.txt"
    for script in me correct; do
        wrk -t1 -c2 -d3s --timeout 60s -s "$BENCH/lua/$script.lua" "$base" -- "$WORK/me.txt" 1 >"$WORK/wrk.out"
        grep -q '^RESULT .* non2xx=0 ' "$WORK/wrk.out" || { cat "$WORK/wrk.out" >&2; exit 1; }
    done
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H "X-Forwarded-For: 198.18.0.4" \
        -H "Authorization: Bearer $(sed -n 3p "$tokens")" --data "{\"password\":\"$PASSWORD\"}" "$base/api/v1/me/withdrawal")
    [[ $code == 2* ]] || { echo "withdrawal answered $code" >&2; exit 1; }
}

profile() { # backend → $WORK/callgrind-<backend>.out
    local backend=$1 data="$WORK/data-$1" args=() port=""
    if [[ $backend == postgres ]]; then
        eval "$("$ROOT/scripts/test-postgres.sh" start)"
        pg_store jikimi "$WORK/master.key"
        args=("${STORE_ARGS[@]}")
        unset JIKIMI_TEST_POSTGRES_URL
    fi
    env "${unset_jikimi[@]}" "$BIN" init --data-dir "$data" --policy lifeplan-seed "${args[@]}" >/dev/null
    env "${unset_jikimi[@]}" JIKIMI_LOG=info valgrind --tool=callgrind --demangle=no --dump-instr=no \
        --callgrind-out-file="$WORK/callgrind-$backend.out" \
        "$BIN" serve --listen 127.0.0.1:0 --data-dir "$data" --policy lifeplan-seed --trusted-proxy 127.0.0.1 "${args[@]}" \
        >"$WORK/server.out" 2>"$WORK/server.log" &
    SERVER_PID=$!
    port=$(wait_port "$WORK/server.log" "$SERVER_PID" /healthz 1200)
    flows "http://127.0.0.1:$port"
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
    SERVER_PID=""
    [[ -s "$WORK/callgrind-$backend.out" ]] || { echo "callgrind wrote nothing" >&2; exit 1; }
    if [[ -n "$PGTEST_DIR" ]]; then
        "$ROOT/scripts/test-postgres.sh" stop "$PGTEST_DIR"
        PGTEST_DIR=""
    fi
    echo "profiled: $backend"
}

for backend in $BACKENDS; do profile "$backend"; done

# callgrind's format names each object (ob=) and function (fn=) once in full, then by number; a
# function's cost lines follow its fn= line, under the ob= last set. Recursion adds a 'N suffix.
ran() { # callgrind output → the binary's functions that ran, sorted
    awk '
        /^ob=/ { id = $1; sub(/^ob=/, "", id); name = substr($0, length($1) + 2); if (name != "") obs[id] = name; ob = obs[id]; next }
        /^fn=/ { id = $1; sub(/^fn=/, "", id); name = substr($0, length($1) + 2); if (name != "") fns[id] = name
                 if (ob ~ /\/release\/jikimi$/) { f = fns[id]; sub(/\047[0-9]+$/, "", f); print f } }
        /^(cob|cfn)=/ { split($0, kv, "="); id = kv[2]; sub(/ .*/, "", id); name = substr(kv[2], length(id) + 2)
                 if (kv[1] == "cob" && name != "") obs[id] = name
                 if (kv[1] == "cfn" && name != "") fns[id] = name }
    ' "$1" | sort -u
}
# The names the build defines as functions, with their address.
nm --defined-only "$BIN" | awk '$2 ~ /^[tTwW]$/ {print $3, $1}' | sort -k1,1 -u >"$WORK/defined.txt"
by_address() { join "$1" "$WORK/defined.txt" | sort -k2,2 | awk '{print $1}'; }
# Code that ran with every backend first, then what ran with only one (in the order of BACKENDS):
# a server touches little of the other backend's code.
set -- $BACKENDS
for backend in "$@"; do ran "$WORK/callgrind-$backend.out" >"$WORK/ran-$backend.txt"; done
cp "$WORK/ran-$1.txt" "$WORK/common.txt"
for backend in "$@"; do comm -12 "$WORK/common.txt" "$WORK/ran-$backend.txt" >"$WORK/c" && mv "$WORK/c" "$WORK/common.txt"; done
{
    by_address "$WORK/common.txt"
    for backend in "$@"; do comm -23 "$WORK/ran-$backend.txt" "$WORK/common.txt" | by_address /dev/stdin; done
} | awk '!seen[$0]++' >"$WORK/order.txt"
cat "$WORK"/ran-*.txt | sort -u >"$WORK/ran.txt"
rev=$(git -C "$ROOT" describe --always --dirty) # before the file is rewritten
{
    echo "# Functions the jikimi server runs, in the order the release build lays them out (crates/jikimi/build.rs)."
    echo "# Generated by bench/link-order.sh ($(echo "$BACKENDS" | tr ' ' '+'); $rev; $(cd "$ROOT" && rustc --version | cut -d' ' -f1-2)): do not edit."
    cat "$WORK/order.txt"
} >"$OUT_FILE"
echo "wrote $(wc -l <"$WORK/order.txt") of $(wc -l <"$WORK/ran.txt") functions that ran to ${OUT_FILE#"$ROOT"/}"
