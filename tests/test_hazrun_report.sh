#!/bin/sh
# tests/test_hazrun_report.sh: what hazrun writes about a run and reads
# back, end to end (automake TESTS script): the JSON summary (--summary),
# checked field by field; the Chrome trace (--trace), checked for exactly
# one "run" or "restore" slice per task that ran or was restored; and
# `hazrun why`, with and without a previous summary, after changing an
# input file, the environment, a command and a dependency's output.
#
# JSON is checked with tests/t_json (hazrun's strict reader plus a path
# syntax), so no python is needed.  Every workspace runs with -j 1 so the
# slots of the trace are known; nothing depends on timing.
#
# Out of tree: the build is found through $HAZ_TEST_BUILDDIR (set by
# AM_TESTS_ENVIRONMENT; default ".").  Exit status: 0 all passed, 1 some
# failed, 99 the setup failed.

me=test_hazrun_report.sh
. "${HAZ_TEST_SRCDIR:-.}/tests/lib.sh" || exit 99
tjson=$builddir/tests/t_json
need_built "$hazrun" "$tjson"
make_tmp hazrun_report ws/src
ws=$tmp/ws

# json NAME FILE ARGS... <<WANT: t_json FILE ARGS... must print WANT.
json() {
    name=$1
    shift
    cat > "$tmp/want"
    "$tjson" "$@" > "$tmp/got" 2>&1
    same "$name" "$tmp/want" "$tmp/got"
}

# hex: every 64-digit hex string becomes HEX.
hex() {
    sed 's/[0-9a-f]\{64\}/HEX/g'
}

# sha FILE: the SHA-256 of FILE in hex, or nothing without sha256sum.
sha() {
    if command -v sha256sum > /dev/null 2>&1; then
        sha256sum < "$1" | cut -d ' ' -f 1
    fi
}

# --- the workspace -----------------------------------------------------------------

