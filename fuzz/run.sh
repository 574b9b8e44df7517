#!/bin/sh
# fuzz/run.sh: run one libFuzzer target for a bounded time on its corpus
# (docs/FUZZING.md).
#
#     fuzz/run.sh TARGET SECONDS
#
# TARGET is hazfile, manifest, mock_script or pattern (or fuzz_TARGET).
# Run it from a build directory configured with CC=clang --enable-fuzzing
# where `make fuzz' has been run (or set FUZZ_BUILDDIR to one).  SECONDS 0
# only replays the corpus, once.
#
# The committed corpus, tests/fuzz-corpus/TARGET in the source tree, is
# copied to a scratch directory that libFuzzer grows; the committed one is
# never touched unless FUZZ_UPDATE_CORPUS=1, which merges back (-merge=1)
# only the new inputs that add coverage.
#
# Exit status: 0 when the run ended without a finding; 1 on a crash, a
# leak, a timeout, an out-of-memory, a broken invariant or any sanitizer
# report; 2 on a usage or setup error.  On a finding, the input that
# caused it is kept in FUZZ_ARTIFACTS (default: ./fuzz-artifacts) and
# printed in hex, so that a CI log alone is enough to reproduce it.
#
# Other knobs (environment): FUZZ_MAX_LEN (bytes per input, default 4096),
# FUZZ_ARGS (extra libFuzzer arguments), FUZZ_KEEP=1 (keep the scratch
# directory).
set -u

usage() {
    echo "usage: $0 TARGET SECONDS" >&2
    echo "  TARGET: hazfile | manifest | mock_script | pattern" >&2
    exit 2
}

[ $# -eq 2 ] || usage
target=${1#fuzz_}
seconds=$2
case $target in
    hazfile|manifest|mock_script|pattern) ;;
    *) usage ;;
esac
case $seconds in
    ''|*[!0-9]*) usage ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)
builddir=${FUZZ_BUILDDIR:-.}
bin=$builddir/fuzz/fuzz_$target
corpus=$srcdir/tests/fuzz-corpus/$target
dict=$here/$target.dict
artifacts=${FUZZ_ARTIFACTS:-$PWD/fuzz-artifacts}

if [ ! -x "$bin" ]; then
    echo "$0: $bin not found: configure with CC=clang --enable-fuzzing" \
         "and run 'make fuzz' (or set FUZZ_BUILDDIR)" >&2
    exit 2
fi
[ -d "$corpus" ] || { echo "$0: no corpus at $corpus" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/hazexec-fuzz-$target.XXXXXX") ||
    exit 2
cleanup() {
    if [ "${FUZZ_KEEP:-0}" = 1 ]; then
        echo "$0: scratch directory kept: $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

mkdir -p "$work/corpus" "$work/artifacts"
cp "$corpus"/* "$work/corpus/"

# Every sanitizer report is fatal; leaks are checked at the end of each
# input (libFuzzer's -detect_leaks) and at exit.
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1:detect_stack_use_after_return=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS

set -- -max_len="${FUZZ_MAX_LEN:-4096}" -timeout=25 -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1
[ -f "$dict" ] && set -- "$@" -dict="$dict"
if [ "$seconds" -eq 0 ]; then
    set -- "$@" -runs=0
else
    set -- "$@" -max_total_time="$seconds"
fi
# shellcheck disable=SC2086
set -- "$@" ${FUZZ_ARGS:-}

echo "fuzz $target: $seconds s on $(ls "$work/corpus" | wc -l) seed(s)"
"$bin" "$@" "$work/corpus" >"$work/log" 2>&1
status=$?

# The summary lines libFuzzer prints at the end.
grep -E '^(stat::|Done |#[0-9]+[[:space:]]+DONE)' "$work/log" || true

finding=0
[ "$status" -eq 0 ] || finding=1
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz invariant broken|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer)' \
        "$work/log"; then
    finding=1
fi
if [ -n "$(ls "$work/artifacts")" ]; then
    finding=1
fi

if [ "$finding" -ne 0 ]; then
    echo "fuzz $target: FINDING (libFuzzer exit status $status)" >&2
    tail -n 80 "$work/log" >&2
    mkdir -p "$artifacts"
    for f in "$work/artifacts"/*; do
        [ -f "$f" ] || continue
        cp "$f" "$artifacts/$target-$(basename "$f")"
        echo "---- $artifacts/$target-$(basename "$f") ($(wc -c <"$f") bytes):" >&2
        od -A d -t x1 "$f" | head -n 64 >&2
    done
    exit 1
fi

if [ "${FUZZ_UPDATE_CORPUS:-0}" = 1 ]; then
    before=$(ls "$corpus" | wc -l)
    "$bin" -merge=1 -max_len="${FUZZ_MAX_LEN:-4096}" "$corpus" \
        "$work/corpus" >"$work/merge.log" 2>&1 ||
        { cat "$work/merge.log" >&2; exit 1; }
    echo "fuzz $target: corpus $before -> $(ls "$corpus" | wc -l) files"
fi
echo "fuzz $target: no finding"
exit 0
