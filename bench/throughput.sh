#!/bin/sh
# bench/throughput.sh: tasks per second of hazrun against ninja and GNU make
# on the same graphs (bench/gen_graph.c writes each graph as a hazfile, a
# build.ninja and a Makefile; bench/README.md has the results).
#
# usage: throughput.sh [BUILDDIR]
#
# BUILDDIR is a configured build tree (default $HAZ_BUILDDIR, else the
# current directory); the script uses its examples/hazrun, bench/gen_graph
# and bench/stopwatch, building them first with make when one is missing.
# So from a build directory:
#
#     make bench && $srcdir/bench/throughput.sh
#
# For every row (shape, command, N, -j) it generates the graph once, then
# runs, one after the other:
#     hazrun -C DIR -j J --no-cache            (live output, the default)
#     ninja -C DIR -j J --quiet
#     make -C DIR -s -r -j J --no-print-directory
# each with stdout to /dev/null and stderr to a log, timed by
# bench/stopwatch, and prints N / seconds for each tool and the ratios
# hazrun/ninja and hazrun/make (above 1.0: hazrun is faster).  Every tool
# runs exactly N commands (see bench/gen_graph.c).  With BENCH_REPS > 1
# each row is run that many times, the tools interleaved, and the best
# time of each tool is kept.  The load average (/proc/loadavg, where there
# is one) is printed before the first row and after the last.
#
# What runs is chosen by the environment (defaults in brackets):
#     BENCH_SHAPES   [flat chain tree random]
#     BENCH_CMDS     [true sleep seq]  true: `true`; sleep: `sleep 0.01`;
#                    seq: `seq 100` (100 lines of output per task)
#     BENCH_SIZES    [1000 10000]
#     BENCH_JOBS     [2 8]
#     BENCH_REPS     [1]
#     BENCH_SEED     [1]   for the random shape
#     BENCH_BASELINE [none] the path of another hazrun (say, one built
#                    from an older commit): it runs too, and two more
#                    columns show its rate and hazrun/baseline
# A missing ninja or GNU make is reported at the start and its columns show
# "-".  A tool that fails a row shows "FAIL" and its log is printed.
# Exit status: 0, 1 when a run failed, 2 on a usage or setup error.

set -eu

me=throughput.sh
builddir=${1:-${HAZ_BUILDDIR:-.}}
shapes=${BENCH_SHAPES:-flat chain tree random}
cmds=${BENCH_CMDS:-true sleep seq}
sizes=${BENCH_SIZES:-1000 10000}
jobs=${BENCH_JOBS:-2 8}
reps=${BENCH_REPS:-1}
seed=${BENCH_SEED:-1}
baseline=${BENCH_BASELINE:-}

die() {
    echo "$me: $*" >&2
    exit 2
}

if [ $# -gt 1 ]; then
    die "usage: $me [BUILDDIR]"
fi

# A make running this script must not hand its jobserver or flags down to
# the make being measured.
unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS MAKEOVERRIDES || :

# --- the programs ---------------------------------------------------------------
hazrun=$builddir/examples/hazrun
gen=$builddir/bench/gen_graph
stopwatch=$builddir/bench/stopwatch
for p in "$hazrun" "$gen" "$stopwatch"; do
    if [ ! -x "$p" ]; then
        [ -f "$builddir/Makefile" ] ||
            die "$p is missing and $builddir has no Makefile"
        (cd "$builddir" && make examples/hazrun bench/gen_graph \
            bench/stopwatch) >&2 || die "cannot build $p"
        break
    fi
done
for p in "$hazrun" "$gen" "$stopwatch" $baseline; do
    [ -x "$p" ] || die "$p is missing"
done
# In a libtool build examples/hazrun is a wrapper script that costs ~20 ms
# of shell start-up per run; run the real program it wraps instead.
if [ -x "$builddir/examples/.libs/hazrun" ] && [ -d "$builddir/.libs" ] &&
    sed -n '1{p;q;}' "$hazrun" 2>/dev/null | grep -q '^#!'; then
    hazrun=$builddir/examples/.libs/hazrun
    LD_LIBRARY_PATH=$(cd "$builddir/.libs" && pwd)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
fi

have_ninja=1
have_make=1
if ! command -v ninja >/dev/null 2>&1; then
    echo "$me: ninja is MISSING (Debian: apt-get install ninja-build);" \
        "its columns show '-'" >&2
    have_ninja=0
fi
if ! command -v make >/dev/null 2>&1; then
    echo "$me: make is MISSING (Debian: apt-get install make);" \
        "its columns show '-'" >&2
    have_make=0
elif ! make --version 2>/dev/null | grep -q 'GNU Make'; then
    echo "$me: 'make' is not GNU make; its columns show '-'" >&2
    have_make=0
fi
ninja_quiet=
if [ "$have_ninja" = 1 ] && ninja --help 2>&1 | grep -q -- '--quiet'; then
    ninja_quiet=--quiet
fi

case $reps in
'' | *[!0-9]* | 0) die "BENCH_REPS must be an integer >= 1" ;;
esac

