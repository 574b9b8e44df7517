#!/bin/sh
# tests/test_hazrun_cache.sh: `hazrun cache info|verify|clean|clear` end
# to end (automake TESTS script; reference-io.md 9.2: cache_info,
# cache_clean and the smoke test's `cache clear`; AUX-022..028; the
# corruption cases of reliability-tests.md C3 and C5 through hazrun).
#
# A workspace of three tasks, each writing one output, runs once to fill
# its cache.  Then, each time comparing the exact output and exit status:
#   info and verify on the clean cache;
#   a blob changed in place (same size): info cannot see it, verify reports
#   exactly that one broken entry and exits 1; the next run misses on it,
#   runs the task again and stores it afresh; verify is clean again;
#   a blob deleted: info and verify both see it; clean --dry-run counts it
#   and removes nothing; clean removes exactly it; the next run stores the
#   task again;
#   a temporary left by a crash: clean leaves it while it is young and
#   removes it once it is old;
#   clear removes everything; verify then finds an empty, clean cache.
# Every case ends with a verify of the cache, which must be clean unless
# the case broke it on purpose.
#
# Exit status: 0 all passed, 1 some failed, 99 the setup failed.

me=test_hazrun_cache.sh
. "${HAZ_TEST_SRCDIR:-.}/tests/lib.sh" || exit 99
need_built "$hazrun"
make_tmp hazrun_cache ws
ws=$tmp/ws
root=$(cd "$ws" && pwd -P) || exit 99
cache=$root/.haz/cache

cat > "$ws/hazfile" <<'EOF'
[workspace]
concurrency = 1

[task t:a]
run = mkdir -p out && printf 'aaaa\n' > out/a.txt && printf 'a done\n'
outputs = out/a.txt

[task t:b]
run = mkdir -p out && printf 'bbbb\n' > out/b.txt
outputs = out/b.txt

[task t:c]
run = mkdir -p out && printf 'cccccc\n' > out/c.txt && printf 'c warns\n' >&2
outputs = out/c.txt
EOF

# check NAME STATUS COMMAND...: run COMMAND; its stdout must equal
# $tmp/want, its stderr be empty and its exit status STATUS.
check() {
    name=$1
    want_status=$2
    shift 2
    "$@" > "$tmp/got" 2> "$tmp/err" < /dev/null
    st=$?
    ok=yes
    if [ "$st" != "$want_status" ]; then
        echo "$name: exit status $st, want $want_status"
        ok=no
    fi
    if [ -s "$tmp/err" ]; then
        echo "$name: unexpected stderr:"
        cat "$tmp/err"
        ok=no
    fi
    if ! cmp -s "$tmp/want" "$tmp/got"; then
        echo "$name: stdout differs (- want, + got):"
        show_diff "$tmp/want" "$tmp/got"
        ok=no
    fi
    report "$name" $ok
}

# stats ENTRIES BYTES BROKEN TEMPORARIES: the report of info into $tmp/want
# (verify appends its last line itself).
stats() {
    printf 'cache: %s\nentries: %s\nbytes: %s\nbroken: %s\ntemporaries: %s\n' \
        "$cache" "$1" "$2" "$3" "$4" > "$tmp/want"
}

# verify_clean NAME ENTRIES BYTES: `cache verify` reports a clean cache.
verify_clean() {
    stats "$2" "$3" 0 0
    printf 'verify: %s entries ok, 0 broken\n' "$2" >> "$tmp/want"
    check "$1" 0 "$hazrun" -C "$ws" cache verify
}

# run NAME CACHED: a run succeeds with CACHED of its 3 tasks restored.
run() {
    "$hazrun" -C "$ws" -q > "$tmp/run.out" 2> "$tmp/run.err" < /dev/null
    st=$?
    if [ "$2" = 0 ]; then
        want='Tasks: 3 succeeded'
    else
        want="Tasks: 3 succeeded ($2 cached)"
    fi
    if [ "$st" = 0 ] && [ "$(sed -n 1p "$tmp/run.err")" = "$want" ]; then
        report "$1" yes
    else
        echo "$1: exit status $st; stderr:"
        cat "$tmp/run.err"
        report "$1" no
    fi
}

# blob CONTENT_FILE: the path of the blob in the cache with the bytes of
# CONTENT_FILE (exactly one must exist).
blob() {
    find "$cache" -type f -path '*/outputs/*' | while read -r f; do
        cmp -s "$f" "$1" && echo "$f"
    done
}

