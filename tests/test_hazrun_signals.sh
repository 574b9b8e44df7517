#!/bin/sh
# tests/test_hazrun_signals.sh: interrupting hazrun, end to end (automake
# TESTS script; reliability-tests.md P6, X3 and the "done when").
#
# A workspace of three tasks, each a shell with two background `sleep 60`
# grandchildren and a foreground `sleep 60`, every pid written to a file.
# Once all three have written their ready marker (the script waits on the
# marker files, never on a fixed sleep):
#   int-pid      SIGINT to hazrun's pid only;
#   int-group    SIGINT to the process group hazrun leads (started with
#                setsid, as a terminal's Ctrl-C reaches the foreground
#                group: the tasks are in groups of their own, so it reaches
#                hazrun alone);
#   term-pid     SIGTERM instead (exit 143);
#   second-int   the tasks trap SIGTERM and keep running, the grace is 60 s:
#                one SIGINT (each task records that SIGTERM came), then a
#                second SIGINT kills every task at once.
# Each case checks that hazrun exits 128+N, that every task and grandchild
# is gone (or a zombie waiting for init) within the grace period plus one
# second after the signal that should end them, and that no process group
# of a task is left.  Time is measured in ticks of the polling loop (each
# at least TICK seconds), so the bounds are upper bounds.
#
# Exit status: 0 all passed, 1 some failed, 77 a case could not be set up
# here (it is reported), 99 the setup failed.

me=test_hazrun_signals.sh
. "${HAZ_TEST_SRCDIR:-.}/tests/lib.sh" || exit 99
TICK=0.05
TICKS_PER_S=20

need_built "$hazrun"
if ! sleep "$TICK" 2>/dev/null; then
    echo "$me: sleep does not take fractions here; skipped" >&2
    exit 77
fi
make_tmp signals
tmp=$(cd "$tmp" && pwd -P) || exit 99
hpid=
# Before tests/lib.sh removes $tmp: kill hazrun and every recorded task.
at_exit() {
    [ -z "$hpid" ] || kill -KILL "$hpid" 2>/dev/null
    if [ -f "$tmp/ws/pids" ]; then
        while read -r p; do
            kill -KILL "$p" 2>/dev/null
        done < "$tmp/ws/pids"
    fi
}

# alive PID: the process exists and is not a zombie.
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    case $(ps -o stat= -p "$1" 2>/dev/null) in
    Z*) return 1 ;;
    esac
    return 0
}

# workspace TRAP_TERM: a fresh workspace with three tasks; with TRAP_TERM
# = yes the task shells note SIGTERM in term.N and carry on.
workspace() {
    rm -rf "$tmp/ws"
    mkdir "$tmp/ws" || exit 99
    {
        printf '[workspace]\nconcurrency = 3\nenv_from_host = PATH\n'
        for n in 1 2 3; do
            printf '\n[task t:s%s]\nrun = ' "$n"
            if [ "$1" = yes ]; then
                printf "trap 'touch term.%s' TERM; " "$n"
            fi
            printf 'sleep 60 & echo $! >> pids; sleep 60 & echo $! >> pids; '
            printf 'echo $$ >> pids; echo $$ >> leaders; touch ready.%s; ' \
                "$n"
            printf 'while :; do sleep 60 & echo $! >> pids; wait $!; done\n'
        done
    } > "$tmp/ws/hazfile"
}

# start HOW GRACE: start hazrun in the background (HOW: plain or setsid)
# and wait until the three tasks are ready.  Returns 1 on a timeout.
start() {
    : > "$tmp/ws/pids"
    : > "$tmp/ws/leaders"
    if [ "$1" = setsid ]; then
        setsid "$hazrun" -C "$tmp/ws" --no-cache --grace "$2" \
            > "$tmp/out" 2> "$tmp/err" < /dev/null &
    else
        "$hazrun" -C "$tmp/ws" --no-cache --grace "$2" \
            > "$tmp/out" 2> "$tmp/err" < /dev/null &
    fi
    hpid=$!
    k=0
    while [ ! -f "$tmp/ws/ready.1" ] || [ ! -f "$tmp/ws/ready.2" ] ||
        [ ! -f "$tmp/ws/ready.3" ]; do
        k=$((k + 1))
        if [ "$k" -gt $((30 * TICKS_PER_S)) ] || ! kill -0 "$hpid" 2>/dev/null
        then
            echo "  the tasks did not start; hazrun said:"
            sed 's/^/    /' "$tmp/err"
            return 1
        fi
        sleep "$TICK"
    done
    return 0
}

