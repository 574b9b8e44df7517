#!/bin/sh
# tests/test_hazrun_sink.sh: hazrun's own output sink (reliability-tests.md
# R7), end to end (automake TESTS script).
#
#   (a) epipe     stdout is a pipe whose reader exits after the first line
#                 (`hazrun | head -1`).  The later tasks print only after
#                 the reader has gone (they wait on a fifo the reader side
#                 writes once it has closed the pipe), so every one of
#                 their writes meets EPIPE.  hazrun does not die of
#                 SIGPIPE, runs every task to the end, reaps each (no task
#                 process is left), says "cannot write the output of the
#                 tasks: <EPIPE text>" and exits 1 (design 2.11: not a
#                 success; EXIT_INTERNAL of hazrun).  The tasks' logs are
#                 intact in the cache: a second run, into a file, restores
#                 every task and replays the whole output, byte for byte.
#   (b) eagain    stdout is a non-blocking pipe (t_probe nonblock 1 exec
#                 hazrun) read by a slow reader (t_probe drain: 4 KiB per
#                 read, 1 ms apart) while two tasks print 30,000 lines
#                 each, far more than a pipe holds: writes meet EAGAIN and
#                 short writes.  Every line arrives exactly once and in
#                 order, per task (live output), or as two whole blocks
#                 (buffered output); hazrun exits 0 and reports nothing.
#   (c) full      stdout is /dev/full (ENOSPC on every write): hazrun says
#                 "cannot write the output of the tasks: <ENOSPC text>",
#                 exits 1, the cache verifies, and a second run into a file
#                 restores every task with its output exact.
# Nothing here waits on a fixed sleep: the order comes from the fifo and
# from the pipes themselves.
#
# Exit status: 0 all passed, 1 some failed, 77 nothing could run here,
# 99 the setup failed.

me=test_hazrun_sink.sh
. "${HAZ_TEST_SRCDIR:-.}/tests/lib.sh" || exit 99
probe=$builddir/tests/t_probe
need_built "$hazrun" "$probe"
make_tmp sink
tmp=$(cd "$tmp" && pwd -P) || exit 99
with_skips=yes

# alive PID: the process exists and is not a zombie.
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    case $(ps -o stat= -p "$1" 2>/dev/null) in
    Z*) return 1 ;;
    esac
    return 0
}

# strerror's text for EPIPE and ENOSPC, as glibc, musl and the BSDs
# spell it.
EPIPE_TEXT='Broken pipe'
ENOSPC_TEXT='No space left on device'

# expected_seq TASK N: "[TASK] 1" ... "[TASK] N".
expected_seq() {
    seq 1 "$2" | sed "s/^/[$1] /"
}

# --- (a) the reader exits early -------------------------------------------
ws=$tmp/a
mkdir "$ws" || exit 99
mkfifo "$ws/go.fifo" || exit 99
cat > "$ws/hazfile" <<'EOF'
[workspace]
concurrency = 2
env_from_host = PATH

[task s:first]
run = echo $$ >> pids; echo first line

[task s:more]
deps = s:first
run = echo $$ >> pids; read go < go.fifo; seq 1 2000

[task s:after]
deps = s:more
run = echo $$ >> pids; echo after
EOF
{
    "$hazrun" -C "$ws" 2> "$tmp/a.err"
    echo $? > "$tmp/a.status"
} | {
    head -1 > "$tmp/a.first"
    exec 0<&-                           # the pipe has no reader from here
    echo go > "$ws/go.fifo"
}
ok=yes
status=$(cat "$tmp/a.status")
if [ "$status" != 1 ]; then
    echo "epipe: exit status $status, want 1"
    ok=no
fi
if [ "$(cat "$tmp/a.first")" != "[s:first] first line" ]; then
    echo "epipe: the reader got '$(cat "$tmp/a.first")'"
    ok=no
fi
if ! grep -q "^hazrun: cannot write the output of the tasks: $EPIPE_TEXT\$" \
        "$tmp/a.err"; then
    echo "epipe: no write error reported; stderr:"
    cat "$tmp/a.err"
    ok=no
fi
if ! grep -q '^Tasks: 3 succeeded' "$tmp/a.err"; then
    echo "epipe: not every task succeeded; stderr:"
    cat "$tmp/a.err"
    ok=no
fi
n=0
while read -r p; do
    n=$((n + 1))
    if alive "$p"; then
        echo "epipe: task process $p is still there"
        kill -KILL "$p" 2>/dev/null
        ok=no
    fi
done < "$ws/pids"
if [ "$n" != 3 ]; then
    echo "epipe: $n task processes recorded, want 3"
    ok=no
fi
report "epipe: no SIGPIPE death, error reported, exit 1, tasks reaped" $ok

{
    echo "[s:first] first line"
    expected_seq s:more 2000
    echo "[s:after] after"
} > "$tmp/a.want"
"$hazrun" -C "$ws" > "$tmp/a.out" 2> "$tmp/a.err2"
status=$?
ok=yes
if [ "$status" != 0 ]; then
    echo "epipe rerun: exit status $status, want 0"
    cat "$tmp/a.err2"
    ok=no
