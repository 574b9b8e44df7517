# tests/lib.sh: the harness shared by the shell tests (tests/*.sh), read
# with `.` after the script has set `me` (its own name, for messages):
#
#     me=test_foo.sh
#     . "${HAZ_TEST_SRCDIR:-.}/tests/lib.sh" || exit 99
#
# It sets
#     srcdir, builddir   the source and build trees ($HAZ_TEST_SRCDIR and
#                        $HAZ_TEST_BUILDDIR, set by AM_TESTS_ENVIRONMENT;
#                        default "."), so that the tests run out of tree;
#     hazrun             $builddir/examples/hazrun;
#     pass fail skip     the counters, at 0;
# and defines
#     need_built PROG... exit 99 ("$me: PROG is not built") unless each
#                        PROG is an executable file;
#     make_tmp NAME [DIR...]
#                        tmp=$builddir/tests/tmp/NAME.<pid>, made afresh
#                        with the given subdirectories (exit 99 when it
#                        cannot be); it is removed when the script exits
#                        (after calling the script's at_exit, a no-op
#                        unless redefined); signals 1, 2 and 15 exit 99;
#     report NAME RESULT count and print "PASS: NAME" when RESULT is yes,
#                        "SKIP: NAME" when it is skip, else "FAIL: NAME";
#     same NAME WANT GOT report whether the files WANT and GOT are equal,
#                        showing the difference through show_diff (a
#                        script may redefine it) when they are not;
#     show_diff WANT GOT print `diff -u` without its two header lines;
#     summary_exit       print "P passed, F failed" (with ", S skipped"
#                        when the script set with_skips=yes) and exit: 1
#                        when a test failed, 77 when every test was
#                        skipped (with_skips=yes), else 0.
# Exit status convention of every shell test: 0 all passed, 1 some failed,
# 77 skipped, 99 the setup failed.

srcdir=${HAZ_TEST_SRCDIR:-.}
builddir=${HAZ_TEST_BUILDDIR:-.}
hazrun=$builddir/examples/hazrun
pass=0
fail=0
skip=0

need_built() {
    for _p in "$@"; do
        if [ ! -x "$_p" ]; then
            echo "$me: $_p is not built" >&2
            exit 99
        fi
    done
}

at_exit() {
    :
}

make_tmp() {
    tmp=$builddir/tests/tmp/$1.$$
    shift
    rm -rf "$tmp"
    mkdir -p "$tmp" || exit 99
    for _d in "$@"; do
        mkdir -p "$tmp/$_d" || exit 99
    done
    trap 'at_exit; rm -rf "$tmp"' 0
    trap 'exit 99' 1 2 15
}

report() {
    case $2 in
    yes)  pass=$((pass + 1)); echo "PASS: $1" ;;
    skip) skip=$((skip + 1)); echo "SKIP: $1" ;;
    *)    fail=$((fail + 1)); echo "FAIL: $1" ;;
    esac
}

show_diff() {
    diff -u "$1" "$2" | sed 1,2d
}

same() {
    if cmp -s "$2" "$3"; then
        report "$1" yes
    else
        echo "$1: differs (- want, + got):"
        show_diff "$2" "$3"
        report "$1" no
    fi
}

summary_exit() {
    if [ "${with_skips:-}" = yes ]; then
        echo "$pass passed, $fail failed, $skip skipped"
    else
        echo "$pass passed, $fail failed"
    fi
    [ "$fail" -eq 0 ] || exit 1
    if [ "${with_skips:-}" = yes ] && [ "$pass" -eq 0 ] &&
       [ "$skip" -gt 0 ]; then
        exit 77
    fi
    exit 0
}
