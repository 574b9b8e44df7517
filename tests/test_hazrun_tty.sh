#!/bin/sh
# tests/test_hazrun_tty.sh: hazrun's presentation, end to end (automake
# TESTS script): the status line and colour on a pseudo-terminal (through
# tests/t_pty), the plain line-oriented output without one (or with
# NO_COLOR, or TERM=dumb), the final summary (failures by exit status,
# signal and timeout, counts, a cancelling signal), -q and -v.
#
# Only deterministic facts are asserted: small workspaces run with -j 1
# and --no-cache, so the order of events is fixed; the status lines drawn
# are compared after dropping consecutive repeats (how often one is
# redrawn depends on how the output arrives), and the " Time: " line only
# against the duration grammar.
#
# Out of tree: the build is found through $HAZ_TEST_BUILDDIR (set by
# AM_TESTS_ENVIRONMENT; default ".").  Exit status: 0 all passed, 1 some
# failed, 77 skipped (no pseudo-terminal here), 99 the setup failed.

me=test_hazrun_tty.sh
. "${HAZ_TEST_SRCDIR:-.}/tests/lib.sh" || exit 99
tpty=$builddir/tests/t_pty
need_built "$hazrun" "$tpty"
make_tmp hazrun_tty

if ! "$tpty" true 2> "$tmp/pty.err"; then
    echo "test_hazrun_tty.sh: no pseudo-terminal here: $(cat "$tmp/pty.err")"
    exit 77
fi

esc=$(printf '\033')
cr=$(printf '\r')

# same (tests/lib.sh) shows the difference byte by byte: the status lines
# hold escapes and carriage returns.
show_diff() {
    diff -u "$1" "$2" | sed 1,2d | od -c | head -40
}

# workspace DIR: write a hazfile (read from stdin) into a new DIR.
workspace() {
    mkdir -p "$1" && cat > "$1/hazfile"
}

# pty FILE ARGS...: run hazrun on a pseudo-terminal $cols wide, with
# TERM=$term and NO_COLOR=$no_color, everything it writes into FILE; its
# exit status into $status.
cols=80
term=xterm
no_color=
pty() {
    f=$1
    shift
    TERM=$term NO_COLOR=$no_color \
        "$tpty" -w "$cols" "$hazrun" "$@" > "$f" < /dev/null
    status=$?
}

# statuses FILE: the status lines drawn (each "\r\x1b[K" + text), with
# consecutive repeats dropped.
statuses() {
    tr '\r' '\n' < "$1" | sed -n "s/^${esc}\[K\(\[[0-9][0-9]*\/\)/\1/p" |
        uniq
}

# text FILE: what is left once the status lines are taken out: every
# "\r\x1b[K" erase removed, and every status text with it.
text() {
    tr '\r' '\n' < "$1" | sed "s/^${esc}\[K\[[0-9][0-9]*\/.*//" |
        sed "s/^${esc}\[K//" | grep -v '^$'
}

# time_ok FILE: the last line of FILE is " Time: " and a duration.
time_ok() {
    tail -n 1 "$1" | tr -d "$cr" |
        grep -Eq '^ Time: ([0-9]+ms|[0-9]+s [0-9]+ms|[0-9]+m [0-9]+s|[0-9]+h [0-9]+m)$'
}

# --- a chain of three tasks ----------------------------------------------------

workspace "$tmp/chain" <<'EOF'
[task t:a]
run = printf 'a says hi\n'
[task t:b]
run = printf 'b says hi\n'
deps = t:a
[task t:c]
run = printf 'c out\n'; printf 'c err\n' >&2
deps = t:b
EOF

pty "$tmp/chain.pty" -C "$tmp/chain" -j 1 --no-cache
[ "$status" = 0 ] || echo "chain on a pty: exit status $status"
cat > "$tmp/want" <<'EOF'
[0/3] running: t:a
[1/3] running: t:b
[2/3] running: t:c
EOF
statuses "$tmp/chain.pty" > "$tmp/got"
same "pty: the status line counts and names the running task" \
    "$tmp/want" "$tmp/got"

printf '%s\n' '[t:a] a says hi' '[t:b] b says hi' '[t:c] c out' \
    '[t:c] c err' "Tasks: ${esc}[32m3 succeeded${esc}[0m" > "$tmp/want"
text "$tmp/chain.pty" | sed '$d' > "$tmp/got"
same "pty: output lines whole, below no status; summary in colour" \
    "$tmp/want" "$tmp/got"
if time_ok "$tmp/chain.pty"; then
    report "pty: the summary ends with the time, nothing after it" yes
else
    tail -n 2 "$tmp/chain.pty" | od -c | head
    report "pty: the summary ends with the time, nothing after it" no
