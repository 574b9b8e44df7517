/*
 * tests/test_clock.c: the clock core (lib/clock.c) and the posix and mock
 * clock backends.
 *
 * No real elapsed time decides a test: the posix clock is only checked to
 * never go back and to agree with time(NULL) read around it; everything
 * exact is checked on the mock clock.  Opening is checked with bad
 * arguments, bad methods tables, failing backends and a failing allocator
 * (nothing may leak).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"

#include <string.h>
#include <time.h>

#define NS UINT64_C(1000000000)
#define EPOCH HAZ_CLOCK_MOCK_WALL_EPOCH

static haz_clock *open_ok(haz_ctx *ctx, const haz_clock_methods *m)
{
    haz_clock *clk = NULL;

    CU_ASSERT_EQUAL(haz_clock_open(ctx, m, NULL, &clk), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL(clk);
    return clk;
}

/* ------------------------------------------------------------------------
 * posix
 * ---------------------------------------------------------------------- */

static void test_posix_open_close(void)
{
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_clock *clk;

    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    clk = open_ok(ctx, &haz_clock_posix);
    CU_ASSERT_PTR_EQUAL(clk->methods, &haz_clock_posix);
    CU_ASSERT_STRING_EQUAL(haz_clock_posix.name, "posix");
    CU_ASSERT_EQUAL(haz_clock_posix.version, HAZ_CLOCK_METHODS_VERSION);
    haz_clock_close(clk);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_posix_monotonic(void)
{
    haz_ctx *ctx;
    haz_clock *a, *b;
    uint64_t prev_a, prev_b, t;
    long i;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    a = open_ok(ctx, &haz_clock_posix);
    b = open_ok(ctx, &haz_clock_posix);
    prev_a = haz_clock_now_ns(a);
    prev_b = haz_clock_now_ns(b);
    for (i = 0; i < 200000; i++) {
        t = haz_clock_now_ns(a);
        if (t < prev_a) {
            CU_FAIL("posix clock went back");
            break;
        }
        prev_a = t;
        if (i % 7 == 0) {
            t = haz_clock_now_ns(b);
            if (t < prev_b) {
                CU_FAIL("second posix clock went back");
                break;
            }
            prev_b = t;
        }
    }
    haz_clock_close(a);
    haz_clock_close(b);
    haz_ctx_free(ctx);
}

static void test_posix_wall(void)
{
    haz_ctx *ctx;
    haz_clock *clk;
    time_t t0, t1;
    int64_t w;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    clk = open_ok(ctx, &haz_clock_posix);
    t0 = time(NULL);
    w = haz_clock_wall_seconds(clk);
    t1 = time(NULL);
    CU_ASSERT(w >= (int64_t)t0);
    CU_ASSERT(w <= (int64_t)t1);
    CU_ASSERT(w > INT64_C(1600000000));  /* after September 2020 */
    haz_clock_close(clk);
    haz_ctx_free(ctx);
}

static void test_posix_rejects_mock_controls(void)
{
    haz_ctx *ctx;
    haz_clock *clk;
    uint64_t before;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    clk = open_ok(ctx, &haz_clock_posix);
    before = haz_clock_now_ns(clk);
    CU_ASSERT_EQUAL(haz_clock_mock_set(clk, UINT64_MAX / 2), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(clk, UINT64_MAX / 2), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_clock_mock_set_wall(clk, 0), HAZ_EINVAL);
    /* Nothing jumped. */
    CU_ASSERT(haz_clock_now_ns(clk) >= before);
    CU_ASSERT(haz_clock_now_ns(clk) < UINT64_MAX / 2);
    CU_ASSERT(haz_clock_wall_seconds(clk) > INT64_C(1600000000));
    CU_ASSERT_EQUAL(haz_clock_mock_set(NULL, 1), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(NULL, 1), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_clock_mock_set_wall(NULL, 1), HAZ_EINVAL);
    haz_clock_close(clk);
    haz_ctx_free(ctx);
}

static CU_TestInfo posix_tests[] = {
    {"open and close", test_posix_open_close},
    {"never goes back", test_posix_monotonic},
    {"wall seconds agree with time()", test_posix_wall},
    {"mock controls return EINVAL", test_posix_rejects_mock_controls},
    CU_TEST_INFO_NULL
};

/* ------------------------------------------------------------------------
 * mock
 * ---------------------------------------------------------------------- */

static haz_ctx *mctx;
static haz_clock *mclk;

static void mock_setup(void)
{
    mctx = NULL;
    mclk = NULL;
    if (haz_ctx_new(&mctx, NULL) == HAZ_OK)
        haz_clock_open(mctx, &haz_clock_mock, NULL, &mclk);
}

static void mock_teardown(void)
{
    haz_clock_close(mclk);
    haz_ctx_free(mctx);
}

static void test_mock_start(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(mclk);
    CU_ASSERT_PTR_EQUAL(mclk->methods, &haz_clock_mock);
    CU_ASSERT_STRING_EQUAL(haz_clock_mock.name, "mock");
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), 0);
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), 0);   /* does not move alone */
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(mclk), EPOCH);
}

