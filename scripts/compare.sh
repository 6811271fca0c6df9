#!/usr/bin/env bash
# Runs the sequential baseline and the four methods on the same fixture and workloads, each
# measurement repeated, and collates one comparison: compare.md (the table), compare.json (every
# raw figure, with the machine it ran on), compare.svg (a chart), decide.md (the guide's decision
# tree with this run's figures), lessons.md (what the table teaches), timelines.svg (each
# method's io run drawn over time), writes.md and writes-lessons.md (what each method gets from
# SQLite's one write lock, and what that teaches), mix.md (an application's reads and writes at
# once, with the latency each kind sees), split.md and split.svg (the share of writes swept, each
# way of writing: where one writer starts to pay), questions.md (the questions Rust users ask
# most, with this run's figures), pitfalls.md (PITFALLS.md's tables, with this run's figures)
# and start.md (how soon a pool of worker processes is ready under each start method, in Rust
# and Python), in target/compare/ or in --out DIR, and index.html, all of it on one page. The
# committed results/ and the figures in the docs are the project's reference run, which only
# --update-docs rewrites: a reader's run never changes a file git tracks.
#
# With --db FILE --workload-file FILE (or --workload NAME), it compares every method on that one
# workload instead, at the worker counts that matter for it, and decides for it (see
# plan_your_workload, and scripts/collate/src/yours.rs).
#
# When python3 (3.9 or newer) is on the PATH, the Python guide's own four methods
# (scripts/python/guide.py) are measured too, on the same fixture and the same tasks (dumped
# from the Rust side with --dump-workload), and their rows sit beside the Rust ones.
#
# Each program measures itself and prints its report as JSON (the schema is in
# shared/src/report.rs; guide.py prints the same); the `collate` program (scripts/collate) reads
# those reports and does the arithmetic. If any program fails or prints an invalid report, this
# script says which and exits non-zero, so it never prints a table with a hole in it. The
# exceptions are the writes table, whose failed writes are what it measures (see add_writes), the
# app mix and the split sweep, which count theirs too (see add_mix and add_split), and the faults
# injected on purpose for PITFALLS.md (see add_faults).
#
# Written for bash 3.2, the one macOS ships: no associative arrays, no mapfile, no ${var,,}.
set -euo pipefail
unset CDPATH   # or `cd` could print where it went into the paths this script reads back

