#!/usr/bin/env bash
# RustSec advisories (known vulnerabilities, unsound and unmaintained crates, yanked versions) for
# Cargo.lock: `cargo deny check advisories`, offline, against a local copy of the RustSec advisory
# database in cargo-deny's default place. The database is a git repository outside the package
# registries, which this workplace's machines and CI cannot reach; bring a copy (a clone, a mirror)
# and pass it once:
#
#   scripts/advisories.sh [PATH_TO_ADVISORY_DB_GIT]
#
# With a path it (re)clones that copy first. Without a copy it says loudly that advisories were NOT
# checked and exits 0 (CI on a fresh machine): that is a gap of the environment, recorded in
# ARCHITECTURE.md ("Supply chain and fuzzing"), not a pass.
set -euo pipefail
cd "$(dirname "$0")/.."

db_root="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
# cargo-deny 0.20's directory name for the default RustSec database URL.
db="$db_root/advisory-db-3157b0e258782691"

if (($# >= 1)); then
    rm -rf "$db"
    mkdir -p "$db_root"
    git clone --quiet "$1" "$db"
fi
if [[ ! -d "$db/.git" ]]; then
    echo "advisories: NOT CHECKED: no RustSec advisory database at $db (see scripts/advisories.sh)"
    exit 0
fi
echo "advisories: RustSec database as of $(git -C "$db" log -1 --format=%cs) ($(git -C "$db" rev-parse --short HEAD))"
cargo deny --offline --locked check advisories
