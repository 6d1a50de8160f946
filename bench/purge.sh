#!/usr/bin/env bash
# Purge benchmark: RECORDS expired retained records (default 1,000,000) spread over two classes
# and DAYS daily buckets each, destroyed by `jikimi purge` from a release build. Reports the wall
# time and the peak memory (GNU time's maximum resident set size), then checks that every record,
# every bucket key went and that the destruction records count them all. See bench/README.md.
#
#   bench/purge.sh                              # SQLite, 1,000,000 records
#   BACKEND=postgres bench/purge.sh             # PostgreSQL (a throwaway durable cluster)
#   RECORDS=100000 bench/purge.sh               # another size (memory should not follow it)
#
# The records are generated straight into the databases (random bytes stand in for the sealed
# content, no personal data at all); the purge does not need to open them. Each is numbered as
# jikimi numbers one, with a UUIDv7 of the time it was written (its expiry day less its class's
# period); the rows themselves are inserted with consecutive rows alternating classes and walking
# through the days, so every bucket is spread over the whole file (the worst case). The generated SQLite
# databases are checkpointed (TRUNCATE) before the purge is timed: the generator's single
# transaction leaves a write-ahead log of about 370 MB, which a running installation never has
# (SQLite checkpoints automatically once the log passes 1000 pages, and every withdrawal and purge
# truncates it), so the purge would otherwise also pay for copying the generator's pages.
set -euo pipefail

RECORDS=${RECORDS:-1000000}
DAYS=${DAYS:-365}
BACKEND=${BACKEND:-sqlite}
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
TARGET="$ROOT/target"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jikimi-purge.XXXXXX")
PGTEST_DIR=""
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BENCH/results"
OUT="$BENCH/results/purge-$STAMP.txt"
cleanup() {
    [[ -n "$PGTEST_DIR" ]] && "$ROOT/scripts/test-postgres.sh" stop "$PGTEST_DIR"
    rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf '%s\n' "$@" | tee -a "$OUT"; }

