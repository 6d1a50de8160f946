#!/usr/bin/env bash
# Load benchmarks of jikimi: one command, see bench/README.md.
#
#   bench/run.sh                                  # everything, SQLite, defaults below
#   DURATION=30s CONNS=64 bench/run.sh            # override any setting
#   BACKEND=postgres bench/run.sh                 # the same on PostgreSQL, one instance
#   BACKEND=postgres INSTANCES=2 bench/run.sh     # ... two instances sharing the database
#
# Builds the release binary and the ceiling server (bench/ceiling), measures the Argon2id hash
# rate, starts `jikimi serve` on a free
# loopback port with a fresh temporary data directory and the lifeplan-seed profile (PostgreSQL: a
# throwaway durable cluster and INSTANCES servers sharing it; wrk's connections are split evenly
# between them, as a round-robin load balancer would), seeds members,
# runs wrk against (a) /healthz (b) sign-up (c) login (d) My page read (e) correction, prints a
# table, stops the server, verifies the audit chain written under load, and removes the data.
# The ceiling (one SQLite point read a request through the same stack) is measured after (a) and
# again after (e); the table gives each scenario's ratio to it (GET and PATCH /me) or to the
# two-thread Argon2id rate (sign-up, login) against the goals of issue 12.
# All traffic goes to 127.0.0.1; all personal values are synthetic. The server trusts 127.0.0.1 as
# a proxy and every request names its synthetic member's own address in X-Forwarded-For
# (198.18.0.0/15, see member_addr), so the per-client abuse limits see one client per member.
# Exits non-zero if any scenario saw a non-2xx response or a socket error.
set -euo pipefail

DURATION=${DURATION:-10s}        # per wrk scenario
THREADS=${THREADS:-2}            # wrk threads
CONNS=${CONNS:-32}               # connections for /healthz, GET and PATCH /me
CONNS_ARGON=${CONNS_ARGON:-16}   # connections for sign-up and login (Argon2id-bound)
SEED_MEMBERS=${SEED_MEMBERS:-200}
TOKENS=${TOKENS:-64}             # seeded members logged in for (d) and (e)
CEILING_ROWS=${CEILING_ROWS:-1000} # sessions in the ceiling server's table (all of them requested in turn)
ARGON_HASHES=${ARGON_HASHES:-100} # per thread, for the hash-rate measurement (before and after the HTTP runs)
QUIET_PCT=${QUIET_PCT:-10}       # before each measurement, wait until the machine is at most this % busy
QUIET_MAX=${QUIET_MAX:-600}      # ... but no longer than this many seconds
BACKEND=${BACKEND:-sqlite}       # sqlite | postgres
INSTANCES=${INSTANCES:-1}        # jikimi serve processes (more than 1 needs postgres)
PAIRS=${PAIRS:-5}                # rounds of paired slices (each scenario beside its own reference)
SLICE=${SLICE:-3s}               # ... the length of a wrk slice
SLICE_HASHES=${SLICE_HASHES:-150} # ... the hashes per thread of an Argon2id reference slice
PASSWORD='Jikimi-bench-pw!'      # same as lua/common.lua

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
TARGET="$ROOT/target"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BENCH/results"
OUT="$BENCH/results/run-$STAMP.txt"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jikimi-bench.XXXXXX")
DATA="$WORK/data"
SERVER_PID=""   # the first instance
CEIL_PID=""     # the ceiling server
SERVER_PIDS=()
PGTEST_DIR=""
STORE_ARGS=()

# log, CPU accounting, wait_quiet, stop_servers, member_addr, run_wrk, field:
source "$BENCH/lib.sh"