fi

# Each status is drawn as "\r\x1b[K" + text: it starts with the erase.
if tr '\r' '\n' < "$tmp/chain.pty" | grep '\[[0-9]/3\] running' |
    grep -v "^${esc}\[K\[" > "$tmp/got"; then
    cat "$tmp/got"
    report "pty: every status line is drawn right after an erase" no
else
    report "pty: every status line is drawn right after an erase" yes
fi

# Cut to the width of the terminal, with "...".
workspace "$tmp/long" <<'EOF'
[task t:abcdefghijklmnopqrstuvwxyz0123456789]
run = printf 'x\n'
EOF
cols=30
pty "$tmp/long.pty" -C "$tmp/long" --no-cache
cols=80
echo '[0/1] running: t:abcdefghi...' > "$tmp/want"
statuses "$tmp/long.pty" > "$tmp/got"
same "pty: the status line is cut to 29 of 30 columns" "$tmp/want" "$tmp/got"

# --- failures, in colour ---------------------------------------------------------

workspace "$tmp/fail" <<'EOF'
[task t:a]
run = printf 'fine\n'
[task t:bad]
run = printf 'oops\n' >&2; exit 3
[task t:after]
run = printf 'never\n'
deps = t:bad
[task t:z]
run = printf 'last\n'
EOF

pty "$tmp/fail.pty" -C "$tmp/fail" -j 1 --no-cache
[ "$status" = 1 ] || echo "failure on a pty: exit status $status, want 1"
printf '%s\n' '[0/4] running: t:a' '[1/4] running: t:bad' \
    "[3/4, ${esc}[1;31m1 failed${esc}[0m] running: t:z" > "$tmp/want"
statuses "$tmp/fail.pty" > "$tmp/got"
same "pty: failures counted in red in the status line" "$tmp/want" "$tmp/got"

printf '%s\n' '[t:a] fine' '[t:bad] oops' '[t:z] last' \
    "${esc}[1;31mFAILED${esc}[0m t:bad (exit 3)" \
    "Tasks: ${esc}[32m2 succeeded${esc}[0m, ${esc}[1;31m1 failed${esc}[0m, ${esc}[33m1 skipped${esc}[0m" \
    > "$tmp/want"
text "$tmp/fail.pty" | sed '$d' > "$tmp/got"
same "pty: the summary names the failure, in colour" "$tmp/want" "$tmp/got"

# -q: no status line, only the failed task's output and the summary.
pty "$tmp/quiet.pty" -C "$tmp/fail" -j 1 --no-cache -q
printf '%s\n' '[t:bad] oops' '' \
    "${esc}[1;31mFAILED${esc}[0m t:bad (exit 3)" \
    "Tasks: ${esc}[32m2 succeeded${esc}[0m, ${esc}[1;31m1 failed${esc}[0m, ${esc}[33m1 skipped${esc}[0m" \
    > "$tmp/want"
sed '$d' "$tmp/quiet.pty" > "$tmp/got"
same "pty: -q shows only failures and the summary" "$tmp/want" "$tmp/got"

# Buffered output on a terminal: blocks, still below the status line.
pty "$tmp/buf.pty" -C "$tmp/chain" -j 1 --no-cache --output=buffered
printf '%s\n' '[0/3] running: t:a' '[1/3] running: t:b' \
    '[2/3] running: t:c' > "$tmp/want"
statuses "$tmp/buf.pty" > "$tmp/got"
same "pty: buffered output keeps the status line" "$tmp/want" "$tmp/got"
printf '%s\n' 'a says hi' 'b says hi' 'c out' 'c err' \
    "Tasks: ${esc}[32m3 succeeded${esc}[0m" > "$tmp/want"
text "$tmp/buf.pty" | sed '$d' > "$tmp/got"
same "pty: buffered output in blocks" "$tmp/want" "$tmp/got"

# --- no terminal, NO_COLOR, TERM=dumb: plain lines -------------------------------

plain_want() {
    printf '%s\n' '[t:a] fine' '[t:bad] oops' '[t:z] last' '' \
        'FAILED t:bad (exit 3)' 'Tasks: 2 succeeded, 1 failed, 1 skipped'
}

"$hazrun" -C "$tmp/fail" -j 1 --no-cache > "$tmp/plain.out" \
    2> "$tmp/plain.err" < /dev/null
status=$?
printf '%s\n' '[t:a] fine' '[t:z] last' > "$tmp/want"
same "no terminal: task stdout on stdout" "$tmp/want" "$tmp/plain.out"
printf '%s\n' '[t:bad] oops' '' 'FAILED t:bad (exit 3)' \
    'Tasks: 2 succeeded, 1 failed, 1 skipped' > "$tmp/want"
