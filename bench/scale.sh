#!/usr/bin/env bash
# Cost as members grow (issue 12, goal g): see bench/README.md, "Scale".
#
#   bench/scale.sh                                   # SQLite, 1 000 / 100 000 / 1 000 000 members
#   SIZES="1000 100000" bench/scale.sh               # other sizes
#   BACKEND=postgres bench/scale.sh                  # a throwaway durable PostgreSQL cluster
#
# Builds the release binary with the hidden bulk seeder (`cargo build --release -p jikimi
# --features bench`, copied to target/release/jikimi-bench). For each size: a fresh installation
# (`jikimi init`), `jikimi bench-seed --members N` (timed; synthetic members sealed exactly as
# sign-up seals them, one pre-computed password hash), the database's size per member, then
# `jikimi serve --trusted-proxy 127.0.0.1` and wrk: login of random members, GET and PATCH /me
# with 64 sessions of random members, withdrawal with one pre-made session per request (at most
# N/2 members). Prints req/s by size and each scenario's ratio of the largest size to the
# smallest (goal: ≥ 0.8). All traffic goes to 127.0.0.1; every value is synthetic.
set -euo pipefail

SIZES=${SIZES:-"1000 100000 1000000"}
BACKEND=${BACKEND:-sqlite}        # sqlite | postgres
DURATION=${DURATION:-10s}         # per wrk scenario
WITHDRAW_DURATION=${WITHDRAW_DURATION:-3s} # the withdrawal scenario (each request uses up a session)
THREADS=${THREADS:-2}             # wrk threads
CONNS=${CONNS:-32}                # connections for GET and PATCH /me
CONNS_ARGON=${CONNS_ARGON:-16}    # connections for login and withdrawal (Argon2id-bound)
TOKENS=${TOKENS:-64}              # random members logged in for GET and PATCH /me
WITHDRAW_MAX=${WITHDRAW_MAX:-2000} # pre-made sessions for the withdrawal scenario (at most N/2)
QUIET_PCT=${QUIET_PCT:-10}        # before each measurement, wait until the machine is at most this % busy
QUIET_MAX=${QUIET_MAX:-120}       # ... but no longer than this many seconds
PASSWORD='Jikimi-bench-pw!'       # same as lua/common.lua and jikimi_core::bench
INSTANCES=1

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
TARGET="$ROOT/target"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BENCH/results"
OUT="$BENCH/results/scale-$STAMP.txt"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jikimi-scale.XXXXXX")
SERVER_PID=""
SERVER_PIDS=()
BASES=()
PGTEST_DIR=""
PG_URL=""

# log, CPU accounting, wait_quiet, stop_servers, member_addr, run_wrk, field:
source "$BENCH/lib.sh"

cleanup() {
    stop_servers
    [[ -n "$PGTEST_DIR" ]] && "$ROOT/scripts/test-postgres.sh" stop "$PGTEST_DIR"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ $BACKEND != sqlite && $BACKEND != postgres ]]; then
    echo "BACKEND is sqlite or postgres" >&2
    exit 2
fi
for n in $SIZES; do
    if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 2 * TOKENS || n < 2 * CONNS_ARGON)); then
        echo "every size must be a number of at least 2 × TOKENS and 2 × CONNS_ARGON" >&2
        exit 2
    fi
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk (bench/run.sh installs it)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is missing" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is missing (SQLite checkpoints before sizes)" >&2; exit 1; }

: >"$OUT"
log "# jikimi scale benchmark (cost as members grow), $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
log "machine:  nproc=$(nproc); cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
log "memory:   $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
log "commit:   $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown) ($(git -C "$ROOT" log -1 --format=%cs 2>/dev/null)); built from the working tree: $(d=$(git -C "$ROOT" diff --shortstat HEAD -- crates Cargo.toml Cargo.lock policies 2>/dev/null); echo "${d:- no uncommitted changes in crates/, Cargo.*, policies/}" | sed 's/^ *//')"
log "tools:    $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); $(rustc --version)"
log "settings: SIZES=\"$SIZES\" BACKEND=$BACKEND DURATION=$DURATION WITHDRAW_DURATION=$WITHDRAW_DURATION THREADS=$THREADS CONNS=$CONNS CONNS_ARGON=$CONNS_ARGON TOKENS=$TOKENS WITHDRAW_MAX=$WITHDRAW_MAX"
log "work dir: $WORK on $(df -PT "$WORK" | awk 'NR == 2 {print $2 " (" $1 ")"}')"