static void test_mock_set(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(mclk);
    CU_ASSERT_EQUAL(haz_clock_mock_set(mclk, 5), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), 5);
    CU_ASSERT_EQUAL(haz_clock_mock_set(mclk, 5), HAZ_OK);    /* same time */
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), 5);
    CU_ASSERT_EQUAL(haz_clock_mock_set(mclk, 4), HAZ_EINVAL); /* backwards */
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), 5);
    CU_ASSERT_EQUAL(haz_clock_mock_set(mclk, 0), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_clock_mock_set(mclk, 7 * NS + 3), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), 7 * NS + 3);
    CU_ASSERT_EQUAL(haz_clock_mock_set(mclk, UINT64_MAX), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), UINT64_MAX);
}

static void test_mock_advance(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(mclk);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, 0), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), 0);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, 1), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), 1);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, 5 * NS), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), 5 * NS + 1);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, UINT64_MAX - 5 * NS - 1),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), UINT64_MAX);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, 0), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, 1), HAZ_ERANGE);
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), UINT64_MAX);
}

static void test_mock_advance_overflow(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(mclk);
    CU_ASSERT_EQUAL(haz_clock_mock_set(mclk, 10), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, UINT64_MAX), HAZ_ERANGE);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, UINT64_MAX - 9), HAZ_ERANGE);
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), 10);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, UINT64_MAX - 10), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), UINT64_MAX);
}

static void test_mock_wall(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(mclk);
    /* Whole seconds only. */
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, NS - 1), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(mclk), EPOCH);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, 1), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(mclk), EPOCH + 1);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, 2 * NS + NS / 2), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(mclk), EPOCH + 3);   /* 3.5 s */
    CU_ASSERT_EQUAL(haz_clock_mock_set(mclk, 10 * NS), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(mclk), EPOCH + 10);

    /* set_wall pins the wall time to the current monotonic time; seconds
     * are then counted from there, not from the epoch of the mock. */
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, NS / 2), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_mock_set_wall(mclk, 100), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(mclk), 100);
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), 10 * NS + NS / 2); /* unmoved */
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, NS * 6 / 10), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(mclk), 100);   /* 0.6 s since */
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, NS * 4 / 10), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(mclk), 101);   /* 1.0 s since */
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, 3600 * NS), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(mclk), 3701);

    /* Any value, even going back or before 1970. */
    CU_ASSERT_EQUAL(haz_clock_mock_set_wall(mclk, -5), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(mclk), -5);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, 7 * NS), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(mclk), 2);

    /* Saturates instead of overflowing. */
    CU_ASSERT_EQUAL(haz_clock_mock_set_wall(mclk, INT64_MAX - 1), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, 10 * NS), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(mclk), INT64_MAX);
}

static void test_mock_independent(void)
{
    haz_clock *other;

    CU_ASSERT_PTR_NOT_NULL_FATAL(mclk);
    other = open_ok(mctx, &haz_clock_mock);
    CU_ASSERT_EQUAL(haz_clock_mock_advance(mclk, 42), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_mock_set_wall(mclk, 7), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_now_ns(other), 0);
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(other), EPOCH);
    CU_ASSERT_EQUAL(haz_clock_now_ns(mclk), 42);
    haz_clock_close(other);
}