# ODD's value: a quote, a backslash, a tab, a control byte, a byte that is
# not UTF-8, and UTF-8.
odd=$(printf 'q" b\\ t\t c\001 x\377 u\303\251')
printf 'input one\n' > "$ws/src/in.txt"
# hazfile WORD ENV...: the workspace, p:gen printing WORD, p:use with the
# env.NAME = VALUE lines ENV.
hazfile() {
    word=$1
    shift
    cat <<EOF
[workspace]
concurrency = 1

[task p:gen]
run = mkdir -p out && cat src/in.txt > out/gen.txt && printf '$word\\n'
inputs = src/*.txt
outputs = out/gen.txt

[task p:use]
argv = cat out/gen.txt
deps = p:gen
inputs = out/gen.txt
EOF
    printf '%s\n' "$@"
    cat <<'EOF'

[task p:bad]
run = printf 'bad\n' >&2; exit 4

[task p:after]
run = true
deps = p:bad

[task p:odd]
run = printf '%s\n' "$ODD"
EOF
    printf 'env.ODD = %s\n' "$odd"
}
hazfile generated 'env.MODE = fast' > "$ws/hazfile"
# Variants, read with -f: p:use's environment changed; p:gen's command
# changed.
hazfile generated 'env.MODE = slow' 'env.NEW = 1' > "$ws/hazfile.env"
hazfile made 'env.MODE = fast' > "$ws/hazfile.cmd"
root=$(cd "$ws" && pwd -P)

# --- the first run: summary and trace -------------------------------------------

"$hazrun" -C "$ws" -q --summary "$tmp/s1.json" --trace "$tmp/t1.json" \
    > "$tmp/run1.out" 2> "$tmp/run1.err" < /dev/null
status=$?
report "first run: exit 1 (p:bad fails)" "$([ "$status" = 1 ] && echo yes)"

if "$tjson" "$tmp/s1.json" && "$tjson" "$tmp/t1.json"; then
    report "summary and trace are valid JSON" yes
else
    report "summary and trace are valid JSON" no
fi
if ls "$tmp" | grep -q 'tmp'; then
    report "no temporary file is left beside them" no
else
    report "no temporary file is left beside them" yes
fi

version=$("$hazrun" --version | sed 's/^hazrun (hazexec) //')
json "summary: the run" "$tmp/s1.json" schema schema_version \
    hazexec_version workspace_root hazfile targets/# hash cache \
    concurrency exit_code cancel_signal violations/# <<EOF
hazrun-summary
1
$version
$root
hazfile
0
sha256
true
1
1
null
0
EOF

json "summary: the counts" "$tmp/s1.json" counts/tasks counts/succeeded \
    counts/cached counts/failed counts/errored counts/skipped \
    counts/cancelled <<'EOF'
5
3
0
1
0
1
0
EOF

"$tjson" "$tmp/s1.json" start_time end_time start_unix_ms duration_ns \
    > "$tmp/got"
if sed -n 1,2p "$tmp/got" |
    grep -Ec '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' |
    grep -q '^2$' && sed -n 3,4p "$tmp/got" | grep -Ec '^[0-9]+$' |
    grep -q '^2$'; then
    report "summary: start and end times" yes
else
    cat "$tmp/got"
    report "summary: start and end times" no
fi

json "summary: tasks in canonical order, with their outcome" \
    "$tmp/s1.json" -e tasks id outcome detail cache_hit timed_out <<'EOF'
p:after skipped upstream-failed false false
p:bad completed failed false false
p:gen completed succeeded false false
p:odd completed succeeded false false
p:use completed succeeded false false
EOF

"$tjson" "$tmp/s1.json" -e tasks key > "$tmp/got"
printf '%s\n' null HEX HEX HEX HEX > "$tmp/want"
hex < "$tmp/got" > "$tmp/got.hex"
same "summary: a key for every task that was looked up" \
    "$tmp/want" "$tmp/got.hex"

json "summary: the failed task" "$tmp/s1.json" tasks/id=p:bad/exit/code \
    tasks/id=p:bad/upstream tasks/id=p:bad/error tasks/id=p:bad/outputs/# \
    <<'EOF'
4
null
null
0
EOF

"$tjson" "$tmp/s1.json" tasks/id=p:after/upstream tasks/id=p:after/exit \
    tasks/id=p:after/start_ns tasks/id=p:after/components \
    tasks/id=p:after/components_error > "$tmp/got"
if sed -n 1,4p "$tmp/got" | tr '\n' ' ' | grep -q '^p:bad null null null $' &&
    sed -n 5p "$tmp/got" | grep -q 'p:bad'; then
    report "summary: the skipped task names its cause, has no key" yes
else
    cat "$tmp/got"
    report "summary: the skipped task names its cause, has no key" no
fi

json "summary: a shell action's components" "$tmp/s1.json" \
    tasks/id=p:gen/components/action/kind \
    tasks/id=p:gen/components/action/script \
    tasks/id=p:gen/components/inputs/# \
    tasks/id=p:gen/components/inputs/0/path \
    tasks/id=p:gen/components/predecessors/# tasks/id=p:gen/outputs/0 \
    tasks/id=p:gen/exit/code <<'EOF'
shell
mkdir -p out && cat src/in.txt > out/gen.txt && printf 'generated\n'
1
/src/in.txt
0
/out/gen.txt
0
EOF

json "summary: an argv action, its environment and dependency" \
    "$tmp/s1.json" tasks/id=p:use/components/action/kind \
    tasks/id=p:use/components/action/argv/# \
    tasks/id=p:use/components/action/argv/0 \
    tasks/id=p:use/components/action/argv/1 \
    tasks/id=p:use/components/env/0/name \
    tasks/id=p:use/components/env/0/value \
    tasks/id=p:use/components/env/1/name \
    tasks/id=p:use/components/predecessors/0/id <<'EOF'
argv
2
cat
out/gen.txt
MODE
fast
PATH
p:gen
EOF

a=$("$tjson" "$tmp/s1.json" tasks/id=p:use/components/predecessors/0/stdout_hash)
b=$("$tjson" "$tmp/s1.json" tasks/id=p:gen/stdout_hash)
c=$("$tjson" "$tmp/s1.json" tasks/id=p:gen/components/key)
d=$("$tjson" "$tmp/s1.json" tasks/id=p:gen/key)
if [ "$a" = "$b" ] && [ "$c" = "$d" ] &&
    echo "$a" | grep -Eq '^[0-9a-f]{64}$'; then
    report "summary: the dependency's hash is its stdout hash; same key" yes
else
    report "summary: the dependency's hash is its stdout hash; same key" no
fi

if [ -n "$(sha "$ws/src/in.txt")" ]; then
    printf 'generated\n' > "$tmp/gen.stdout"
    a=$("$tjson" "$tmp/s1.json" tasks/id=p:gen/components/inputs/0/hash \
        tasks/id=p:gen/stdout_hash)
    b=$(printf '%s\n%s' "$(sha "$ws/src/in.txt")" "$(sha "$tmp/gen.stdout")")
    report "summary: hashes are the SHA-256 of the bytes" \
        "$([ "$a" = "$b" ] && echo yes)"
fi

s=$("$tjson" "$tmp/s1.json" tasks/id=p:gen/start_ns tasks/id=p:gen/end_ns \
    tasks/id=p:gen/duration_ns | tr '\n' ' ')
set -- $s
if [ "$#" = 3 ] && [ $(($2 - $1)) = "$3" ] && [ "$1" -le "$2" ]; then
    report "summary: start, end and duration agree" yes
else
    echo "got: $s"
    report "summary: start, end and duration agree" no
fi

# The odd bytes come back identical, escaped as documented.
"$tjson" "$tmp/s1.json" tasks/id=p:odd/components/env/name=ODD/value \
    > "$tmp/got"
printf '%s\n' "$odd" > "$tmp/want"
same "summary: any bytes round-trip through the JSON string" \
    "$tmp/want" "$tmp/got"
line=$(grep '"value": "q' "$tmp/s1.json")
want_line=$(printf '"value": "q\\" b\\\\ t\\t c\\u0001 x\\u00ff u\303\251"')
case $line in
*"$want_line"*) report "summary: escapes for quote, backslash, tab, \
control, non-UTF-8; UTF-8 kept" yes ;;
*) echo "got: $line"
   report "summary: escapes for quote, backslash, tab, control, \
non-UTF-8; UTF-8 kept" no ;;
esac

# The trace: one slice per phase, all on slot 1 (-j 1).
json "trace: the slices of a cold run" "$tmp/t1.json" -e traceEvents ph name \
    <<'EOF'
M process_name
M thread_name
M thread_sort_index
X lookup p:bad
X run p:bad
X lookup p:gen
X run p:gen
X store p:gen
X lookup p:odd
X run p:odd
X store p:odd
X lookup p:use
X run p:use
X store p:use
EOF
json "trace: process 1, thread slot 1" "$tmp/t1.json" displayTimeUnit \
    traceEvents/name=thread_name/args/name traceEvents/name=thread_name/tid \
    'traceEvents/name=run p:bad/pid' 'traceEvents/name=run p:bad/tid' \
    'traceEvents/name=run p:bad/args/exit/code' \
    'traceEvents/name=run p:gen/args/outcome' <<'EOF'
ms
slot 1
1
1
1
4
succeeded
EOF
"$tjson" "$tmp/t1.json" -e traceEvents ts dur | grep -v '^<missing>' \
    > "$tmp/got"
if [ -s "$tmp/got" ] &&
    ! grep -Ev '^[0-9]+\.[0-9]{3} [0-9]+\.[0-9]{3}$' "$tmp/got"; then
    report "trace: ts and dur in microseconds" yes
else
    report "trace: ts and dur in microseconds" no
fi

# --- the second run: hits --------------------------------------------------------

"$hazrun" -C "$ws" -q --summary "$tmp/s2.json" --trace "$tmp/t2.json" \
    > /dev/null 2>&1 < /dev/null
json "trace: a warm run restores the hits, runs the rest" "$tmp/t2.json" \
    -e traceEvents ph name <<'EOF'
M process_name
M thread_name
M thread_sort_index
X lookup p:bad
X run p:bad
X lookup p:gen
X restore p:gen
X lookup p:odd
X restore p:odd
X lookup p:use
X restore p:use
EOF
json "summary: hits" "$tmp/s2.json" counts/cached \
    tasks/id=p:gen/cache_hit tasks/id=p:gen/exit tasks/id=p:gen/detail \
    tasks/id=p:bad/cache_hit <<'EOF'
3
true
null
succeeded
false
EOF

# --- why ---------------------------------------------------------------------------

"$hazrun" -C "$ws" why p:use > "$tmp/why.out" 2> "$tmp/why.err"
status=$?
cat > "$tmp/want" <<'EOF'
p:use
  key: HEX
  cache: hit (its entry is in the cache)
  action: argv: cat out/gen.txt
  env: MODE=fast
  input: /out/gen.txt HEX
  dependency: p:gen stdout HEX stderr HEX
EOF
grep -v '^  env: PATH=' "$tmp/why.out" | hex > "$tmp/got"
same "why: the components of a key" "$tmp/want" "$tmp/got"
report "why: exit 0, nothing on stderr" \
    "$([ "$status" = 0 ] && [ ! -s "$tmp/why.err" ] && echo yes)"
a=$(sed -n 's/^  key: //p' "$tmp/why.out")
b=$("$tjson" "$tmp/s2.json" tasks/id=p:use/key)
report "why: the key is the one the run used" "$([ "$a" = "$b" ] && echo yes)"

# why_diff NAME STATUS ARGS...: `hazrun -C ws ARGS` must exit STATUS and
# print, after the components, what the heredoc says.
why_diff() {
    name=$1
    want_status=$2
    shift 2
    cat > "$tmp/want"
    "$hazrun" -C "$ws" "$@" > "$tmp/why.out" 2> "$tmp/why.err"
    status=$?
    sed -n '/^changes since /,$p' "$tmp/why.out" > "$tmp/got"
    if [ "$status" != "$want_status" ]; then
        echo "$name: exit status $status, want $want_status"
        cat "$tmp/why.err"
        : > "$tmp/got"
    fi
    same "$name" "$tmp/want" "$tmp/got"
}

why_diff "why: nothing changed since the summary" 0 \
    why p:use --summary "$tmp/s1.json" <<EOF
changes since $tmp/s1.json:
  nothing: the key is the same
EOF

printf 'input two\n' > "$ws/src/in.txt"
why_diff "why: an input file changed" 0 \
    why --summary="$tmp/s1.json" p:gen <<EOF
changes since $tmp/s1.json:
  input /src/in.txt: changed
EOF
grep -q '^  cache: miss' "$tmp/why.out"
report "why: the changed key misses" "$([ $? = 0 ] && echo yes)"

mv "$ws/src/in.txt" "$ws/src/new.txt"
why_diff "why: an input file added, one removed" 0 \
    --summary "$tmp/s1.json" why p:gen <<EOF
changes since $tmp/s1.json:
  input /src/new.txt: added
  input /src/in.txt: removed
EOF

"$hazrun" -C "$ws" why p:use > "$tmp/why.out" 2> "$tmp/why.err"
status=$?
if [ "$status" = 1 ] && [ ! -s "$tmp/why.out" ] &&
    head -n 1 "$tmp/why.err" |
    grep -q '^hazrun: the key of p:use cannot be known yet: .*p:gen'; then
    report "why: a dependency that is not cached: the key is unknown" yes
else
    cat "$tmp/why.err"
    report "why: a dependency that is not cached: the key is unknown" no
fi

mv "$ws/src/new.txt" "$ws/src/in.txt"
printf 'input one\n' > "$ws/src/in.txt"
why_diff "why: the environment changed" 0 \
    -f hazfile.env why p:use --summary "$tmp/s1.json" <<EOF
changes since $tmp/s1.json:
  env MODE: changed from fast to slow
  env NEW: added (1)
EOF

why_diff "why: the command changed" 0 \
    -f hazfile.cmd why p:gen --summary "$tmp/s1.json" <<EOF
changes since $tmp/s1.json:
  action: changed
    was: shell: mkdir -p out && cat src/in.txt > out/gen.txt && printf 'generated\\n'
    now: shell: mkdir -p out && cat src/in.txt > out/gen.txt && printf 'made\\n'
EOF

"$hazrun" -C "$ws" -f hazfile.cmd -q p:gen > /dev/null 2>&1
why_diff "why: a dependency's output changed" 0 \
    -f hazfile.cmd why p:use --summary "$tmp/s1.json" <<EOF
changes since $tmp/s1.json:
  dependency p:gen: output changed (stdout)
EOF

# p:after depends on p:bad, which never succeeds: no key now either.
why_diff "why: a key that cannot be derived now (exit 1)" 1 \
    why p:after --summary "$tmp/s1.json" <<'EOF'
EOF

# Bad summaries: reported with the file's name, exit 2, nothing printed
# on stdout, never a crash.
printf '{"schema": "hazrun-summary",' > "$tmp/cut.json"
printf '{"tasks": []}\n' > "$tmp/other.json"
printf '\000\377{["\001' > "$tmp/bin.json"
printf '{"schema": "hazrun-summary", "schema_version": 1, "tasks": [{"id": "p:gen", "components": {"key": 1}}]}' \
    > "$tmp/shape.json"
for f in cut other bin shape nosuch; do
    "$hazrun" -C "$ws" why p:gen --summary "$tmp/$f.json" \
        > "$tmp/why.out" 2> "$tmp/why.err"
    status=$?
    case $f in
    cut) re="^hazrun: cannot read the summary '.*/cut\\.json': line 1, column [0-9]+: " ;;
    bin) re="^hazrun: cannot read the summary '.*/bin\\.json': line 1, column 1: " ;;
    nosuch) re="^hazrun: cannot read the summary '.*/nosuch\\.json': " ;;
    other) re="^hazrun: '.*/other\\.json' is not a valid hazrun summary: schema is not a string$" ;;
    shape) re="^hazrun: '.*/shape\\.json' is not a valid hazrun summary: components\\.key is not a string$" ;;
    esac
    if [ "$status" = 2 ] && [ "$(wc -l < "$tmp/why.err")" -eq 1 ] &&
        grep -Eq "$re" "$tmp/why.err" && [ ! -s "$tmp/why.out" ]; then
        report "why: a bad summary ($f) is refused" yes
    else
        echo "status $status:"
        cat "$tmp/why.err"
        report "why: a bad summary ($f) is refused" no
    fi
