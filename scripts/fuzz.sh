#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 60; without TARGETs, all of `cargo fuzz list` run. CI runs it
# briefly (see .ci/run). Needs cargo-fuzz (`cargo install cargo-fuzz --locked`) and a C++
# compiler (libfuzzer-sys builds libFuzzer). Works on the stable toolchain: cargo-fuzz passes
# nightly-only -Z flags to rustc, which stable accepts with RUSTC_BOOTSTRAP=1, set here for
# these builds only. The build goes to fuzz/target, never the main target directory.
#
# Corpora grow in fuzz/corpus/<target> (not in git); the seeds in fuzz/seeds/<target> (and the
# shipped policies, for policy_load) are copied in first. A failing input is saved under
# fuzz/artifacts/<target>/; reproduce it from fuzz/ with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run -a --sanitizer none --target-dir target <target> artifacts/<target>/<file>
# then fix the code and add the input as a unit test in the crate that failed.
#
# Environment: FUZZ_SANITIZER (default "none"; "address" also works on stable, about twice as
# slow), FUZZ_JOBS (parallel fuzzing processes per target, default 1).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

secs="${1:-60}"
shift || true
if ! [[ "$secs" =~ ^[0-9]+$ ]] || ((secs < 1)); then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 2
fi

export RUSTC_BOOTSTRAP=1
sanitizer="${FUZZ_SANITIZER:-none}"
jobs="${FUZZ_JOBS:-1}"
# -a: debug assertions and overflow checks, so arithmetic bugs fail loudly.
flags=(--sanitizer "$sanitizer" --debug-assertions --target-dir target)

if (($#)); then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

echo "building ${#targets[@]} fuzz targets (sanitizer: $sanitizer)"
build_start=$SECONDS
# Without a name, `cargo fuzz build` builds every target (their dependencies once).
build_args=()
(($# == 1)) && build_args=("$1")
cargo fuzz build "${flags[@]}" "${build_args[@]}" 2>&1 | { grep -Ev '^\s+(Compiling|Checking)' || true; }
echo "built in $((SECONDS - build_start)) s"

failed=()
for t in "${targets[@]}"; do
    corpus="corpus/$t"
    mkdir -p "$corpus"
    if [[ -d "seeds/$t" ]]; then
        cp -n "seeds/$t"/* "$corpus"/ 2>/dev/null || true
    fi
    if [[ "$t" == policy_load ]]; then
        cp -n ../policies/*.toml "$corpus"/ 2>/dev/null || true
    fi
    echo "== fuzz $t (${secs} s)"
    # -max_len: the shipped policies are 20-31 KB; the other inputs need far less.
    max_len=4096
    [[ "$t" == policy_load ]] && max_len=65536
    parallel=()
    # With -jobs, libFuzzer writes each job's output to fuzz-N.log in the current directory.
    ((jobs > 1)) && parallel=(-jobs="$jobs" -workers="$jobs")
    if ! cargo fuzz run "${flags[@]}" "$t" "$corpus" -- \
        -max_total_time="$secs" -max_len="$max_len" -timeout=20 -rss_limit_mb=2048 \
        "${parallel[@]}" -print_final_stats=1 >"target/fuzz-$t.log" 2>&1; then
        failed+=("$t")
        tail -n 40 "target/fuzz-$t.log"
        echo "FAILED: $t (input saved under fuzz/artifacts/$t/)"
    else
        grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "target/fuzz-$t.log" | tail -n 1 || true
    fi
done

if ((${#failed[@]})); then
    echo "fuzzing found failures in: ${failed[*]}" >&2
    exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${secs} s each, no failure"
