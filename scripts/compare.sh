#!/usr/bin/env bash
# Runs the sequential baseline and the four methods on the same fixture and workloads, each
# measurement repeated, and collates one comparison: compare.md (the table), compare.json (every
# raw figure, with the machine it ran on), compare.svg (a chart), decide.md (the guide's decision
# tree with this run's figures) and timelines.svg (each method's io run drawn over time), in
# results/ or in --out DIR.
#
# When python3 (3.9 or newer) is on the PATH, the Python guide's own four methods
# (scripts/python/guide.py) are measured too, on the same fixture and the same tasks (dumped
# from the Rust side with --dump-workload), and their rows sit beside the Rust ones.
#
# Each program measures itself and prints its report as JSON (the schema is in
# shared/src/report.rs; guide.py prints the same); the `collate` program (scripts/collate) reads
# those reports and does the arithmetic. If any program fails or prints an invalid report, this
# script says which and exits non-zero, so it never prints a table with a hole in it.
#
# Written for bash 3.2, the one macOS ships: no associative arrays, no mapfile, no ${var,,}.
set -euo pipefail
unset CDPATH   # or `cd` could print where it went into the paths this script reads back

usage() {
    cat <<'EOF'
Usage: scripts/compare.sh [--runs N] [--quick] [--out DIR] [--no-python]

Runs the sequential baseline and the four methods on the same workloads and writes
DIR/compare.md (the table), DIR/compare.json (every figure, the machine), DIR/compare.svg,
DIR/decide.md (the decision tree, with this run's figures) and DIR/timelines.svg (each method's
io run over time), with every program's raw report in DIR/raw (replaced on each run).

With python3 3.9+ on the PATH, the Python guide's methods (scripts/python/guide.py) are run on
the same tasks and get rows of their own beside the Rust ones (no worker sweep; fetch with 1
round of digest per value instead of 230, which in Python would take minutes). Without it, the
script says so in one line and leaves those rows out.

  --runs N     repeat every measurement N times (default 3) and report the median and range
  --quick      one run (unless --runs is given), a short sweep and a quarter of the cpu and
               fetch tasks, about two minutes (one with --no-python): a check that
               everything works, not a measurement. Never writes to results/: its default DIR
               is a new scratch folder under $TMPDIR (or /tmp), and the script prints where.
  --out DIR    write the results to DIR (default results/, or a scratch folder with --quick)
  --no-python  leave out the Python rows, even with python3 on the PATH
  -h, --help   this help

A full run into results/ (no --quick, no --out elsewhere) also puts results/compare.md and
results/decide.md into README.md, between its <!-- compare:begin/end --> and
<!-- decide:begin/end --> markers, so the README always shows the measured figures. Binaries are taken from ${CARGO_TARGET_DIR:-target}/release.
EOF
}

command="scripts/compare.sh${*:+ $*}"
runs=""
quick=0
out=""
python_wanted=1
while [ $# -gt 0 ]; do
    case "$1" in
        --runs)
            [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --runs takes a whole number from 1" >&2; exit 2; }
            runs=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        --out)
            [ -n "${2:-}" ] || { echo "compare.sh: --out takes a folder" >&2; exit 2; }
            out=$2; shift 2 ;;
        --no-python) python_wanted=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$runs" ]; then
    if [ "$quick" = 1 ]; then runs=1; else runs=3; fi
fi

say() { printf '%s\n' "$*" >&2; }
die() { say "compare.sh: $*"; exit 1; }

# --out is taken from where the script was started, before it moves to the repository's root.
if [ -n "$out" ]; then
    case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
fi
root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
if [ -z "$out" ]; then
    if [ "$quick" = 1 ]; then
        scratch=${TMPDIR:-/tmp}
        out=$(mktemp -d "${scratch%/}/compare-quick.XXXXXX")
    else
        out="$root/results"
    fi
fi
# An absolute path with the part of it that exists resolved (symlinks, `..`), so that two ways
# of naming results/ are recognised as one, before anything is created.
resolve() {
    local dir=$1 rest=""
    while [ ! -d "$dir" ]; do
        rest="/$(basename "$dir")$rest"
        dir=$(dirname "$dir")
    done
    printf '%s%s\n' "$(cd "$dir" && pwd -P)" "$rest"
}
out=$(resolve "$out")
# Only a full run into the committed results/ speaks for the README; a quick run never touches
# either of them.
if [ "$quick" = 1 ]; then
    case "$out/" in
        "$root/results/"*) say "compare.sh: --quick never writes to results/ (choose another --out)"; exit 2 ;;
    esac
fi
mkdir -p "$out"
update_readme=0
[ "$out" = "$root/results" ] && update_readme=1