log "" "== build: cargo build --release -p jikimi --features bench (copied to target/release/jikimi-bench)"
(cd "$ROOT" && cargo build --release -p jikimi --features bench --target-dir "$TARGET" 2>&1 | tail -1 | tee -a "$OUT")
cp "$TARGET/release/jikimi" "$TARGET/release/jikimi-bench"
BIN="$TARGET/release/jikimi-bench"

unset_jikimi=()
for v in $(compgen -e | grep '^JIKIMI_' || true); do unset_jikimi+=(-u "$v"); done
if [[ $BACKEND == postgres ]]; then
    log "" "== database: a throwaway PostgreSQL cluster, durable settings (scripts/test-postgres.sh start --durable)"
    eval "$("$ROOT/scripts/test-postgres.sh" start --durable)"
    PG_URL=$JIKIMI_TEST_POSTGRES_URL
    unset JIKIMI_TEST_POSTGRES_URL
    log "   $(psql "$PG_URL" -Atc 'SELECT version()' | cut -d, -f1); shared_buffers=$(psql "$PG_URL" -Atc 'SHOW shared_buffers')"
fi

# Bytes an installation stores: SQLite, the data and key files after a checkpoint (so the
# write-ahead logs are empty); PostgreSQL, pg_total_relation_size (tables, indexes, TOAST) of
# every table of the data and key schemas.
store_bytes() { # data_dir size
    if [[ $BACKEND == sqlite ]]; then
        python3 - "$1/jikimi.db" "$1/keys.db" <<'PY'
import os, sqlite3, sys
total = 0
for path in sys.argv[1:]:
    c = sqlite3.connect(path)
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    total += os.path.getsize(path)
print(total)
PY
    else
        psql "$PG_URL" -Atc "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname IN ('s$2_data', 's$2_keys') AND c.relkind = 'r'"
    fi
}

declare -a SIZE_ROWS=()
for N in $SIZES; do
    log "" "######## $N members ($BACKEND)"
    DATA="$WORK/data-$N"
    STORE_ARGS=()
    if [[ $BACKEND == postgres ]]; then
        pg_store "s$N" "$WORK/master-$N.key"
    fi
    env "${unset_jikimi[@]}" "$BIN" init --data-dir "$DATA" --policy lifeplan-seed "${STORE_ARGS[@]}" 2>/dev/null | tee -a "$OUT"
    empty=$(store_bytes "$DATA" "$N")

    # Seed: W members at the end of the range get a session each, for the withdrawal scenario.
    W=$((N / 2 < WITHDRAW_MAX ? N / 2 : WITHDRAW_MAX))
    log "== seed: jikimi bench-seed --members $N --sessions $W"
    wait_quiet
    seed_start=$(date +%s%N)
    env "${unset_jikimi[@]}" JIKIMI_LOG=warn "$BIN" bench-seed --data-dir "$DATA" --policy lifeplan-seed "${STORE_ARGS[@]}" \
        --members "$N" --sessions "$W" --tokens-out "$WORK/withdraw-$N.txt" 2>"$WORK/seed-$N.log" | tee -a "$OUT"
    seed_s=$(awk -v ns=$(($(date +%s%N) - seed_start)) 'BEGIN {printf "%.1f", ns / 1e9}')
    full=$(store_bytes "$DATA" "$N")
    per_member=$(awk -v a="$full" -v e="$empty" -v n="$N" 'BEGIN {printf "%.0f", (a - e) / n}')
    log "seed: $N members in ${seed_s} s (with start-up and the final anchoring); stored $full bytes ($empty when empty): $per_member bytes per member"

    # Serve, as bench/run.sh does (sessions idle out after 240 minutes here, so the withdrawal
    # sessions made by the seeder survive the scenarios before theirs; checking idleness costs the
    # same whatever the setting).
    env "${unset_jikimi[@]}" JIKIMI_LOG=info \
        "$BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA" --policy lifeplan-seed --trusted-proxy 127.0.0.1 \
        --session-idle-minutes 240 "${STORE_ARGS[@]}" >"$WORK/server-$N.out" 2>"$WORK/server-$N.log" &
    SERVER_PID=$!
    SERVER_PIDS=("$SERVER_PID")
    PORT=$(wait_port "$WORK/server-$N.log" "$SERVER_PID" /healthz 600)
    BASES=("http://127.0.0.1:$PORT")
    log "server: pid $SERVER_PID on ${BASES[0]}"

    RESULTS=()
    run_wrk login "$CONNS_ARGON" login_random.lua "$N" "$THREADS"

    # 64 sessions of distinct random members (never one of the withdrawal scenario's).
    : >"$WORK/tokens.txt"
    for n in $(shuf -i 1-$((N - W)) -n "$TOKENS"); do
        curl -fsS -H 'Content-Type: application/json' -H "X-Forwarded-For: $(member_addr "$n")" \
            --data-binary "{\"login_id\":\"member$n\",\"password\":\"$PASSWORD\"}" "${BASES[0]}/api/v1/sessions" |
            grep -o '"token":"[^"]*"' | cut -d'"' -f4 >>"$WORK/tokens.txt"
    done
    [[ $(wc -l <"$WORK/tokens.txt") -eq $TOKENS ]] || { echo "login for tokens failed" >&2; exit 1; }
    run_wrk me_get "$CONNS" me.lua "$WORK/tokens.txt" "$THREADS"
    run_wrk me_patch "$CONNS" correct.lua "$WORK/tokens.txt" "$THREADS"
    saved_duration=$DURATION
    DURATION=$WITHDRAW_DURATION
    run_wrk withdrawal "$CONNS_ARGON" withdraw.lua "$WORK/withdraw-$N.txt" "$THREADS"
    DURATION=$saved_duration
    if tail -n 30 "$OUT" | grep -q '^RAN_OUT'; then
        echo "(withdrawal): ran out of its $W sessions before $WITHDRAW_DURATION: NOT A RESULT (raise WITHDRAW_MAX or lower WITHDRAW_DURATION)" | tee -a "$OUT" >&2
        FAILED=1
    fi

    stop_servers
    log "server log: by status: $(grep -o 'status=[0-9]*' "$WORK/server-$N.log" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
    log "audit verify after load: $(env "${unset_jikimi[@]}" "$BIN" audit verify --data-dir "$DATA" --policy lifeplan-seed "${STORE_ARGS[@]}" 2>/dev/null | tail -1)"
    row="size=$N seed_s=$seed_s bytes_per_member=$per_member"
    for line in "${RESULTS[@]}"; do
        row="$row $(field "$line" scenario)=$(field "$line" rps)/$(field "$line" p99_ms)/$(field "$line" requests)"
    done
    SIZE_ROWS+=("$row")
    log "SIZE $row"
    rm -rf "$DATA"
    [[ $BACKEND == postgres ]] && psql -q "$PG_URL" -c "DROP SCHEMA s${N}_data CASCADE" -c "DROP SCHEMA s${N}_keys CASCADE"