# --- fill -------------------------------------------------------------------

run "a first run fills the cache" 0
cp "$ws/out/a.txt" "$tmp/a.first"
cp "$ws/out/b.txt" "$tmp/b.first"
cp "$ws/out/c.txt" "$tmp/c.first"
full=1316

stats 3 $full 0 0
check "info: three entries" 0 "$hazrun" -C "$ws" cache info
verify_clean "verify: the filled cache is clean" 3 $full

# --- a blob changed in place (C3) -------------------------------------------

b_blob=$(blob "$tmp/b.first")
if [ -n "$b_blob" ] && [ "$(echo "$b_blob" | wc -l)" -eq 1 ]; then
    report "the blob of out/b.txt is in the cache" yes
else
    report "the blob of out/b.txt is in the cache" no
fi
chmod u+w "$b_blob" && printf 'BBBB\n' > "$b_blob" || exit 99

stats 3 $full 0 0
check "info: a same-size change is not seen without hashing" 0 \
    "$hazrun" -C "$ws" cache info
stats 2 883 1 0
printf 'verify: 2 entries ok, 1 broken\n' >> "$tmp/want"
check "verify: exactly the changed entry is broken, exit 1" 1 \
    "$hazrun" -C "$ws" cache verify

# The next run: a and c are hits, b's restore fails its hash check, so b
# runs again and is stored afresh; its output has the task's bytes.
rm -rf "$ws/out"
run "a run after the change: b runs again" 2
if cmp -s "$tmp/b.first" "$ws/out/b.txt" &&
   cmp -s "$tmp/a.first" "$ws/out/a.txt" &&
   cmp -s "$tmp/c.first" "$ws/out/c.txt"; then
    report "the outputs are the first run's, byte for byte" yes
else
    report "the outputs are the first run's, byte for byte" no
fi
verify_clean "verify: clean again after the run" 3 $full

# --- a blob deleted (C5) ----------------------------------------------------

c_blob=$(blob "$tmp/c.first")
rm -f "$c_blob" || exit 99
stats 2 873 1 0
check "info: an entry without its blob is broken" 0 \
    "$hazrun" -C "$ws" cache info
stats 2 873 1 0
printf 'verify: 2 entries ok, 1 broken\n' >> "$tmp/want"
check "verify: exactly the entry without its blob, exit 1" 1 \
    "$hazrun" -C "$ws" cache verify
printf 'would remove: 1 entries or temporaries, 436 bytes\n' > "$tmp/want"
check "clean --dry-run counts the broken entry" 0 \
    "$hazrun" -C "$ws" cache clean --dry-run
stats 2 873 1 0
check "clean --dry-run removes nothing" 0 "$hazrun" -C "$ws" cache info
printf 'removed: 1 entries or temporaries, 436 bytes\n' > "$tmp/want"
check "clean removes the broken entry" 0 "$hazrun" -C "$ws" cache clean
verify_clean "verify: clean after clean" 2 873
rm -rf "$ws/out"
run "a run after clean: c runs again" 2
verify_clean "verify: clean after the run" 3 $full

# --- a temporary left by a crash --------------------------------------------

shard=
for d in "$cache"/??; do
    [ -d "$d" ] && shard=$d && break
done
[ -n "$shard" ] || exit 99
mkdir "$shard/.tmp-crashed-1" && printf 'half' > "$shard/.tmp-crashed-1/x" ||
    exit 99
stats 3 $full 0 1
check "info: the temporary is counted" 0 "$hazrun" -C "$ws" cache info
printf 'removed: 0 entries or temporaries, 0 bytes\n' > "$tmp/want"
check "clean leaves a young temporary" 0 "$hazrun" -C "$ws" cache clean
touch -t 200001010000 "$shard/.tmp-crashed-1" || exit 99
printf 'removed: 1 entries or temporaries, 4 bytes\n' > "$tmp/want"
check "clean removes an old temporary" 0 "$hazrun" -C "$ws" cache clean
verify_clean "verify: clean after the temporary went" 3 $full

# --- clear ------------------------------------------------------------------

printf 'cleared: 3 entries, %s bytes\n' $full > "$tmp/want"
check "clear removes every entry" 0 "$hazrun" -C "$ws" cache clear
if [ -e "$cache" ]; then
    report "clear removes the cache directory" no
else
    report "clear removes the cache directory" yes
fi
verify_clean "verify: an empty cache after clear is clean" 0 0

summary_exit
