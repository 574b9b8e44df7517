#!/bin/sh
# tests/test_hazrun.sh: end-to-end tests of the hazrun command (automake
# TESTS script).  It runs the built examples/hazrun on examples/demo and on
# the fixtures in tests/data/hazfile, and compares exit status, standard
# output and standard error exactly (by pattern only where the text comes
# from the C library or another module, and for the time in the summary).
#
# Out of tree: the sources are found through $HAZ_TEST_SRCDIR, the build
# through $HAZ_TEST_BUILDDIR (both set by AM_TESTS_ENVIRONMENT; default ".").
# Exit status: 0 all passed, 1 some failed, 99 the setup failed.

me=test_hazrun.sh
. "${HAZ_TEST_SRCDIR:-.}/tests/lib.sh" || exit 99
demo=$srcdir/examples/demo
data=$srcdir/tests/data/hazfile
need_built "$hazrun"
make_tmp hazrun empty

# A pristine copy of the demo for the listings: a cache that an earlier
# run left in the source tree would turn their misses into hits.
cp -R "$demo" "$tmp/demo0" && chmod -R u+w "$tmp/demo0" || exit 99
rm -rf "$tmp/demo0/.haz" "$tmp/demo0/gen/out" "$tmp/demo0/core/out" \
    "$tmp/demo0/app/out"
demo_src=$demo
demo=$tmp/demo0

# want_out / want_err: the expected stdout / stderr, read from stdin.
want_out() { cat > "$tmp/want.out"; }
want_err() { cat > "$tmp/want.err"; }

# untime: the summary's " Time: DURATION" line, when DURATION follows the
# grammar of reference-io.md 2.6, becomes " Time: T".
untime() {
    sed -e 's/^ Time: [0-9][0-9]*ms$/ Time: T/' \
        -e 's/^ Time: [0-9][0-9]*s [0-9][0-9]*ms$/ Time: T/' \
        -e 's/^ Time: [0-9][0-9]*m [0-9][0-9]*s$/ Time: T/' \
        -e 's/^ Time: [0-9][0-9]*h [0-9][0-9]*m$/ Time: T/'
}

# expect NAME STATUS COMMAND...: run COMMAND; compare its exit status with
# STATUS and its output with what want_out / want_err gave (nothing when
# they were not called).  Then forget the expectations.
expect() {
    name=$1
    want_status=$2
    shift 2
    [ -f "$tmp/want.out" ] || : > "$tmp/want.out"
    [ -f "$tmp/want.err" ] || : > "$tmp/want.err"
    "$@" > "$tmp/got.out" 2> "$tmp/got.raw" < /dev/null
    status=$?
    untime < "$tmp/got.raw" > "$tmp/got.err"
    ok=yes
    if [ "$status" != "$want_status" ]; then
        echo "$name: exit status $status, want $want_status"
        ok=no
    fi
    for stream in out err; do
        if ! cmp -s "$tmp/want.$stream" "$tmp/got.$stream"; then
            echo "$name: std$stream differs (- want, + got):"
            diff -u "$tmp/want.$stream" "$tmp/got.$stream" | sed 1,2d
            ok=no
        fi
    done
    report "$name" $ok
    rm -f "$tmp/want.out" "$tmp/want.err"
}

# expect_match NAME STATUS STREAM REGEX COMMAND...: like expect, but STREAM
# (out or err) must be one line matching the extended REGEX and the other
# stream must be empty.
expect_match() {
    name=$1
    want_status=$2
    stream=$3
    regex=$4
    shift 4
    "$@" > "$tmp/got.out" 2> "$tmp/got.err" < /dev/null
    status=$?
    ok=yes
    if [ "$status" != "$want_status" ]; then
        echo "$name: exit status $status, want $want_status"
        ok=no
    fi
    if [ "$(wc -l < "$tmp/got.$stream")" -ne 1 ] ||
       ! grep -Eq "$regex" "$tmp/got.$stream"; then
        echo "$name: std$stream does not match /$regex/:"
        cat "$tmp/got.$stream"
        ok=no
    fi
    other=out
    [ "$stream" = out ] && other=err
    if [ -s "$tmp/got.$other" ]; then
        echo "$name: unexpected std$other:"
        cat "$tmp/got.$other"
        ok=no
    fi
    report "$name" $ok
}

