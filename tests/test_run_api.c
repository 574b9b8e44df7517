/*
 * tests/test_run_api.c: the parts of the run API that stand apart from the
 * scheduler loop: the cancel token (request, escalation, pending and
 * acknowledgement, the self-pipe), run option defaults, haz_online_cpus,
 * the exit-code function of design 2.11 (EXEC-021, reference-exec.md
 * 5.2 and scenario U16) and the printable outcome names.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "result.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

/* 1 when fd is readable right now. */
static int readable(int fd)
{
    fd_set r;
    struct timeval tv = {0, 0};

    FD_ZERO(&r);
    FD_SET(fd, &r);
    return select(fd + 1, &r, NULL, NULL, &tv) == 1;
}

/* ------------------------------------------------------------------------
 * The cancel token.
 * ---------------------------------------------------------------------- */

static void test_cancel_fresh(void)
{
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_cancel *c = NULL;
    int fd;

    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(ctx, &c), HAZ_OK);
    CU_ASSERT_EQUAL(haz_cancel_requested(c), 0);
    CU_ASSERT_EQUAL(haz_cancel_count(c), 0);
    CU_ASSERT_EQUAL(haz_cancel_signal(c), 0);
    CU_ASSERT_EQUAL(haz_cancel_pending(c), 0);
    fd = haz_cancel_fd(c);
    CU_ASSERT(fd > 2);
    /* Close-on-exec and non-blocking, so no child inherits it and the
     * request never blocks in a signal handler. */
    CU_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    CU_ASSERT(fcntl(fd, F_GETFL) & O_NONBLOCK);
    CU_ASSERT_EQUAL(readable(fd), 0);
    haz_cancel_free(c);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_cancel_request_and_ack(void)
{
    haz_ctx *ctx;
    haz_cancel *c = NULL;
    int fd;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(ctx, &c), HAZ_OK);
    fd = haz_cancel_fd(c);

    errno = 1234;
    haz_cancel_request(c, SIGINT);
    CU_ASSERT_EQUAL(errno, 1234);           /* errno preserved */
    CU_ASSERT_EQUAL(haz_cancel_requested(c), 1);
    CU_ASSERT_EQUAL(haz_cancel_count(c), 1);
    CU_ASSERT_EQUAL(haz_cancel_signal(c), SIGINT);
    CU_ASSERT_EQUAL(haz_cancel_pending(c), 1);
    CU_ASSERT_EQUAL(readable(fd), 1);

    haz_cancel_ack(c);
    CU_ASSERT_EQUAL(haz_cancel_pending(c), 0);
    CU_ASSERT_EQUAL(readable(fd), 0);
    CU_ASSERT_EQUAL(haz_cancel_requested(c), 1);   /* stays requested */

    /* A second request escalates; the first signal is kept. */
    haz_cancel_request(c, SIGTERM);
    CU_ASSERT_EQUAL(haz_cancel_count(c), 2);
    CU_ASSERT_EQUAL(haz_cancel_signal(c), SIGINT);
    CU_ASSERT_EQUAL(haz_cancel_pending(c), 1);
    CU_ASSERT_EQUAL(readable(fd), 1);
    haz_cancel_ack(c);
    CU_ASSERT_EQUAL(haz_cancel_pending(c), 0);
    CU_ASSERT_EQUAL(readable(fd), 0);

    haz_cancel_free(c);
    haz_ctx_free(ctx);
}

static void test_cancel_many_requests(void)
{
    haz_ctx *ctx;
    haz_cancel *c = NULL;
    int i;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(ctx, &c), HAZ_OK);
    /* More requests than the pipe holds bytes: never blocks, saturates. */
    for (i = 0; i < 200000; i++)
        haz_cancel_request(c, 0);
    CU_ASSERT_EQUAL(haz_cancel_signal(c), 0);
    CU_ASSERT_EQUAL(haz_cancel_count(c), 100);
    CU_ASSERT_EQUAL(haz_cancel_pending(c), 1);
    haz_cancel_ack(c);
    CU_ASSERT_EQUAL(haz_cancel_pending(c), 0);
    CU_ASSERT_EQUAL(readable(haz_cancel_fd(c)), 0);
    haz_cancel_free(c);
    haz_ctx_free(ctx);
}