static CU_TestInfo mock_tests[] = {
    {"starts at 0 and the mock epoch", test_mock_start},
    {"set", test_mock_set},
    {"advance", test_mock_advance},
    {"advance overflow is ERANGE", test_mock_advance_overflow},
    {"wall time", test_mock_wall},
    {"clocks are independent", test_mock_independent},
    CU_TEST_INFO_NULL
};

/* ------------------------------------------------------------------------
 * haz_clock_open / close with bad arguments and failing backends.
 * ---------------------------------------------------------------------- */

/* A third-party style backend whose behaviour the tests choose. */
typedef struct test_clock {
    haz_clock base;
    long double ld;       /* alignment check: written by open */
    uint64_t u64;
    const void *config;
} test_clock;

static int tc_open_rc;         /* what open returns */
static int tc_open_sets;       /* open sets methods even when failing */
static int tc_opens, tc_closes;

static const haz_clock_methods test_methods;

static int tc_open(haz_clock *clk, const void *config)
{
    test_clock *t = (test_clock *)clk;

    tc_opens++;
    t->ld = 1.5L;
    t->u64 = UINT64_C(0x0123456789abcdef);
    t->config = config;
    if (tc_open_rc == HAZ_OK || tc_open_sets)
        clk->methods = &test_methods;
    return tc_open_rc;
}

static void tc_close(haz_clock *clk)
{
    (void)clk;
    tc_closes++;
}

static uint64_t tc_now(haz_clock *clk)
{
    return ((test_clock *)clk)->u64;
}

static int64_t tc_wall(haz_clock *clk)
{
    (void)clk;
    return 77;
}

static const haz_clock_methods test_methods = {
    HAZ_CLOCK_METHODS_VERSION,  /* version */
    "test",                     /* name */
    sizeof(test_clock),         /* state_size */
    tc_open,                    /* open */
    tc_close,                   /* close */
    tc_now,                     /* now_ns */
    tc_wall                     /* wall_seconds */
};

static void tc_reset(void)
{
    tc_open_rc = HAZ_OK;
    tc_open_sets = 0;
    tc_opens = tc_closes = 0;
}

static void test_open_bad_args(void)
{
    haz_ctx *ctx;
    haz_clock *clk = (haz_clock *)&clk;     /* must be reset to NULL */

    CU_ASSERT_EQUAL(haz_clock_open(NULL, &haz_clock_mock, NULL, &clk),
                    HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(clk);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    CU_ASSERT_EQUAL(haz_clock_open(ctx, &haz_clock_mock, NULL, NULL),
                    HAZ_EINVAL);
    clk = (haz_clock *)&clk;
    CU_ASSERT_EQUAL(haz_clock_open(ctx, NULL, NULL, &clk), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(clk);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_EINVAL);
    CU_ASSERT(haz_ctx_errmsg(ctx)[0] != '\0');

    /* NULL is ignored or harmless everywhere else. */
    haz_clock_close(NULL);
    CU_ASSERT_EQUAL(haz_clock_now_ns(NULL), 0);
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(NULL), 0);
    haz_ctx_free(ctx);
}