# --- the demo workspace ------------------------------------------------------

demo_header='workspace: concurrency=4 cancel_grace=2.5s output=live
tag heavy: cap=1'

demo_core_build='core:build
  cache: unknown (a dependency would run first)
  root: core
  run: mkdir -p out && cat ../gen/out/version.h src/core.txt > out/core.txt
  deps: gen:header
  weak_deps: core:lint
  tags: heavy
  inputs: src/core.txt /gen/out/version.h
  outputs: out/core.txt
  env_from_host: PATH
  env: LC_ALL=C
core:lint
  cache: miss (would run)
  root: core
  run: cat src/*.txt > /dev/null && printf '"'lint: src/*.txt ok\\n'"'
  tags: heavy
  inputs: src/*.txt
  env_from_host: PATH'

demo_core_test='core:test
  cache: unknown (a dependency would run first)
  root: core
  run: grep -q DEMO_VERSION out/core.txt && printf '"'core: 1 test passed\\n'"'
  deps: core:build
  tags: heavy
  inputs: out/core.txt
  env_from_host: PATH
  timeout: 30s'

demo_gen='gen:header
  cache: miss (would run)
  root: gen
  run: mkdir -p out && printf '"'#define DEMO_VERSION \"%s\"\\n' \"\$(cat version.in)\""' > out/version.h
  inputs: version.in
  outputs: out/version.h
  env_from_host: PATH'

demo_app_dirs='app:dirs
  cache: miss (would run)
  root: app
  argv: mkdir -p out
  env_from_host: PATH'

demo_app_docs='app:docs
  cache: unknown (a dependency would run first)
  root: app
  argv: cp src/main.txt out/readme.txt
  deps: app:dirs
  weak_deps: app:link
  mutex: ~:out
  inputs: src/main.txt
  outputs: out/readme.txt
  env_from_host: PATH'

demo_app_link='app:link
  cache: unknown (a dependency would run first)
  root: app
  run: cat ../core/out/core.txt src/main.txt > out/app.txt
  deps: app:dirs core:build
  mutex: ~:out
  inputs: src/main.txt /core/out/core.txt
  outputs: out/app.txt
  env_from_host: PATH'

printf '%s\n' "$demo_header" "$demo_app_dirs" "$demo_app_docs" \
    "$demo_app_link" "$demo_core_build" "$demo_core_test" "$demo_gen" |
    want_out
expect "demo: -n lists every task" 0 "$hazrun" -C "$demo" -n

printf '%s\n' "$demo_header" "$demo_app_dirs" "$demo_app_link" \
    "$demo_core_build" "$demo_gen" | want_out
expect "demo: -n app:link lists its closure" 0 "$hazrun" -C "$demo" -n app:link

printf '%s\n' "$demo_header" "$demo_core_build" "$demo_core_test" \
    "$demo_gen" | want_out
expect "demo: a bare task name" 0 "$hazrun" -n test -C "$demo"

printf '%s\n' "$demo_header" "$demo_app_dirs" "$demo_gen" | want_out
expect "demo: grouped and attached options" 0 \
    "$hazrun" -nC"$demo" -fhazfile gen:header app:dirs

want_err <<'EOF'
hazrun: unknown target 'nope'
hazrun: unknown target 'core:nope'
EOF
expect "demo: unknown targets" 2 "$hazrun" -C "$demo" -n nope core:build core:nope

want_err <<'EOF'
hazrun: unknown target '-n'
EOF
expect "demo: -- ends the options" 2 "$hazrun" -C "$demo" -n -- -n

# Running writes outputs, so the demo runs in a copy (the source tree is
# read-only under distcheck).
cp -R "$demo_src" "$tmp/demo" && chmod -R u+w "$tmp/demo" || exit 99
rm -rf "$tmp/demo/gen/out" "$tmp/demo/core/out" "$tmp/demo/app/out"
want_out <<'EOF'
[core:lint] lint: src/*.txt ok
[core:test] core: 1 test passed
EOF
want_err <<'EOF'

Tasks: 7 succeeded
 Time: T
EOF
expect "demo: a run" 0 "$hazrun" -C "$tmp/demo" --no-cache

# With the cache: the first run fills it, the second restores every task
# and replays its output (EXEC-017), the outputs come back byte for byte.
want_out <<'EOF'
[core:lint] lint: src/*.txt ok
[core:test] core: 1 test passed
EOF
want_err <<'EOF'

Tasks: 7 succeeded
 Time: T
EOF
expect "demo: first run fills the cache" 0 "$hazrun" -C "$tmp/demo"
cp "$tmp/demo/app/out/app.txt" "$tmp/app.first"
rm -rf "$tmp/demo/gen/out" "$tmp/demo/core/out" "$tmp/demo/app/out"
want_out <<'EOF'
[core:lint] lint: src/*.txt ok
[core:test] core: 1 test passed
EOF
want_err <<'EOF'

Tasks: 7 succeeded (7 cached)
 Time: T
EOF
expect "demo: second run restores everything" 0 "$hazrun" -C "$tmp/demo"
if cmp -s "$tmp/app.first" "$tmp/demo/app/out/app.txt"; then
    report "demo: restored output is byte-identical" yes
else
    report "demo: restored output is byte-identical" no
fi
# The cache the two runs used verifies clean: every entry re-hashed.
demo_root=$(cd "$tmp/demo" && pwd -P) || exit 99
want_out <<EOF
cache: $demo_root/.haz/cache
entries: 7
bytes: 3022
broken: 0
temporaries: 0
verify: 7 entries ok, 0 broken
EOF
expect "demo: cache verify finds the cache clean" 0 \
    "$hazrun" -C "$tmp/demo" cache verify

want_err <<'EOF'
hazrun: -j needs a number of jobs >= 1, got '0'
usage: hazrun [-C DIR] [-f FILE] [-j N] [-n] [-q | -v]
              [--output=live|buffered] [--grace SECONDS]
              [--timeout SECONDS] [--no-cache] [--summary FILE]
              [--trace FILE] [-h] [--version] [TARGET...]
       hazrun [-C DIR] [-f FILE] why TASK [--summary FILE]
       hazrun [-C DIR] [-f FILE] cache info|verify|clear
       hazrun [-C DIR] [-f FILE] cache clean [--dry-run] [--broken]
              [--max-age SECONDS] [--max-size BYTES[K|M|G]]
EOF
expect "-j 0" 2 "$hazrun" -C "$demo" -j 0

# -j above what the spawner can watch at once (select(): FD_SETSIZE, 480
# children where FD_SETSIZE is 1024): one warning naming both numbers, and
# the run goes on.  The cap depends on the platform's FD_SETSIZE, so it is
# checked as a number below the request.
mkdir -p "$tmp/cap" && printf '[task t:one]\nrun = true\n' > "$tmp/cap/hazfile"
"$hazrun" -C "$tmp/cap" -j 65535 --no-cache > "$tmp/cap.out" \
    2> "$tmp/cap.raw" < /dev/null
status=$?
cap=$(sed -n 's/^hazrun: warning: concurrency 65535 capped to \([0-9][0-9]*\), .*/\1/p' \
    "$tmp/cap.raw")