static void test_cancel_null(void)
{
    haz_ctx *ctx;
    haz_cancel *c = (haz_cancel *)1;

    CU_ASSERT_EQUAL(haz_cancel_new(NULL, &c), HAZ_EINVAL);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    CU_ASSERT_EQUAL(haz_cancel_new(ctx, NULL), HAZ_EINVAL);
    haz_cancel_request(NULL, SIGINT);
    haz_cancel_ack(NULL);
    haz_cancel_free(NULL);
    CU_ASSERT_EQUAL(haz_cancel_requested(NULL), 0);
    CU_ASSERT_EQUAL(haz_cancel_count(NULL), 0);
    CU_ASSERT_EQUAL(haz_cancel_pending(NULL), 0);
    CU_ASSERT_EQUAL(haz_cancel_signal(NULL), 0);
    CU_ASSERT_EQUAL(haz_cancel_fd(NULL), -1);
    haz_ctx_free(ctx);
}

static void test_cancel_alloc_failure(void)
{
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_cancel *c = (haz_cancel *)1;

    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    haz_test_mem_fail_at(&tm, 1, 0);
    CU_ASSERT_EQUAL(haz_cancel_new(ctx, &c), HAZ_ENOMEM);
    CU_ASSERT_PTR_NULL(c);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* ------------------------------------------------------------------------
 * Options.
 * ---------------------------------------------------------------------- */

static void test_options_defaults(void)
{
    haz_run_options o;

    memset(&o, 0xa5, sizeof(o));
    haz_run_options_init(&o);
    CU_ASSERT_EQUAL(o.version, HAZ_RUN_OPTIONS_VERSION);
    CU_ASSERT_EQUAL(o.concurrency, 0);                  /* auto */
    CU_ASSERT(o.cancel_grace_ns == UINT64_C(5000000000)); /* CFG-031 */
    CU_ASSERT(o.default_timeout_ns == 0);
    CU_ASSERT_PTR_NULL(o.workspace_root);
    CU_ASSERT_PTR_NULL(o.host_env);
    CU_ASSERT(o.created_at == 0);
    CU_ASSERT_EQUAL(o.no_cache, 0);
    haz_run_options_init(NULL);                         /* harmless */
}

static void test_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    CU_ASSERT(haz_online_cpus() >= 1);                  /* EXEC-004 */
    if (n >= 1)
        CU_ASSERT_EQUAL(haz_online_cpus(), (unsigned)n);
}

/* ------------------------------------------------------------------------
 * Exit codes (EXEC-021, design 2.11): the table of reference-exec.md 5.2,
 * evaluated top to bottom.
 * ---------------------------------------------------------------------- */

static haz_run_result *result_of(haz_ctx *ctx, const haz_outcome_kind *k,
                                 const haz_run_state *st, size_t n)
{
    haz_run_result *r = haz__run_result_new(ctx, n);
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    for (i = 0; i < n; i++) {
        haz__run_result_outcome(r, i)->kind = k[i];
        haz__run_result_outcome(r, i)->state = st[i];
    }
    return r;
}

