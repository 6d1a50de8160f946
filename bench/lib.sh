#!/usr/bin/env bash
# Helpers shared by the benchmarks (bench/run.sh, bench/scale.sh, bench/link-order.sh); sourced,
# never run.
# They use the caller's globals: OUT (results file), WORK, BENCH, DURATION, THREADS, INSTANCES,
# BASES and SERVER_PIDS (the servers under test), PGTEST_DIR (a PostgreSQL cluster, if any).

log() { printf '%s\n' "$@" | tee -a "$OUT"; }

# --- CPU accounting: who used the CPUs during a measurement ---------------------------------------
# The machine may be shared (other builds, other benchmarks): every measurement reports the cores
# used by the server, by the load generator, by everything else, and stolen by the hypervisor.
NPROC=$(nproc)
TICK=$(getconf CLK_TCK)
cpu_now() { # total busy steal (jiffies, all CPUs) from /proc/stat
    awk '/^cpu / {t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $2 + $3 + $4 + $7 + $8, $9; exit}' /proc/stat
}
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
hash_ticks() { # CPU ticks of the servers' hashing threads (vault::HashPool names them argon2-N)
    local t=0 p f
    for p in "${SERVER_PIDS[@]}"; do
        for f in /proc/"$p"/task/*; do
            [[ $(cat "$f/comm" 2>/dev/null) == argon2-* ]] && t=$((t + $(proc_ticks "${f#/proc/}")))
        done
    done
    echo "$t"
}
servers_ticks() { local t=0 p; for p in "${SERVER_PIDS[@]}"; do t=$((t + $(proc_ticks "$p"))); done; echo "$t"; }
db_ticks() { # every process of the benchmark's PostgreSQL cluster (its postmaster's children)
    [[ -n "$PGTEST_DIR" ]] || { echo 0; return; }
    local pm t=0 p
    pm=$(head -1 "$PGTEST_DIR/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
    for p in "$pm" $(pgrep -P "$pm"); do t=$((t + $(proc_ticks "$p"))); done
    echo "$t"
}
busy_pct() { # % of all CPUs busy or stolen over the next 2 seconds
    local a b
    read -ra a < <(cpu_now); sleep 2; read -ra b < <(cpu_now)
    echo $(((b[1] - a[1] + b[2] - a[2]) * 100 / (b[0] - a[0] > 0 ? b[0] - a[0] : 1)))
}
wait_quiet() {
    local waited=0 busy
    while busy=$(busy_pct) && ((busy > QUIET_PCT)); do
        if ((waited >= QUIET_MAX)); then
            log "   machine still ${busy}% busy after ${waited}s: measuring anyway (see the 'other' CPU column)"
            return
        fi
        ((waited == 0)) && log "   machine ${busy}% busy (other processes): waiting up to ${QUIET_MAX}s for it to quieten"
        sleep 3
        waited=$((waited + 5))
    done
    local note=""
    ((waited > 0)) && note=" (after waiting ${waited}s)"
    log "   machine ${busy}% busy before the measurement$note"
}
CPU0=()
cpu_begin() { read -ra CPU0 < <(cpu_now); SRV0=$(servers_ticks); DB0=$(db_ticks); HASH0=$(hash_ticks); }
cpu_end() { # own_seconds (user+sys of the load generator / measured program) → "server=.. db=.. load=.. other=.. steal=.."
    local own=$1 c1 srv1 db1
    read -ra c1 < <(cpu_now)
    srv1=$(servers_ticks)
    db1=$(db_ticks)
    awk -v t=$((c1[0] - CPU0[0])) -v b=$((c1[1] - CPU0[1])) -v st=$((c1[2] - CPU0[2])) \
        -v srv=$((srv1 - SRV0)) -v db=$((db1 - DB0)) -v own="$own" -v tick="$TICK" -v n="$NPROC" 'BEGIN {
            wall = t / n; o = own * tick; other = b - srv - db - o; if (other < 0) other = 0
            printf "cpu_server=%.2f cpu_db=%.2f cpu_load=%.2f cpu_other=%.2f cpu_steal=%.2f", srv / wall, db / wall, o / wall, other / wall, st / wall
        }'
}
per_request() { # requests → the servers' CPU per request since cpu_begin: "cpu_hash_ms=.. cpu_rest_ms=.."
    awk -v h=$(($(hash_ticks) - HASH0)) -v s=$(($(servers_ticks) - SRV0)) -v t="$TICK" -v n="$1" \
        'BEGIN {if (n > 0) printf "cpu_hash_ms=%.3f cpu_rest_ms=%.3f", h * 1000 / t / n, (s - h) * 1000 / t / n}'
}

# wait_port LOG PID [PATH] [TRIES]: once the process PID has written its address
# ("addr=127.0.0.1:N") to LOG and PATH (/healthz) answers there, prints the port. Tries every
# 0.1 s, TRIES times (300); prints the log and fails if the process exits or never answers.
wait_port() {
    local log=$1 pid=$2 path=${3:-/healthz} tries=${4:-300} port="" _
    for _ in $(seq 1 "$tries"); do
        port=$(grep -o 'addr=127\.0\.0\.1:[0-9]*' "$log" 2>/dev/null | head -1 | cut -d: -f2 || true)
        [[ -n "$port" ]] && curl -fsS "http://127.0.0.1:$port$path" >/dev/null 2>&1 && { echo "$port"; return 0; }
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "process $pid exited" >&2; return 1; }
        sleep 0.1
    done
    echo "process $pid: no answer at $path" >&2
    return 1
}

# pg_store PREFIX KEYFILE: creates the schemas PREFIX_data and PREFIX_keys in the cluster at
# JIKIMI_TEST_POSTGRES_URL (or PG_URL) and sets STORE_ARGS to the options that point jikimi at them.
pg_store() {
    local url=${PG_URL:-$JIKIMI_TEST_POSTGRES_URL}
    psql -q "$url" -c "CREATE SCHEMA $1_data" -c "CREATE SCHEMA $1_keys"
    STORE_ARGS=(--database-url "$url?options[search_path]=$1_data"
        --key-store-url "$url?options[search_path]=$1_keys"
        --master-key-file "$2")
}

stop_servers() {
    local p
    for p in "${SERVER_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    SERVER_PIDS=()
    SERVER_PID=""
}

# How much of crates/jikimi/link-order.txt (the layout of the release build's code, see
# bench/link-order.sh) the binary still matches: names change with dependency and compiler updates.
link_order_report() {
    local order="$BENCH/../crates/jikimi/link-order.txt" listed report
    if [[ ! -f $order ]]; then
        log "link order: none (no crates/jikimi/link-order.txt)"
        return
    fi
    listed=$(grep -vc '^#' "$order" || true)
    # nm -S: address size type name; the listed functions found, and the span of code they occupy.
    report=$(nm -S --radix=d --defined-only "$1" | awk -v listed="$listed" -v order="$order" '
        BEGIN { while ((getline line < order) > 0) if (line !~ /^#/) want[line] = 1 }
        NF == 3 { $4 = $3; $3 = $2; $2 = 0 }
        $3 ~ /^[tTwW]$/ { a = $1 + 0; z = $2 + 0; if (a + z > end_all) end_all = a + z
            if (!start_all || a < start_all) start_all = a
            if ($4 in want && !($4 in seen)) { seen[$4] = 1; n++; if (!lo || a < lo) lo = a; if (a + z > hi) hi = a + z } }
        END { printf "%d of the %d functions in crates/jikimi/link-order.txt are in this build, within %.1f MB of its %.1f MB of code",
            n, listed, (hi - lo) / 1e6, (end_all - start_all) / 1e6
            if (n * 10 < listed * 9) printf " (stale: run bench/link-order.sh)" }')
    log "link order: $report"
}

# Member n's client address, 198.18.0.0/15 (RFC 2544): same formula as client_addr in lua/common.lua.
member_addr() { echo "198.$((18 + $1 / 65536 % 2)).$(($1 / 256 % 256)).$(($1 % 256))"; }

# --- wrk ------------------------------------------------------------------------------------------
declare -a RESULTS=()
FAILED=0
run_wrk() { # name conns script [script args...]; the last script arg is always the wrk thread count
    local name=$1 conns=$2 script=$3
    shift 3
    # One wrk per instance, each with an equal share of the connections and threads (a round-robin
    # load balancer's split); sign-up numbers are kept apart per instance.
    local n=$INSTANCES per_conns=$((conns / INSTANCES)) per_threads=$((THREADS / INSTANCES))
    ((per_threads < 1)) && per_threads=1
    local args=("$@") i pids=()
    log "" "== ($name) ${n} × wrk -t$per_threads -c$per_conns -d$DURATION --timeout 10s --latency -s lua/$script <instance> -- ${args[*]:0:${#args[@]}-1} $per_threads"
    # NO_WAIT=1: the caller waited for quiet itself (the paired slices of run.sh wait once a round).
    [[ ${NO_WAIT:-0} == 1 ]] || wait_quiet
    cpu_begin
    local TIMEFORMAT='%3U %3S'
    for i in $(seq 1 "$n"); do
        local a=("${args[@]:0:${#args[@]}-1}" "$per_threads")
        [[ $script == signup.lua ]] && a[0]=$((args[0] + (i - 1) * 3000000))
        { time BENCH_LUA_DIR="$BENCH/lua" BENCH_SCENARIO="$name" \
            wrk -t"$per_threads" -c"$per_conns" -d"$DURATION" --timeout 10s --latency \
            -s "$BENCH/lua/$script" "${BASES[i - 1]}" -- "${a[@]}" >"$WORK/wrk-$i.out" 2>&1; } 2>"$WORK/wrk-$i.time" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || true; done
    local cpu
    cpu=$(cpu_end "$(cat "$WORK"/wrk-*.time | awk '{s += $1 + $2} END {print s}')")
    cat "$WORK"/wrk-*.out | tee -a "$OUT" >/dev/null
    cat "$WORK"/wrk-*.out
    # One RESULT line: requests and rates add up; latencies are the worst instance's.
    grep -h '^RESULT ' "$WORK"/wrk-*.out | awk '
        { for (f = 2; f <= NF; f++) { split($f, kv, "="); k = kv[1]; v = kv[2]
            if (k == "scenario" || k == "statuses") { val[k] = (k in val && k == "statuses") ? val[k] "," v : v }
            else if (k ~ /_ms$/ || k == "secs") { if (!(k in val) || v + 0 > val[k] + 0) val[k] = v }
            else val[k] += v
            if (!(k in seen)) { seen[k] = 1; order[++nk] = k } } ; lines++ }
        END { if (!lines) exit; printf "RESULT"; for (i = 1; i <= nk; i++) printf " %s=%s", order[i], val[order[i]]; printf "\n" }' >"$WORK/wrk.out"
    rm -f "$WORK"/wrk-*.out "$WORK"/wrk-*.time
    log "cores used (of $NPROC): $cpu  [server = jikimi (all instances), db = PostgreSQL, load = wrk, other = every other process]"
    local mem
    mem=$(for p in "${SERVER_PIDS[@]}"; do cat "/proc/$p/status"; done |
        awk '/^VmRSS/ {r += int($2 / 1024)} /^VmHWM/ {h += int($2 / 1024)} /^RssAnon/ {an += int($2 / 1024)} /^RssFile/ {f += int($2 / 1024)} /^Threads/ {t += $2} END {printf "rss_mib=%d peak_rss_mib=%d rss_anon_mib=%d rss_file_mib=%d threads=%d", r, h, an, f, t}')
    log "server(s) after the run: $mem"
    local line per_req=""
    line=$(grep '^RESULT ' "$WORK/wrk.out" || true)
    if [[ -n "$line" ]]; then
        # The server's CPU per request, split between its hashing threads and all the others.
        per_req=$(per_request "$(field "$line" requests)")
        log "server CPU per request: $per_req  [hash = its Argon2id threads, rest = every other thread]"
        line="$line $cpu $mem $per_req"
    fi
    if [[ -z "$line" ]]; then
        echo "($name): wrk printed no RESULT line" | tee -a "$OUT" >&2
        FAILED=1
        return
    fi
    RESULTS+=("$line")
    local bad errs
    bad=$(sed -E 's/.* non2xx=([0-9]+).*/\1/' <<<"$line")
    errs=$(sed -E 's/.*errors_connect=([0-9]+) errors_read=([0-9]+) errors_write=([0-9]+) errors_timeout=([0-9]+).*/\1+\2+\3+\4/' <<<"$line")
    if [[ "$bad" != 0 || $((errs)) != 0 ]]; then
        echo "($name): $bad non-2xx responses, $((errs)) socket errors/timeouts: NOT A RESULT" | tee -a "$OUT" >&2
        FAILED=1
    fi
}

# One field of a RESULT line.
field() { sed -E "s/.* $2=([^ ]+).*/\1/" <<<"$1"; }