static void test_open_bad_methods(void)
{
    haz_ctx *ctx;
    haz_clock *clk;
    haz_clock_methods m;

    tc_reset();
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);

    m = test_methods;
    m.version = 0;
    CU_ASSERT_EQUAL(haz_clock_open(ctx, &m, NULL, &clk), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(clk);
    m = test_methods;
    m.state_size = sizeof(haz_clock) - 1;
    CU_ASSERT_EQUAL(haz_clock_open(ctx, &m, NULL, &clk), HAZ_EINVAL);
    m.state_size = 0;
    CU_ASSERT_EQUAL(haz_clock_open(ctx, &m, NULL, &clk), HAZ_EINVAL);
    m = test_methods;
    m.open = NULL;
    CU_ASSERT_EQUAL(haz_clock_open(ctx, &m, NULL, &clk), HAZ_EINVAL);
    m = test_methods;
    m.now_ns = NULL;
    CU_ASSERT_EQUAL(haz_clock_open(ctx, &m, NULL, &clk), HAZ_EINVAL);
    m = test_methods;
    m.wall_seconds = NULL;
    CU_ASSERT_EQUAL(haz_clock_open(ctx, &m, NULL, &clk), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(clk);
    CU_ASSERT_EQUAL(tc_opens, 0);
    haz_ctx_free(ctx);
}

static void test_open_custom_backend(void)
{
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_clock *clk;
    test_clock *t;
    static const int config = 5;

    tc_reset();
    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(ctx, &test_methods, &config, &clk),
                          HAZ_OK);
    t = (test_clock *)clk;
    CU_ASSERT_PTR_EQUAL(clk->methods, &test_methods);
    CU_ASSERT_PTR_EQUAL(t->config, &config);
    CU_ASSERT(t->ld == 1.5L);
    CU_ASSERT_EQUAL(haz_clock_now_ns(clk), UINT64_C(0x0123456789abcdef));
    CU_ASSERT_EQUAL(haz_clock_wall_seconds(clk), 77);
    /* Mock controls refuse a clock that is not the mock. */
    CU_ASSERT_EQUAL(haz_clock_mock_advance(clk, 1), HAZ_EINVAL);
    CU_ASSERT_EQUAL(tc_closes, 0);
    haz_clock_close(clk);
    CU_ASSERT_EQUAL(tc_opens, 1);
    CU_ASSERT_EQUAL(tc_closes, 1);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_open_backend_fails(void)
{
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_clock *clk = NULL;

    tc_reset();
    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);

    /* open fails and, as required, leaves methods NULL: close is skipped. */
    tc_open_rc = HAZ_EIO;
    CU_ASSERT_EQUAL(haz_clock_open(ctx, &test_methods, NULL, &clk), HAZ_EIO);
    CU_ASSERT_PTR_NULL(clk);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_EIO);
    CU_ASSERT_EQUAL(tc_opens, 1);
    CU_ASSERT_EQUAL(tc_closes, 0);

    /* A backend that breaks the rule gets its close called. */
    tc_open_sets = 1;
    tc_open_rc = HAZ_ENOTSUP;
    CU_ASSERT_EQUAL(haz_clock_open(ctx, &test_methods, NULL, &clk),
                    HAZ_ENOTSUP);
    CU_ASSERT_PTR_NULL(clk);
    CU_ASSERT_EQUAL(tc_closes, 1);

    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_open_enomem(void)
{
    static const haz_clock_methods *const all[] = {
        &haz_clock_posix, &haz_clock_mock, &test_methods
    };
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_clock *clk;
    long live;
    size_t i;

    tc_reset();
    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    live = tm.live;
    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        clk = (haz_clock *)&clk;
        haz_test_mem_fail_at(&tm, 1, 1);
        CU_ASSERT_EQUAL(haz_clock_open(ctx, all[i], NULL, &clk), HAZ_ENOMEM);
        CU_ASSERT_PTR_NULL(clk);
        CU_ASSERT(tm.failures >= 1);
        CU_ASSERT_EQUAL(tm.live, live);
        CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);
        haz_test_mem_fail_at(&tm, 0, 0);
        /* The same open then succeeds. */
        CU_ASSERT_EQUAL(haz_clock_open(ctx, all[i], NULL, &clk), HAZ_OK);
        haz_clock_close(clk);
        CU_ASSERT_EQUAL(tm.live, live);
    }
    CU_ASSERT_EQUAL(tc_opens, 1);    /* never called when allocation failed */
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static CU_TestInfo open_tests[] = {
    {"bad arguments", test_open_bad_args},
    {"bad methods tables", test_open_bad_methods},
    {"custom backend", test_open_custom_backend},
    {"backend open fails", test_open_backend_fails},
    {"allocation failure leaks nothing", test_open_enomem},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("posix", posix_tests),
    {.pName = "mock", .pSetUpFunc = mock_setup, .pTearDownFunc = mock_teardown,
     .pTests = mock_tests},
    HAZ_TEST_SUITE("open", open_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