# --- scratch -------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hazbench.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the machine ------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null |
    head -n 1) || cpu=
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null) || ncpu='?'
echo "machine: $(uname -srm), ${cpu:-unknown CPU}, $ncpu CPUs online"
echo "hazrun: $("$hazrun" --version 2>&1 | head -n 1)"
[ -z "$baseline" ] || echo "baseline: $baseline"
[ "$have_ninja" = 0 ] || echo "ninja: $(ninja --version 2>&1 | head -n 1)"
[ "$have_make" = 0 ] || echo "make: $(make --version 2>&1 | head -n 1)"
echo "sh: $(readlink -f /bin/sh 2>/dev/null || echo /bin/sh)"
echo "reps: $reps (best time kept)"
# The load matters as much as the tools on a shared machine: it is shown
# at the start and the end of the table.
load_avg() {
    sed -n '1s/^\([^ ]*\) \([^ ]*\) \([^ ]*\).*/\1, \2, \3/p' \
        /proc/loadavg 2>/dev/null || :
}
echo "load average at the start: $(load_avg)"
echo

# --- one measurement -------------------------------------------------------------
# run TOOL DIR J: time one run; sets `secs` (empty when it failed).
failed=0
run() {
    log=$tmp/$1.log
    case $1 in
    hazrun) set -- "$hazrun" -C "$2" -j "$3" --no-cache ;;
    baseline) set -- "$baseline" -C "$2" -j "$3" --no-cache ;;
    ninja)
        rm -f "$2/.ninja_log" "$2/.ninja_deps"
        set -- ninja -C "$2" -j "$3" $ninja_quiet
        ;;
    make) set -- make -C "$2" -s -r -j "$3" --no-print-directory ;;
    esac
    line=$("$stopwatch" "$@" 2>"$log") || line=
    secs=${line% *}
    code=${line#* }
    if [ -z "$line" ] || [ "$code" != 0 ]; then
        echo "$me: FAILED (status ${code:-?}): $*" >&2
        tail -n 20 "$log" >&2 || :
        secs=
        failed=1
    fi
}

# best OLD NEW: the smaller of two times, either possibly empty.
best() {
    if [ -z "$1" ]; then
        echo "$2"
    elif [ -z "$2" ]; then
        echo "$1"
    else
        awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 < b + 0) ? a : b }'
    fi
}

# rate N SECS: tasks per second, "-" when not measured, FAIL when failed.
rate() {
    if [ "$2" = - ]; then
        echo -
    elif [ -z "$2" ]; then
        echo FAIL
    else
        awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'
    fi
}

# ratio A B: A / B with two decimals, or "-".
ratio() {
    case $1$2 in
    *-* | *FAIL*) echo - ;;
    *) awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' ;;
    esac
}

command_of() {
    case $1 in
    true) echo true ;;
    sleep) echo 'sleep 0.01' ;;
    seq) echo 'seq 100' ;;
    *) die "unknown command '$1' in BENCH_CMDS (true, sleep, seq)" ;;
    esac
}

# --- the table ------------------------------------------------------------------
fmt='%-7s %-11s %6s %3s | %9s %9s %9s | %7s %7s'
bfmt=
[ -z "$baseline" ] || bfmt=' | %9s %7s'
# shellcheck disable=SC2059
{
    printf "$fmt" shape command N -j 'hazrun/s' 'ninja/s' 'make/s' \
        'h/ninja' 'h/make'
    [ -z "$baseline" ] || printf "$bfmt" 'base/s' 'h/base'
    echo
    printf "$fmt" ------- ----------- ------ --- --------- --------- \
        --------- ------- -------
    [ -z "$baseline" ] || printf "$bfmt" --------- -------
    echo
}
for n in $sizes; do
    case $n in
    '' | *[!0-9]* | 0) die "bad size '$n' in BENCH_SIZES" ;;
    esac
    for shape in $shapes; do
        for c in $cmds; do
            cmd=$(command_of "$c")
            dir=$tmp/$shape-$c-$n
            mkdir "$dir"
            "$gen" -s "$seed" "$shape" "$n" "$cmd" "$dir" ||
                die "gen_graph failed"
            for j in $jobs; do
                th='' tn='' tm='' tb=''
                [ "$have_ninja" = 1 ] || tn=-
                [ "$have_make" = 1 ] || tm=-
                k=0
                while [ "$k" -lt "$reps" ]; do
                    run hazrun "$dir" "$j"
                    th=$(best "$th" "$secs")
                    if [ -n "$baseline" ]; then
                        run baseline "$dir" "$j"
                        tb=$(best "$tb" "$secs")
                    fi
                    if [ "$have_ninja" = 1 ]; then
                        run ninja "$dir" "$j"
                        tn=$(best "$tn" "$secs")
                    fi
                    if [ "$have_make" = 1 ]; then
                        run make "$dir" "$j"
                        tm=$(best "$tm" "$secs")
                    fi
                    k=$((k + 1))
                done
                rh=$(rate "$n" "$th")
                rn=$(rate "$n" "$tn")
                rm_=$(rate "$n" "$tm")
                # shellcheck disable=SC2059
                printf "$fmt" "$shape" "$cmd" "$n" "$j" "$rh" "$rn" "$rm_" \
                    "$(ratio "$rh" "$rn")" "$(ratio "$rh" "$rm_")"
                if [ -n "$baseline" ]; then
                    rb=$(rate "$n" "$tb")
                    # shellcheck disable=SC2059
                    printf "$bfmt" "$rb" "$(ratio "$rh" "$rb")"
                fi
                echo
            done
            rm -rf "$dir"
        done
    done
done
echo "load average at the end: $(load_avg)"
exit "$failed"