usage() {
    cat <<'EOF'
Usage: scripts/compare.sh [--runs N] [--quick] [--timeout S] [--out DIR] [--no-python]
       scripts/compare.sh --db FILE --workload-file FILE [--runs N] [--quick] [--timeout S] [--out DIR] [--no-python]
       scripts/compare.sh --workload NAME [--db FILE] [--runs N] [--quick] [--timeout S] [--out DIR] [--no-python]
       scripts/compare.sh --update-docs [--runs N] [--timeout S] [--no-python]
       scripts/compare.sh --collate-only [--out DIR | --update-docs]

Runs the sequential baseline and the four methods on the same workloads and writes
DIR/compare.md (the table), DIR/compare.json (every figure, the machine), DIR/compare.svg,
DIR/decide.md (the decision tree, with this run's figures), DIR/lessons.md (what the table
teaches, in this run's figures), DIR/timelines.svg (each method's io run over time),
DIR/writes.md (2,000 one-row writes by each method, four ways, and reads while a writer runs),
DIR/writes-lessons.md (what the writes teach), DIR/mix.md (the app preset's reads and writes
at once, each way of writing, with their latency), DIR/split.md and DIR/split.svg (the share of
writes swept from 0 to 100% on 16 workers, each way of writing, and a write transaction that
waits inside itself), DIR/questions.md (the questions Rust users ask most, each with this
run's figure), DIR/pitfalls.md (the tables of PITFALLS.md, with this run's figures) and
DIR/start.md (worker processes forked, spawned or forked by a fork server, in Rust and
Python), with every program's raw report in DIR/raw (replaced on each run). DIR is
target/compare/ in the project (git ignores it) unless --out names another; the committed
results/ and the docs keep the project's reference run (see --update-docs).
Each round runs the sequential baseline once per workload, and every method of the round is
measured against it (the methods run with --no-baseline); cpu and fetch run the first 4 of
their 8 tasks on 2 workers.

With python3 3.9+ on the PATH, the Python guide's methods (scripts/python/guide.py) are run on
the same tasks and get rows of their own beside the Rust ones (no worker sweep; fetch's first 2
tasks with 1 round of digest per value instead of 230, which in Python would take minutes;
2,000 overhead tasks). Without it, the script says so in one line and leaves those rows out.

  --runs N        repeat every measurement N times (default 3) and report the median and range
  --quick         one run (unless --runs is given), a short sweep, a quarter of the cpu and
                  fetch tasks and 200 writes on 16 workers only, about two minutes (one with
                  --no-python): a check that everything works, not a measurement. Never writes
                  to results/: its default DIR is a new scratch folder under $TMPDIR (or /tmp),
                  and the script prints where.
  --timeout S     how long each task may take from its start, in seconds (more than 0, at most
                  86400; 0.5 is fine), given to every program the run starts, guide.py too
                  (default: theirs, 10 s), except where a measurement sets its own (the faults
                  injected to hang for PITFALLS.md keep their 1 s)
  --out DIR       write the results to DIR (default target/compare/ in the project, or a scratch
                  folder with --quick or your workload). Since a run replaces DIR/raw, the
                  script writes only into a new or empty folder, or one it wrote before (marked
                  by its file DIR/.compare-sh); any other DIR is refused, nothing in it touched.
  --db FILE       your SQLite database, for --workload-file (never written: a workload whose
                  tasks write runs on scratch copies, as the programs always do)
  --workload-file FILE
                  your tasks, as --dump-workload prints them or a plain JSON list of
                  {"name", "sql", "params", "latency_ms"}: compare every method on them alone
  --workload NAME one preset (io, cpu, fetch, mixed, overhead, scale, writes, app) alone, the same way
  --no-python     leave out the Python rows, even with python3 on the PATH
  --update-docs   for maintainers, on the machine the docs name: a full run into the committed
                  results/, whose blocks then go into the docs (see below). Not with --quick,
                  --out or your workload; results/ is written by nothing else.
  --collate-only  measure nothing: collate DIR/raw again, as the run that wrote it did (its
                  runs, mode and command), DIR as for a run (target/compare/ by default); with
                  --update-docs, results/, whose blocks then go into the docs again
  -h, --help      this help

Your workload (--db with --workload-file, or --workload): the sequential baseline, then each
of the four Rust programs at 1, 2, 4 and 8 workers, and at 16, 32, ... up to 256 while there are
more tasks than the count before (the Python methods the same, their processes at most 64),
--runs times (default 3), each round's methods measured against that round's baseline. Writes
DIR/compare.md (speedup at each count, the best count per method, against the ideal),
compare.json, compare.svg, timelines.svg (each Rust method at its best count), decide.md (which
method, at how many workers, and why, for that workload) and index.html. DIR defaults to a
folder named after the workload under $TMPDIR (or /tmp); never results/ or the docs. Bad input
(no such file, not SQLite, a workload that does not parse or has no tasks, a task that fails
or, run alone, outlasts --timeout) exits 2 with one line, before anything is written to DIR.

Every DIR gets index.html: the table, the decision, the chart and the timelines on one page,
self-contained (inline SVG, nothing fetched); the script prints its path at the end. On
stderr, the script says first that it builds, then, as a long run goes, what it runs and about
how long is left (estimated from the runs so far), and last how long the measuring took, and
the build before it.

A run with --update-docs writes results/ and puts each generated block, results/NAME.md, into
every doc among README.md, PITFALLS.md and docs/*.md that has a <!-- NAME:begin --> line and,
after it, a <!-- NAME:end --> line, so that the docs show the figures results/ holds. The
blocks: compare, decide, lessons, writes, writes-lessons, mix, split, questions, pitfalls,
start, cost. Such a run also times a task under each method against its bare mechanism
(cargo bench -p bench, a minute or two) for the cost block and the lessons (results/cost-*.md).
Half a pair of markers, or markers no block fills, is an error, found before anything is
measured. Binaries are taken from ${CARGO_TARGET_DIR:-target}/release.
EOF
}

command="scripts/compare.sh${*:+ $*}"
runs=""
quick=0
timeout=""
out=""
update_docs=0
python_wanted=1
collate_only=0
user_db=""
user_workload_file=""
user_preset=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs)
            [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --runs takes a whole number from 1" >&2; exit 2; }
            runs=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        --timeout)
            # The programs take any number of seconds above 0 and up to a day, decimals too; the
            # same is checked here, so that a wrong value costs one line before anything is built.
            seconds='^([0-9]+[.]?[0-9]*|[.][0-9]+)$'
            if ! [[ "${2:-}" =~ $seconds ]] || ! awk -v s="$2" 'BEGIN { exit !(s + 0 > 0 && s + 0 <= 86400) }'; then
                echo "compare.sh: --timeout takes a number of seconds, more than 0 and at most 86400 (one day)" >&2
                exit 2
            fi
            timeout=$2; shift 2 ;;
        --out)
            [ -n "${2:-}" ] || { echo "compare.sh: --out takes a folder" >&2; exit 2; }
            out=$2; shift 2 ;;
        --no-python) python_wanted=0; shift ;;
        --db)
            [ -n "${2:-}" ] || { echo "compare.sh: --db takes a SQLite file" >&2; exit 2; }
            user_db=$2; shift 2 ;;
        --workload-file)
            [ -n "${2:-}" ] || { echo "compare.sh: --workload-file takes a JSON file of tasks" >&2; exit 2; }
            user_workload_file=$2; shift 2 ;;
        --workload)
            [[ "${2:-}" =~ ^[a-z]+$ ]] || { echo "compare.sh: --workload takes a preset's name (io, cpu, fetch, mixed, overhead, scale, writes, app)" >&2; exit 2; }
            user_preset=$2; shift 2 ;;
        --collate-only) collate_only=1; shift ;;
        --update-docs) update_docs=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
yours=0
[ -n "$user_db$user_workload_file$user_preset" ] && yours=1
if [ "$collate_only" = 1 ] && { [ "$quick" = 1 ] || [ -n "$runs$timeout" ] || [ "$python_wanted" = 0 ] || [ "$yours" = 1 ]; }; then
    echo "compare.sh: --collate-only takes only --out or --update-docs: the run that wrote DIR/raw set the rest" >&2
    exit 2
fi
# results/ and the docs' figures are the project's reference run, one full measurement on the
# machine the docs name; a check or one user's workload would replace it with figures that
# answer another question.
if [ "$update_docs" = 1 ] && [ "$quick" = 1 ]; then
    echo "compare.sh: --update-docs writes the reference run into results/ and the docs, and --quick is a check, not a measurement: leave out one of them" >&2
    exit 2
fi
if [ "$update_docs" = 1 ] && [ "$yours" = 1 ]; then
    echo "compare.sh: --update-docs writes the guide's workloads into results/ and the docs, never your workload: leave out --update-docs" >&2
    exit 2
fi
if [ -n "$user_workload_file" ] && [ -n "$user_preset" ]; then
    echo "compare.sh: --workload-file and --workload each name the tasks: give one" >&2
    exit 2
fi
if [ "$yours" = 1 ] && [ -z "$user_workload_file$user_preset" ]; then
    echo "compare.sh: --db needs your tasks too: --workload-file FILE (see --help)" >&2
    exit 2
fi
# Your files are named from where the script was started, and checked before anything else, so
# that a mistyped name costs one line and nothing is built or written.
for given in "$user_db" "$user_workload_file"; do
    [ -n "$given" ] || continue
    case "$given" in /*) ;; *) given="$PWD/$given" ;; esac
    if [ ! -e "$given" ]; then
        echo "compare.sh: $given: no such file" >&2
        exit 2
    elif [ ! -f "$given" ] || [ ! -r "$given" ]; then
        echo "compare.sh: $given: not a file this script can read" >&2
        exit 2
    fi
done
case "$user_db" in ""|/*) ;; *) user_db="$PWD/$user_db" ;; esac
case "$user_workload_file" in ""|/*) ;; *) user_workload_file="$PWD/$user_workload_file" ;; esac
if [ -z "$runs" ]; then
    if [ "$quick" = 1 ]; then runs=1; else runs=3; fi
fi

say() { printf '%s\n' "$*" >&2; }
die() { say "compare.sh: $*"; exit 1; }
refuse() { say "compare.sh: $*"; exit 2; }

# --out is taken from where the script was started, before it moves to the repository's root.
if [ -n "$out" ]; then
    case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
fi
root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
# Cargo resolves a relative CARGO_TARGET_DIR from the folder it runs in, which is the root here.
target=${CARGO_TARGET_DIR:-target}
case "$target" in /*) ;; *) target="$root/$target" ;; esac
bin="$target/release"
scratch=${TMPDIR:-/tmp}
scratch=${scratch%/}

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
# Where the results may go, checked before anything is built or written. results/ is the
# project's reference run, which the docs quote, so only --update-docs writes it. Any other
# folder is the script's only if it is new, empty, or marked by an earlier run with the file
# $mark: a run replaces DIR/raw and its own files in DIR, and a folder of someone's own files
# named by mistake (the project's root, a home folder, one with a raw/ of its own) must be
# refused whole, not emptied.
mark=.compare-sh
check_out() {
    case "$out/" in
        "$root/results/"*)
            if [ "$yours" = 1 ]; then
                refuse "your workload's comparison never goes to results/, which the docs quote (choose another --out)"
            elif [ "$quick" = 1 ]; then
                refuse "--quick never writes to results/ (choose another --out)"
            elif [ "$update_docs" = 0 ]; then
                refuse "results/ is the project's reference run, which the docs quote, and only --update-docs (for maintainers) writes it: leave out --out for target/compare/, or choose another"
            fi ;;
    esac
    if [ "$update_docs" = 1 ] && [ "$out" != "$root/results" ]; then
        refuse "--update-docs writes results/ and the docs, nowhere else: leave out --out"
    fi
    if [ -e "$out" ] && [ ! -d "$out" ]; then
        refuse "$out is not a folder (choose another --out)"
    fi
    if [ -d "$out" ] && [ ! -f "$out/$mark" ] && [ -n "$(ls -A "$out" 2> /dev/null)" ]; then
        refuse "$out has files compare.sh did not write (it has no $mark), and a run replaces its raw/: choose a new or empty folder for --out"
    fi
    return 0
}
# Makes DIR and marks it as the script's, so that a later run may replace what this one writes.
claim_out() {
    mkdir -p "$out" || die "could not make $out"
    if [ ! -f "$out/$mark" ]; then
        printf '%s\n' "scripts/compare.sh writes this folder: each run replaces raw/ and the files it writes here, nothing else; without this file, it would refuse the folder." \
            > "$out/$mark" || die "could not write $out/$mark"
    fi
}
# A full run, or a collation again, goes to target/compare/ (git ignores target/), so that a
# reader's run changes no file git tracks; --update-docs to results/. A quick run's scratch
# folder and your workload's are chosen once they are known, below.
if [ -z "$out" ] && [ "$quick" = 0 ] && [ "$yours" = 0 ]; then
    if [ "$update_docs" = 1 ]; then out="$root/results"; else out="$root/target/compare"; fi
fi
if [ -n "$out" ]; then
    out=$(resolve "$out")
    check_out
fi

# Your workload is tried before anything is written: read by the programs themselves (they
# say what is wrong with a file in one line), then run once, one task at a time, with the
# --timeout the comparison will use, which also finds a task that fails or would time out,
# warms the database's pages into the cache as any first run would, and says whether a task
# writes. Sets user_name (the workload's name), user_tasks and user_writes, and leaves the
# tasks in $checked/workload.json, in the form every program reads.
checked=""
check_your_workload() {
    local from=() db=() limit=() line
    checked=$(mktemp -d "$scratch/compare-check.XXXXXX")
    trap 'rm -rf "$checked"' EXIT
    if [ -n "$user_preset" ]; then from=(--workload "$user_preset"); else from=(--workload-file "$user_workload_file"); fi
    [ -n "$user_db" ] && db=(--db "$user_db")
    [ -n "$timeout" ] && limit=(--timeout "$timeout")
    if ! "$bin/sequential" "${from[@]}" --dump-workload > "$checked/workload.json" 2> "$checked/stderr"; then
        line=$(grep -v '^$' "$checked/stderr" | head -n 1)
        refuse "${line#sequential: error: }"
    fi
    if grep -q '^  "tasks": \[\]$' "$checked/workload.json"; then
        refuse "${user_workload_file:-$user_preset}: the list of tasks is empty: nothing to compare"
    fi
    user_name=$(sed -n 's/^  "workload": "\(.*\)",$/\1/p' "$checked/workload.json" | head -n 1)
    [ -n "$user_name" ] || refuse "${user_workload_file:-$user_preset}: the workload has no name"
    local status=0
    "$bin/sequential" ${db[@]+"${db[@]}"} "${from[@]}" ${limit[@]+"${limit[@]}"} --no-baseline --json \
        > "$checked/trial.json" 2> "$checked/stderr" || status=$?
    case "$status" in
        0) ;;
        1) line=$(first_failed_task "$checked/trial.json")
           refuse "a task does not end ok when run alone, so no method could be compared on it: ${line:-its report says no more}" ;;
        *) line=$(grep -v '^$' "$checked/stderr" | head -n 1)
           refuse "${line#sequential: error: }" ;;
    esac
    user_tasks=$(grep -c '^      "arrival": ' "$checked/trial.json" || true)
    user_writes=0
    if grep -q '^      "writes": true' "$checked/trial.json"; then user_writes=1; fi
    return 0
}
# The first task of a report whose error is a string, as `task "NAME": ERROR`. The report is
# serde_json's pretty JSON, where each task's fields are lines of their own, six spaces in, its
# name before its error; a name is a whole JSON string (it may hold spaces and escaped quotes),
# so it is taken from the line, not split into words, and its \" and \\ are undone.
first_failed_task() {   # REPORT
    awk '
        function value(line) {
            sub(/^      "[a-z_]+": "/, "", line)
            sub(/",?$/, "", line)
            return unescape(line)
        }
        function unescape(s,   out, c, i) {
            out = ""
            for (i = 1; i <= length(s); i++) {
                c = substr(s, i, 1)
                if (c == "\\" && i < length(s)) {
                    i++
                    c = substr(s, i, 1)
                    if (c != "\"" && c != "\\") c = "\\" c
                }
                out = out c
            }
            return out
        }
        /^      "name": "/ { name = value($0) }
        /^      "error": "/ { printf "task \"%s\": %s\n", name, value($0); exit }
    ' "$1"
}

# The docs show the measured figures as blocks that collate writes, each results/NAME.md put
# between two marker lines (<!-- NAME:begin --> and <!-- NAME:end -->) in every doc that has
# them, so that the docs and results/ cannot drift apart. A run that is to update them
# (--update-docs) checks every doc's markers before it builds or measures: a 5-minute run should
# not end in a doc it cannot update.
blocks="compare decide lessons writes writes-lessons mix split questions pitfalls start cost"
# Sets splices to one "NAME DOC" line for each block a doc marks; dies on half a pair, a pair
# out of order, two pairs of one name in one doc, or a name that is no block.
splices=""
find_splices() {
    local doc name block known
    for doc in README.md PITFALLS.md docs/*.md; do
        [ -f "$doc" ] || continue
        for name in $(sed -nE 's/^<!-- ([A-Za-z0-9_-]+):(begin|end) -->$/\1/p' "$doc" | sort -u); do
            known=0
            for block in $blocks; do
                if [ "$block" = "$name" ]; then known=1; fi
            done
            [ "$known" = 1 ] || die "$doc has markers for '$name', and no block is called that (the blocks: $blocks)"
            check_markers "$doc" "$name"
            splices="$splices$name $doc
"
        done
    done
}
check_markers() {   # DOC NAME [why]
    local begin="<!-- $2:begin -->" end="<!-- $2:end -->"
    if ! awk -v begin="$begin" -v end="$end" '
            $0 == begin { begins++ }
            $0 == end { ends++; if (!begins) early = 1 }
            END { exit !(begins == 1 && ends == 1 && !early) }
        ' "$1"; then
        die "$1 needs one '$begin' line and, after it, one '$end' line${3:+; $3}"
    fi
}
# Written to a temporary file beside the doc and renamed over it, so that a doc is never half
# written.
replace_section() {   # DOC NAME FILE
    local tmp begin="<!-- $2:begin -->" end="<!-- $2:end -->"
    [ -s "$3" ] || die "collate wrote no $3"
    check_markers "$1" "$2" "the new text is in $3"
    tmp=$(mktemp "$1.XXXXXX")
    cp -p "$1" "$tmp"   # for the doc's permissions; its text is replaced next
    if ! SECTION="$3" awk -v begin="$begin" -v end="$end" '
            $0 == begin { print; print ""; while ((getline line < ENVIRON["SECTION"]) > 0) print line; print ""; inside = 1; next }
            $0 == end { if (!inside) exit 1; inside = 0 }
            !inside { print }
        ' "$1" > "$tmp"; then
        rm -f "$tmp"
        die "could not put $3 into $1"
    fi
    mv "$tmp" "$1"
}
if [ "$update_docs" = 1 ]; then
    find_splices
fi
# collate reads raw/ and writes the results; with --update-docs (into results/), each block
# then goes into the docs.
# raw/collate-args keeps collate's arguments for this run (one a line), so that --collate-only
# can collate the same reports again as this run did.
collate_and_splice() {
    local line name doc
    "$bin/collate" --raw "$raw" --out "$out" "${collate_args[@]}"
    if [ "$update_docs" = 1 ]; then
        if [ -z "$splices" ]; then
            say "no doc has markers for a block: README.md, PITFALLS.md and docs/ are as they were"
        fi
        while IFS= read -r line; do
            [ -n "$line" ] || continue
            name=${line%% *}
            doc=${line#* }
            replace_section "$doc" "$name" "$out/$name.md"
            say "$doc: the $name block now shows results/$name.md"
        done <<EOF
$splices
EOF
    fi
}

if [ "$collate_only" = 1 ]; then
    raw="$out/raw"
    [ -s "$raw/collate-args" ] || die "$raw/collate-args is missing: --collate-only collates the reports of an earlier run of this script, into the same --out"
    collate_args=()
    while IFS= read -r line; do collate_args+=("$line"); done < "$raw/collate-args"
    if [ "$update_docs" = 1 ] && grep -qx 'quick' "$raw/collate-args"; then
        die "$raw is from a quick run, which never goes into results/ or the docs"
    fi
    say "collating $raw again (no measurement)"
    cargo build --release -p collate --quiet
    collate_and_splice
    say "open $out/index.html: the table, the decision, the chart and the timelines on one page"
    exit 0
fi

# Every program is built once, before anything runs, and the first line says so: a first build
# takes minutes, which should neither pass in silence nor count as the comparison's time (the
# closing line gives the two apart).
say "building every program in release (once)…"
build_started=$SECONDS
cargo build --release --workspace --quiet || die "the build failed (cargo's messages are above)"
build_took=$((SECONDS - build_started))

if [ "$yours" = 1 ]; then
    check_your_workload
fi
if [ -z "$out" ]; then
    if [ "$yours" = 1 ]; then
        out="$scratch/compare-$(printf '%s' "$user_name" | tr -c 'A-Za-z0-9._-' '_')"
    else
        out=$(mktemp -d "$scratch/compare-quick.XXXXXX")
    fi
    out=$(resolve "$out")
    check_out
fi
claim_out
raw="$out/raw"
if [ "$update_docs" = 1 ]; then
    say "results go to $out, and their blocks into the docs"
elif [ "$quick" = 0 ] && [ "$yours" = 0 ]; then
    say "results go to $out (the committed results/ and the docs keep the project's reference run)"
else
    say "results go to $out"
fi

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
# guide.py's methods only read, as the guide's examples do: it opens the database read-only.
if [ "$yours" = 1 ] && [ "$user_writes" = 1 ] && [ -n "$python" ]; then
    python=""
    python_left_out="the workload has tasks that write, and the Python guide's methods only read (guide.py opens the database read-only)"
    say "compare.sh: $python_left_out: the Python rows are left out"
fi

# DIR is the script's (check_out), so its raw/ is too: the reports of the run before go.
rm -rf "$raw"
mkdir -p "$raw/writes" "$raw/faults" "$raw/mix" "$raw/split/held" "$raw/questions" "$raw/connections" "$raw/start"
# The machine is recorded now, beside the reports, so that collating them again later (or on
# another host) names the machine that measured them.
"$bin/collate" --raw "$raw" --out "$out" --record-machine || die "could not record the machine in $raw"
workloads="$raw/workloads"
mkdir -p "$workloads"
if [ "$yours" = 1 ]; then
    cp "$checked/workload.json" "$workloads/yours.json"
else

# guide.py takes its tasks from a file, never from a preset of its own, so that the SQL lives in
# one place (shared): each preset is dumped once, here, beside the raw reports. fetch digests
# every value 230 times in the program, which takes the Rust programs a fraction of a second and
# Python minutes; its Python file says 1 round (compare.md says so too). collate reads the
# rounds back from this folder. io and writes are dumped whatever the languages, for the
# reads-during-writes workload made from them below.
dumped="io writes"
[ -n "$python" ] && dumped="$dumped cpu fetch overhead scale"
for preset in $dumped; do
    "$bin/sequential" --workload "$preset" --dump-workload > "$workloads/$preset.json" \
        || die "could not dump the $preset workload"
done
if [ -n "$python" ]; then
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

# Reads during writes: the io workload's 8 tasks, then the writes preset's 2,000 inserts, in one
# file, so that a pool of 16 workers starts the 8 reads and, beside them, 8 workers writing;
# 2,000 writes outlast the reads' 300 ms of waiting (collate says whether each read overlapped a
# write). The two dumps are joined without a JSON tool, which this script cannot count on: they
# are --dump-workload's pretty JSON, whose tasks sit between a `  "tasks": [` line and a `  ]`
# line, one object after another. The program that reads the file checks it before anything is
# measured.
awk '
    BEGIN { print "{"; print "  \"workload\": \"reads-during-writes\","; print "  \"tasks\": [" }
    $0 == "  \"tasks\": [" { inside = 1; next }
    inside && $0 == "  ]" { inside = 0; if (FILENAME == ARGV[1]) held = held ","; next }
    inside { if (held != "") print held; held = $0 }
    END { print held; print "  ]"; print "}" }
' "$workloads/io.json" "$workloads/writes.json" > "$workloads/reads-during-writes.json"
"$bin/sequential" --workload-file "$workloads/reads-during-writes.json" --dump-workload > /dev/null \
    || die "could not join the io and writes workloads into $workloads/reads-during-writes.json"
# The connection sweep's SQL that computes: the cpu queries over one quarter (the mixed preset's
# queries) without their waits, so that 16 of them at a time take a second, not ten.
"$bin/sequential" --workload mixed --dump-workload \
    | sed -e 's/"latency_ms": [0-9]*/"latency_ms": 0/' -e 's/"workload": "mixed"/"workload": "cpu-quarter"/' \
    > "$workloads/cpu-quarter.json" \
    && "$bin/sequential" --workload-file "$workloads/cpu-quarter.json" --dump-workload > /dev/null \
    || die "could not make the cpu-quarter workload in $workloads/cpu-quarter.json"
fi

# How to start a program: every row of the table is a program that takes the common flags and
# prints its report with --json. `python-<method>` is the guide's method run by guide.py, which
# takes the same flags except that a workload comes from its file (--workload-file). In a
# measurement's flags, `--workload-file NAME` names a file in raw/workloads, since the flags are
# words without spaces and DIR may have some. --timeout, when given, reaches every program,
# except a measurement that sets its own (a fault injected to hang times out at 1 s, and the
# programs refuse a flag given twice).
launch() {
    local program=$1 words own_timeout=0
    shift
    words=()
    while [ $# -gt 0 ]; do
        if [ "$1" = --timeout ]; then own_timeout=1; fi
        case "$program $1" in
            "python-"*" --workload"|*" --workload-file") words+=(--workload-file "$workloads/$2.json"); shift 2 ;;
            *) words+=("$1"); shift ;;
        esac
    done
    if [ -n "$timeout" ] && [ "$own_timeout" = 0 ]; then words+=(--timeout "$timeout"); fi
    # Your database, for every program alike (a path, which may have spaces, is never a word of
    # a measurement's flags).
    if [ -n "$user_db" ]; then words+=(--db "$user_db"); fi
    case "$program" in
        sequential|*_executor) "$bin/$program" ${words[@]+"${words[@]}"} ;;
        python-*) "$python" scripts/python/guide.py --method "${program#python-}" ${words[@]+"${words[@]}"} ;;
        *) die "no way to run '$program'" ;;
    esac
}

