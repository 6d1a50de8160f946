#!/usr/bin/env bash
# Schemathesis against the served OpenAPI document (issue 11): a fresh SQLite installation on a free
# loopback port, a member signed up through the API (sandbox 본인확인) and an office token from the
# CLI, then `st run … --checks all` without a token, with the office's, with the member's (logging
# out and withdrawal, which end a session, last, with a second session). Examples are bounded and
# seeded (ST_MAX_EXAMPLES, ST_SEED): the same findings on every run, in about a minute. Exits
# non-zero on any failure, or if the server stops.
#
#   scripts/schemathesis.sh            # builds the debug binary if needed
#   JIKIMI_BIN=path ST=path/to/st scripts/schemathesis.sh
#   ST_MAX_EXAMPLES=20 ST_SEED=1 scripts/schemathesis.sh
#
# Needs `st` (pip install -r scripts/schemathesis-requirements.txt), curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."

ST=${ST:-st}
MAX_EXAMPLES=${ST_MAX_EXAMPLES:-25}
SEED=${ST_SEED:-11}
command -v "$ST" >/dev/null || { echo "schemathesis: '$ST' not found (pip install -r scripts/schemathesis-requirements.txt)" >&2; exit 2; }
command -v jq >/dev/null || { echo "schemathesis: jq not found" >&2; exit 2; }

if [[ -z "${JIKIMI_BIN:-}" ]]; then
    cargo build -p jikimi --locked --quiet
    JIKIMI_BIN=target/debug/jikimi
fi

work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

data="$work/data"
export JIKIMI_POLICY=lifeplan
"$JIKIMI_BIN" init --data-dir "$data" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$JIKIMI_BIN" serve --data-dir "$data" --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    sleep 0.1
done
curl -fsS "$base/healthz" >/dev/null

post() { # path json → body; fails on a non-2xx answer
    curl -fsS -X POST -H 'content-type: application/json' -d "$2" "$base$1"
}

# A synthetic member (example.com), signed up through 본인확인 in the sandbox.
mobile=010-2011-0011
request_id=$(post /api/v1/identity/requests \
    "{\"name\":\"홍길동\",\"birth_date\":\"1990-01-11\",\"mobile\":\"$mobile\",\"carrier\":\"kt\"}" | jq -r .request_id)
code=$(post /api/v1/sandbox/sms "{\"mobile\":\"$mobile\"}" | jq -r '.[0].text' | grep -oE '[0-9]{6}' | head -n1)
identity_token=$(post "/api/v1/identity/requests/$request_id/confirm" "{\"code\":\"$code\"}" | jq -r .identity_token)
password='Schemathesis-pw-11'
post /api/v1/members "{\"login_id\":\"stmember11\",\"password\":\"$password\",\"identity_token\":\"$identity_token\",
    \"items\":{\"email\":\"member11@example.com\",\"address\":\"서울특별시 중구 세종대로 110\",\"postal_code\":\"04524\"},
    \"consents\":{\"optional_items\":true,\"marketing\":false,\"ads_email\":false,\"ads_sms\":false}}" >/dev/null
login() { post /api/v1/sessions "{\"login_id\":\"stmember11\",\"password\":\"$password\"}" | jq -r .token; }
# Two sessions now: wrong passwords sent by the fuzzer lock the login ID for a while (R-ACC-04).
member_token=$(login)
second_token=$(login)
# An office token belongs to a staff account (the officer's role opens every office call).
"$JIKIMI_BIN" staff add --data-dir "$data" schemathesis --role officer >/dev/null 2>&1
office_token=$("$JIKIMI_BIN" office token --data-dir "$data" schemathesis 2>/dev/null | tail -n1)
[[ -n "$member_token" && "$member_token" != null && -n "$second_token" && "$second_token" != null && -n "$office_token" ]] || { echo "schemathesis: no tokens" >&2; exit 1; }

config="$PWD/scripts/schemathesis.toml"
status=0
run() { # label, extra args…
    local label=$1
    shift
    echo "== schemathesis: $label"
    (cd "$work" && "$ST" --config-file "$config" run "$base/api/openapi.json" --checks all --max-examples "$MAX_EXAMPLES" --seed "$SEED" \
        --workers 1 --no-color --generation-database none "$@") || status=1
}
ends_session=(--include-name "DELETE /api/v1/sessions/current" --include-name "POST /api/v1/me/withdrawal")
run "no token"
run "office token" -H "Authorization: Bearer $office_token"
# Logging out and withdrawing end the token: first everything else, then those two with a new one.
run "member token" -H "Authorization: Bearer $member_token" \
    --exclude-name "DELETE /api/v1/sessions/current" --exclude-name "POST /api/v1/me/withdrawal"
run "member token: logout and withdrawal" -H "Authorization: Bearer $second_token" "${ends_session[@]}"

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "schemathesis: the server stopped" >&2
    status=1
fi
if ((status)); then
    echo "schemathesis: failures; the server's log ends:" >&2
    tail -n 40 "$work/serve.log" >&2
fi
exit "$status"