sed "s/capped to $cap, /capped to N, /" "$tmp/cap.raw" | untime > "$tmp/got"
printf '%s\n' 'hazrun: warning: concurrency 65535 capped to N, the most tasks the spawner can watch at once' \
    'Tasks: 1 succeeded' ' Time: T' > "$tmp/want"
ok=no
if [ "$status" = 0 ] && [ -n "$cap" ] && [ "$cap" -ge 1 ] &&
    [ "$cap" -lt 65535 ] && cmp -s "$tmp/want" "$tmp/got" &&
    [ ! -s "$tmp/cap.out" ]; then
    ok=yes
else
    echo "-j capped: exit status $status; stderr:"
    cat "$tmp/cap.raw"
fi
report "-j above the spawner's watch limit: one warning" $ok
# At the cap itself: no warning.
"$hazrun" -C "$tmp/cap" -j "${cap:-1}" --no-cache > "$tmp/cap.out" \
    2> "$tmp/cap.raw" < /dev/null
status=$?
untime < "$tmp/cap.raw" > "$tmp/got"
printf '%s\n' 'Tasks: 1 succeeded' ' Time: T' > "$tmp/want"
ok=no
[ "$status" = 0 ] && cmp -s "$tmp/want" "$tmp/got" && ok=yes
report "-j at the spawner's watch limit: no warning" $ok