# A measurement as it is run, for progress and error lines (a workload file relative to DIR).
describe() {   # PROGRAM FLAGS
    case "$1" in
        python-*)
            echo "scripts/python/guide.py --method ${1#python-} $2" \
                | sed 's|--workload \([a-z]*\)|--workload-file \1|' ;;
        *) echo "$1 $2" ;;
    esac | sed 's|--workload-file \([a-z-]*\)|--workload-file raw/workloads/\1.json|'
}

# What "best setting" means for each method on the io workload: a pool does best with one
# worker per task (8); async with no limit at all. The same for both languages.
best_setting() {
    case "$1" in
        async_executor|python-asyncio) echo "" ;;
        *) echo "--workers 8" ;;
    esac
}

# Python's fetch task, even at 1 round of digest per value, takes longer than Rust's at 230, so
# its fetch runs the first 2 tasks (of the same length) on its 2 workers: what 4 teach (2x
# when the work runs in parallel, 1x when it does not), in half the time. Its cpu runs 2 tasks
# for the same reason: the same queries, as long in SQLite as in Rust, on 2 workers, which
# Python's five rows would otherwise spend about 20 s more of a full run on.
fetch_tasks() {   # PROGRAM
    case "$1:$quick" in
        python-*:0) echo "--tasks 2" ;;
        *) echo "$heavy" ;;
    esac
}
cpu_tasks() {   # PROGRAM
    fetch_tasks "$1"
}
# A task's cost is its run's wall time over its tasks, and Python's is many times Rust's
# (compare.md gives both): 2,000 of its tasks measure it as well as 10,000, in a fifth of the
# time.
overhead_tasks() {   # PROGRAM
    case "$1" in
        python-*) echo "--tasks 2000" ;;
        *) echo "" ;;
    esac
}