done

# --- table ----------------------------------------------------------------------------------------
SCEN=(login me_get me_patch withdrawal)
cell() { sed -E "s/.* $2=([^ ]+).*/\1/" <<<" $1 " | sed 's/ *$//'; }
log "" "== results ($BACKEND; req/s, p99 ms in brackets; $DURATION per scenario, wrk $THREADS threads)"
{
    printf '%10s %9s %10s' members seed_s bytes/mbr
    for s in "${SCEN[@]}"; do printf ' %20s' "$s"; done
    printf '\n'
    for row in "${SIZE_ROWS[@]}"; do
        printf '%10s %9s %10s' "$(cell "$row" size)" "$(cell "$row" seed_s)" "$(cell "$row" bytes_per_member)"
        for s in "${SCEN[@]}"; do
            v=$(cell "$row" "$s")
            [[ $v == *=* || -z $v ]] && { printf ' %20s' -; continue; }
            IFS=/ read -r rps p99 _ <<<"$v"
            printf ' %20s' "$rps ($p99)"
        done
        printf '\n'
    done
} | tee -a "$OUT"
if ((${#SIZE_ROWS[@]} > 1)); then
    first=${SIZE_ROWS[0]}
    last=${SIZE_ROWS[${#SIZE_ROWS[@]} - 1]}
    log "" "== goal (issue 12): throughput at $(cell "$last" size) members ≥ 0.8 × at $(cell "$first" size)"
    {
        printf '%-11s %10s %10s %7s %s\n' scenario "$(cell "$first" size)" "$(cell "$last" size)" ratio met
        for s in "${SCEN[@]}"; do
            a=$(cell "$first" "$s" | cut -d/ -f1)
            b=$(cell "$last" "$s" | cut -d/ -f1)
            awk -v s="$s" -v a="$a" -v b="$b" 'BEGIN {
                if (a + 0 <= 0) { printf "%-11s %10s %10s %7s %s\n", s, a, b, "-", "no result"; exit }
                r = b / a; printf "%-11s %10s %10s %7.3f %s\n", s, a, b, r, (r >= 0.8 ? "met" : "not met") }'
        done
    } | tee -a "$OUT"
fi
log "raw output: ${OUT#"$ROOT"/}"
if [[ $FAILED -ne 0 ]]; then
    echo "SOME SCENARIOS HAD ERRORS: not a result" | tee -a "$OUT" >&2
    exit 1
fi