stop_ceiling() {
    [[ -n "$CEIL_PID" ]] || return 0
    kill -TERM "$CEIL_PID" 2>/dev/null || true
    wait "$CEIL_PID" 2>/dev/null || true
    CEIL_PID=""
}
cleanup() {
    stop_servers
    stop_ceiling
    [[ -n "$PGTEST_DIR" ]] && "$ROOT/scripts/test-postgres.sh" stop "$PGTEST_DIR"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Login attempts are reserved per login ID before the password check and 5 within 15 minutes lock
# the ID: with fewer members than connections one ID could see several concurrent attempts.
if [[ $BACKEND != sqlite && $BACKEND != postgres ]] || ((INSTANCES < 1)) || { [[ $BACKEND == sqlite ]] && ((INSTANCES != 1)); }; then
    echo "BACKEND is sqlite (one instance) or postgres (INSTANCES >= 1)" >&2
    exit 2
fi
if ((SEED_MEMBERS < CONNS_ARGON || TOKENS > SEED_MEMBERS)); then
    echo "need SEED_MEMBERS >= CONNS_ARGON and TOKENS <= SEED_MEMBERS" >&2
    exit 2
fi

# --- tools ----------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
    else
        echo "wrk is missing: apt-get install wrk" >&2
        exit 1
    fi
fi
command -v curl >/dev/null || { echo "curl is missing" >&2; exit 1; }

# --- machine --------------------------------------------------------------------------------------
: >"$OUT"
log "# jikimi load benchmarks, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
log "machine:  nproc=$(nproc); cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
log "memory:   $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
log "kernel:   $(uname -srm)"
log "commit:   $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown) ($(git -C "$ROOT" log -1 --format=%cs 2>/dev/null)); built from the working tree: $(d=$(git -C "$ROOT" diff --shortstat HEAD -- crates Cargo.toml Cargo.lock policies 2>/dev/null); echo "${d:- no uncommitted changes in crates/, Cargo.*, policies/}" | sed 's/^ *//')"
log "tools:    $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); $(rustc --version)"
log "settings: BACKEND=$BACKEND INSTANCES=$INSTANCES DURATION=$DURATION THREADS=$THREADS CONNS=$CONNS CONNS_ARGON=$CONNS_ARGON SEED_MEMBERS=$SEED_MEMBERS TOKENS=$TOKENS CEILING_ROWS=$CEILING_ROWS PAIRS=$PAIRS SLICE=$SLICE SLICE_HASHES=$SLICE_HASHES"
# SQLite's synchronous=FULL fsyncs the WAL on every commit: the disk under WORK matters.
log "work dir: $WORK on $(df -PT "$WORK" | awk 'NR == 2 {print $2 " (" $1 ")"}')"
fsync_probe=$( { dd if=/dev/zero of="$WORK/fsync.probe" bs=4k count=200 oflag=dsync 2>&1 >/dev/null | tail -1; } || true)
rm -f "$WORK/fsync.probe"
log "fsync probe (dd bs=4k count=200 oflag=dsync in WORK): $fsync_probe"

# --- build ----------------------------------------------------------------------------------------
log "" "== build: cargo build --release -p jikimi"
(cd "$ROOT" && cargo build --release -p jikimi --target-dir "$TARGET" 2>&1 | tail -1 | tee -a "$OUT")
BIN="$TARGET/release/jikimi"
link_order_report "$BIN"

# The ceiling: its own workspace and target dir; its Cargo.lock is the workspace's, pruned.
log "" "== build: bench/ceiling (cargo build --release, target dir target/bench-ceiling)"
# From the root, so that Cargo reads .cargo/config.toml (the allocator's settings, as jikimi's).
(cd "$ROOT" && cargo build --quiet --release --manifest-path "$BENCH/ceiling/Cargo.toml" --target-dir "$TARGET/bench-ceiling")
CEIL_BIN="$TARGET/bench-ceiling/release/ceiling"
lock_versions() { # Cargo.lock crate → its version(s)
    awk -v n="$2" '$0 == "name = \"" n "\"" {getline; gsub(/"/, "", $3); print $3}' "$1" | sort -u | tr '\n' ' '
}
for crate in axum hyper sqlx tokio tikv-jemalloc-sys; do
    w=$(lock_versions "$ROOT/Cargo.lock" "$crate"); c=$(lock_versions "$BENCH/ceiling/Cargo.lock" "$crate")
    if [[ "$w" != "$c" ]]; then
        log "WARNING: $crate differs: workspace ${w:-none}, bench/ceiling ${c:-none} (copy the root Cargo.lock to bench/ceiling/ and build once)"
    else
        log "   $crate $w(same as the workspace)"
    fi
done

# --- Argon2id hash rate (before the server starts, so nothing competes for the CPU) --------------
cargo build --quiet --release --manifest-path "$BENCH/argon2-rate/Cargo.toml" --target-dir "$TARGET/bench-argon2-rate"
ARGON_BIN="$TARGET/bench-argon2-rate/release/argon2-rate"
argon_rate() { # label
    log "" "== Argon2id hash rate, $1 (m=19456 KiB, t=2, p=1; $ARGON_HASHES hashes per thread; argon2id: a new working memory per hash, argon2id-reuse: one per thread)"
    wait_quiet
    cpu_begin
    local TIMEFORMAT='%3U %3S' cpu
    { time { "$ARGON_BIN" "$ARGON_HASHES" && "$ARGON_BIN" --reuse "$ARGON_HASHES"; } >"$WORK/argon.out"; } 2>"$WORK/argon.time"
    cpu=$(cpu_end "$(awk '{print $1 + $2}' "$WORK/argon.time")")
    tee -a "$OUT" <"$WORK/argon.out"
    sed "s/^/$1 /" "$WORK/argon.out" >>"$WORK/argon.all"
    log "   cores used during the hash-rate runs: $cpu (of $NPROC)"
}
argon_rate before

# --- database -------------------------------------------------------------------------------------
# No JIKIMI_* setting from the caller's environment: defaults (session and login limits too) only.
unset_jikimi=()
for v in $(compgen -e | grep '^JIKIMI_' || true); do unset_jikimi+=(-u "$v"); done
if [[ $BACKEND == postgres ]]; then
    log "" "== database: a throwaway PostgreSQL cluster, durable settings (scripts/test-postgres.sh start --durable)"
    eval "$("$ROOT/scripts/test-postgres.sh" start --durable)"
    log "   $(psql "$JIKIMI_TEST_POSTGRES_URL" -Atc 'SELECT version()' | cut -d, -f1); fsync=$(psql "$JIKIMI_TEST_POSTGRES_URL" -Atc 'SHOW fsync'), synchronous_commit=$(psql "$JIKIMI_TEST_POSTGRES_URL" -Atc 'SHOW synchronous_commit'), shared_buffers=$(psql "$JIKIMI_TEST_POSTGRES_URL" -Atc 'SHOW shared_buffers')"
    pg_store jikimi "$WORK/master.key"
    unset JIKIMI_TEST_POSTGRES_URL
    env "${unset_jikimi[@]}" "$BIN" init --data-dir "$DATA" --policy lifeplan-seed "${STORE_ARGS[@]}" | tee -a "$OUT"
fi

# --- servers --------------------------------------------------------------------------------------
log "" "== start: $INSTANCES × jikimi serve --listen 127.0.0.1:0 --policy lifeplan-seed --trusted-proxy 127.0.0.1 ($BACKEND, fresh data)"
BASES=()
for i in $(seq 1 "$INSTANCES"); do
    env "${unset_jikimi[@]}" JIKIMI_LOG=info \
        "$BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA-$i" --policy lifeplan-seed --trusted-proxy 127.0.0.1 "${STORE_ARGS[@]}" \
        >"$WORK/server-$i.out" 2>"$WORK/server-$i.log" &
    pid=$!
    SERVER_PIDS+=("$pid")
    PORT=$(wait_port "$WORK/server-$i.log" "$pid")
    BASES+=("http://127.0.0.1:$PORT")
    log "server $i: pid $pid on http://127.0.0.1:$PORT"
done
SERVER_PID=${SERVER_PIDS[0]}
BASE=${BASES[0]}
# With SQLite the single instance keeps its data in $DATA-1.
[[ $BACKEND == sqlite ]] && DATA="$DATA-1"

# The ceiling server: fresh SQLite file with CEILING_ROWS sessions, the same pools and PRAGMAs.
log "" "== start: bench/ceiling --rows $CEILING_ROWS (SQLite, same pools and PRAGMAs as crates/store)"
"$CEIL_BIN" --dir "$WORK/ceiling" --rows "$CEILING_ROWS" --listen 127.0.0.1:0 >"$WORK/ceiling.out" 2>"$WORK/ceiling.log" &
CEIL_PID=$!
CEIL_PORT=$(wait_port "$WORK/ceiling.log" "$CEIL_PID" /ping)
curl -fsS -H "Authorization: Bearer $(head -1 "$WORK/ceiling/tokens.txt")" "http://127.0.0.1:$CEIL_PORT/api/v1/me" >/dev/null ||
    { cat "$WORK/ceiling.log" >&2; echo "ceiling: no GET /api/v1/me" >&2; exit 1; }
CEIL_BASE="http://127.0.0.1:$CEIL_PORT"
log "ceiling: pid $CEIL_PID on $CEIL_BASE"
grep -E 'sessions table filled|pragmas=' "$WORK/ceiling.log" | sed -E 's/^[^ ]+ +//; s/^/   /' | tee -a "$OUT"

# --- synthetic members (same generator as lua/common.lua) -----------------------------------------
SURNAMES=(김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황)
GIVEN=(지 킴 보 람 서 윤 하 늘 도 현 채 온 새 별 누 리 민 준 연 우)
WEIGHTS=(2 3 4 5 6 7 8 9 2 3 4 5)

person_json() {
    local n=$1 k year month day body sum=0 i x name rrn
    k=$((n / 100000))
    year=$((1970 + k % 30)); month=$((1 + (k / 30) % 12)); day=$((1 + (k / 360) % 28))
    body=$(printf '%02d%02d%02d%d%05d' $((year % 100)) "$month" "$day" $((1 + n % 2)) $((n % 100000)))
    for i in {0..11}; do sum=$((sum + ${body:i:1} * WEIGHTS[i])); done
    rrn="${body:0:6}-${body:6}$(((11 - sum % 11) % 10))"
    name="${SURNAMES[n % ${#SURNAMES[@]}]}${GIVEN[(n / 3) % ${#GIVEN[@]}]}${GIVEN[(n / 7 + 5) % ${#GIVEN[@]}]}"
    x=$((n % 8000000))
    printf '{"login_id":"member%d","password":"%s","items":{"name":"%s","rrn":"%s","phone":"02-%03d-%04d",' \
        "$n" "$PASSWORD" "$name" "$rrn" $((200 + x / 10000)) $((x % 10000))
    printf '"postal_code":"03%03d","address":"서울특별시 종로구 지킴로 %d","address_detail":"%d동 %d호",' \
        $((n % 1000)) $((1 + n % 300)) $((101 + n % 9)) $((1001 + n % 90))
    printf '"email":"member%d@example.com"},"consents":{"privacy_policy":true}}' "$n"
}


run_ceiling() { # name: the ceiling server under the load of (d), its own tokens
    local saved_bases=("${BASES[@]}") saved_pids=("${SERVER_PIDS[@]}") saved_n=$INSTANCES
    BASES=("$CEIL_BASE"); SERVER_PIDS=("$CEIL_PID"); INSTANCES=1
    run_wrk "$1" "$CONNS" me.lua "$WORK/ceiling/tokens.txt" "$THREADS"
    BASES=("${saved_bases[@]}"); SERVER_PIDS=("${saved_pids[@]}"); INSTANCES=$saved_n
}

# (a) the HTTP stack without storage
run_wrk healthz "$CONNS" healthz.lua
# the storage ceiling, first of two measurements (the VM drifts: the table uses their mean)
run_ceiling ceiling_1

# seed members 1..SEED_MEMBERS (4 at a time), every one must answer 201
log "" "== seed: $SEED_MEMBERS members via curl POST /api/v1/members"
mkdir -p "$WORK/seed"
for n in $(seq 1 "$SEED_MEMBERS"); do
    person_json "$n" >"$WORK/seed/$n.json"
    echo "X-Forwarded-For: $(member_addr "$n")" >"$WORK/seed/$n.hdr"
done
seed_start=$(date +%s%N)
seq 1 "$SEED_MEMBERS" | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
    -H 'Content-Type: application/json' -H "@$WORK/seed/{}.hdr" --data-binary "@$WORK/seed/{}.json" "$BASE/api/v1/members" \
    >"$WORK/seed.codes"
seed_ms=$((($(date +%s%N) - seed_start) / 1000000))
log "seed: $(sort "$WORK/seed.codes" | uniq -c | tr -s ' ' | tr '\n' ';') in ${seed_ms} ms"
if [[ $(grep -cx 201 "$WORK/seed.codes") -ne $SEED_MEMBERS ]]; then
    echo "seeding failed" >&2
    exit 1
fi

# (b) sign-up: member numbers from 1,000,000 on, interleaved by thread
run_wrk signup "$CONNS_ARGON" signup.lua 1000000 "$THREADS"

# (c) login of seeded members
run_wrk login "$CONNS_ARGON" login.lua "$SEED_MEMBERS" "$THREADS"

# tokens for (d) and (e): log in members 1..TOKENS once more (sessions idle out after 30 minutes)
: >"$WORK/tokens.txt"
for n in $(seq 1 "$TOKENS"); do
    curl -fsS -H 'Content-Type: application/json' -H "X-Forwarded-For: $(member_addr "$n")" \
        --data-binary "{\"login_id\":\"member$n\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/sessions" |
        grep -o '"token":"[^"]*"' | cut -d'"' -f4 >>"$WORK/tokens.txt"
done
log "" "tokens: $(wc -l <"$WORK/tokens.txt") sessions for members 1..$TOKENS"
[[ $(wc -l <"$WORK/tokens.txt") -eq $TOKENS ]] || { echo "login for tokens failed" >&2; exit 1; }

# (d) My page read, (e) correction
run_wrk me_get "$CONNS" me.lua "$WORK/tokens.txt" "$THREADS"
run_wrk me_patch "$CONNS" correct.lua "$WORK/tokens.txt" "$THREADS"
run_ceiling ceiling_2

# --- paired slices: each scenario right beside its own reference ---------------------------------
# The VM changes speed within a run, and the reference with it (bench/README.md, "Paired slices"):
# PAIRS rounds of short slices, a reference slice first in each round and one more after the last;
# each scenario slice is compared with the mean of the reference slices just before and just after
# its round, and the goals table reports the median over the rounds.
argon_slice() { # name: the two-thread Argon2id rate, one reused working memory per thread
    local TIMEFORMAT='%3U %3S' cpu rate
    log "" "== ($1) argon2-rate --reuse $SLICE_HASHES 2 (the server idle)"
    cpu_begin
    { time "$ARGON_BIN" --reuse "$SLICE_HASHES" 2 >"$WORK/argon-slice.out"; } 2>"$WORK/argon-slice.time"
    cpu=$(cpu_end "$(awk '{print $1 + $2}' "$WORK/argon-slice.time")")
    rate=$(sed -nE 's/.* rate=([0-9.]+)\/s.*/\1/p' "$WORK/argon-slice.out")
    log "$(cat "$WORK/argon-slice.out")" "cores used (of $NPROC): $cpu"
    [[ -n "$rate" ]] || { echo "($1): argon2-rate printed no rate" | tee -a "$OUT" >&2; FAILED=1; return; }
    RESULTS+=("RESULT scenario=$1 rps=$rate $cpu")
}
log "" "== paired slices: $PAIRS rounds of ceiling, me_get and me_patch, then $PAIRS rounds of Argon2id, login and sign-up; $SLICE each (the reference $SLICE_HASHES hashes per thread)"
for k in $(seq 1 "$PAIRS"); do
    wait_quiet
    NO_WAIT=1 DURATION=$SLICE run_ceiling "ceiling#$k"
    NO_WAIT=1 DURATION=$SLICE run_wrk "me_get#$k" "$CONNS" me.lua "$WORK/tokens.txt" "$THREADS"
    NO_WAIT=1 DURATION=$SLICE run_wrk "me_patch#$k" "$CONNS" correct.lua "$WORK/tokens.txt" "$THREADS"
done
wait_quiet
NO_WAIT=1 DURATION=$SLICE run_ceiling "ceiling#$((PAIRS + 1))"
stop_ceiling
for k in $(seq 1 "$PAIRS"); do
    wait_quiet
    argon_slice "argon#$k"
    NO_WAIT=1 DURATION=$SLICE run_wrk "login#$k" "$CONNS_ARGON" login.lua "$SEED_MEMBERS" "$THREADS"
    # Member numbers of each round's sign-ups: 2,000,000 + k × 100,000 on (the main scenario's start
    # at 1,000,000; a second instance adds 3,000,000), client addresses apart from every other's.
    NO_WAIT=1 DURATION=$SLICE run_wrk "signup#$k" "$CONNS_ARGON" signup.lua $((2000000 + k * 100000)) "$THREADS"
done
wait_quiet
argon_slice "argon#$((PAIRS + 1))"

# --- stop, check the server log and the audit chain -----------------------------------------------
stop_servers
cat "$WORK"/server-*.log >"$WORK/server.log"
log "" "== server log: $(grep -c ' request ' "$WORK/server.log" || true) request lines; by status: $(grep -o 'status=[0-9]*' "$WORK/server.log" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
log "   WARN/ERROR lines: $(grep -cE ' (WARN|ERROR) ' "$WORK/server.log" || true) (start-up warnings such as PIPA Art. 24-2 for the seed profile are expected; any other is listed below)"
grep -E ' (WARN|ERROR) ' "$WORK/server.log" | grep -v -i 'pipa\|24-2\|rrn\|sandbox' | head -5 | tee -a "$OUT" || true
log "== audit verify after load: $(env "${unset_jikimi[@]}" "$BIN" audit verify --data-dir "$DATA" --policy lifeplan-seed "${STORE_ARGS[@]}" 2>/dev/null | tail -1)"

argon_rate after

# --- table ----------------------------------------------------------------------------------------
log "" "== results ($BACKEND, $INSTANCES instance(s), $DURATION per scenario, wrk $THREADS threads in all)"
{
    printf '%-10s %6s %9s %9s %9s %9s %7s %7s %9s   %s\n' scenario conns req/s p50_ms p99_ms max_ms non2xx errors \
        peak_MiB "cores: server/db/wrk/other/steal"
    for line in "${RESULTS[@]}"; do
        name=$(field "$line" scenario)
        [[ $name == *"#"* ]] && continue # the paired slices have their own table
        case $name in signup | login) c=$CONNS_ARGON ;; *) c=$CONNS ;; esac
        e=$(($(sed -E 's/.*errors_connect=([0-9]+) errors_read=([0-9]+) errors_write=([0-9]+) errors_timeout=([0-9]+).*/\1+\2+\3+\4/' <<<"$line")))
        flag=$(awk -v o="$(field "$line" cpu_other)" -v st="$(field "$line" cpu_steal)" \
            'BEGIN { if (o + st > 0.15) print "  <- other processes used the CPU: disturbed" }')
        printf '%-10s %6s %9s %9s %9s %9s %7s %7s %9s   %s/%s/%s/%s/%s%s\n' "$name" "$c" "$(field "$line" rps)" \
            "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" "$(field "$line" max_ms)" "$(field "$line" non2xx)" "$e" \
            "$(field "$line" peak_rss_mib)" \
            "$(field "$line" cpu_server)" "$(field "$line" cpu_db)" "$(field "$line" cpu_load)" "$(field "$line" cpu_other)" "$(field "$line" cpu_steal)" "$flag"
    done
} | tee -a "$OUT"
log "" "Argon2id hashes/s (argon2-rate, $ARGON_HASHES per thread):"
sed 's/^/  /' "$WORK/argon.all" | tee -a "$OUT"