want_err <<'EOF'
hazrun: --output must be live or buffered, got 'loud'
usage: hazrun [-C DIR] [-f FILE] [-j N] [-n] [-q | -v]
              [--output=live|buffered] [--grace SECONDS]
              [--timeout SECONDS] [--no-cache] [--summary FILE]
              [--trace FILE] [-h] [--version] [TARGET...]
       hazrun [-C DIR] [-f FILE] why TASK [--summary FILE]
       hazrun [-C DIR] [-f FILE] cache info|verify|clear
       hazrun [-C DIR] [-f FILE] cache clean [--dry-run] [--broken]
              [--max-age SECONDS] [--max-size BYTES[K|M|G]]
EOF
expect "--output=loud" 2 "$hazrun" -C "$demo" --output=loud

want_err <<'EOF'
hazrun: --timeout needs seconds > 0, got '0'
usage: hazrun [-C DIR] [-f FILE] [-j N] [-n] [-q | -v]
              [--output=live|buffered] [--grace SECONDS]
              [--timeout SECONDS] [--no-cache] [--summary FILE]
              [--trace FILE] [-h] [--version] [TARGET...]
       hazrun [-C DIR] [-f FILE] why TASK [--summary FILE]
       hazrun [-C DIR] [-f FILE] cache info|verify|clear
       hazrun [-C DIR] [-f FILE] cache clean [--dry-run] [--broken]
              [--max-age SECONDS] [--max-size BYTES[K|M|G]]
EOF
expect "--timeout 0" 2 "$hazrun" -C "$demo" --timeout 0

want_err <<'EOF'
hazrun: --grace needs seconds >= 0, got '-1'
usage: hazrun [-C DIR] [-f FILE] [-j N] [-n] [-q | -v]
              [--output=live|buffered] [--grace SECONDS]
              [--timeout SECONDS] [--no-cache] [--summary FILE]
              [--trace FILE] [-h] [--version] [TARGET...]
       hazrun [-C DIR] [-f FILE] why TASK [--summary FILE]
       hazrun [-C DIR] [-f FILE] cache info|verify|clear
       hazrun [-C DIR] [-f FILE] cache clean [--dry-run] [--broken]
              [--max-age SECONDS] [--max-size BYTES[K|M|G]]
EOF
expect "--grace=-1" 2 "$hazrun" -C "$demo" --grace=-1

# --- fixtures ----------------------------------------------------------------

