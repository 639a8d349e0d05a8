#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each, JOBS at a time, and prints
# one line per target: runs, time, and whether it crashed (the crashing input is left
# in fuzz/artifacts/TARGET/). Needs cargo-fuzz (`cargo install cargo-fuzz`).
#
#   fuzz/run.sh 600            # every target, ten minutes each
#   fuzz/run.sh 30 ggz native  # two targets, half a minute each
#
# Targets are built optimised with debug assertions and overflow checks (`-O -a`), and
# start from their corpus (fuzz/corpus/TARGET, kept between runs) plus the inputs kept
# in fuzz/regressions/TARGET; inputs are at most 4 KiB (libFuzzer's default).
set -u
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(ls fuzz_targets | sed 's/\.rs$//')
fi
jobs=${JOBS:-2}
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O -a || exit 1
logs=$(mktemp -d)
run() {
    local t=$1
    local corpora=("corpus/$t")
    mkdir -p "corpus/$t"
    [ -d "regressions/$t" ] && corpora+=("regressions/$t")
    cargo fuzz run -O -a "$t" "${corpora[@]}" -- -max_total_time="$seconds" -max_len=4096 \
        -print_final_stats=1 >"$logs/$t.log" 2>&1
    local status=$?
    local runs
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$t.log" | grep -o '[0-9]*$')
    if [ $status -eq 0 ]; then
        echo "$t: ${runs:-?} runs in ${seconds}s, no crash"
    else
        echo "$t: CRASH (exit $status) after ${runs:-?} runs; log $logs/$t.log"
    fi
    return $status
}
failed=0
for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n || failed=1
    done
    run "$t" &
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do
    wait -n || failed=1
done
exit $failed