if [[ ! -x /usr/bin/time ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get install -y time >/dev/null || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
    else
        echo "GNU time is missing: apt-get install time" >&2
        exit 1
    fi
fi

: >"$OUT"
log "# jikimi purge benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
log "machine:  nproc=$(nproc); cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
log "commit:   $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown); $(rustc --version)"
log "settings: BACKEND=$BACKEND RECORDS=$RECORDS DAYS=$DAYS (2 classes × $DAYS daily buckets)"

(cd "$ROOT" && cargo build --release -p jikimi --target-dir "$TARGET" 2>&1 | tail -1)
BIN="$TARGET/release/jikimi"
unset_jikimi=()
for v in $(compgen -e | grep '^JIKIMI_' || true); do unset_jikimi+=(-u "$v"); done
ARGS=(--data-dir "$WORK/data" --policy lifeplan)

if [[ $BACKEND == postgres ]]; then
    eval "$("$ROOT/scripts/test-postgres.sh" start --durable)"
    PG=$JIKIMI_TEST_POSTGRES_URL
    unset JIKIMI_TEST_POSTGRES_URL
    psql -q "$PG" -c 'CREATE SCHEMA jikimi_data' -c 'CREATE SCHEMA jikimi_keys'
    ARGS+=(--database-url "$PG?options[search_path]=jikimi_data" --key-store-url "$PG?options[search_path]=jikimi_keys")
fi
env "${unset_jikimi[@]}" "$BIN" init "${ARGS[@]}" >/dev/null

# --- generate -------------------------------------------------------------------------------------
gen_start=$(date +%s)
if [[ $BACKEND == postgres ]]; then
    psql -q "$PG" <<SQL
SET search_path = jikimi_data;
INSERT INTO retained_records (id, class, bucket, key_id, expires_on, receipt_index, sealed, created_at)
SELECT (lpad(to_hex(w.ms), 12, '0') || '7' || substr(md5(n::text), 1, 3) || '8' || substr(md5(n::text), 4, 15))::uuid,
       c.class, to_char(d.day, 'YYYY-MM-DD'), 'bench', d.day,
       decode(md5(n::text), 'hex'), decode(repeat(md5(n::text || 'x'), 8), 'hex'),
       to_timestamp(w.ms / 1000.0)
FROM generate_series(0, $RECORDS - 1) AS n
CROSS JOIN LATERAL (SELECT (ARRAY['contract_records', 'consent_records'])[1 + n % 2] AS class,
                           (ARRAY[1826, 1095])[1 + n % 2] AS kept_days) c
CROSS JOIN LATERAL (SELECT DATE '2020-01-01' + ((n / 2) % $DAYS)::int AS day) d
CROSS JOIN LATERAL (SELECT (extract(epoch FROM d.day - c.kept_days) * 1000)::bigint + n % 86400000 AS ms) w;
SET search_path = jikimi_keys;
INSERT INTO wrapped_keys (context, key_id, wrapped, created_at)
SELECT 'retention:' || c || ':' || to_char(DATE '2020-01-01' + i, 'YYYY-MM-DD'), 'bench', decode(md5(c || i), 'hex'), now()
FROM unnest(ARRAY['contract_records', 'consent_records']) AS c, generate_series(0, $DAYS - 1) AS i;
SQL
else
    python3 - "$WORK/data/jikimi.db" "$WORK/data/keys.db" "$RECORDS" "$DAYS" <<'PY'
import datetime, os, sqlite3, sys, uuid
db, keys, n, days = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
classes = ["contract_records", "consent_records"]
start = datetime.date(2020, 1, 1)
c = sqlite3.connect(db)
kept_days = [1826, 1095]
epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
def v7(written):
    # As jikimi numbers a retained record: a UUIDv7 of the time it was written.
    ms = int((written - epoch).total_seconds() * 1000)
    b = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    b[6] = 0x70 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    return bytes(b)
def rows():
    for i in range(n):
        expires = start + datetime.timedelta(days=(i // 2) % days)
        day = expires.isoformat()
        written = datetime.datetime.combine(expires - datetime.timedelta(days=kept_days[i % 2]),
                                            datetime.time(), datetime.timezone.utc) + datetime.timedelta(milliseconds=i % 86400000)
        yield (v7(written), classes[i % 2], day, "bench", day, os.urandom(16), os.urandom(128),
               written.isoformat(sep=" "))
c.executemany("INSERT INTO retained_records (id, class, bucket, key_id, expires_on, receipt_index, sealed, created_at) VALUES (?,?,?,?,?,?,?,?)", rows())
c.commit()
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
k = sqlite3.connect(keys)
k.executemany("INSERT INTO wrapped_keys (context, key_id, wrapped, created_at) VALUES (?,?,?,?)",
              [(f"retention:{cl}:{(start + datetime.timedelta(days=i)).isoformat()}", "bench", os.urandom(60),
                "2020-01-01 00:00:00+00:00") for cl in classes for i in range(days)])
k.commit()
k.execute("PRAGMA wal_checkpoint(TRUNCATE)")
PY
fi
log "generated $RECORDS records and $((2 * DAYS)) bucket keys in $(($(date +%s) - gen_start)) s"
if [[ $BACKEND == sqlite ]]; then
    log "data file: $(du -h "$WORK/data/jikimi.db" | cut -f1), write-ahead log: $(stat -c %s "$WORK/data/jikimi.db-wal" 2>/dev/null || echo 0) bytes (checkpointed)"
fi
log "load average before the purge: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- purge ----------------------------------------------------------------------------------------
log "" "== /usr/bin/time -v jikimi purge"
env "${unset_jikimi[@]}" JIKIMI_LOG=warn /usr/bin/time -v "$BIN" purge "${ARGS[@]}" >"$WORK/purge.out" 2>"$WORK/purge.time"
tee -a "$OUT" <"$WORK/purge.out"
wall=$(grep 'Elapsed (wall clock)' "$WORK/purge.time" | awk '{print $NF}')
rss=$(grep 'Maximum resident set size' "$WORK/purge.time" | awk '{print $NF}')
cpu=$(grep 'Percent of CPU' "$WORK/purge.time" | awk '{print $NF}')
user=$(grep 'User time' "$WORK/purge.time" | awk '{print $NF}')
sys=$(grep 'System time' "$WORK/purge.time" | awk '{print $NF}')
log "" "RESULT backend=$BACKEND records=$RECORDS wall=$wall max_rss_kib=$rss cpu=$cpu user_s=$user sys_s=$sys"
log "load average after the purge: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- check ----------------------------------------------------------------------------------------
env "${unset_jikimi[@]}" "$BIN" purge --report "${ARGS[@]}" >"$WORK/report.out"
counted=$(awk '$3 == "purge" && ($4 == "contract_records" || $4 == "consent_records") {s += $(NF-3)} END {print s + 0}' "$WORK/report.out")
if [[ $BACKEND == postgres ]]; then
    left=$(psql -At "$PG" -c 'SELECT count(*) FROM jikimi_data.retained_records')
    keys=$(psql -At "$PG" -c "SELECT count(*) FROM jikimi_keys.wrapped_keys WHERE context LIKE 'retention:%'")
else
    left=$(sqlite3 "$WORK/data/jikimi.db" 'SELECT count(*) FROM retained_records')
    keys=$(sqlite3 "$WORK/data/keys.db" "SELECT count(*) FROM wrapped_keys WHERE context LIKE 'retention:%'")
fi
log "after: $left records left, $keys bucket keys left, destruction records count $counted"
if [[ $left != 0 || $keys != 0 || $counted != "$RECORDS" ]]; then
    echo "NOT A RESULT: the purge did not destroy everything it should have" | tee -a "$OUT" >&2
    exit 1
fi
log "raw output: ${OUT#"$ROOT"/}"