static void test_exit_codes(void)
{
    static const haz_outcome_kind ok_k[] = {HAZ_OUTCOME_COMPLETED,
                                            HAZ_OUTCOME_COMPLETED};
    static const haz_run_state ok_s[] = {HAZ_STATE_SUCCEEDED,
                                         HAZ_STATE_SUCCEEDED};
    static const haz_outcome_kind fail_k[] = {HAZ_OUTCOME_COMPLETED,
                                              HAZ_OUTCOME_SKIPPED};
    static const haz_run_state fail_s[] = {HAZ_STATE_FAILED,
                                           HAZ_STATE_SUCCEEDED};
    static const haz_outcome_kind err_k[] = {HAZ_OUTCOME_ERRORED,
                                             HAZ_OUTCOME_COMPLETED};
    static const haz_outcome_kind quiet_k[] = {HAZ_OUTCOME_SKIPPED,
                                               HAZ_OUTCOME_CANCELLED};
    haz_ctx *ctx;
    haz_run_result *r;
    haz_violation v;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);

    /* Rows 1 and 2: the signal wins over everything (U16: 130, 143). */
    r = result_of(ctx, fail_k, fail_s, 2);
    CU_ASSERT_EQUAL(haz_exit_code(r, SIGINT), 130);
    CU_ASSERT_EQUAL(haz_exit_code(r, SIGTERM), 143);
    CU_ASSERT_EQUAL(haz_exit_code(r, 1), 129);
    /* Row 5: a Failed completion. */
    CU_ASSERT_EQUAL(haz_exit_code(r, 0), HAZ_EXIT_FAILED);
    haz_run_result_free(r);

    /* Row 3: an executor error. */
    r = result_of(ctx, err_k, ok_s, 2);
    CU_ASSERT_EQUAL(haz_exit_code(r, 0), 1);
    CU_ASSERT_EQUAL(haz_exit_code(r, SIGINT), 130);
    haz_run_result_free(r);

    /* Row 4: a violation, even when every task succeeded. */
    r = result_of(ctx, ok_k, ok_s, 2);
    CU_ASSERT_EQUAL(haz_exit_code(r, 0), 0);
    memset(&v, 0, sizeof(v));
    v.kind = HAZ_VIOLATION_OUTPUT_OVERLAP;
    CU_ASSERT_EQUAL(haz__run_result_add_violation(r, &v), HAZ_OK);
    CU_ASSERT_EQUAL(haz_exit_code(r, 0), 1);
    CU_ASSERT_EQUAL(haz_exit_code(r, SIGTERM), 143);
    haz_run_result_free(r);

    /* Row 6: Skipped and Cancelled alone are not failures. */
    r = result_of(ctx, quiet_k, ok_s, 2);
    CU_ASSERT_EQUAL(haz_exit_code(r, 0), 0);
    haz_run_result_free(r);

    /* An empty run, and no result at all (U21). */
    r = result_of(ctx, NULL, NULL, 0);
    CU_ASSERT_EQUAL(haz_exit_code(r, 0), 0);
    CU_ASSERT_EQUAL(haz_run_result_count(r), 0);
    CU_ASSERT_PTR_NULL(haz_run_result_get(r, 0));
    haz_run_result_free(r);
    CU_ASSERT_EQUAL(haz_exit_code(NULL, 0), 0);
    CU_ASSERT_EQUAL(haz_exit_code(NULL, SIGINT), 130);

    haz_ctx_free(ctx);
}