# 1,000 concurrent waits: one worker per wait for the pools, no limit for async. Python's
# multiprocessing would start 1,000 interpreters' worth of processes for that (seconds, and
# GBs); 100 waits on 100 processes show what each costs as well, and compare.md says so.
thousand_waits() {
    case "$1" in
        async_executor|python-asyncio) echo "" ;;
        python-multiprocessing) echo "--tasks 100 --workers 100" ;;
        *) echo "--workers 1000" ;;
    esac
}

# How long the full run takes is chosen here. cpu and fetch run the first 4 of their 8 tasks:
# four tasks of about the same length on 2 workers teach what 8 do (2 workers reach 2x when
# the work runs in parallel, 1x when it does not) in half the time. The sweep's points are
# where its curve bends: one worker, a few, many, and past where each method falls off. The
# app mix runs the first 500 of its 1,000 tasks (450 reads, 50 writes: the same pattern of 20
# over again) on 16 workers, where writers contend most (the split sweep is its other side:
# the share of writes, on the same 16), and each fault injected for PITFALLS.md runs in the first round alone: what it
# shows is which tasks fail and that the others are kept, not a time to take a median of. The
# split sweep trades rounds for points (see add_split and split_tasks).
# A quick run is a check that CI runs, not a measurement: a quarter of the cpu and fetch tasks,
# a short sweep, and a tenth of the writes on 16 workers only (where the writers contend most);
# the split sweep at three shares of 60 requests, and one held transaction.
if [ "$quick" = 1 ]; then
    sweep="1 8 64"
    heavy="--tasks 2"
    write_workers="16"
    write_tasks="--tasks 200"
    mix_workers="16"
    mix_tasks="--tasks 300"
    sweep_connections="1 4 16"
    start_workers="4"
    split_shares="0 50 100"
    held_methods="threadpool_executor"
    held_writers="shared"
