#!/bin/sh
# bench/cache_bench.sh: how much the cache saves (bench/README.md has the
# results).  One workspace of N independent tasks, each copying one input
# file to one output file (`argv = cp in/K.txt out/K.txt`, no shell; see
# bench/gen_cache_graph.c), run by hazrun four times:
#
#   cold       empty cache, no outputs: every task runs cp and is stored;
#   warm       the outputs deleted, the cache full: every task is a hit
#              whose output is restored from the cache;
#   no-change  outputs present and unchanged: every task is a hit whose
#              output is found already in place;
#   again      the same once more (the steady state).
#
# Each run starts after a sync(1), so that the write-back of what the one
# before left dirty is not counted against it.  For each run it prints the
# wall-clock seconds, the time per task in microseconds, the CPU seconds
# (user + system, hazrun and its children), and hazrun's own count of
# tasks succeeded and restored; then the ratio cold/warm.
# After every run the outputs are compared with the inputs byte for byte
# (diff -r), and the cache is checked with `hazrun cache verify`.
#
# usage: cache_bench.sh [BUILDDIR]
#
# BUILDDIR is a configured build tree (default $HAZ_BUILDDIR, else the
# current directory); the script uses its examples/hazrun and
# bench/gen_cache_graph, building the latter with make when it is
# missing.  So from a build directory:
#
#     make && make bench-cache          (or: $srcdir/bench/cache_bench.sh)
#
# Environment (defaults in brackets):
#     BENCH_TASKS   [10000]  number of tasks
#     BENCH_BYTES   [1024]   size of each input file
#     BENCH_JOBS    []       hazrun -j (default: one per CPU)
#     BENCH_TMP     [$TMPDIR or /tmp]  where the workspace is made
#     BENCH_KEEP    []       non-empty: keep the workspace
# Exit status: 0, 1 when a run failed or gave wrong outputs, 2 on a usage
# or setup error.

set -eu

builddir=${1:-${HAZ_BUILDDIR:-.}}
tasks=${BENCH_TASKS:-10000}
bytes=${BENCH_BYTES:-1024}
jobs=${BENCH_JOBS:-}
tmproot=${BENCH_TMP:-${TMPDIR:-/tmp}}

hazrun=$builddir/examples/hazrun
gen=$builddir/bench/gen_cache_graph
if [ ! -x "$hazrun" ]; then
    echo "cache_bench.sh: $hazrun is not built (run make in $builddir)" >&2
    exit 2
fi
if [ ! -x "$gen" ]; then
    (cd "$builddir" && make bench/gen_cache_graph) >/dev/null || {
        echo "cache_bench.sh: cannot build $gen" >&2
        exit 2
    }
fi
# Run the real program, not libtool's wrapper script, when there is one:
# the wrapper costs a shell per run, and it may change the environment
# (PATH is part of every key).
if [ -x "$builddir/examples/.libs/hazrun" ] &&
   [ -d "$builddir/.libs" ]; then
    hazrun=$builddir/examples/.libs/hazrun
    LD_LIBRARY_PATH=$builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    DYLD_LIBRARY_PATH=$builddir/.libs${DYLD_LIBRARY_PATH:+:$DYLD_LIBRARY_PATH}
    export LD_LIBRARY_PATH DYLD_LIBRARY_PATH
fi

work=$(mktemp -d "$tmproot/cache-bench.XXXXXX") || exit 2
ws=$work/ws
if [ -z "${BENCH_KEEP:-}" ]; then
    trap 'rm -rf "$work"' 0
else
    echo "workspace kept in $ws"
fi
trap 'exit 2' 1 2 15

"$gen" gen "$ws" "$tasks" "$bytes" || exit 2
# The input-hash record trusts a file only when it was written in an
# earlier second than the run that hashed it began (docs/cache-format.md):
# like sources edited before a build, the inputs are made a second early.
sleep 1

set -- -C "$ws"
[ -n "$jobs" ] && set -- "$@" -j "$jobs"

status=0
cold=

# check NAME: every output equals its input; the cache verifies.
check() {
    if ! diff -r "$ws/in" "$ws/out" >"$work/diff.log" 2>&1; then
        echo "cache_bench.sh: $1: out/ differs from in/:" >&2
        head -n 5 "$work/diff.log" >&2
        status=1
    fi
    if ! "$hazrun" -C "$ws" cache verify >"$work/verify.log" 2>&1; then
        echo "cache_bench.sh: $1: cache verify failed:" >&2
        cat "$work/verify.log" >&2
        status=1
    fi
}

# run NAME: time one hazrun, print its row.
run() {
    name=$1
    shift
    # Write back what the previous step left dirty, so that each run pays
    # for its own I/O only.
    sync
    line=$("$gen" time -o "$work/$name.log" "$hazrun" "$@") || exit 2
    set -- $line
    secs=$1
    code=$2
    cpu=$3
    summary=$(grep succeeded "$work/$name.log" | tail -n 1)
    if [ "$code" != 0 ]; then
        echo "cache_bench.sh: $name: hazrun exited $code:" >&2
        cat "$work/$name.log" >&2
        status=1
    fi
    awk -v name="$name" -v s="$secs" -v c="$cpu" -v n="$tasks" \
        'BEGIN { printf "%-10s %9.3f s %9.1f us/task %9.3f s cpu\n", name,
                 s, s * 1e6 / n, c }'
    echo "           $summary"
    check "$name"
}

echo "cache_bench: $tasks tasks, inputs of $bytes bytes, hazrun $*"
run cold "$@"
cold=$secs
rm -rf "$ws/out"
run warm "$@"
warm=$secs
run no-change "$@"
run again "$@"
awk -v c="$cold" -v w="$warm" \
    'BEGIN { printf "cold/warm  %.1fx\n", (w > 0 ? c / w : 0) }'
exit "$status"
