#!/bin/sh
# tests/test_examples.sh: tests of the example embedders and the manual
# pages (automake TESTS script).
#
#   simulate   examples/simulate runs a scripted workspace on the mock
#              backends; its output is deterministic, so it must equal
#              tests/data/simulate.expected byte for byte.
#   embed      examples/embed runs its three tasks with the posix backends
#              in a scratch directory; it must exit 0, print its summary
#              line and leave the file its tasks write.
#   man        man/hazrun.1 and man/hazexec.3 must format with
#              `groff -ww -man -Tutf8' without a warning (skipped when groff
#              is not installed); hazexec.3 must name every function and
#              table the public headers declare, and hazrun.1 every option
#              `hazrun --help' lists.
#   docs       docs/README.md links every file of docs/, and README.md
#              links docs/README.md, docs/hazfile.md and docs/cache-key.md.
#
# Out of tree: the sources are found through $HAZ_TEST_SRCDIR, the build
# through $HAZ_TEST_BUILDDIR (both set by AM_TESTS_ENVIRONMENT; default ".").
# To refresh the expected text after an intended change of the scheduler or
# of simulate.c:  examples/simulate > tests/data/simulate.expected
# Exit status: 0 all passed (some may be skipped), 1 some failed, 77 every
# check was skipped, 99 the setup failed.

me=test_examples.sh
. "${HAZ_TEST_SRCDIR:-.}/tests/lib.sh" || exit 99
simulate=$builddir/examples/simulate
embed=$builddir/examples/embed
need_built "$simulate" "$embed" "$hazrun"
make_tmp examples embed
with_skips=yes

# --- simulate ------------------------------------------------------------------

"$simulate" > "$tmp/simulate.out" 2> "$tmp/simulate.err" < /dev/null
status=$?
ok=yes
if [ "$status" -ne 0 ]; then
    echo "simulate: exit status $status, want 0"
    ok=no
fi
if [ -s "$tmp/simulate.err" ]; then
    echo "simulate: unexpected stderr:"
    cat "$tmp/simulate.err"
    ok=no
fi
if ! cmp -s "$srcdir/tests/data/simulate.expected" "$tmp/simulate.out"; then
    echo "simulate: output differs (- expected, + got):"
    diff -u "$srcdir/tests/data/simulate.expected" "$tmp/simulate.out" |
        sed 1,2d
    ok=no
fi
report "simulate: output equals tests/data/simulate.expected" $ok

# The same run twice gives the same bytes (no clock, no address, no host
# detail leaks in).
"$simulate" > "$tmp/simulate.again" 2>&1 < /dev/null
if cmp -s "$tmp/simulate.out" "$tmp/simulate.again"; then
    report "simulate: a second run prints the same bytes" yes
else
    report "simulate: a second run prints the same bytes" no
fi

# --- embed ---------------------------------------------------------------------

summary='embed: 3 tasks: 3 succeeded, 0 failed, 0 skipped, 0 cancelled, 0 errored; exit 0'
embed_abs=$(cd "$(dirname "$embed")" && pwd)/$(basename "$embed")
(cd "$tmp/embed" && "$embed_abs" > ../embed.out 2> ../embed.err < /dev/null)
status=$?
ok=yes
if [ "$status" -ne 0 ]; then
    echo "embed: exit status $status, want 0"
    ok=no
fi
# Live output interleaves at line boundaries in an order that depends on
# timing: compare the lines as a sorted set; the summary comes last.
printf '%s\n' '[demo:greet] hello from hazexec' '[demo:sum] sum: 6' |
    sort > "$tmp/embed.want"
sed '$d' "$tmp/embed.out" | sort > "$tmp/embed.got"
if ! cmp -s "$tmp/embed.want" "$tmp/embed.got"; then
    echo "embed: task output differs (- want, + got):"
    diff -u "$tmp/embed.want" "$tmp/embed.got" | sed 1,2d
    ok=no
fi
if [ "$(sed -n '$p' "$tmp/embed.out")" != "$summary" ]; then
    echo "embed: last line is not the summary; stdout was:"
    cat "$tmp/embed.out"
    ok=no
fi
if [ -s "$tmp/embed.err" ]; then
    echo "embed: unexpected stderr:"
    cat "$tmp/embed.err"
    ok=no
fi
if [ "$(cat "$tmp/embed/numbers.txt" 2>/dev/null)" != "$(printf '1\n2\n3')" ]
then
    echo "embed: numbers.txt is missing or wrong"
    ok=no
fi
report "embed: runs its graph in a scratch directory" $ok

# --- manual pages ----------------------------------------------------------------

for page in hazrun.1 hazexec.3; do
    name="man: groff reads man/$page without a warning"
    if ! command -v groff > /dev/null 2>&1; then
        report "$name (groff is not installed)" skip
        continue
    fi
    groff -ww -man -Tutf8 "$srcdir/man/$page" > /dev/null 2> "$tmp/groff.err"
    status=$?
    if [ "$status" -eq 0 ] && [ ! -s "$tmp/groff.err" ]; then
        report "$name" yes
    else
        echo "groff exited with $status:"
        cat "$tmp/groff.err"
        report "$name" no
    fi
done

# Every public function and methods table: the name declared on each
# HAZ_API line of the headers.
missing=
for name in $(sed -n 's/^HAZ_API[^(;]*[ *]\(haz_[a-z0-9_]*\) *[(;].*/\1/p' \
                  "$srcdir"/include/hazexec/*.h | sort -u); do
    grep -qw -- "$name" "$srcdir/man/hazexec.3" || missing="$missing $name"
done
if [ -z "$missing" ]; then
    report "man: hazexec.3 names every public function" yes
else
    echo "man/hazexec.3 does not name:$missing"
    report "man: hazexec.3 names every public function" no
fi

# Every option of hazrun's help, in the page's source with its \- escapes
# undone.
missing=
sed 's/\\-/-/g' "$srcdir/man/hazrun.1" > "$tmp/hazrun.1.txt"
for opt in $("$hazrun" --help | grep -oE -- '(^|[][ ])--?[A-Za-z][A-Za-z-]*' |
             sed 's/^[][ ]*//' | sort -u); do
    grep -qe "$opt" "$tmp/hazrun.1.txt" || missing="$missing $opt"
done
if [ -z "$missing" ]; then
    report "man: hazrun.1 documents every option of hazrun --help" yes
else
    echo "man/hazrun.1 does not document:$missing"
    report "man: hazrun.1 documents every option of hazrun --help" no
fi

# --- docs ----------------------------------------------------------------------

missing=
for f in "$srcdir"/docs/*.md; do
    name=$(basename "$f")
    [ "$name" = README.md ] && continue
    grep -qF "]($name)" "$srcdir/docs/README.md" || missing="$missing $name"
done
if [ -z "$missing" ]; then
    report "docs: docs/README.md links every file of docs/" yes
else
    echo "docs/README.md does not link:$missing"
    report "docs: docs/README.md links every file of docs/" no
fi
missing=
for name in README.md hazfile.md cache-key.md; do
    grep -qF "](docs/$name)" "$srcdir/README.md" || missing="$missing $name"
done
if [ -z "$missing" ]; then
    report "docs: README.md links the docs index and formats" yes
else
    echo "README.md does not link docs/:$missing"
    report "docs: README.md links the docs index and formats" no
fi

summary_exit