done

"$hazrun" -C "$ws" why p:nope > /dev/null 2> "$tmp/why.err"
status=$?
report "why: an unknown task" "$([ "$status" = 2 ] &&
    grep -q "^hazrun: unknown task 'p:nope'$" "$tmp/why.err" && echo yes)"

# --- writing fails ------------------------------------------------------------------

"$hazrun" -C "$ws" -q p:gen --summary "$tmp/no/such/dir/s.json" \
    > /dev/null 2> "$tmp/err"
status=$?
if [ "$status" = 1 ] && grep -q \
    "^hazrun: cannot write the summary to '.*/no/such/dir/s\\.json': " \
    "$tmp/err"; then
    report "a summary that cannot be written: said, exit 1" yes
else
    cat "$tmp/err"
    report "a summary that cannot be written: said, exit 1" no
fi

# --- the reader itself ---------------------------------------------------------------

printf '"a\\u00ffb\\u00e9\\u0041\\ud83d\\ude00"' > "$tmp/u.json"
"$tjson" "$tmp/u.json" '' > "$tmp/got"
printf 'a\377b\351A\360\237\230\200\n' > "$tmp/want"
same "reader: \\u0080-\\u00ff are bytes, other escapes UTF-8" \
    "$tmp/want" "$tmp/got"
for doc in '[1,]' '{"a":1,"a":2}' '01' '"\ud800"' '[1] x' '{"a" 1}' \
    "$(printf '"\001"')" "$(printf '"\377"')" "$(printf '"\355\240\200"')"; do
    "$tjson" -s "$doc" 2> /dev/null
    st=$?
    shown=$(printf '%s' "$doc" | od -An -c | tr -s ' \n' '  ' | cut -c 1-40)
    report "reader: refuses${shown} with status 1" \
        "$([ "$st" = 1 ] && echo yes)"
done

# Every run above used the workspace's cache (.haz/cache): it verifies
# clean, each entry re-hashed.
"$hazrun" -C "$ws" cache verify > "$tmp/got" 2> "$tmp/verify.err" < /dev/null
status=$?
cat > "$tmp/want" <<EOF
cache: $root/.haz/cache
entries: 4
bytes: 1619
broken: 0
temporaries: 0
verify: 4 entries ok, 0 broken
EOF
same "cache verify: the cache of every run above is clean" \
    "$tmp/want" "$tmp/got"
report "cache verify: exit status 0, nothing on stderr" \
    "$([ "$status" = 0 ] && [ ! -s "$tmp/verify.err" ] && echo yes)"
summary_exit