static void test_result_accessors(void)
{
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_run_result *r;
    haz_violation v;
    size_t n = 99, i;
    char *s;

    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    r = haz__run_result_new(ctx, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(haz_run_result_count(r), 3);
    CU_ASSERT_EQUAL(haz_run_result_get(r, 2)->kind, HAZ_OUTCOME_NONE);
    CU_ASSERT_PTR_NULL(haz_run_result_get(r, 3));
    CU_ASSERT_PTR_NULL(haz_run_result_violations(r, &n));
    CU_ASSERT_EQUAL(n, 0);
    memset(&v, 0, sizeof(v));
    for (i = 0; i < 10; i++) {
        v.kind = i % 2 ? HAZ_VIOLATION_RUNTIME_CYCLE
                       : HAZ_VIOLATION_OUTPUT_OVERLAP;
        CU_ASSERT_EQUAL(haz__run_result_add_violation(r, &v), HAZ_OK);
    }
    CU_ASSERT_PTR_NOT_NULL(haz_run_result_violations(r, &n));
    CU_ASSERT_EQUAL(n, 10);
    CU_ASSERT_EQUAL(haz_run_result_violations(r, NULL)[9].kind,
                    HAZ_VIOLATION_RUNTIME_CYCLE);
    s = haz__run_result_strdup(r, "/out/file");
    CU_ASSERT_STRING_EQUAL(s, "/out/file");
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(r), 0);
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(NULL), 0);
    CU_ASSERT_EQUAL(haz_run_result_count(NULL), 0);
    haz_run_result_free(r);
    haz_run_result_free(NULL);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_result_alloc_sweep(void)
{
    haz_test_mem tm;
    haz_ctx *ctx;
    unsigned long n;
    int done = 0;

    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    for (n = 1; !done && n < 100; n++) {
        haz_run_result *r;
        haz_violation v;
        int ok = 1, i;

        haz_test_mem_fail_at(&tm, n, 0);
        r = haz__run_result_new(ctx, 4);
        if (r == NULL)
            continue;
        memset(&v, 0, sizeof(v));
        for (i = 0; i < 6; i++)
            if (haz__run_result_add_violation(r, &v) != HAZ_OK)
                ok = 0;
        if (haz__run_result_strdup(r, "x") == NULL)
            ok = 0;
        haz_run_result_free(r);
        done = ok && tm.failures == 0;
    }
    CU_ASSERT(done);
    haz_test_mem_fail_at(&tm, 0, 0);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_names(void)
{
    CU_ASSERT_STRING_EQUAL(haz_outcome_kind_name(HAZ_OUTCOME_COMPLETED),
                           "completed");
    CU_ASSERT_STRING_EQUAL(haz_outcome_kind_name(HAZ_OUTCOME_ERRORED),
                           "errored");
    CU_ASSERT_STRING_EQUAL(haz_outcome_kind_name((haz_outcome_kind)77),
                           "unknown");
    CU_ASSERT_STRING_EQUAL(haz_skip_cause_name(HAZ_SKIP_UPSTREAM_FAILED),
                           "upstream-failed");
    CU_ASSERT_STRING_EQUAL(haz_skip_cause_name(HAZ_SKIP_ADMISSION_CLOSED),
                           "admission-closed");
    CU_ASSERT_STRING_EQUAL(
        haz_cancel_kind_name(HAZ_CANCEL_SIGNALED_IN_FLIGHT),
        "signaled-in-flight");
    CU_ASSERT_STRING_EQUAL(haz_cancel_kind_name(HAZ_CANCEL_RUN_CANCELLED),
                           "run-cancelled");
    CU_ASSERT_STRING_EQUAL(haz_task_error_name(HAZ_TERR_SPAWN), "spawn");
    CU_ASSERT_STRING_EQUAL(haz_task_error_name(HAZ_TERR_OUTPUT_MISSING),
                           "output-missing");
    CU_ASSERT_STRING_EQUAL(haz_task_error_name((haz_task_error)0),
                           "unknown");
}

static CU_TestInfo cancel_tests[] = {
    {"a new token is quiet", test_cancel_fresh},
    {"request, escalate, acknowledge", test_cancel_request_and_ack},
    {"many requests never block", test_cancel_many_requests},
    {"NULL arguments", test_cancel_null},
    {"allocation failure", test_cancel_alloc_failure},
    CU_TEST_INFO_NULL
};

static CU_TestInfo option_tests[] = {
    {"defaults", test_options_defaults},
    {"online cpus (EXEC-004)", test_online_cpus},
    CU_TEST_INFO_NULL
};

static CU_TestInfo result_tests[] = {
    {"exit codes (EXEC-021, U16)", test_exit_codes},
    {"accessors", test_result_accessors},
    {"allocation failures", test_result_alloc_sweep},
    {"names", test_names},
    CU_TEST_INFO_NULL
};

int main(int argc, char **argv)
{
    CU_SuiteInfo suites[] = {
        HAZ_TEST_SUITE("cancel", cancel_tests),
        HAZ_TEST_SUITE("options", option_tests),
        HAZ_TEST_SUITE("result", result_tests),
        CU_SUITE_INFO_NULL
    };

    return haz_test_main(argc, argv, suites);
}