want_out <<'EOF'
workspace: concurrency=auto cancel_grace=5s output=live
tag heavy: cap=1
core:build
  cache: unknown (a dependency would run first)
  root: core
  run: cc -c a.c -o a.o
  deps: core:gen
  weak_deps: core:lint
  tags: heavy slow
  mutex: db ~:scratch shared:cfg
  inputs: a.c include/*.h
  outputs: a.o
  env_from_host: HOME PATH
  env: CFLAGS=-O2
  timeout: 60s
core:gen
  cache: miss (would run)
  root: core
  argv: gen --out include/gen.h
  tags: heavy
  env_from_host: PATH
core:lint
  cache: miss (would run)
  root: core
  run: lint *.c
  tags: heavy
  env_from_host: PATH
EOF
expect "design example" 0 "$hazrun" -C "$data" -f design.hazfile -n

want_out <<'EOF'
workspace: concurrency=3 cancel_grace=0.25s output=buffered
tag io: cap=2
tag net: cap=1
t:argv
  cache: miss (would run)
  argv: printf '%s and %s\n' 'it'\''s' '' 'a b' '$HOME'
  tags: io
  env: EMPTY='' PLAIN=-O2 SPACED='a b'
  timeout: 1.5s
t:shell
  cache: miss (would run)
  run: printf '%s\n' "$HOME" | tr a-z A-Z
  weak_deps: t:argv
  mutex: shared:~:cache net
EOF
expect "quoting in the listing" 0 "$hazrun" -C "$data" -f quoting.hazfile -n

want_err <<'EOF'
errors.hazfile:3: concurrency must be 'auto' or an integer >= 1, got '0'
errors.hazfile:4: cancel_grace must be a number of seconds >= 0 such as 5 or 2.5, got '1e3'
errors.hazfile:6: [task core:build] has no 'run' or 'argv'
errors.hazfile:7: unknown key 'rnu' in [task core:build]
errors.hazfile:8: invalid task reference 'core' in deps (expected PROJECT:TASK or ~:TASK)
errors.hazfile:9: timeout must be a number of seconds > 0 such as 60 or 2.5, got '0'
errors.hazfile:11: duplicate section [task core:build] (first at line 6)
EOF
expect "a bad hazfile" 2 "$hazrun" -C "$data" -f errors.hazfile -n

# The wording of graph errors belongs to the graph validator.
expect_match "an invalid graph" 2 err '^cycle\.hazfile:[0-9]+: .*cycle' \
    "$hazrun" -C "$data" -f cycle.hazfile -n

# --- usage ---------------------------------------------------------------------

want_out <<'EOF'
usage: hazrun [-C DIR] [-f FILE] [-j N] [-n] [-q | -v]
              [--output=live|buffered] [--grace SECONDS]
              [--timeout SECONDS] [--no-cache] [--summary FILE]
              [--trace FILE] [-h] [--version] [TARGET...]
       hazrun [-C DIR] [-f FILE] why TASK [--summary FILE]
       hazrun [-C DIR] [-f FILE] cache info|verify|clear
       hazrun [-C DIR] [-f FILE] cache clean [--dry-run] [--broken]
              [--max-age SECONDS] [--max-size BYTES[K|M|G]]

Run the tasks of a hazfile workspace: the TARGETs and the tasks they
depend on, or every task when no TARGET is given.  A TARGET is
PROJECT:TASK, or a task name meaning that task in every project.

  -C DIR             change to directory DIR first
  -f FILE            read FILE instead of ./hazfile
  -j N               run at most N tasks at once (default: the
                     workspace's concurrency, else one per CPU)
  -n                 print the tasks that would run; run nothing
  -q                 quiet: show only the output of tasks that fail,
                     and the summary
  -v                 print each command as it starts:
                     [project:task] $ COMMAND
  --output=MODE      live (lines prefixed with [project:task]) or
                     buffered (each task's output in one block)
  --grace SECONDS    time between SIGTERM and SIGKILL on cancellation
  --timeout SECONDS  stop any task running longer (default: none)
  --no-cache         neither use nor fill the cache
  --summary FILE     write a JSON summary of the run to FILE
  --trace FILE       write a Chrome trace of the run to FILE
                     (open it in Perfetto or chrome://tracing)
  -h, --help         print this help and exit
  --version          print the version and exit

Task output goes to stdout and stderr; hazrun's own lines (-v, the
summary) go to stderr.  On a terminal (stdout and stderr, TERM not
dumb, NO_COLOR unset or empty) a status line [done/total] running:
... stays below the output and the summary is in colour.

`hazrun why TASK` prints what TASK's cache key is made of: its
command, environment, input files and the output of the tasks it
depends on (those must be in the cache).  With --summary FILE, a
summary written by an earlier run, it also says what changed since.

The cache lives in .haz/cache beside the hazfile.  `hazrun cache`
reports on it (info), re-hashes every entry (verify; exit 1 when one is
broken), removes it (clear), or removes broken entries and leftovers
(clean, the default), entries older than --max-age, or the oldest
entries until it fits --max-size; --dry-run only counts.  Name a task
called cache or why as PROJECT:cache or after --.

Exit status: 0 success, 1 a task failed or an internal error,
2 invalid input or usage (nothing ran), 128+N cancelled by signal N
(130 for SIGINT).  A second SIGINT kills every task at once.
EOF
cp "$tmp/want.out" "$tmp/help"
expect "-h" 0 "$hazrun" -h
cp "$tmp/help" "$tmp/want.out"
expect "--help, after other options" 0 "$hazrun" -n --help no-such-target

expect_match "--version" 0 out '^hazrun \(hazexec\) [0-9]+\.[0-9]+\.[0-9]+$' \
    "$hazrun" --version

want_err <<'EOF'
hazrun: unknown option '-x'
usage: hazrun [-C DIR] [-f FILE] [-j N] [-n] [-q | -v]
              [--output=live|buffered] [--grace SECONDS]
              [--timeout SECONDS] [--no-cache] [--summary FILE]
              [--trace FILE] [-h] [--version] [TARGET...]
       hazrun [-C DIR] [-f FILE] why TASK [--summary FILE]
       hazrun [-C DIR] [-f FILE] cache info|verify|clear
       hazrun [-C DIR] [-f FILE] cache clean [--dry-run] [--broken]
              [--max-age SECONDS] [--max-size BYTES[K|M|G]]
EOF
expect "unknown option" 2 "$hazrun" -n -x

want_err <<'EOF'
hazrun: unknown option '--dry-run'
usage: hazrun [-C DIR] [-f FILE] [-j N] [-n] [-q | -v]
              [--output=live|buffered] [--grace SECONDS]
              [--timeout SECONDS] [--no-cache] [--summary FILE]
              [--trace FILE] [-h] [--version] [TARGET...]
       hazrun [-C DIR] [-f FILE] why TASK [--summary FILE]
       hazrun [-C DIR] [-f FILE] cache info|verify|clear
       hazrun [-C DIR] [-f FILE] cache clean [--dry-run] [--broken]
              [--max-age SECONDS] [--max-size BYTES[K|M|G]]
EOF
expect "unknown long option" 2 "$hazrun" --dry-run

want_err <<'EOF'
hazrun: option '-C' needs an argument
usage: hazrun [-C DIR] [-f FILE] [-j N] [-n] [-q | -v]
              [--output=live|buffered] [--grace SECONDS]
              [--timeout SECONDS] [--no-cache] [--summary FILE]
              [--trace FILE] [-h] [--version] [TARGET...]
       hazrun [-C DIR] [-f FILE] why TASK [--summary FILE]
       hazrun [-C DIR] [-f FILE] cache info|verify|clear
       hazrun [-C DIR] [-f FILE] cache clean [--dry-run] [--broken]
              [--max-age SECONDS] [--max-size BYTES[K|M|G]]
EOF
expect "missing option argument" 2 "$hazrun" -n -C

expect_match "no hazfile here" 2 err \
    "^hazrun: cannot open 'hazfile': .+" "$hazrun" -C "$tmp/empty" -n

expect_match "no such directory" 2 err \
    "^hazrun: cannot change to directory '.*/no-such-dir': .+" \
    "$hazrun" -C "$tmp/no-such-dir" -n

summary_exit
