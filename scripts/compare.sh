#!/usr/bin/env bash
# Runs the sequential baseline and the four methods on the same fixture and workloads, each
# measurement repeated, and collates one comparison table (results/compare.md), every raw figure
# with the machine it ran on (results/compare.json), and a chart (results/compare.svg).
#
#   scripts/compare.sh            the full comparison: 3 runs of everything (about 4 minutes)
#   scripts/compare.sh --runs 5   more repetitions, for a tighter median
#   scripts/compare.sh --quick    one run, a shorter sweep: a check that everything works (CI)
#
# Each program measures itself and prints its report as JSON (the schema is in
# shared/src/report.rs); the `collate` program reads those reports and does the arithmetic.
# If any program fails or prints an invalid report, this script says which and exits non-zero,
# so it never prints a table with a hole in it.
set -euo pipefail

command="scripts/compare.sh${*:+ $*}"
runs=3
quick=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs)
            [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --runs takes a whole number from 1" >&2; exit 2; }
            runs=$2; shift 2 ;;
        --quick) quick=1; runs=1; shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
say() { printf '%s\n' "$*" >&2; }

say "building every program in release (once)…"
cargo build --release --workspace --quiet
bin=target/release

raw=results/raw
rm -rf "$raw"
mkdir -p "$raw"

# The methods in the table's order, and what "best setting" means for each on the io workload:
# a pool does best with one worker per task (8); async with no limit at all.
methods=(threadpool_executor async_executor multiprocessing_executor threading_executor)
declare -A best=([threadpool_executor]="--workers 8" [async_executor]="" \
                 [multiprocessing_executor]="--workers 8" [threading_executor]="--workers 8")
# 1,000 concurrent waits: one worker per wait for the pools, no limit for async.
declare -A thousand=([threadpool_executor]="--workers 1000" [async_executor]="" \
                     [multiprocessing_executor]="--workers 1000" [threading_executor]="--workers 1000")

if [ "$quick" = 1 ]; then
    sweep=(1 8 64)
    heavy="--tasks 4"   # half the cpu and fetch tasks: a check, not a measurement
else
    sweep=(1 2 4 8 16 64 256 1000)
    heavy=""
fi

# Every measurement: a label, then the program and its flags.
plan=()
add() { plan+=("$*"); }
add "sequential__io sequential --workload io"
add "sequential__cpu sequential --workload cpu $heavy"
add "sequential__fetch sequential --workload fetch $heavy"
add "sequential__overhead sequential --workload overhead --no-baseline"
for m in "${methods[@]}"; do
    add "${m}__io4 $m --workload io --workers 4"
    add "${m}__iobest $m --workload io ${best[$m]}"
    add "${m}__cpu2 $m --workload cpu --workers 2 $heavy"
    add "${m}__fetch2 $m --workload fetch --workers 2 $heavy"
    add "${m}__overhead $m --workload overhead --no-baseline"
    add "${m}__scale $m --workload scale --no-baseline ${thousand[$m]}"
    # The sweep: 4 waits of 100 ms per worker, so each point should take 0.4 s whatever the
    # count, and throughput (tasks per second) shows where more workers stop helping.
    for w in "${sweep[@]}"; do
        add "${m}__sweep-$w $m --workload scale --tasks $((4 * w)) --workers $w --no-baseline"
    done
done

total=$(( ${#plan[@]} * runs ))
done_count=0
started=$SECONDS
# The fixture is built (once, the first time) before anything is timed.
"$bin/sequential" --tasks 0 --no-baseline --json > /dev/null
for run in $(seq 1 "$runs"); do
    for entry in "${plan[@]}"; do
        read -r label program args <<< "$entry"
        done_count=$((done_count + 1))
        say "[$done_count/$total, $((SECONDS - started)) s] run $run of $runs: $program $args"
        out="$raw/${label}__r$run.json"
        # Exit 1 means a task failed or timed out: the report is complete but the run is not
        # a fair measurement, so it is as much a failure here as a crash.
        # shellcheck disable=SC2086
        status=0
        "$bin/$program" $args --json > "$out" 2> "$raw/${label}__r$run.stderr" || status=$?
        if [ "$status" != 0 ]; then
            say "compare.sh: '$program $args --json' exited $status; its stderr:"
            cat "$raw/${label}__r$run.stderr" >&2
            exit 1
        fi
    done
done
say "ran $total measurements in $((SECONDS - started)) s; collating"

mode=full
[ "$quick" = 1 ] && mode=quick
"$bin/collate" --raw "$raw" --out results --runs "$runs" --mode "$mode" \
    --command "$command"
