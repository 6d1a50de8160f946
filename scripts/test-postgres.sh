#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite: a temporary directory, a free port on
# loopback, run as the `postgres` user. Installs Debian's `postgresql` if the binaries are missing.
#
#   eval "$(scripts/test-postgres.sh start)"   # prints: export JIKIMI_TEST_POSTGRES_URL=... PGTEST_DIR=...
#   scripts/test-postgres.sh stop "$PGTEST_DIR"
#
# Tests run it without durability (fsync, synchronous_commit and full-page writes off: the data is
# thrown away). `start --durable` keeps PostgreSQL's durable defaults, for benchmarks.
# The cluster trusts local connections only (it listens on 127.0.0.1 and is gone after `stop`).
set -euo pipefail

pg_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x "$d/initdb" && -x "$d/postgres" ]] && { echo "$d"; return 0; }
    done
    return 1
}

free_port() {
    python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

start() {
    local durable=${1:-} bin
    if ! bin=$(pg_bin); then
        echo "installing postgresql" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >/dev/null
        # The package starts its own cluster; this one is not used.
        service postgresql stop >/dev/null 2>&1 || true
        bin=$(pg_bin)
    fi
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
    local dir port as=()
    dir=$(mktemp -d /tmp/jikimi-pg.XXXXXX)
    port=$(free_port)
    if [[ $(id -u) == 0 ]]; then
        chown postgres: "$dir"
        as=(runuser -u postgres --)
    fi
    "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    # Tests create a schema each and run many connections from two instances at once.
    local opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=300"
    [[ $durable == --durable ]] || opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o "$opts" >&2
    echo "export PGTEST_DIR=$dir"
    echo "export JIKIMI_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
}

stop() {
    local dir=${1:?usage: stop DIR}
    local bin as=()
    bin=$(pg_bin)
    [[ $(id -u) == 0 ]] && as=(runuser -u postgres --)
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    rm -rf "$dir"
}

case "${1:-}" in
    start) start "${2:-}" ;;
    stop) stop "${2:-}" ;;
    *) echo "usage: $0 start [--durable] | stop DIR" >&2; exit 2 ;;
esac