# --- goals (issue 12): ratios within this run ---------------------------------------------------
result_of() { local l; for l in "${RESULTS[@]}"; do [[ $(field "$l" scenario) == "$1" ]] && { echo "$l"; return 0; }; done; return 0; }
ceil_rps=$(for c in ceiling_1 ceiling_2; do l=$(result_of "$c"); [[ -n "$l" ]] && field "$l" rps; done |
    awk '{s += $1; n++} END {if (n) printf "%.1f", s / n}')
argon_mean() { # argon2id | argon2id-reuse: the two-thread rate, mean of before and after
    awk -v m="$1" '$2 == m && $3 == "threads=2" {sub(/rate=/, "", $6); sub(/\/s/, "", $6); s += $6; n++} END {if (n) printf "%.1f", s / n}' "$WORK/argon.all"
}
argon2=$(argon_mean argon2id)
argon2_reuse=$(argon_mean argon2id-reuse)
log "" "== goals (issue 12): ceiling = mean of ceiling_1 and ceiling_2 = ${ceil_rps:-?} req/s; Argon2id 2 threads = mean of before and after = ${argon2:-?} hashes/s (one working memory per thread, the stricter reference: ${argon2_reuse:-?} hashes/s)"
{
    printf '%-10s %9s %9s %-22s %7s %-28s %s\n' scenario req/s p99_ms reference ratio goal met
    goal_row() { # scenario reference_name reference_value min_ratio [max_p99_ms]
        local l rps p99 ratio ok goal
        l=$(result_of "$1")
        [[ -n "$l" && -n "$3" ]] || { printf '%-10s %9s %9s %-22s %7s %-28s %s\n' "$1" - - "$2" - "≥ $4×" "no result"; return; }
        rps=$(field "$l" rps); p99=$(field "$l" p99_ms)
        ratio=$(awk -v a="$rps" -v b="$3" 'BEGIN {printf "%.3f", a / b}')
        goal="≥ $4× ${2%% *}"
        ok=$(awk -v r="$ratio" -v m="$4" -v p="$p99" -v pm="${5:-0}" 'BEGIN {print (r >= m && (pm == 0 || p < pm)) ? "met" : "not met"}')
        [[ -n "${5:-}" ]] && goal="$goal, p99 < $5 ms"
        printf '%-10s %9s %9s %-22s %7s %-28s %s\n' "$1" "$rps" "$p99" "$2" "$ratio" "$goal" "$ok"
    }
    goal_row me_get "ceiling $ceil_rps/s" "$ceil_rps" 0.5 10
    goal_row me_patch "ceiling $ceil_rps/s" "$ceil_rps" 0.25
    goal_row login "argon2 $argon2/s" "$argon2" 0.9
    goal_row signup "argon2 $argon2/s" "$argon2" 0.85
    goal_row login "reuse $argon2_reuse/s" "$argon2_reuse" 0.9
    goal_row signup "reuse $argon2_reuse/s" "$argon2_reuse" 0.85
} | tee -a "$OUT"
# The paired slices: each slice's ratio to the mean of the reference slices just before and after
# its round; a goal is met when the median over the rounds meets it (me_get: and no slice's p99
# reaches 10 ms).
slice_rps() { local l; l=$(result_of "$1"); [[ -n "$l" ]] && field "$l" rps; return 0; }
slice_ratio() { # scenario#k reference-name k → ratio to the mean of reference#k and reference#k+1
    awk -v a="$(slice_rps "$1")" -v b="$(slice_rps "$2#$3")" -v c="$(slice_rps "$2#$(($3 + 1))")" \
        'BEGIN {if (a != "" && b + c > 0) printf "%.3f", a / ((b + c) / 2)}'
}
log "" "== paired slices ($PAIRS rounds of $SLICE): req/s, and the ratio to the mean of the reference slices just before and after the round"
declare -A SLICE_RATIOS=()
{
    printf '%-5s %9s %9s %7s %7s %9s %7s | %8s %7s %7s %7s %7s %s\n' round ceiling me_get ratio p99_ms me_patch ratio argon2 login ratio signup ratio ""
    for k in $(seq 1 "$PAIRS"); do
        row=() disturbed=""
        for s in me_get me_patch login signup; do
            case $s in me_*) ref=ceiling ;; *) ref=argon ;; esac
            r=$(slice_ratio "$s#$k" "$ref" "$k")
            SLICE_RATIOS[$s]+="${r:-0} "
            row+=("$(slice_rps "$s#$k")" "${r:--}")
        done
        for n in "ceiling#$k" "me_get#$k" "me_patch#$k" "argon#$k" "login#$k" "signup#$k"; do
            l=$(result_of "$n")
            [[ -n "$l" ]] && awk -v o="$(field "$l" cpu_other)" -v st="$(field "$l" cpu_steal)" 'BEGIN {exit !(o + st > 0.15)}' &&
                disturbed+=" $n"
        done
        l=$(result_of "me_get#$k"); p99=$([[ -n "$l" ]] && field "$l" p99_ms)
        SLICE_RATIOS[p99]+="${p99:-0} "
        printf '%-5s %9s %9s %7s %7s %9s %7s | %8s %7s %7s %7s %7s %s\n' "$k" "$(slice_rps "ceiling#$k")" "${row[0]}" "${row[1]}" "${p99:--}" \
            "${row[2]}" "${row[3]}" "$(slice_rps "argon#$k")" "${row[4]}" "${row[5]}" "${row[6]}" "${row[7]}" \
            "${disturbed:+ <- disturbed:$disturbed}"
    done
    printf '%-5s %9s %9s %7s %7s %9s %7s | %8s\n' "$((PAIRS + 1))" "$(slice_rps "ceiling#$((PAIRS + 1))")" "" "" "" "" "" "$(slice_rps "argon#$((PAIRS + 1))")"
} >"$WORK/paired.txt" # not a pipe: SLICE_RATIOS must be filled in this shell
tee -a "$OUT" <"$WORK/paired.txt"
{
    printf '%-10s %-16s %7s %-15s %-28s %s\n' scenario reference median "min–max" goal met
    paired_row() { # scenario reference min_ratio [max_p99_ms]
        local stats ok goal="≥ $3×"
        # shellcheck disable=SC2086 # one ratio per word
        stats=$(printf '%s\n' ${SLICE_RATIOS[$1]} | sort -g | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f–%.3f", m, v[1], v[NR]}')
        # shellcheck disable=SC2086
        ok=$(awk -v m="${stats%% *}" -v g="$3" -v p="$(printf '%s\n' ${SLICE_RATIOS[p99]} | sort -g | tail -1)" -v pm="${4:-0}" \
            'BEGIN {print (m >= g && (pm == 0 || p < pm)) ? "met" : "not met"}')
        [[ -n "${4:-}" ]] && goal="$goal, every slice's p99 < $4 ms"
        printf '%-10s %-16s %7s %-15s %-28s %s\n' "$1" "$2" "${stats%% *}" "${stats#* }" "$goal" "$ok"
    }
    paired_row me_get "ceiling slices" 0.5 10
    paired_row me_patch "ceiling slices" 0.25
    paired_row login "reuse slices" 0.9
    paired_row signup "reuse slices" 0.85
} | tee -a "$OUT"

# Where a login's and a sign-up's CPU went, beside what the reference spends on one hash (two threads
# on two cores: 2,000 ms / rate): the goal is short either when the server's other threads cost much
# or when its hashing ran slower than the reference's (the VM's speed moves within a run).
for s in login signup; do
    l=$(result_of "$s")
    [[ $l == *cpu_hash_ms=* && -n "$argon2_reuse" ]] || continue
    log "$s: per request the server's hashing threads used $(field "$l" cpu_hash_ms) ms of CPU and its other threads $(field "$l" cpu_rest_ms) ms; the reference hashes in $(awk -v r="$argon2_reuse" 'BEGIN {printf "%.3f", 2000 / r}') ms (one reused working memory)"
done
log "raw output: ${OUT#"$ROOT"/}"
if [[ $FAILED -ne 0 ]]; then
    echo "SOME SCENARIOS HAD ERRORS: not a result" | tee -a "$OUT" >&2
    exit 1
fi