# The README's results section is results/compare.md, and its decision tree results/decide.md,
# each put between two marker lines (<!-- NAME:begin --> and <!-- NAME:end -->), so that the
# README and results/ cannot drift apart. A run that is to update them checks the markers before
# it measures.
check_readme_markers() {   # NAME [why]
    local begin="<!-- $1:begin -->" end="<!-- $1:end -->"
    if ! awk -v begin="$begin" -v end="$end" '
            $0 == begin { begins++ }
            $0 == end { ends++; if (!begins) early = 1 }
            END { exit !(begins == 1 && ends == 1 && !early) }
        ' README.md; then
        die "README.md needs one '$begin' line and, after it, one '$end' line${2:+; $2}"
    fi
}
# Written to a temporary file beside the README and renamed over it, so that the README is never
# half written.
replace_readme_section() {   # NAME FILE
    local tmp begin="<!-- $1:begin -->" end="<!-- $1:end -->"
    [ -s "$2" ] || die "collate wrote no $2"
    check_readme_markers "$1" "the new text is in $2"
    tmp=$(mktemp "README.md.XXXXXX")
    cp -p README.md "$tmp"   # for the README's permissions; its text is replaced next
    if ! SECTION="$2" awk -v begin="$begin" -v end="$end" '
            $0 == begin { print; print ""; while ((getline line < ENVIRON["SECTION"]) > 0) print line; print ""; inside = 1; next }
            $0 == end { if (!inside) exit 1; inside = 0 }
            !inside { print }
        ' README.md > "$tmp"; then
        rm -f "$tmp"
        die "could not put $2 into README.md"
    fi
    mv "$tmp" README.md
}
if [ "$update_readme" = 1 ]; then
    check_readme_markers compare
    check_readme_markers decide
fi
say "results go to $out"

# The Python rows need python3, 3.9 or newer (guide.py's floor). Without it they are left out
# with one line saying so, not an error: the Rust comparison stands on its own.
python=""
python_left_out=""
if [ "$python_wanted" = 0 ]; then
    python_left_out="--no-python was given"
elif command -v python3 > /dev/null 2>&1 \
        && python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' > /dev/null 2>&1; then
    python=python3
else
    python_left_out="no python3 3.9+ was on the PATH"
    say "compare.sh: no python3 3.9+ on the PATH: the Python rows are left out"
fi