sed '$d' "$tmp/plain.err" > "$tmp/got"
same "no terminal: task stderr and the summary on stderr" \
    "$tmp/want" "$tmp/got"
if [ "$status" = 1 ] && time_ok "$tmp/plain.err" &&
    ! grep -q "$esc" "$tmp/plain.out" "$tmp/plain.err"; then
    report "no terminal: exit 1, a time, no escape sequence" yes
else
    report "no terminal: exit 1, a time, no escape sequence" no
fi

no_color=1
pty "$tmp/nocolor.pty" -C "$tmp/fail" -j 1 --no-cache
no_color=
plain_want > "$tmp/want"
sed '$d' "$tmp/nocolor.pty" > "$tmp/got"
same "NO_COLOR on a terminal: plain lines" "$tmp/want" "$tmp/got"

term=dumb
pty "$tmp/dumb.pty" -C "$tmp/fail" -j 1 --no-cache
term=xterm
sed '$d' "$tmp/dumb.pty" > "$tmp/got"
same "TERM=dumb: plain lines" "$tmp/want" "$tmp/got"

# -v: each command as it starts, on stderr.
"$hazrun" -C "$tmp/chain" -j 1 --no-cache -v > "$tmp/v.out" \
    2> "$tmp/v.err" < /dev/null
printf '%s\n' "[t:a] \$ printf 'a says hi\\n'" \
    "[t:b] \$ printf 'b says hi\\n'" \
    "[t:c] \$ printf 'c out\\n'; printf 'c err\\n' >&2" \
    '[t:c] c err' '' 'Tasks: 3 succeeded' > "$tmp/want"
sed '$d' "$tmp/v.err" > "$tmp/got"
same "-v prints each command before it runs" "$tmp/want" "$tmp/got"

# -q and -v together are refused.
if "$hazrun" -C "$tmp/chain" -q -v > /dev/null 2> "$tmp/qv.err";
then
    report "-q with -v is a usage error" no
else
    status=$?
    if [ "$status" = 2 ] &&
        head -n 1 "$tmp/qv.err" | grep -q '^hazrun: -q and -v cannot'; then
        report "-q with -v is a usage error" yes
    else
        report "-q with -v is a usage error" no
    fi
fi

# --- how tasks fail, and cancellation ---------------------------------------------

# P1: a task killed by a signal is reported with its number and name.
workspace "$tmp/ways" <<'EOF'
[task t:abrt]
run = ulimit -c 0; kill -ABRT $$
[task t:killed]
run = kill -9 $$
[task t:segv]
run = ulimit -c 0; kill -SEGV $$
[task t:slow]
run = exec sleep 30
timeout = 0.2
EOF
"$hazrun" -C "$tmp/ways" --no-cache > "$tmp/ways.out" 2> "$tmp/ways.err" \
    < /dev/null
status=$?
printf '%s\n' 'FAILED t:abrt (killed by signal 6 (SIGABRT))' \
    'FAILED t:killed (killed by signal 9 (SIGKILL))' \
    'FAILED t:segv (killed by signal 11 (SIGSEGV))' \
    'FAILED t:slow (timed out, killed by signal 15 (SIGTERM))' \
    'Tasks: 0 succeeded, 4 failed' > "$tmp/want"
sed '$d' "$tmp/ways.err" > "$tmp/got"
same "summary: a signal and a timeout" "$tmp/want" "$tmp/got"
[ "$status" = 1 ] || echo "signal and timeout: exit status $status, want 1"
report "signal and timeout: exit 1" "$([ "$status" = 1 ] && echo yes)"

# SIGINT while a task runs: the run is cancelled, exit 130.
workspace "$tmp/int" <<'EOF'
[task t:wait]
run = : > started; exec sleep 30
EOF
"$hazrun" -C "$tmp/int" --no-cache --grace 5 > "$tmp/int.out" \
    2> "$tmp/int.err" < /dev/null &
pid=$!
n=0
while [ ! -f "$tmp/int/started" ] && [ "$n" -lt 300 ]; do
    sleep 1
    n=$((n + 1))
done
kill -INT "$pid"
wait "$pid"
status=$?
printf '%s\n' 'CANCELLED by SIGINT' 'Tasks: 0 succeeded, 1 cancelled' \
    > "$tmp/want"
sed '$d' "$tmp/int.err" > "$tmp/got"
same "summary: cancelled by SIGINT" "$tmp/want" "$tmp/got"
report "SIGINT: exit 130" "$([ "$status" = 130 ] && echo yes)"

summary_exit