fi
if ! grep -q '^Tasks: 3 succeeded (3 cached)' "$tmp/a.err2"; then
    echo "epipe rerun: not all restored; stderr:"
    cat "$tmp/a.err2"
    ok=no
fi
[ $ok = yes ] || report "epipe: the logs are intact in the cache" no
[ $ok = no ] || same "epipe: the logs are intact in the cache" \
    "$tmp/a.want" "$tmp/a.out"

# --- (b) a non-blocking pipe and a slow reader -----------------------------
ws=$tmp/b
mkdir "$ws" || exit 99
cat > "$ws/hazfile" <<'EOF'
[workspace]
concurrency = 2
env_from_host = PATH

[task s:a]
run = seq 1 30000

[task s:b]
run = seq 1 30000
EOF
expected_seq s:a 30000 > "$tmp/b.want-a"
expected_seq s:b 30000 > "$tmp/b.want-b"
for mode in live buffered; do
    {
        "$probe" nonblock 1 exec "$hazrun" -C "$ws" --no-cache \
            --output=$mode 2> "$tmp/b.err"
        echo $? > "$tmp/b.status"
    } | "$probe" drain 4096 1 > "$tmp/b.out"
    ok=yes
    status=$(cat "$tmp/b.status")
    if [ "$status" != 0 ]; then
        echo "eagain $mode: exit status $status, want 0"
        cat "$tmp/b.err"
        ok=no
    fi
    if grep -q 'cannot write' "$tmp/b.err"; then
        echo "eagain $mode: a write error was reported:"
        cat "$tmp/b.err"
        ok=no
    fi
    if [ $mode = live ]; then
        grep '^\[s:a\] ' "$tmp/b.out" > "$tmp/b.got-a"
        grep '^\[s:b\] ' "$tmp/b.out" > "$tmp/b.got-b"
        cat "$tmp/b.want-a" "$tmp/b.want-b" | sort > "$tmp/b.want-all"
        sort "$tmp/b.out" > "$tmp/b.got-all"
        for f in a b all; do
            if ! cmp -s "$tmp/b.want-$f" "$tmp/b.got-$f"; then
                echo "eagain live: the lines of $f differ (- want, + got):"
                show_diff "$tmp/b.want-$f" "$tmp/b.got-$f" | head -20
                ok=no
            fi
        done
    else
        # Buffered: each task's stdout is one block; the order of the two
        # blocks is the order the tasks ended in.
        seq 1 30000 > "$tmp/b.block"
        cat "$tmp/b.block" "$tmp/b.block" > "$tmp/b.want-all"
        if ! cmp -s "$tmp/b.want-all" "$tmp/b.out"; then
            echo "eagain buffered: the output differs (- want, + got):"
            show_diff "$tmp/b.want-all" "$tmp/b.out" | head -20
            ok=no
        fi
    fi
    report "eagain $mode: every byte once, in order" $ok
done

# --- (c) a full filesystem --------------------------------------------------
ws=$tmp/c
mkdir "$ws" || exit 99
cat > "$ws/hazfile" <<'EOF'
[workspace]
concurrency = 2
env_from_host = PATH

[task s:x]
run = seq 1 500; echo to-stderr >&2

[task s:y]
deps = s:x
run = echo y
EOF
if [ -c /dev/full ] && ! echo x 2>/dev/null > /dev/full; then
    "$hazrun" -C "$ws" > /dev/full 2> "$tmp/c.err"
    status=$?
    ok=yes
    if [ "$status" != 1 ]; then
        echo "full: exit status $status, want 1"
        ok=no
    fi
    if ! grep -q \
        "^hazrun: cannot write the output of the tasks: $ENOSPC_TEXT\$" \
            "$tmp/c.err"; then
        echo "full: no write error reported; stderr:"
        cat "$tmp/c.err"
        ok=no
    fi
    if ! grep -q '^\[s:x\] to-stderr$' "$tmp/c.err"; then
        echo "full: the task's stderr is missing on stderr:"
        cat "$tmp/c.err"
        ok=no
    fi
    if ! "$hazrun" -C "$ws" cache verify > "$tmp/c.verify" 2>&1; then
        echo "full: the cache does not verify:"
        cat "$tmp/c.verify"
        ok=no
    fi
    report "full: error reported, exit 1, the cache verifies" $ok

    {
        expected_seq s:x 500
        echo "[s:y] y"
    } > "$tmp/c.want"
    "$hazrun" -C "$ws" > "$tmp/c.out" 2> "$tmp/c.err2"
    status=$?
    ok=yes
    if [ "$status" != 0 ] ||
       ! grep -q '^Tasks: 2 succeeded (2 cached)' "$tmp/c.err2" ||
       ! grep -q '^\[s:x\] to-stderr$' "$tmp/c.err2"; then
        echo "full rerun: exit status $status; stderr:"
        cat "$tmp/c.err2"
        ok=no
    fi
    [ $ok = yes ] || report "full: the logs are intact in the cache" no
    [ $ok = no ] || same "full: the logs are intact in the cache" \
        "$tmp/c.want" "$tmp/c.out"
else
    report "full: /dev/full is not available here" skip
fi

summary_exit
