#!/usr/bin/env bash
# Scans jikimi's own TLS (`serve --tls-cert`) with testssl.sh, offline:
#   1. makes a throwaway self-signed P-256 certificate for localhost (openssl),
#   2. starts `jikimi serve --tls-cert … --tls-key …` on a free loopback port, in a temporary
#      data directory,
#   3. runs testssl.sh against it — no DNS lookups (--nodns none, --ip 127.0.0.1), no OCSP or CRL
#      fetches (no --phone-out), nothing leaves the machine,
#   4. keeps the report (text log and JSON) in target/testssl/ (or $OUT),
#   5. exits non-zero when testssl rates any finding HIGH or CRITICAL.
# Two findings come from the throwaway certificate, not from jikimi, and do not fail the scan:
# cert_chain_of_trust (self-signed, CRITICAL) and cert_revocation (no CRL or OCSP URI, HIGH); a
# real certificate from a CA has both. docs/tls-scan.md explains every finding.
#
# Needs: testssl.sh (Debian: apt-get install testssl.sh), openssl, python3, and a built jikimi
# (`cargo build -p jikimi`; or set JIKIMI_BIN). Not part of CI.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${JIKIMI_BIN:-$root/target/debug/jikimi}
out=${OUT:-$root/target/testssl}
testssl=$(command -v testssl || command -v testssl.sh || true)

[[ -n $testssl ]] || { echo "testssl.sh is not installed (Debian: apt-get install testssl.sh)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl is not installed" >&2; exit 2; }
if [[ ! -x $bin ]]; then
    (cd "$root" && cargo build -p jikimi)
fi

work=$(mktemp -d)
server=
cleanup() {
    [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -addext basicConstraints=critical,CA:FALSE \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
env -u JIKIMI_DATABASE_URL -u JIKIMI_KEY_STORE_URL JIKIMI_LOG=warn \
    "$bin" serve --data-dir "$work/data" --listen "127.0.0.1:$port" \
    --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    sleep 0.2
done

mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
log="$out/testssl-$stamp.log"
json="$out/testssl-$stamp.json"
echo "jikimi $("$bin" --version | awk '{print $2}') on 127.0.0.1:$port; $("$testssl" --version 2>/dev/null | grep -o 'testssl *[0-9.]*' | head -1); $(openssl version)" | tee "$log.head"

# --warnings off: no interactive questions; --nodns none + --ip: no DNS; no --phone-out: no
# OCSP/CRL traffic. testssl's exit status is not a verdict, so it is read from the JSON below.
"$testssl" --quiet --color 0 --warnings off --nodns none --ip 127.0.0.1 \
    --connect-timeout 10 --openssl-timeout 10 \
    --logfile "$log" --jsonfile "$json" "https://localhost:$port/" >/dev/null || true
cat "$log.head" "$log" >"$log.tmp" && mv "$log.tmp" "$log" && rm -f "$log.head"
[[ -s $json ]] || { echo "testssl wrote no report" >&2; exit 1; }

status=0
python3 - "$json" <<'EOF' || status=$?
import collections, json, sys
findings = json.load(open(sys.argv[1]))
count = collections.Counter(f.get("severity", "") for f in findings)
print("severity counts:", dict(sorted(count.items())))
# Caused by the throwaway self-signed certificate, not by the server.
EXPECTED = ("cert_chain_of_trust", "cert_revocation")
bad = []
for f in findings:
    sev = f.get("severity")
    if sev not in ("LOW", "MEDIUM", "HIGH", "CRITICAL", "WARN"):
        continue
    expected = f["id"].startswith(EXPECTED)
    print(f'{sev:8} {f["id"]}: {f.get("finding", "")}{"  (expected: self-signed test certificate)" if expected else ""}')
    if sev in ("HIGH", "CRITICAL") and not expected:
        bad.append(f["id"])
print("verdict:", "FAIL (HIGH/CRITICAL: " + ", ".join(bad) + ")" if bad else "pass (no unexpected HIGH/CRITICAL finding)")
sys.exit(1 if bad else 0)
EOF
echo "report: $log and $json"
exit $status