# Cargo resolves a relative CARGO_TARGET_DIR from the folder it runs in, which is the root here.
target=${CARGO_TARGET_DIR:-target}
case "$target" in /*) ;; *) target="$root/$target" ;; esac
bin="$target/release"

say "building every program in release (once)…"
cargo build --release --workspace --quiet

raw="$out/raw"
rm -rf "$raw"
mkdir -p "$raw"

# guide.py takes its tasks from a file, never from a preset of its own, so that the SQL lives in
# one place (shared): each preset is dumped once, here, beside the raw reports. fetch digests
# every value 230 times in the program, which takes the Rust programs a fraction of a second and
# Python minutes; its Python file says 1 round (compare.md says so too). collate reads the
# rounds back from this folder.
workloads="$raw/workloads"
if [ -n "$python" ]; then
    mkdir -p "$workloads"
    for preset in io cpu fetch overhead scale; do
        "$bin/sequential" --workload "$preset" --dump-workload > "$workloads/$preset.json" \
            || die "could not dump the $preset workload for guide.py"
    done
    "$python" - "$workloads/fetch.json" <<'PY' || die "could not set fetch's rounds to 1 for guide.py"
import json, sys
with open(sys.argv[1]) as f:
    workload = json.load(f)
for task in workload["tasks"]:
    task["rounds"] = 1
with open(sys.argv[1], "w") as f:
    json.dump(workload, f, indent=2)
PY
fi

# How to start a program: every row of the table is a program that takes the common flags and
# prints its report with --json. `python-<method>` is the guide's method run by guide.py, which
# takes the same flags except that a workload comes from its file (--workload-file).
launch() {
    local program=$1 words
    shift
    words=()
    case "$program" in
        sequential|*_executor) "$bin/$program" "$@" ;;
        python-*)
            while [ $# -gt 0 ]; do
                case "$1" in
                    --workload) words+=(--workload-file "$workloads/$2.json"); shift 2 ;;
                    *) words+=("$1"); shift ;;
                esac
            done
            "$python" scripts/python/guide.py --method "${program#python-}" ${words[@]+"${words[@]}"} ;;
        *) die "no way to run '$program'" ;;
    esac
}

# A measurement as it is run, for progress and error lines (guide.py's workload file relative
# to DIR).
describe() {   # PROGRAM FLAGS
    case "$1" in
        python-*)
            echo "scripts/python/guide.py --method ${1#python-} $2" \
                | sed 's|--workload \([a-z]*\)|--workload-file raw/workloads/\1.json|' ;;
        *) echo "$1 $2" ;;
    esac
}

# What "best setting" means for each method on the io workload: a pool does best with one
# worker per task (8); async with no limit at all. The same for both languages.
best_setting() {
    case "$1" in
        async_executor|python-asyncio) echo "" ;;
        *) echo "--workers 8" ;;
    esac
}

# 1,000 concurrent waits: one worker per wait for the pools, no limit for async. Python's
# multiprocessing starts 1,000 interpreters' worth of processes for that (seconds, and GBs); a
# quick run, which is a check, gives it 100 waits on 100 processes, and compare.md says so.
thousand_waits() {
    case "$1" in
        async_executor|python-asyncio) echo "" ;;
        python-multiprocessing) if [ "$quick" = 1 ]; then echo "--tasks 100 --workers 100"; else echo "--workers 1000"; fi ;;
        *) echo "--workers 1000" ;;
    esac
}

# A quick run is a check that CI runs, not a measurement: a quarter of the cpu and fetch tasks
# (each run repeats its sequential baseline, and with the Python rows there are ten of each).
if [ "$quick" = 1 ]; then
    sweep="1 8 64"
    heavy="--tasks 2"
else
    sweep="1 2 4 8 16 64 256 1000"
    heavy=""
fi

# Every measurement: a label, the program, and its flags (words without spaces, split on run).
plan=()
add() { plan+=("$*"); }

# The rows of the table, in its order: the baseline, then each method's measurements.
add_baseline() {   # PROGRAM
    add "${1}__io $1 --workload io"
    add "${1}__cpu $1 --workload cpu $heavy"
    add "${1}__fetch $1 --workload fetch $heavy"
    add "${1}__overhead $1 --workload overhead --no-baseline"
}
add_method() {   # PROGRAM
    local m=$1
    add "${m}__io4 $m --workload io --workers 4"
    add "${m}__iobest $m --workload io $(best_setting "$m")"
    add "${m}__cpu2 $m --workload cpu --workers 2 $heavy"
    add "${m}__fetch2 $m --workload fetch --workers 2 $heavy"
    add "${m}__overhead $m --workload overhead --no-baseline"
    add "${m}__scale $m --workload scale --no-baseline $(thousand_waits "$m")"
}
# The sweep: 4 waits of 100 ms per worker, so each point should take 0.4 s whatever the count,
# and throughput (tasks per second) shows where more workers stop helping. Rust's only: it is
# about how far each mechanism goes, and Python's processes at 1,000 would cost seconds and GBs
# per point.
add_sweep() {   # PROGRAM
    local w
    for w in $sweep; do
        add "${1}__sweep-$w $1 --workload scale --tasks $((4 * w)) --workers $w --no-baseline"
    done
}
add_baseline sequential
for m in threadpool_executor async_executor multiprocessing_executor threading_executor; do
    add_method "$m"
    add_sweep "$m"
done
# Python's baseline is its own sequential run, so each language's speedups divide by its own.
if [ -n "$python" ]; then
    add_baseline python-sequential
    for m in python-threadpool python-asyncio python-multiprocessing python-threading; do
        add_method "$m"
    done
fi

total=$(( ${#plan[@]} * runs ))
done_count=0
started=$SECONDS
# The fixture is built (once, the first time) before anything is timed.
launch sequential --tasks 0 --no-baseline --json > /dev/null
for run in $(seq 1 "$runs"); do
    for entry in "${plan[@]}"; do
        read -r label program flags <<< "$entry"
        # The flags are split into words on purpose; none of them is a path.
        # shellcheck disable=SC2206
        args=($flags)
        done_count=$((done_count + 1))
        say "[$done_count/$total, $((SECONDS - started)) s] run $run of $runs: $(describe "$program" "$flags")"
        report="$raw/${label}__r$run.json"
        errors="$raw/${label}__r$run.stderr"
        # Exit 1 means a task failed or timed out: the report is complete but the run is not
        # a fair measurement, so it is as much a failure here as a crash. (`${args[@]+...}`: an
        # empty array is an unbound variable to bash 3.2 under `set -u`.)
        status=0
        launch "$program" ${args[@]+"${args[@]}"} --json > "$report" 2> "$errors" || status=$?
        if [ "$status" != 0 ]; then
            say "compare.sh: '$(describe "$program" "$flags") --json' exited $status; its stderr:"
            cat "$errors" >&2
            exit 1
        fi
    done
done
say "ran $total measurements in $((SECONDS - started)) s; collating"

mode=full
[ "$quick" = 1 ] && mode=quick
if [ -n "$python" ]; then
    python_flag=(--python)
else
    python_flag=("--python-left-out=$python_left_out")
fi
"$bin/collate" --raw "$raw" --out "$out" --runs "$runs" --mode "$mode" --command "$command" "${python_flag[@]}"

if [ "$update_readme" = 1 ]; then
    replace_readme_section compare "$out/compare.md"
    replace_readme_section decide "$out/decide.md"
    say "README.md: its results section and decision tree now show results/compare.md and decide.md"
fi
say "done in $((SECONDS - started)) s: $out/compare.md, compare.json, compare.svg, decide.md, timelines.svg (raw reports in $out/raw)"