else
    sweep="1 8 64 256 1000"
    heavy="--tasks 4"
    write_workers="4 16"
    write_tasks=""
    mix_workers="16"
    mix_tasks="--tasks 500"
    sweep_connections="1 2 4 8 16"
    start_workers="4 100"
    split_shares="0 10 25 50 100"
    held_methods="threadpool_executor async_executor multiprocessing_executor threading_executor"
    held_writers="shared single lock"
fi
# The split sweep's requests a round at each share of writes. A p99 read from fewer than 500
# latencies is one of the few slowest, so collate reads each p99 from every round's writes
# pooled, and each round runs a third of 500: 700 requests at 25% (175 writes), 340 at 50% and
# 170 at 100% (170 each), 510 to 525 writes over three rounds. 0% writes nothing and runs 500,
# as the mix does, whose runs are the sweep's 10% (50 writes a round: 150 are too few for a
# p99, and collate gives their max, and says so).
split_tasks() {   # SHARE
    if [ "$quick" = 1 ]; then echo "--tasks 60"; return; fi
    case "$1" in
        25) echo "--tasks 700" ;;
        50) echo "--tasks 340" ;;
        100) echo "--tasks 170" ;;
        *) echo "$mix_tasks" ;;
    esac
}

# The writes table's columns: how the workers share SQLite's one write lock. The defaults
# (shared, a 5 s busy timeout, BEGIN IMMEDIATE) first, then one change to them each. collate
# labels and orders the columns from the settings the reports give, not from these names.
write_settings="defaults busy0 deferred single"
write_flags() {   # SETTING
    case "$1" in
        defaults) echo "" ;;
        busy0) echo "--busy-timeout 0" ;;
        deferred) echo "--begin deferred" ;;
        single) echo "--writer single" ;;
    esac
}