# all_gone TICKS: wait at most TICKS ticks until no recorded process is
# alive and no task's process group is left.  Prints the ticks it took.
all_gone() {
    k=0
    while :; do
        left=
        while read -r p; do
            if alive "$p"; then
                left="$left $p"
            fi
        done < "$tmp/ws/pids"
        while read -r p; do
            if kill -0 "-$p" 2>/dev/null; then
                for q in $(ps -e -o pid= -o pgid= 2>/dev/null |
                    awk -v g="$p" '$2 == g { print $1 }'); do
                    alive "$q" && left="$left g$p:$q"
                done
            fi
        done < "$tmp/ws/leaders"
        if [ -z "$left" ]; then
            echo "$k"
            return 0
        fi
        if [ "$k" -ge "$1" ]; then
            echo "  still alive after $k ticks:$left" >&2
            return 1
        fi
        k=$((k + 1))
        sleep "$TICK"
    done
}

# finish NAME WANT_STATUS GRACE_S: wait for hazrun, check its status and
# that everything is gone within GRACE_S + 1 seconds.
finish() {
    ok=yes
    if ! ticks=$(all_gone $((($3 + 1) * TICKS_PER_S))); then
        ok=no
    fi
    wait "$hpid"
    status=$?
    hpid=
    if [ "$status" != "$2" ]; then
        echo "  $1: hazrun exited $status, want $2"
        sed 's/^/    /' "$tmp/err"
        ok=no
    fi
    if ! grep -q 'cancelled' "$tmp/err"; then
        echo "  $1: no summary of cancelled tasks on stderr"
        ok=no
    fi
    n=$(wc -l < "$tmp/ws/pids")
    if [ "$n" -lt 9 ]; then
        echo "  $1: only $n processes recorded"
        ok=no
    fi
    [ "$ok" = no ] || echo "  $1: all $n processes gone after $ticks ticks"
    report "$1" "$ok"
}

# --- SIGINT to hazrun's pid --------------------------------------------------
workspace no
if start plain 2; then
    kill -INT "$hpid"
    finish int-pid 130 2
else
    report int-pid no
fi

# --- SIGINT to hazrun's process group, as Ctrl-C sends it ----------------------
if command -v setsid >/dev/null 2>&1; then
    workspace no
    if start setsid 2; then
        # setsid made hazrun (or the libtool wrapper that execs it) the
        # leader of a new group: its pid is the group id.
        kill -INT "-$hpid"
        finish int-group 130 2
    else
        report int-group no
    fi
else
    echo "SKIP: int-group (no setsid command here)"
fi

# --- SIGTERM -----------------------------------------------------------------
workspace no
if start plain 2; then
    kill -TERM "$hpid"
    finish term-pid 143 2
else
    report term-pid no
fi

# --- a second SIGINT kills at once ------------------------------------------
workspace yes
if start plain 60; then
    kill -INT "$hpid"
    k=0
    while [ ! -f "$tmp/ws/term.1" ] || [ ! -f "$tmp/ws/term.2" ] ||
        [ ! -f "$tmp/ws/term.3" ]; do
        k=$((k + 1))
        if [ "$k" -gt $((10 * TICKS_PER_S)) ]; then
            echo "  second-int: SIGTERM did not reach the tasks"
            break
        fi
        sleep "$TICK"
    done
    # The tasks survived SIGTERM and the grace is 60 s: only the second
    # SIGINT can end them within a second.
    kill -INT "$hpid"
    finish second-int 130 0
else
    report second-int no
fi

# --- P11a: started with SIGCHLD ignored -------------------------------------
# SIG_IGN survives exec, so a parent that ignores SIGCHLD hands that to
# hazrun; the kernel would then reap the tasks and their statuses would be
# lost.  hazrun restores the default for the run: the exact exits come
# back.  perl sets the disposition (the shell cannot pass it on); without
# perl the case is skipped.
if command -v perl > /dev/null 2>&1; then
    mkdir -p "$tmp/chld" &&
        printf '%s\n' '[task t:a]' 'run = echo hi' '[task t:b]' \
            'run = exit 3' 'deps = t:a' > "$tmp/chld/hazfile" || exit 99
    perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV or exit 99' \
        "$hazrun" -C "$tmp/chld" --no-cache > "$tmp/chld.out" \
        2> "$tmp/chld.err" < /dev/null
    status=$?
    printf '%s\n' '[t:a] hi' > "$tmp/want.out"
    printf '%s\n' '' 'FAILED t:b (exit 3)' 'Tasks: 1 succeeded, 1 failed' \
        > "$tmp/want.err"
    sed '$d' "$tmp/chld.err" > "$tmp/got.err"
    if [ "$status" = 1 ] && cmp -s "$tmp/want.out" "$tmp/chld.out" &&
        cmp -s "$tmp/want.err" "$tmp/got.err"; then
        report "P11a SIGCHLD ignored by the parent" yes
    else
        echo "  P11a: exit status $status, want 1; stdout, stderr:"
        cat "$tmp/chld.out" "$tmp/chld.err"
        report "P11a SIGCHLD ignored by the parent" no
    fi
else
    report "P11a SIGCHLD ignored by the parent (no perl)" skip
fi

summary_exit
