/*
 * tests/testutil.h: the shared CUnit harness of the hazexec tests.
 *
 * A test program is a list of suites, each a CU_TestInfo array, and a
 * one-line main:
 *
 *     static CU_TestInfo ctx_tests[] = {
 *         {"new and free", test_ctx_new_free},
 *         CU_TEST_INFO_NULL
 *     };
 *     static CU_SuiteInfo suites[] = {
 *         HAZ_TEST_SUITE("ctx", ctx_tests),
 *         CU_SUITE_INFO_NULL
 *     };
 *     int main(int argc, char **argv)
 *     {
 *         return haz_test_main(argc, argv, suites);
 *     }
 *
 * Also here: a counting allocator that can fail on demand (for "no leak" and
 * out-of-memory tests), paths to data and scratch files that work out of
 * tree and under `make distcheck`, and small I/O helpers.
 */
#ifndef HAZ_TESTUTIL_H
#define HAZ_TESTUTIL_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <CUnit/Basic.h>

#include "hazexec.h"
#include "compat.h"             /* declarations the platform hides */

/*
 * HAZ_TEST_SUITE(name, tests): a CU_SuiteInfo entry with no init, cleanup or
 * setup/teardown, for the table passed to haz_test_main.  (Designated
 * initialisers, because CU_SuiteInfo gained fields in CUnit 2.1-3.)
 */
#define HAZ_TEST_SUITE(name, tests) { .pName = (name), .pTests = (tests) }

/*
 * haz_test_main: register `suites` and run them with CUnit's basic interface
 * in verbose mode.  With arguments, run only the suite named argv[1] and,
 * if given, only its test named argv[2].
 * Returns the exit status for the automake harness: 0 when every test ran
 * and passed, 1 when any test or suite failed (or a named suite or test does
 * not exist), 99 on a CUnit registry or framework error.
 */
int haz_test_main(int argc, char **argv, CU_SuiteInfo *suites);

/* ------------------------------------------------------------------------
 * The counting, failing allocator.
 *
 *     haz_test_mem tm;
 *     haz_ctx *ctx;
 *     haz_test_mem_init(&tm);
 *     CU_ASSERT_EQUAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
 *     ...
 *     haz_ctx_free(ctx);
 *     CU_ASSERT_EQUAL(tm.live, 0);        no leak
 *
 * Every allocation call (malloc, calloc, realloc) is numbered from 1.  With
 * haz_test_mem_fail_at(&tm, n, persistent), call number n returns NULL
 * (and, when persistent, every call after it).  Freeing NULL is not
 * counted.  A realloc that moves a block keeps `live` unchanged.
 * ---------------------------------------------------------------------- */
typedef struct haz_test_mem {
    haz_mem mem;               /* pass &tm.mem to haz_ctx_new */
    long live;                 /* blocks allocated and not yet freed */
    unsigned long calls;       /* allocation calls so far */
    unsigned long failures;    /* calls that were made to fail */
    unsigned long fail_at;     /* call number to fail, 0 = never */
    int persistent;            /* fail every call from fail_at on */
} haz_test_mem;

/* haz_test_mem_init: zero the counters and point the hooks at libc. */
void haz_test_mem_init(haz_test_mem *tm);

/* haz_test_mem_fail_at: fail allocation call number `n` counted from now
 * (1 = the next call); 0 disables failures.  Resets `calls` and `failures`
 * but not `live`. */
void haz_test_mem_fail_at(haz_test_mem *tm, unsigned long n, int persistent);

/* ------------------------------------------------------------------------
 * Files.
 * ---------------------------------------------------------------------- */

/* haz_test_srcdir: the source tree ($HAZ_TEST_SRCDIR, else "."), read-only
 * under distcheck.  haz_test_builddir: the build tree ($HAZ_TEST_BUILDDIR,
 * else "."), writable. */
const char *haz_test_srcdir(void);
const char *haz_test_builddir(void);

/*
 * haz_test_data_path: write "<srcdir>/tests/data/<rel>" to buf (size n).
 * Returns buf, or NULL when it does not fit.
 */
char *haz_test_data_path(char *buf, size_t n, const char *rel);

/*
 * haz_test_mkdtemp: create a fresh, empty directory
 * "<builddir>/tests/tmp/<prefix>-XXXXXX" and write its path to buf (size n).
 * Returns buf, or NULL on failure (errno set).  `make clean` removes
 * tests/tmp; remove the directory yourself with haz_test_rmtree.
 */
char *haz_test_mkdtemp(char *buf, size_t n, const char *prefix);

/*
 * haz_test_rmtree: remove `path` and, for a directory, everything under it
 * (symbolic links are removed, not followed).  Returns 0 or -1 with errno.
 */
int haz_test_rmtree(const char *path);

/* haz_test_write_file: create or truncate `path` with `n` bytes of `data`.
 * Returns 0 or -1 with errno. */
int haz_test_write_file(const char *path, const void *data, size_t n);

/*
 * haz_test_read_fd: read from fd until end of file or until `cap` bytes are
 * read, retrying EINTR.  Returns the byte count or -1 with errno.  The data
 * is not NUL-terminated.
 */
long haz_test_read_fd(int fd, void *buf, size_t cap);

/*
 * haz_test_group_gone: 1 once process group pgid has no process left, 0
 * when one is still there after about 10 s (polled every millisecond).
 * With `subreaper` set the caller is a child subreaper (Linux prctl
 * PR_SET_CHILD_SUBREAPER), so every process left in the group is its
 * child: those that ended are reaped here, and ECHILD from waitpid(-pgid)
 * says the group is gone.  kill(-pgid, 0) cannot say it once the leader
 * was reaped, since its number may have been reused by an unrelated group
 * (as happens on a busy machine); without `subreaper` it is the only
 * test.
 */
int haz_test_group_gone(long pgid, int subreaper);

/*
 * haz_test_replace: a copy of `text` with every occurrence of `from`
 * written `to` (none when `from` is NULL or empty), malloc'd: the caller
 * frees it.  NULL when out of memory.  Tests write a scratch directory as
 * "/WS" so that expected traces are fixed texts.
 */
char *haz_test_replace(const char *text, const char *from, const char *to);

/*
 * haz_test_outcome: the outcome of the task with id `id` ("project:task")
 * in r, or NULL (after a line on stderr naming it) when r is NULL or has
 * none: the caller fails the test, fatally or not.
 */
const haz_task_outcome *haz_test_outcome(const haz_run_result *r,
                                         const char *id);

/*
 * haz_test_join_diags: every diagnostic's text, each followed by "\n",
 * in a malloc'd string the caller frees ("" for none).  Out of memory is
 * a fatal test failure.
 */
char *haz_test_join_diags(const haz_diags *d);

/* Compare two whole texts; on a mismatch print both, with the line. */
#define HAZ_TEST_ASSERT_TEXT(actual, expected)                             \
    do {                                                                   \
        const char *a_ = (actual), *e_ = (expected);                      \
        if (strcmp(a_, e_) != 0)                                           \
            fprintf(stderr, "\n%s:%d: text mismatch\n--- expected\n%s"     \
                    "--- actual\n%s---\n", __FILE__, __LINE__, e_, a_);    \
        CU_ASSERT_STRING_EQUAL(a_, e_);                                    \
    } while (0)

#endif /* HAZ_TESTUTIL_H */