# Every measurement: a label, the program, and its flags (words without spaces, split on run).
plan=()
add() { plan+=("$*"); }

# The rows of the table, in its order: the baseline, then each method's measurements. The
# baseline's io, cpu and fetch runs are also what every method of the same language is measured
# against in that round: the methods run with --no-baseline, and collate divides the round's
# baseline time by theirs and takes the ideal from the baseline's task durations (see
# scripts/collate/src/baseline.rs), instead of each program repeating the baseline in its own
# process, which took half of the whole run.
add_baseline() {   # PROGRAM
    add "${1}__io $1 --workload io"
    add "${1}__cpu $1 --workload cpu $(cpu_tasks "$1")"
    add "${1}__fetch $1 --workload fetch $(fetch_tasks "$1")"
    add "${1}__overhead $1 --workload overhead --no-baseline $(overhead_tasks "$1")"
}
add_method() {   # PROGRAM
    local m=$1
    add "${m}__io4 $m --workload io --workers 4 --no-baseline"
    add "${m}__iobest $m --workload io --no-baseline $(best_setting "$m")"
    add "${m}__cpu2 $m --workload cpu --workers 2 --no-baseline $(cpu_tasks "$m")"
    add "${m}__fetch2 $m --workload fetch --workers 2 --no-baseline $(fetch_tasks "$m")"
    add "${m}__overhead $m --workload overhead --no-baseline $(overhead_tasks "$m")"
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
# Writes: every setting with each count of writers. Their reports go to raw/writes, apart from
# the others, because failed writes are the measurement here (a busy timeout of 0 fails writes by
# design), not a broken run: collate counts them instead of refusing the report. Without a
# baseline, which would only repeat the sequential row.
add_writes() {   # PROGRAM
    local w s
    for w in $write_workers; do
        for s in $write_settings; do
            add "writes/${1}__$s-$w $1 --workload writes $write_tasks --workers $w --no-baseline $(write_flags "$s")"
        done
    done
}
# An application's mix: the app preset's reads and write transactions at once, every method at
# each count of workers, each worker writing on its own connection and one writer for all.
# Their reports go to raw/mix: a failed write (exit 1) is counted there, as in the writes
# table, not refused.
add_mix() {
    local m w s
    for m in threadpool_executor async_executor multiprocessing_executor threading_executor; do
        for w in $mix_workers; do
            for s in shared single; do
                add "mix/${m}__$s-$w $m --workload app $mix_tasks --workers $w --writer $s --no-baseline"
            done
        done
    done
}
# The write split swept (docs/mix.md's split block): the app mix on 16 workers with 0, 10, 25,
# 50 and 100% of its requests writing, under each way of writing: each worker on its own
# connection (shared), one writer for all (single), and each worker on its own connection after
# taking one lock of the program's (lock); every method. A p99 needs 500 writes, which every
# point in every round would take minutes to give, so the rounds are traded for points: each
# round runs a third of them (split_tasks), collate reads each latency from the rounds' writes
# pooled, and requests/s is the median of the rounds with their range. At 10%, each worker and
# one writer are the mix's own 16-worker runs (add_mix), so only the lock is added, on the mix's
# tasks (10% is the app preset's own share: --write-share 10 changes none of them). 0% writes
# nothing: the programs refuse a writer flag there, so it runs once a round, with none, and
# stands for every writer. Then a write transaction that waits inside itself (--hold-ms 5, as
# code that awaits something else inside one): 100 requests at 50%, with and without, under each
# writer, in the first round only, as the faults: the 50 waits follow one another under the
# write lock, 250 ms at the least, beside a run of a few hundred ms without. Their reports go to
# raw/split (the held pairs to raw/split/held): a failed write (exit 1) is counted there, as in
# the mix.
add_split() {
    local m s w
    for m in threadpool_executor async_executor multiprocessing_executor threading_executor; do
        for s in $split_shares; do
            if [ "$s" = 0 ]; then
                add "split/${m}__none-0 $m --workload app --write-share 0 $(split_tasks 0) --workers 16 --no-baseline"
                continue
            fi
            for w in shared single lock; do
                if [ "$s" = 10 ] && [ "$w" != lock ]; then continue; fi   # the mix's own runs
                add "split/${m}__$w-$s $m --workload app --write-share $s $(split_tasks "$s") --workers 16 --writer $w --no-baseline"
            done
        done
    done
    for m in $held_methods; do
        for w in $held_writers; do
            add "split/held/${m}__$w-hold0 $m --workload app --write-share 50 --tasks 100 --workers 16 --writer $w --no-baseline"
            add "split/held/${m}__$w-hold5 $m --workload app --write-share 50 --tasks 100 --workers 16 --writer $w --hold-ms 5 --no-baseline"
        done
    done
}
# The questions Rust users ask most (docs/questions.md). Where should async run its SQL: on a
# few connections with a thread each (tokio-rusqlite, the default), or on tokio's blocking
# threads with a connection lent from a pool (spawn_blocking, as deadpool-sqlite does)? Both
# on the same tasks, side by side, without a baseline: their wall times, per-task cost, threads
# and memory are compared with each other. The first is async's own rows in the table (io at
# its best, cpu and fetch on 2 workers, overhead, scale), so only the second is measured here. And how many connections: the thread pool and async
# at 16 workers with 1 to 16 connections, on SQL that computes (the cpu queries over one
# quarter, no wait: a cpu task is then a tenth of a second, not most of one), SQL that waits
# (io) and the app mix. Their reports go to raw/questions and raw/connections.
add_questions() {
    local s c m
    s=spawn-blocking
    add "questions/async_executor__$s-io async_executor --workload io --sql-on $s --no-baseline"
    add "questions/async_executor__$s-cpu async_executor --workload cpu --workers 2 $heavy --sql-on $s --no-baseline"
    add "questions/async_executor__$s-fetch async_executor --workload fetch --workers 2 $heavy --sql-on $s --no-baseline"
    add "questions/async_executor__$s-overhead async_executor --workload overhead --sql-on $s --no-baseline"
    add "questions/async_executor__$s-scale async_executor --workload scale --sql-on $s --no-baseline"
    for c in $sweep_connections; do
        for m in threadpool_executor async_executor; do
            add "connections/${m}__cpu-quarter-$c $m --workload-file cpu-quarter --tasks 16 --workers 16 --connections $c --no-baseline"
            add "connections/${m}__io-$c $m --workload io --tasks 16 --workers 16 --connections $c --no-baseline"
            add "connections/${m}__app-$c $m --workload app $mix_tasks --workers 16 --connections $c --no-baseline"
        done
    done
}
# Start methods: how soon a pool of worker processes is ready when each worker is forked,
# spawned (the program run again) or forked by a fork server, in Rust and, with --start, in
# Python, on the io tasks, one per worker: 4 workers, and for Rust 100 too (not in a quick run).
# Python's 100 would take 10 to 20 s a run under spawn or forkserver on two cores, each worker
# importing or re-running guide.py, which the pool of 4's figure per worker already shows. Their
# reports go to raw/start, for collate's start.md.
add_start() {
    local how w
    for how in fork spawn forkserver; do
        for w in $start_workers; do
            add "start/multiprocessing_executor__$how-$w multiprocessing_executor --workload io --tasks $w --workers $w --start $how --no-baseline"
            if [ -n "$python" ] && [ "$w" = 4 ]; then
                add "start/python-multiprocessing__$how-$w python-multiprocessing --workload io --tasks $w --workers $w --start $how --no-baseline"
            fi
        done
    done
}
# Your workload: the baseline, then every method at each worker count that matters for it: 1, 2,
# 4 and 8, then doubling (up to 256) while the count before is below the number of tasks, since
# more workers than tasks cannot help. Python's processes stop at 64: each is an interpreter of
# its own, seconds and GBs by the hundred. Each round's methods are measured against that
# round's baseline, as in the guide's comparison (see add_baseline).
your_counts=""
plan_your_workload() {
    local m w
    w=1
    while [ "$w" -le 256 ]; do
        if [ "$w" -gt 8 ] && [ $((w / 2)) -ge "$user_tasks" ]; then break; fi
        your_counts="$your_counts $w"
        w=$((w * 2))
    done
    add "sequential__baseline sequential --workload-file yours"
    for m in threadpool_executor async_executor multiprocessing_executor threading_executor; do
        for w in $your_counts; do
            add "${m}__w$w $m --workload-file yours --workers $w --no-baseline"
        done
    done
    [ -n "$python" ] || return 0
    add "python-sequential__baseline python-sequential --workload yours"
    for m in python-threadpool python-asyncio python-multiprocessing python-threading; do
        for w in $your_counts; do
            if [ "$m" = python-multiprocessing ] && [ "$w" -gt 64 ]; then continue; fi
            add "${m}__w$w $m --workload yours --workers $w --no-baseline"
        done
    done
}
if [ "$yours" = 1 ]; then
    plan_your_workload
else
    add_baseline sequential
    for m in threadpool_executor async_executor multiprocessing_executor threading_executor; do
        add_method "$m"
        add_sweep "$m"
    done
    # One connection writing alone, with the defaults: the reference the writes table starts from.
    add "writes/sequential__defaults-1 sequential --workload writes $write_tasks --no-baseline"
    for m in threadpool_executor async_executor multiprocessing_executor threading_executor; do
        add_writes "$m"
    done
    # Reads during writes: the io tasks' SQL time, in WAL, with 8 workers writing beside them and
    # without. One method is enough, since WAL, not the method, decides whether readers wait; the
    # hand-written threads take their tasks in order, so the 8 reads are the first to start.
    add "writes/threading_executor__reads-alone threading_executor --workload io --workers 16 --no-baseline"
    add "writes/threading_executor__reads-during-writes threading_executor --workload-file reads-during-writes --workers 16 --no-baseline"
    # What a sync per commit costs: the shared writers and the single writer again at 16 workers,
    # with `--synchronous normal`, where a WAL commit skips its sync. One method is enough here too:
    # the sync is SQLite's, whoever commits.
    add "writes/threading_executor__normal-16 threading_executor --workload writes $write_tasks --workers 16 --no-baseline --synchronous normal"
    add "writes/threading_executor__normal-single-16 threading_executor --workload writes $write_tasks --workers 16 --no-baseline --synchronous normal --writer single"
    add_mix
    add_split
    add_questions
    # Faults, injected on purpose, for PITFALLS.md: what each program reports when a task errs,
    # panics, hangs or crashes, and that the other tasks are kept. Their reports go to raw/faults,
    # apart from the others, since a failed task is what they show (they exit 1 by design). Each
    # takes a second or two.
    add_faults() {
        add "faults/threadpool_executor__error threadpool_executor --workload io --inject error@1 --no-baseline"
        add "faults/threadpool_executor__panic threadpool_executor --workload io --inject panic@2 --no-baseline"
        add "faults/async_executor__all async_executor --workload io --timeout 1 --inject error@1 --inject panic@2 --inject hang@3 --no-baseline"
        add "faults/multiprocessing_executor__crash multiprocessing_executor --workload io --inject crash@3 --no-baseline"
        add "faults/multiprocessing_executor__hang multiprocessing_executor --workload io --timeout 1 --inject hang@3 --no-baseline"
        add "faults/multiprocessing_executor__writes-crash multiprocessing_executor --workload writes $write_tasks --inject crash@5 --no-baseline"
        add "faults/threading_executor__all threading_executor --workload io --timeout 1 --inject error@1 --inject panic@2 --inject hang@3 --no-baseline"
    }
    add_faults
    add_start
    # The guide's frozen event loop: the io workload with blocking calls on the loop, and its
    # speedup over the baseline, beside async's own io rows.
    add "async_executor__blocking async_executor --workload io --blocking --no-baseline"
    # Python's baseline is its own sequential run, so each language's speedups divide by its own.
    if [ -n "$python" ]; then
        add_baseline python-sequential
        for m in python-threadpool python-asyncio python-multiprocessing python-threading; do
            add_method "$m"
        done
    fi
fi

# About how long is left, for the progress lines: in the first round, the time so far per
# measurement times those left; after it, what the first round took from this point on, and
# whole rounds after this one. (Whole seconds: bash 3.2 has no finer clock.)
first_round_at=()   # when each measurement of the first round started, from the round's start
first_round_took=0
time_left() {   # RUN INDEX
    local run=$1 i=$2 elapsed=$((SECONDS - started)) left
    if [ "$run" = 1 ]; then
        [ "$done_count" -gt 0 ] && [ "$elapsed" -gt 0 ] || return 0
        left=$((elapsed * (total - done_count) / done_count))
    else
        left=$((first_round_took - ${first_round_at[$i]} + first_round_took * (runs - run)))
    fi
    if [ "$left" -ge 60 ]; then
        echo ", about $((left / 60)) min $((left % 60)) s left"
    else
        echo ", about $left s left"
    fi
}

# A fault injected on purpose, and a held transaction, run in the first round only (see above).
first_round_only() {   # LABEL
    case "$1" in faults/*|split/held/*) return 0 ;; *) return 1 ;; esac
}
once=0
for entry in "${plan[@]}"; do
    if first_round_only "$entry"; then once=$((once + 1)); fi
done
total=$(( (${#plan[@]} - once) * runs + once ))
done_count=0
started=$SECONDS
# The fixture is built (once, the first time) before anything is timed. (Your workload's
# database was opened, and its tasks run once, by its check.)
if [ "$yours" = 0 ]; then launch sequential --tasks 0 --no-baseline --json > /dev/null; fi
for run in $(seq 1 "$runs"); do
    round_started=$SECONDS
    index=0
    for entry in "${plan[@]}"; do
        read -r label program flags <<< "$entry"
        if [ "$run" != 1 ] && first_round_only "$label"; then
            index=$((index + 1))
            continue
        fi
        # The flags are split into words on purpose; none of them is a path.
        # shellcheck disable=SC2206
        args=($flags)
        if [ "$run" = 1 ]; then first_round_at[index]=$((SECONDS - round_started)); fi
        left=$(time_left "$run" "$index")
        index=$((index + 1))
        done_count=$((done_count + 1))
        say "[$done_count/$total, $((SECONDS - started)) s$left] run $run of $runs: $(describe "$program" "$flags")"
        report="$raw/${label}__r$run.json"
        errors="$raw/${label}__r$run.stderr"
        # Exit 1 means a task failed or timed out: the report is complete but the run is not
        # a fair measurement, so it is as much a failure here as a crash, except for a writes,
        # mix or split measurement, whose failed writes collate counts (see add_writes), and a
        # fault injected on purpose (see add_faults). Exit 2 (the run
        # could not be made) or a crash is a failure whatever was measured. (`${args[@]+...}`:
        # an empty array is an unbound variable to bash 3.2 under `set -u`.)
        status=0
        launch "$program" ${args[@]+"${args[@]}"} --json > "$report" 2> "$errors" || status=$?
        if [ "$status" != 0 ] && [ "$status:${label%%/*}" != 1:writes ] \
                && [ "$status:${label%%/*}" != 1:faults ] && [ "$status:${label%%/*}" != 1:mix ] \
                && [ "$status:${label%%/*}" != 1:split ] && [ "$status:${label%%/*}" != 1:connections ]; then
            say "compare.sh: '$(describe "$program" "$flags") --json' exited $status; its stderr:"
            cat "$errors" >&2
            exit 1
        fi
    done
    if [ "$run" = 1 ]; then first_round_took=$((SECONDS - round_started)); fi
done
say "ran $total measurements in $((SECONDS - started)) s; collating"

# The reference run also times one task under each method against the bare mechanism it is
# built on, and piece by piece (bench/, docs/benchmarks.md): each lesson quotes its figure
# (results/cost-*.md). Only here: a benchmark build is another minute, which a reader's run has
# no use for. collate reads divan's tables from bench.txt (scripts/collate/src/cost.rs).
if [ "$update_docs" = 1 ]; then
    say "timing a task under each method against its bare mechanism (cargo bench -p bench)…"
    cargo bench -p bench --quiet > "$raw/bench.txt" \
        || die "cargo bench -p bench failed (cargo's messages are above)"
fi

mode=full
[ "$quick" = 1 ] && mode=quick
if [ -n "$python" ]; then
    python_flag=(--python)
else
    python_flag=("--python-left-out=$python_left_out")
fi
collate_args=(--runs "$runs" --mode "$mode" --command "$command" "${python_flag[@]}")
if [ "$yours" = 1 ]; then collate_args+=(--own-workload); fi
printf '%s\n' "${collate_args[@]}" > "$raw/collate-args"
collate_and_splice
if [ "$yours" = 1 ]; then
    say "done in $((SECONDS - started)) s (the build took $build_took s before): $out/compare.md, compare.json, compare.svg, decide.md, timelines.svg (raw reports in $out/raw)"
else
    say "done in $((SECONDS - started)) s (the build took $build_took s before): $out/compare.md, compare.json, compare.svg, decide.md, lessons.md, timelines.svg, writes.md, writes-lessons.md, mix.md, split.md, split.svg, questions.md, pitfalls.md, start.md (raw reports in $out/raw)"
fi
say "open $out/index.html: the table, the decision, the chart and the timelines on one page"
