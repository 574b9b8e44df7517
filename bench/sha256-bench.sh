#!/bin/sh
# bench/sha256-bench.sh: SHA-256 throughput of hazexec against sha256sum.
#
# usage: sha256-bench.sh [BENCH_PROGRAM]
#
# BENCH_PROGRAM is the built bench/sha256_bench.  Without it the script looks
# for bench/sha256_bench under the build tree ($HAZ_BUILDDIR, default the
# current directory) and, when a Makefile is there, builds it first with
# `make bench/sha256_bench`.  So from a build directory:
#
#     make bench && $srcdir/bench/sha256-bench.sh
#
# The program writes a pseudo-random file (SHA256_BENCH_MIB MiB, default 256)
# under $TMPDIR and reports its own best-of-3 rate.  The script then hashes
# the same file with sha256sum (SHA256SUM overrides the command; `shasum -a
# 256` is used when sha256sum is missing): one untimed run to load the page
# cache and take the digest, then the best of 3 timed runs.  It checks that
# both digests agree and prints both rates (MB/s = 10^6 bytes per second)
# and their ratio.  Exit status: 0, 1 when the digests differ or a step
# fails, 2 on a usage or setup error.

set -eu

me=sha256-bench.sh
mib=${SHA256_BENCH_MIB:-256}
builddir=${HAZ_BUILDDIR:-.}

die() {
    echo "$me: $*" >&2
    exit 2
}

# --- the bench program -------------------------------------------------------
if [ $# -gt 1 ]; then
    die "usage: $me [BENCH_PROGRAM]"
fi
prog=${1:-}
if [ -z "$prog" ]; then
    prog=$builddir/bench/sha256_bench
    if [ ! -x "$prog" ] && [ -f "$builddir/Makefile" ]; then
        echo "$me: building $prog" >&2
        (cd "$builddir" && ${MAKE:-make} bench/sha256_bench) >&2 ||
            die "could not build $prog"
    fi
fi
if [ ! -f "$prog" ] || [ ! -x "$prog" ]; then
    die "$prog: not found; build it with 'make bench' or give its path"
fi
case $prog in
    */*) ;;
    *) prog=./$prog ;;
esac

# --- the reference command ---------------------------------------------------
if [ -n "${SHA256SUM:-}" ]; then
    tool=$SHA256SUM
elif command -v sha256sum >/dev/null 2>&1; then
    tool=sha256sum
elif command -v shasum >/dev/null 2>&1; then
    tool="shasum -a 256"
else
    die "neither sha256sum nor shasum found (set SHA256SUM)"
fi

# --- a clock in nanoseconds --------------------------------------------------
# GNU date has %N; elsewhere fall back to perl or python3.
clock=
t=$(date +%s%N 2>/dev/null || :)
case $t in
    ''|*[!0-9]*) ;;
    *) clock=gnu-date ;;
esac
if [ -z "$clock" ]; then
    if command -v perl >/dev/null 2>&1 &&
       perl -MTime::HiRes -e 1 >/dev/null 2>&1; then
        clock=perl
    elif command -v python3 >/dev/null 2>&1; then
        clock=python3
    else
        die "need GNU date, perl (Time::HiRes) or python3 to time $tool"
    fi
fi

now_ns() {
    case $clock in
        gnu-date) date +%s%N ;;
        perl) perl -MTime::HiRes=time -e 'printf "%.0f\n", time() * 1e9' ;;
        python3) python3 -c 'import time; print(int(time.time() * 1e9))' ;;
    esac
}

# --- scratch file ----------------------------------------------------------------
tmp=$(mktemp "${TMPDIR:-/tmp}/sha256-bench.XXXXXX") ||
    die "mktemp failed"
trap 'rm -f "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- hazexec ---------------------------------------------------------------------
out=$("$prog" "$tmp" "$mib") || {
    echo "$me: $prog failed" >&2
    exit 1
}
bytes=$(printf '%s\n' "$out" | sed -n 's/^bytes: \([0-9][0-9]*\)$/\1/p')
hz_digest=$(printf '%s\n' "$out" | sed -n 's/^digest: \([0-9a-f]*\)$/\1/p')
hz_rate=$(printf '%s\n' "$out" |
    sed -n 's/^hazexec sha256: \([0-9.]*\) MB\/s$/\1/p')
if [ -z "$bytes" ] || [ -z "$hz_digest" ] || [ -z "$hz_rate" ]; then
    echo "$me: unexpected output from $prog:" >&2
    printf '%s\n' "$out" >&2
    exit 1
fi

# --- the reference ---------------------------------------------------------------
# The first run loads the page cache and gives the digest; it is not timed.
ref_out=$($tool "$tmp") || {
    echo "$me: $tool failed" >&2
    exit 1
}
ref_digest=${ref_out%% *}
best=
for _ in 1 2 3; do
    t0=$(now_ns)
    $tool "$tmp" >/dev/null || {
        echo "$me: $tool failed" >&2
        exit 1
    }
    t1=$(now_ns)
    d=$((t1 - t0))
    if [ -z "$best" ] || [ "$d" -lt "$best" ]; then
        best=$d
    fi
done
[ "$best" -gt 0 ] || best=1
ref_rate=$(awk -v b="$bytes" -v ns="$best" \
    'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }')
ratio=$(awk -v a="$hz_rate" -v b="$ref_rate" \
    'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')

# --- report ----------------------------------------------------------------------
printf '%-16s %s bytes (%s MiB, pseudo-random, in page cache)\n' \
    "input:" "$bytes" "$mib"
printf '%-16s %s MB/s\n' "hazexec sha256:" "$hz_rate"
printf '%-16s %s MB/s\n' "$tool:" "$ref_rate"
printf '%-16s %s\n' "ratio:" "$ratio"
if [ "$hz_digest" != "$ref_digest" ]; then
    printf '%-16s DIFFER\n' "digests:"
    echo "  hazexec: $hz_digest" >&2
    echo "  $tool: $ref_digest" >&2
    exit 1
fi
printf '%-16s equal (%s)\n' "digests:" "$hz_digest"
