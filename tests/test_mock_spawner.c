/*
 * tests/test_mock_spawner.c: unit tests for the mock spawner (design
 * section 4, docs/mock-script.md) and for haz_spawner_open/close.
 *
 * Everything is driven the way the scheduler drives a spawner: opened with
 * haz_spawner_open on a mock clock, then called through its methods table.
 * Scripts are built through the C API and through the text format, and each
 * check compares exact bytes: the trace from haz_mock_spawner_trace, and the
 * events of every wait() written as a short string ("1>o:hello" is an
 * output chunk of child 1 on stdout, "e:" stderr, "1>exit=0" an exit code,
 * "1>sig=9" a death by signal, " +D" and " +C" the deadline and cancel
 * flags).
 *
 * Suites: open (configuration errors), events (timing, order, signals,
 * deadlines, cancellation, limits, files), parse (the text format and its
 * errors, fuzzing), oom (allocation-failure sweeps).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEVER UINT64_MAX
#define MS(x) ((uint64_t)(x) * UINT64_C(1000000))
#define SEC(x) ((uint64_t)(x) * UINT64_C(1000000000))

/* ------------------------------------------------------------------------
 * Fixture.
 * ---------------------------------------------------------------------- */

typedef struct fx {
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_clock *clk;
    haz_mock_script *script;
    haz_mock_config mc;
    haz_spawner_config cfg;
    haz_spawner *sp;
    char desc[4096];            /* the last wait, described */
    unsigned flags;
} fx;

static void fx_init(fx *f)
{
    memset(f, 0, sizeof *f);
    haz_test_mem_init(&f->tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&f->ctx, &f->tm.mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(f->ctx, &haz_clock_mock, NULL,
                                         &f->clk), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_mock_script_new(f->ctx, &f->script), HAZ_OK);
}

static int fx_open(fx *f, size_t max_children, const char *root)
{
    f->mc.script = f->script;
    f->mc.workspace_root = root;
    f->mc.max_children = max_children;
    f->cfg.version = 1;
    f->cfg.clock = f->clk;
    f->cfg.backend = &f->mc;
    return haz_spawner_open(f->ctx, &haz_spawner_mock, &f->cfg, &f->sp);
}

static void fx_done(fx *f)
{
    haz_spawner_close(f->sp);
    haz_mock_script_free(f->script);
    haz_clock_close(f->clk);
    haz_ctx_free(f->ctx);
    CU_ASSERT_EQUAL(f->tm.live, 0);
}

static haz_mock_proc *add(fx *f, const char *match)
{
    haz_mock_proc *p = NULL;

    CU_ASSERT_EQUAL(haz_mock_script_add(f->script, match, &p), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL(p);
    return p;
}

static void out(haz_mock_proc *p, uint64_t at, haz_stream s, const char *b)
{
    CU_ASSERT_EQUAL(haz_mock_proc_output(p, at, s, b, strlen(b)), HAZ_OK);
}

static void parse_ok(fx *f, const char *text)
{
    CU_ASSERT_EQUAL(haz_mock_script_parse(f->script, "t.mock", text,
                                          strlen(text), NULL), HAZ_OK);
}

static uint64_t now(fx *f)
{
    return haz_clock_now_ns(f->clk);
}

/* ------------------------------------------------------------------------
 * Spawning, signalling, waiting.
 * ---------------------------------------------------------------------- */

static const char *const env1[] = {"PATH=/bin", NULL};

static int spawn_sh(fx *f, const char *task, const char *script,
                    haz_child *child)
{
    haz_spawn_plan p;

    memset(&p, 0, sizeof p);
    p.task_id = task;
    p.action = HAZ_ACTION_SHELL;
    p.script = script;
    p.cwd = "/ws/core";
    p.envp = env1;
    p.path = "/bin";
    return f->sp->methods->spawn(f->sp, &p, child);
}

/* argv is NULL-terminated. */
static int spawn_argv(fx *f, const char *task, const char *const *argv,
                      haz_child *child)
{
    haz_spawn_plan p;

    memset(&p, 0, sizeof p);
    p.task_id = task;
    p.action = HAZ_ACTION_ARGV;
    p.argv = argv;
    while (argv[p.argc] != NULL)
        p.argc++;
    p.cwd = "/ws/core";
    p.envp = env1;
    p.path = "/bin";
    return f->sp->methods->spawn(f->sp, &p, child);
}

/* Spawn a shell plan that must succeed with child id `id`. */
static void spawn_ok(fx *f, const char *task, const char *script,
                     haz_child id)
{
    haz_child c = 0;

    CU_ASSERT_EQUAL(spawn_sh(f, task, script, &c), HAZ_OK);
    CU_ASSERT_EQUAL(c, id);
}

static int sig(fx *f, haz_child c, int signo)
{
    return f->sp->methods->signal(f->sp, c, signo);
}

/* Describe bytes, escaping what is not printable. */
static void put_bytes(char *d, size_t size, const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t used = strlen(d), i;

    for (i = 0; i < n && used + 5 < size; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f)
            d[used++] = (char)p[i];
        else
            used += (size_t)sprintf(d + used, "\\x%02x", p[i]);
    }
    d[used] = '\0';
}

/* One wait(); its events and flags described in f->desc. */
static int wait_cap(fx *f, uint64_t deadline, const haz_cancel *cancel,
                    size_t cap)
{
    haz_spawn_event ev[16];
    size_t n = 99, i;
    int rc;

    f->flags = 99;
    rc = f->sp->methods->wait(f->sp, deadline, cancel, ev, cap, &n,
                              &f->flags);
    f->desc[0] = '\0';
    if (rc != HAZ_OK)
        return rc;
    for (i = 0; i < n; i++) {
        char *d;
        size_t room;

        if (i > 0)
            strcat(f->desc, " ");
        d = f->desc + strlen(f->desc);
        room = sizeof f->desc - strlen(f->desc);
        if (ev[i].type == HAZ_EV_OUTPUT) {
            snprintf(d, room, "%lu>%s:", (unsigned long)ev[i].child,
                     ev[i].stream == HAZ_STREAM_STDOUT ? "o" : "e");
            put_bytes(f->desc, sizeof f->desc, ev[i].data, ev[i].len);
        } else if (ev[i].type == HAZ_EV_STREAM_ERROR) {
            snprintf(d, room, "%lu>%s:errno=%d", (unsigned long)ev[i].child,
                     ev[i].stream == HAZ_STREAM_STDOUT ? "o" : "e",
                     ev[i].os_errno);
        } else if (ev[i].status.kind == HAZ_EXIT_CODE) {
            snprintf(d, room, "%lu>exit=%d", (unsigned long)ev[i].child,
                     ev[i].status.code);
        } else {
            snprintf(d, room, "%lu>sig=%d", (unsigned long)ev[i].child,
                     ev[i].status.signo);
        }
    }
    if (f->flags & HAZ_WAIT_DEADLINE)
        strcat(f->desc, " +D");
    if (f->flags & HAZ_WAIT_CANCEL)
        strcat(f->desc, " +C");
    return rc;
}

/* wait() that must succeed; returns the description. */
static const char *w(fx *f, uint64_t deadline)
{
    CU_ASSERT_EQUAL(wait_cap(f, deadline, NULL, 16), HAZ_OK);
    return f->desc;
}

/* The trace must equal the printf-formatted text. */
#define TRACE_IS(f, ...) trace_is((f), __LINE__, __VA_ARGS__)

static void trace_is(fx *f, unsigned line, const char *fmt, ...)
{
    char want[8192];
    const char *got = haz_mock_spawner_trace(f->sp, NULL);
    va_list ap;
    int ok;

    va_start(ap, fmt);
    vsnprintf(want, sizeof want, fmt, ap);
    va_end(ap);
    ok = got != NULL && strcmp(got, want) == 0;
    if (!ok)
        fprintf(stderr, "\n--- trace wanted:\n%s--- trace got:\n%s---\n",
                want, got ? got : "(null)");
    CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, "trace", __FILE__,
                            "", CU_FALSE);
}

#define SPAWN_LINE(t, task, id, script, entry) \
    t " spawn " task " child=" id " argv=[/bin/sh,-c," script \
    "] cwd=/ws/core env=[PATH=/bin] " entry "\n"

/* ------------------------------------------------------------------------
 * Suite "open".
 * ---------------------------------------------------------------------- */

static int fake_open(haz_clock *clk, const void *config)
{
    (void)clk;
    (void)config;
    return HAZ_OK;
}

static void fake_close(haz_clock *clk)
{
    (void)clk;
}

static uint64_t fake_now(haz_clock *clk)
{
    (void)clk;
    return 0;
}

static int64_t fake_wall(haz_clock *clk)
{
    (void)clk;
    return 0;
}

static const haz_clock_methods fake_clock = {
    HAZ_CLOCK_METHODS_VERSION, "fake", sizeof(haz_clock), fake_open,
    fake_close, fake_now, fake_wall
};

static void test_open_errors(void)
{
    fx f;
    haz_clock *other = NULL;
    haz_spawner_methods bad = haz_spawner_mock;
    haz_mock_proc *p;

    fx_init(&f);
    /* Not a mock clock. */
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(f.ctx, &fake_clock, NULL, &other),
                          HAZ_OK);
    f.cfg.version = 1;
    f.cfg.clock = other;
    CU_ASSERT_EQUAL(haz_spawner_open(f.ctx, &haz_spawner_mock, &f.cfg,
                                     &f.sp), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(f.sp);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx),
                           "the mock spawner needs a mock clock");
    f.cfg.clock = NULL;
    CU_ASSERT_EQUAL(haz_spawner_open(f.ctx, &haz_spawner_mock, &f.cfg,
                                     &f.sp), HAZ_EINVAL);
    haz_clock_close(other);

    /* Bad arguments and methods tables. */
    f.cfg.clock = f.clk;
    CU_ASSERT_EQUAL(haz_spawner_open(NULL, &haz_spawner_mock, &f.cfg, &f.sp),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_spawner_open(f.ctx, NULL, &f.cfg, &f.sp), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_spawner_open(f.ctx, &haz_spawner_mock, NULL, &f.sp),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_spawner_open(f.ctx, &haz_spawner_mock, &f.cfg, NULL),
                    HAZ_EINVAL);
    bad.version = 0;
    CU_ASSERT_EQUAL(haz_spawner_open(f.ctx, &bad, &f.cfg, &f.sp), HAZ_EINVAL);
    bad = haz_spawner_mock;
    bad.state_size = sizeof(haz_spawner) - 1;
    CU_ASSERT_EQUAL(haz_spawner_open(f.ctx, &bad, &f.cfg, &f.sp), HAZ_EINVAL);
    bad = haz_spawner_mock;
    bad.wait = NULL;
    CU_ASSERT_EQUAL(haz_spawner_open(f.ctx, &bad, &f.cfg, &f.sp), HAZ_EINVAL);
    f.cfg.version = 0;
    CU_ASSERT_EQUAL(haz_spawner_open(f.ctx, &haz_spawner_mock, &f.cfg,
                                     &f.sp), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(f.sp);

    /* Workspace root: absolute, and needed when files are scripted. */
    CU_ASSERT_EQUAL(fx_open(&f, 0, "ws"), HAZ_EINVAL);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx),
                           "mock spawner: workspace root 'ws' is not "
                           "absolute");
    p = add(&f, "core:build");
    CU_ASSERT_EQUAL(haz_mock_proc_create_file(p, "a.o", "x", 1), HAZ_OK);
    CU_ASSERT_EQUAL(fx_open(&f, 0, NULL), HAZ_EINVAL);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx),
                           "mock spawner: the script creates files but no "
                           "workspace root is set");
    CU_ASSERT_PTR_NULL(f.sp);
    CU_ASSERT_EQUAL(fx_open(&f, 0, "/ws/"), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(f.sp->methods->name, "mock");
    CU_ASSERT_EQUAL(f.sp->methods->caps & HAZ_SPAWNER_REAL_PROCESSES, 0);
    CU_ASSERT_EQUAL(f.sp->methods->max_children(f.sp), 0);
    CU_ASSERT_STRING_EQUAL(haz_mock_spawner_trace(f.sp, NULL), "");

    /* The trace of anything else. */
    CU_ASSERT_PTR_NULL(haz_mock_spawner_trace(NULL, NULL));
    haz_spawner_close(NULL);
    fx_done(&f);
}

/* No config at all: every spawn is unscripted. */
static void test_open_no_config(void)
{
    fx f;
    haz_child c = 0;
    size_t len = 99;

    fx_init(&f);
    f.cfg.version = 1;
    f.cfg.clock = f.clk;
    CU_ASSERT_EQUAL_FATAL(haz_spawner_open(f.ctx, &haz_spawner_mock, &f.cfg,
                                           &f.sp), HAZ_OK);
    CU_ASSERT_EQUAL(spawn_sh(&f, "core:build", "make", &c), HAZ_OK);
    CU_ASSERT_EQUAL(c, 1);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>exit=0");
    CU_ASSERT_EQUAL(now(&f), 0);
    TRACE_IS(&f, SPAWN_LINE("0.000000000", "core:build", "1", "make",
                            "unscripted")
             "0.000000000 exit core:build code=0\n");
    CU_ASSERT_PTR_NOT_NULL(haz_mock_spawner_trace(f.sp, &len));
    CU_ASSERT_EQUAL(len, strlen(haz_mock_spawner_trace(f.sp, NULL)));
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * Suite "events".
 * ---------------------------------------------------------------------- */

static void test_output_timing(void)
{
    fx f;
    haz_mock_proc *p;

    fx_init(&f);
    p = add(&f, "core:build");
    out(p, MS(100), HAZ_STREAM_STDOUT, "hello\n");
    out(p, MS(200), HAZ_STREAM_STDERR, "oops\n");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, MS(500), 1), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);

    spawn_ok(&f, "core:build", "cc -c a.c", 1);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>o:hello\\x0a");
    CU_ASSERT_EQUAL(now(&f), MS(100));
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>e:oops\\x0a");
    CU_ASSERT_EQUAL(now(&f), MS(200));
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>exit=1");
    CU_ASSERT_EQUAL(now(&f), MS(500));
    TRACE_IS(&f, SPAWN_LINE("0.000000000", "core:build", "1", "cc -c a.c",
                            "entry=1")
             "0.100000000 stdout core:build 6 \"hello\\n\"\n"
             "0.200000000 stderr core:build 5 \"oops\\n\"\n"
             "0.500000000 exit core:build code=1\n");

    /* Nothing left, no deadline: a bug, not a hang. */
    CU_ASSERT_EQUAL(wait_cap(&f, NEVER, NULL, 16), HAZ_EINTERNAL);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx),
                           "mock spawner: wait with nothing to wait for "
                           "(0 children that never end, no deadline)");
    fx_done(&f);
}

/* Chunks sort by time (stably); the exit waits for the last chunk. */
static void test_exit_after_output(void)
{
    fx f;
    haz_mock_proc *p;

    fx_init(&f);
    p = add(&f, "core:a");
    out(p, MS(300), HAZ_STREAM_STDOUT, "b");
    out(p, MS(200), HAZ_STREAM_STDOUT, "a");
    out(p, MS(200), HAZ_STREAM_STDERR, "c");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, MS(100), 0), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);

    spawn_ok(&f, "core:a", "x", 1);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>o:a 1>e:c");
    CU_ASSERT_EQUAL(now(&f), MS(200));
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>o:b 1>exit=0");
    CU_ASSERT_EQUAL(now(&f), MS(300));
    TRACE_IS(&f, SPAWN_LINE("0.000000000", "core:a", "1", "x", "entry=1")
             "0.200000000 stdout core:a 1 \"a\"\n"
             "0.200000000 stderr core:a 1 \"c\"\n"
             "0.300000000 stdout core:a 1 \"b\"\n"
             "0.300000000 exit core:a code=0\n");
    fx_done(&f);
}

/* Same time: spawn order, then script order; cap splits a batch without
 * moving the clock; earlier time wins over spawn order. */
static void test_event_order(void)
{
    fx f;
    haz_mock_proc *p;

    fx_init(&f);
    p = add(&f, "core:a");
    out(p, SEC(1), HAZ_STREAM_STDOUT, "a1");
    out(p, SEC(1), HAZ_STREAM_STDOUT, "a2");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, SEC(1), 0), HAZ_OK);
    p = add(&f, "core:b");
    out(p, SEC(1), HAZ_STREAM_STDOUT, "b1");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, MS(500), 3), HAZ_OK);
    p = add(&f, "core:c");
    out(p, SEC(3), HAZ_STREAM_STDOUT, "c1");
    p = add(&f, "core:d");
    out(p, SEC(1), HAZ_STREAM_STDERR, "d1");
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);

    spawn_ok(&f, "core:a", "a", 1);
    spawn_ok(&f, "core:b", "b", 2);
    CU_ASSERT_EQUAL(wait_cap(&f, NEVER, NULL, 2), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(f.desc, "1>o:a1 1>o:a2");
    CU_ASSERT_EQUAL(wait_cap(&f, NEVER, NULL, 2), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(f.desc, "1>exit=0 2>o:b1");
    CU_ASSERT_EQUAL(wait_cap(&f, NEVER, NULL, 1), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(f.desc, "2>exit=3");
    CU_ASSERT_EQUAL(now(&f), SEC(1));

    /* c (spawned at 1, output at 4) and d (spawned at 2, output at 3). */
    spawn_ok(&f, "core:c", "c", 3);
    CU_ASSERT_STRING_EQUAL(w(&f, SEC(2)), " +D");
    spawn_ok(&f, "core:d", "d", 4);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "4>e:d1 4>exit=0");
    CU_ASSERT_EQUAL(now(&f), SEC(3));
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "3>o:c1 3>exit=0");
    CU_ASSERT_EQUAL(now(&f), SEC(4));
    fx_done(&f);
}

static void test_die(void)
{
    fx f;
    haz_mock_proc *p;

    fx_init(&f);
    p = add(&f, "core:crash");
    out(p, MS(100), HAZ_STREAM_STDOUT, "x");
    CU_ASSERT_EQUAL(haz_mock_proc_die(p, MS(200), SIGSEGV), HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_die(p, MS(300), SIGSEGV), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, MS(300), 0), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_die(NULL, 0, SIGSEGV), HAZ_EINVAL);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);

    spawn_ok(&f, "core:crash", "x", 1);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>o:x");
    CU_ASSERT_EQUAL(wait_cap(&f, NEVER, NULL, 4), HAZ_OK);
    CU_ASSERT_EQUAL(strncmp(f.desc, "1>sig=", 6), 0);
    CU_ASSERT_EQUAL(atoi(f.desc + 6), SIGSEGV);
    TRACE_IS(&f, SPAWN_LINE("0.000000000", "core:crash", "1", "x", "entry=1")
             "0.100000000 stdout core:crash 1 \"x\"\n"
             "0.200000000 exit core:crash signal=%d\n", SIGSEGV);
    fx_done(&f);
}

static void test_spawn_error(void)
{
    static const char *const gen[] = {"gen-tool", "--all", NULL};
    fx f;
    haz_mock_proc *p;
    haz_child c = 77;
    char msg[256];

    fx_init(&f);
    p = add(&f, "argv:gen-tool --all");
    CU_ASSERT_EQUAL(haz_mock_proc_spawn_error(p, ENOENT), HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_spawn_error(p, EACCES), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_spawn_error(p, 0), HAZ_EINVAL);
    out(p, 0, HAZ_STREAM_STDOUT, "never seen");
    p = add(&f, "core:sh");
    CU_ASSERT_EQUAL(haz_mock_proc_spawn_error(p, EACCES), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);

    CU_ASSERT_EQUAL(spawn_argv(&f, "core:gen", gen, &c), HAZ_ESPAWN);
    CU_ASSERT_EQUAL(haz_ctx_errno(f.ctx), ENOENT);
    snprintf(msg, sizeof msg, "core:gen: cannot run 'gen-tool': %s",
             strerror(ENOENT));
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx), msg);

    CU_ASSERT_EQUAL(spawn_sh(&f, "core:sh", "true", &c), HAZ_ESPAWN);
    CU_ASSERT_EQUAL(haz_ctx_errno(f.ctx), EACCES);
    snprintf(msg, sizeof msg, "core:sh: cannot run '/bin/sh': %s",
             strerror(EACCES));
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx), msg);

    /* Each entry served one spawn: now unscripted, child 1. */
    CU_ASSERT_EQUAL(spawn_argv(&f, "core:gen", gen, &c), HAZ_OK);
    CU_ASSERT_EQUAL(c, 1);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>exit=0");
    TRACE_IS(&f, "0.000000000 spawn-error core:gen errno=ENOENT entry=1\n"
             "0.000000000 spawn-error core:sh errno=EACCES entry=2\n"
             "0.000000000 spawn core:gen child=1 argv=[gen-tool,--all] "
             "cwd=/ws/core env=[PATH=/bin] unscripted\n"
             "0.000000000 exit core:gen code=0\n");
    fx_done(&f);
}

/* task id > argv > sh > FIFO; one spawn per entry. */
static void test_matching(void)
{
    static const char *const cc[] = {"cc", "-c", "a.c", NULL};
    static const char *const echo[] = {"echo", "hi", NULL};
    fx f;
    haz_child c = 0;
    haz_mock_proc *p = NULL;

    fx_init(&f);
    add(&f, NULL);                          /* 1 */
    add(&f, "sh:echo hi");                  /* 2 */
    add(&f, "argv:cc -c a.c");              /* 3 */
    add(&f, "core:build");                  /* 4 */
    add(&f, NULL);                          /* 5 */
    add(&f, "argv:cc -c");                  /* 6 */
    add(&f, "argv:cc -c a.c x");            /* 7 */
    CU_ASSERT_EQUAL(haz_mock_script_add(f.script, "", &p), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_EQUAL(haz_mock_script_add(f.script, "build", &p), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_script_add(f.script, ":build", &p), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_script_add(f.script, "core:", &p), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_script_add(f.script, "co re:b", &p),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_script_add(f.script, "argv:", &p), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_script_add(f.script, "sh:", &p), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_script_add(NULL, NULL, &p), HAZ_EINVAL);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);

    CU_ASSERT_EQUAL(spawn_argv(&f, "core:build", cc, &c), HAZ_OK);
    CU_ASSERT_EQUAL(spawn_argv(&f, "core:other", cc, &c), HAZ_OK);
    CU_ASSERT_EQUAL(spawn_sh(&f, "core:x", "cc -c a.c", &c), HAZ_OK);
    CU_ASSERT_EQUAL(spawn_sh(&f, "core:y", "echo hi", &c), HAZ_OK);
    CU_ASSERT_EQUAL(spawn_argv(&f, "core:z", echo, &c), HAZ_OK);
    CU_ASSERT_EQUAL(spawn_sh(&f, "core:build", "echo hi", &c), HAZ_OK);
    CU_ASSERT_EQUAL(spawn_argv(&f, "core:w", cc, &c), HAZ_OK);
    CU_ASSERT_EQUAL(c, 7);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>exit=0 2>exit=0 3>exit=0 "
                           "4>exit=0 5>exit=0 6>exit=0 7>exit=0");
    TRACE_IS(&f,
             "0.000000000 spawn core:build child=1 argv=[cc,-c,a.c] "
             "cwd=/ws/core env=[PATH=/bin] entry=4\n"
             "0.000000000 spawn core:other child=2 argv=[cc,-c,a.c] "
             "cwd=/ws/core env=[PATH=/bin] entry=3\n"
             SPAWN_LINE("0.000000000", "core:x", "3", "cc -c a.c", "entry=1")
             SPAWN_LINE("0.000000000", "core:y", "4", "echo hi", "entry=2")
             "0.000000000 spawn core:z child=5 argv=[echo,hi] "
             "cwd=/ws/core env=[PATH=/bin] entry=5\n"
             SPAWN_LINE("0.000000000", "core:build", "6", "echo hi",
                        "unscripted")
             "0.000000000 spawn core:w child=7 argv=[cc,-c,a.c] "
             "cwd=/ws/core env=[PATH=/bin] unscripted\n"
             "0.000000000 exit core:build code=0\n"
             "0.000000000 exit core:other code=0\n"
             "0.000000000 exit core:x code=0\n"
             "0.000000000 exit core:y code=0\n"
             "0.000000000 exit core:z code=0\n"
             "0.000000000 exit core:build code=0\n"
             "0.000000000 exit core:w code=0\n");
    fx_done(&f);
}

/* The escaping of trace fields; a plan with an empty environment. */
static void test_trace_escaping(void)
{
    static const char *const argv[] = {"printf", "a,b]", "x\ty", NULL};
    static const char *const noenv[] = {NULL};
    fx f;
    haz_mock_proc *p;
    haz_spawn_plan plan;
    haz_child c = 0;

    fx_init(&f);
    p = add(&f, "argv:printf a,b] x\ty");
    CU_ASSERT_EQUAL(haz_mock_proc_output(p, 0, HAZ_STREAM_STDOUT,
                                         "t\"q\\ \x01\xff\r", 8), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);
    memset(&plan, 0, sizeof plan);
    plan.task_id = "my:task";
    plan.action = HAZ_ACTION_ARGV;
    plan.argv = argv;
    plan.argc = 3;
    plan.cwd = "/ws/my dir";
    plan.envp = noenv;
    CU_ASSERT_EQUAL(f.sp->methods->spawn(f.sp, &plan, &c), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER),
                           "1>o:t\"q\\ \\x01\\xff\\x0d 1>exit=0");
    TRACE_IS(&f, "0.000000000 spawn my:task child=1 "
             "argv=[printf,a\\x2cb\\x5d,x\\ty] cwd=/ws/my\\x20dir env=[] "
             "entry=1\n"
             "0.000000000 stdout my:task 8 \"t\\\"q\\\\ \\x01\\xff\\r\"\n"
             "0.000000000 exit my:task code=0\n");

    /* Bad plans. */
    plan.argc = 0;
    CU_ASSERT_EQUAL(f.sp->methods->spawn(f.sp, &plan, &c), HAZ_EINVAL);
    plan.argc = 3;
    plan.cwd = NULL;
    CU_ASSERT_EQUAL(f.sp->methods->spawn(f.sp, &plan, &c), HAZ_EINVAL);
    plan.cwd = "/";
    plan.action = HAZ_ACTION_SHELL;
    CU_ASSERT_EQUAL(f.sp->methods->spawn(f.sp, &plan, &c), HAZ_EINVAL);
    CU_ASSERT_EQUAL(f.sp->methods->spawn(f.sp, NULL, &c), HAZ_EINVAL);
    fx_done(&f);
}

static void test_deadline(void)
{
    fx f;
    haz_mock_proc *p;

    fx_init(&f);
    p = add(&f, "core:hang");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, NEVER, 0), HAZ_OK);
    p = add(&f, "core:late");
    out(p, SEC(3), HAZ_STREAM_STDOUT, "x");
    p = add(&f, "core:eq");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, SEC(1), 7), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);

    spawn_ok(&f, "core:hang", "sleep 100", 1);
    CU_ASSERT_STRING_EQUAL(w(&f, MS(2500)), " +D");
    CU_ASSERT_EQUAL(now(&f), MS(2500));
    CU_ASSERT_EQUAL(f.flags, HAZ_WAIT_DEADLINE);
    spawn_ok(&f, "core:late", "late", 2);
    CU_ASSERT_STRING_EQUAL(w(&f, SEC(10)), "2>o:x 2>exit=0");
    CU_ASSERT_EQUAL(f.flags, 0);
    CU_ASSERT_EQUAL(now(&f), MS(5500));
    CU_ASSERT_STRING_EQUAL(w(&f, MS(5500)), " +D");       /* deadline: now */
    CU_ASSERT_STRING_EQUAL(w(&f, SEC(1)), " +D");         /* passed */
    CU_ASSERT_EQUAL(now(&f), MS(5500));
    spawn_ok(&f, "core:eq", "eq", 3);
    CU_ASSERT_STRING_EQUAL(w(&f, MS(6500)), "3>exit=7 +D");
    CU_ASSERT_EQUAL(now(&f), MS(6500));
    CU_ASSERT_EQUAL(sig(&f, 1, SIGKILL), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>sig=9");
    TRACE_IS(&f, SPAWN_LINE("0.000000000", "core:hang", "1", "sleep 100",
                            "entry=1")
             "2.500000000 deadline\n"
             SPAWN_LINE("2.500000000", "core:late", "2", "late", "entry=2")
             "5.500000000 stdout core:late 1 \"x\"\n"
             "5.500000000 exit core:late code=0\n"
             "5.500000000 deadline\n"
             "5.500000000 deadline\n"
             SPAWN_LINE("5.500000000", "core:eq", "3", "eq", "entry=3")
             "6.500000000 exit core:eq code=7\n"
             "6.500000000 deadline\n"
             "6.500000000 signal core:hang SIGKILL\n"
             "6.500000000 exit core:hang signal=9\n");
    fx_done(&f);
}

static void test_cancel(void)
{
    fx f;
    haz_mock_proc *p;
    haz_cancel *cancel = NULL;

    fx_init(&f);
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(f.ctx, &cancel), HAZ_OK);
    p = add(&f, "core:a");
    out(p, SEC(1), HAZ_STREAM_STDOUT, "x");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, NEVER, 0), HAZ_OK);
    p = add(&f, "core:b");
    out(p, 0, HAZ_STREAM_STDOUT, "now");
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);

    spawn_ok(&f, "core:a", "a", 1);
    CU_ASSERT_EQUAL(wait_cap(&f, NEVER, cancel, 16), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(f.desc, "1>o:x");
    haz_cancel_request(cancel, SIGINT);
    CU_ASSERT_EQUAL(wait_cap(&f, NEVER, cancel, 16), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(f.desc, " +C");
    CU_ASSERT_EQUAL(f.flags, HAZ_WAIT_CANCEL);
    CU_ASSERT_EQUAL(now(&f), SEC(1));
    CU_ASSERT_EQUAL(wait_cap(&f, MS(500), cancel, 16), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(f.desc, " +D +C");
    spawn_ok(&f, "core:b", "b", 2);
    CU_ASSERT_EQUAL(wait_cap(&f, NEVER, cancel, 16), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(f.desc, "2>o:now 2>exit=0 +C");
    CU_ASSERT_EQUAL(now(&f), SEC(1));
    CU_ASSERT_EQUAL(sig(&f, 1, SIGKILL), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>sig=9");
    TRACE_IS(&f, SPAWN_LINE("0.000000000", "core:a", "1", "a", "entry=1")
             "1.000000000 stdout core:a 1 \"x\"\n"
             "1.000000000 cancel\n"
             "1.000000000 deadline\n"
             "1.000000000 cancel\n"
             SPAWN_LINE("1.000000000", "core:b", "2", "b", "entry=2")
             "1.000000000 stdout core:b 3 \"now\"\n"
             "1.000000000 exit core:b code=0\n"
             "1.000000000 cancel\n"
             "1.000000000 signal core:a SIGKILL\n"
             "1.000000000 exit core:a signal=9\n");
    haz_cancel_free(cancel);
    fx_done(&f);
}

/* Children that never end and no deadline: HAZ_EINTERNAL, not a hang. */
static void test_nothing_to_wait_for(void)
{
    fx f;
    haz_mock_proc *p;
    haz_cancel *cancel = NULL;
    haz_spawn_event ev[1];
    size_t n;
    unsigned flags;

    fx_init(&f);
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(f.ctx, &cancel), HAZ_OK);
    p = add(&f, NULL);
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, NEVER, 0), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);
    spawn_ok(&f, "core:h", "h", 1);
    CU_ASSERT_EQUAL(wait_cap(&f, NEVER, cancel, 16), HAZ_EINTERNAL);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx),
                           "mock spawner: wait with nothing to wait for "
                           "(1 children that never end, no deadline)");
    haz_cancel_request(cancel, 0);
    CU_ASSERT_EQUAL(wait_cap(&f, NEVER, cancel, 16), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(f.desc, " +C");
    /* A wait without room is a caller bug too. */
    CU_ASSERT_EQUAL(f.sp->methods->wait(f.sp, NEVER, NULL, ev, 0, &n, &flags),
                    HAZ_EINTERNAL);
    CU_ASSERT_EQUAL(f.sp->methods->wait(f.sp, NEVER, NULL, NULL, 1, &n,
                                        &flags), HAZ_EINTERNAL);
    CU_ASSERT_EQUAL(now(&f), 0);
    haz_cancel_free(cancel);
    fx_done(&f);
}

static void test_sigterm(void)
{
    fx f;
    haz_mock_proc *p;

    fx_init(&f);
    p = add(&f, "core:dflt");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, NEVER, 0), HAZ_OK);
    p = add(&f, "core:exit");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, NEVER, 0), HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_on_sigterm(p, HAZ_MOCK_TERM_EXIT, 0, 143),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_on_sigterm(p, HAZ_MOCK_TERM_EXIT, 0, 1),
                    HAZ_EINVAL);
    p = add(&f, "core:delay");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, NEVER, 0), HAZ_OK);
    out(p, SEC(2), HAZ_STREAM_STDOUT, "dropped");
    CU_ASSERT_EQUAL(haz_mock_proc_on_sigterm(p, HAZ_MOCK_TERM_DELAY, SEC(2),
                                             0), HAZ_OK);
    p = add(&f, "core:ign");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, NEVER, 0), HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_on_sigterm(p, HAZ_MOCK_TERM_IGNORE, 5, 7),
                    HAZ_OK);
    p = add(&f, "core:slow");
    CU_ASSERT_EQUAL(haz_mock_proc_on_sigterm(p, HAZ_MOCK_TERM_DELAY, SEC(10),
                                             0), HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, NEVER, 0), HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_on_sigterm(p, (haz_mock_term)9, 0, 0),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_on_sigterm(add(&f, NULL),
                                             HAZ_MOCK_TERM_EXIT, 0, 256),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);

    spawn_ok(&f, "core:dflt", "d", 1);
    spawn_ok(&f, "core:exit", "e", 2);
    spawn_ok(&f, "core:delay", "l", 3);
    spawn_ok(&f, "core:ign", "i", 4);
    spawn_ok(&f, "core:slow", "s", 5);
    CU_ASSERT_STRING_EQUAL(w(&f, SEC(1)), " +D");
    CU_ASSERT_EQUAL(sig(&f, 1, SIGTERM), HAZ_OK);
    CU_ASSERT_EQUAL(sig(&f, 2, SIGTERM), HAZ_OK);
    CU_ASSERT_EQUAL(sig(&f, 3, SIGTERM), HAZ_OK);
    CU_ASSERT_EQUAL(sig(&f, 4, SIGTERM), HAZ_OK);
    CU_ASSERT_EQUAL(sig(&f, 5, SIGTERM), HAZ_OK);
    CU_ASSERT_EQUAL(wait_cap(&f, NEVER, NULL, 16), HAZ_OK);
    CU_ASSERT_EQUAL(f.desc[0], '1');
    CU_ASSERT_EQUAL(atoi(f.desc + 6), SIGTERM);
    CU_ASSERT_PTR_NOT_NULL(strstr(f.desc, " 2>exit=143"));
    CU_ASSERT_EQUAL(sig(&f, 3, SIGTERM), HAZ_OK);    /* already exiting */
    CU_ASSERT_STRING_EQUAL(w(&f, SEC(6)), "3>exit=0");
    CU_ASSERT_EQUAL(now(&f), SEC(3));
    CU_ASSERT_STRING_EQUAL(w(&f, SEC(6)), " +D");    /* 4 ignores, 5 slow */
    CU_ASSERT_EQUAL(sig(&f, 4, SIGKILL), HAZ_OK);
    CU_ASSERT_EQUAL(sig(&f, 5, SIGKILL), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "4>sig=9 5>sig=9");
    CU_ASSERT_EQUAL(now(&f), SEC(6));
    TRACE_IS(&f, SPAWN_LINE("0.000000000", "core:dflt", "1", "d", "entry=1")
             SPAWN_LINE("0.000000000", "core:exit", "2", "e", "entry=2")
             SPAWN_LINE("0.000000000", "core:delay", "3", "l", "entry=3")
             SPAWN_LINE("0.000000000", "core:ign", "4", "i", "entry=4")
             SPAWN_LINE("0.000000000", "core:slow", "5", "s", "entry=5")
             "1.000000000 deadline\n"
             "1.000000000 signal core:dflt SIGTERM\n"
             "1.000000000 signal core:exit SIGTERM\n"
             "1.000000000 signal core:delay SIGTERM\n"
             "1.000000000 signal core:ign SIGTERM\n"
             "1.000000000 signal core:slow SIGTERM\n"
             "1.000000000 exit core:dflt signal=%d\n"
             "1.000000000 exit core:exit code=143\n"
             "1.000000000 signal core:delay SIGTERM\n"
             "3.000000000 exit core:delay code=0\n"
             "6.000000000 deadline\n"
             "6.000000000 signal core:ign SIGKILL\n"
             "6.000000000 signal core:slow SIGKILL\n"
             "6.000000000 exit core:ign signal=9\n"
             "6.000000000 exit core:slow signal=9\n", SIGTERM);
    fx_done(&f);
}

/* A signal drops what the child would write later, not what it wrote. */
static void test_signal_cuts_output(void)
{
    fx f;
    haz_mock_proc *p;

    fx_init(&f);
    p = add(&f, "core:a");
    out(p, MS(500), HAZ_STREAM_STDOUT, "a");
    out(p, SEC(2), HAZ_STREAM_STDOUT, "b");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, SEC(3), 0), HAZ_OK);
    p = add(&f, "core:b");
    out(p, MS(500), HAZ_STREAM_STDOUT, "c");
    out(p, SEC(2), HAZ_STREAM_STDOUT, "d");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, SEC(3), 0), HAZ_OK);
    p = add(&f, "core:c");
    out(p, MS(500), HAZ_STREAM_STDERR, "e");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, NEVER, 0), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);

    spawn_ok(&f, "core:a", "a", 1);
    spawn_ok(&f, "core:b", "b", 2);
    spawn_ok(&f, "core:c", "c", 3);
    CU_ASSERT_EQUAL(haz_clock_mock_set(f.clk, SEC(1)), HAZ_OK);
    CU_ASSERT_EQUAL(sig(&f, 1, SIGKILL), HAZ_OK);
    CU_ASSERT_EQUAL(sig(&f, 3, SIGUSR1), HAZ_OK);
    CU_ASSERT_EQUAL(wait_cap(&f, NEVER, NULL, 16), HAZ_OK);
    CU_ASSERT_EQUAL(strncmp(f.desc, "1>o:a 2>o:c 3>e:e 1>sig=9 3>sig=", 32),
                    0);
    CU_ASSERT_EQUAL(atoi(f.desc + 32), SIGUSR1);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "2>o:d");
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "2>exit=0");
    CU_ASSERT_EQUAL(now(&f), SEC(3));
    fx_done(&f);
}

/* Signals to a child that has ended but is not reported; unknown ids. */
static void test_signal_after_exit(void)
{
    fx f;
    haz_mock_proc *p;

    fx_init(&f);
    p = add(&f, "core:a");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, MS(500), 4), HAZ_OK);
    p = add(&f, "core:h");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, NEVER, 0), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);

    spawn_ok(&f, "core:a", "a", 1);
    spawn_ok(&f, "core:h", "h", 2);
    CU_ASSERT_EQUAL(haz_clock_mock_set(f.clk, SEC(1)), HAZ_OK);
    CU_ASSERT_EQUAL(sig(&f, 1, SIGKILL), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>exit=4");
    CU_ASSERT_EQUAL(sig(&f, 1, SIGKILL), HAZ_ENOENT);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx), "mock spawner: no child 1");
    CU_ASSERT_EQUAL(sig(&f, 99, SIGTERM), HAZ_ENOENT);
    CU_ASSERT_EQUAL(sig(&f, 0, SIGTERM), HAZ_ENOENT);
    CU_ASSERT_EQUAL(sig(&f, 2, 0), HAZ_OK);              /* a probe */
    CU_ASSERT_EQUAL(sig(&f, 2, -1), HAZ_EIO);
    CU_ASSERT_EQUAL(sig(&f, 2, 128), HAZ_EIO);
    CU_ASSERT_EQUAL(sig(&f, 2, SIGKILL), HAZ_OK);
    CU_ASSERT_EQUAL(sig(&f, 2, SIGTERM), HAZ_OK);        /* dead, not reaped */
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "2>sig=9");
    TRACE_IS(&f, SPAWN_LINE("0.000000000", "core:a", "1", "a", "entry=1")
             SPAWN_LINE("0.000000000", "core:h", "2", "h", "entry=2")
             "1.000000000 signal core:a SIGKILL\n"
             "1.000000000 exit core:a code=4\n"
             "1.000000000 signal core:h 0\n"
             "1.000000000 signal core:h SIGKILL\n"
             "1.000000000 signal core:h SIGTERM\n"
             "1.000000000 exit core:h signal=9\n");
    fx_done(&f);
}

static void test_max_children(void)
{
    fx f;
    haz_child c = 0;
    int i;

    fx_init(&f);
    for (i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(haz_mock_proc_exit(add(&f, NULL), SEC(1), i), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 2, NULL), HAZ_OK);
    CU_ASSERT_EQUAL(f.sp->methods->max_children(f.sp), 2);
    spawn_ok(&f, "p:a", "a", 1);
    spawn_ok(&f, "p:b", "b", 2);
    CU_ASSERT_EQUAL(spawn_sh(&f, "p:c", "c", &c), HAZ_ELIMIT);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx),
                           "mock spawner: p:c: 2 children already running");
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>exit=0 2>exit=1");
    spawn_ok(&f, "p:c", "c", 3);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "3>exit=2");
    CU_ASSERT_EQUAL(now(&f), SEC(2));
    TRACE_IS(&f, SPAWN_LINE("0.000000000", "p:a", "1", "a", "entry=1")
             SPAWN_LINE("0.000000000", "p:b", "2", "b", "entry=2")
             "1.000000000 exit p:a code=0\n"
             "1.000000000 exit p:b code=1\n"
             SPAWN_LINE("1.000000000", "p:c", "3", "c", "entry=3")
             "2.000000000 exit p:c code=2\n");
    fx_done(&f);
}

static int read_file(const char *dir, const char *rel, char *buf,
                     size_t cap, mode_t *mode)
{
    char path[2048];
    struct stat st;
    FILE *fp;
    size_t n;

    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (stat(path, &st) != 0)
        return -1;
    *mode = st.st_mode & 07777;
    fp = fopen(path, "rb");
    if (fp == NULL)
        return -1;
    n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return (int)n;
}

static void test_files(void)
{
    static const char *const bad[] = {
        "", "/", "//a", "a/", "a//b", ".", "./a", "a/.", "..", "../x",
        "a/../b", "a/.."
    };
    fx f;
    haz_mock_proc *p;
    char root[1024], buf[64], path[1100];
    mode_t mode = 0, old;
    size_t i;

    fx_init(&f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(root, sizeof root, "mock"));
    p = add(&f, "core:build");
    CU_ASSERT_EQUAL(haz_mock_proc_create_file(p, "out/sub/a.o", "abc", 3),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_create_file(p, "/top.txt", NULL, 0),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, SEC(1), 0), HAZ_OK);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(haz_mock_proc_create_file(p, bad[i], "x", 1),
                        HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_create_file(p, NULL, "x", 1), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_create_file(p, "a", NULL, 1), HAZ_EINVAL);
    p = add(&f, "core:killed");
    CU_ASSERT_EQUAL(haz_mock_proc_create_file(p, "killed.txt", "k", 1),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, NEVER, 0), HAZ_OK);
    p = add(&f, "core:term");
    CU_ASSERT_EQUAL(haz_mock_proc_create_file(p, "out/term.txt", "t", 1),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, NEVER, 0), HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_on_sigterm(p, HAZ_MOCK_TERM_EXIT, 0, 1),
                    HAZ_OK);
    p = add(&f, "core:died");
    CU_ASSERT_EQUAL(haz_mock_proc_create_file(p, "died.txt", "d", 1),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_die(p, MS(100), SIGABRT), HAZ_OK);
    p = add(&f, "core:blocked");
    CU_ASSERT_EQUAL(haz_mock_proc_create_file(p, "top.txt/x", "b", 1),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, SEC(2), 0), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, root), HAZ_OK);

    old = umask(077);
    spawn_ok(&f, "core:build", "b", 1);
    spawn_ok(&f, "core:killed", "k", 2);
    spawn_ok(&f, "core:term", "t", 3);
    spawn_ok(&f, "core:died", "d", 4);
    CU_ASSERT_EQUAL(wait_cap(&f, MS(500), NULL, 16), HAZ_OK);
    CU_ASSERT_EQUAL(strncmp(f.desc, "4>sig=", 6), 0);
    CU_ASSERT_EQUAL(read_file(root, "died.txt", buf, sizeof buf, &mode), -1);
    CU_ASSERT_STRING_EQUAL(w(&f, MS(500)), " +D");
    CU_ASSERT_EQUAL(read_file(root, "out/sub/a.o", buf, sizeof buf, &mode),
                    -1);
    CU_ASSERT_EQUAL(sig(&f, 2, SIGKILL), HAZ_OK);
    CU_ASSERT_EQUAL(sig(&f, 3, SIGTERM), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "2>sig=9 3>exit=1");
    CU_ASSERT_EQUAL(read_file(root, "killed.txt", buf, sizeof buf, &mode),
                    -1);
    CU_ASSERT_EQUAL(read_file(root, "out/term.txt", buf, sizeof buf, &mode),
                    1);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>exit=0");
    CU_ASSERT_EQUAL(read_file(root, "out/sub/a.o", buf, sizeof buf, &mode),
                    3);
    CU_ASSERT_STRING_EQUAL(buf, "abc");
    CU_ASSERT_EQUAL(mode, 0644);
    CU_ASSERT_EQUAL(read_file(root, "top.txt", buf, sizeof buf, &mode), 0);
    CU_ASSERT_EQUAL(mode, 0644);
    umask(old);

    /* A file that cannot be created makes wait fail: HAZ_EIO. */
    spawn_ok(&f, "core:blocked", "x", 5);
    CU_ASSERT_EQUAL(wait_cap(&f, NEVER, NULL, 16), HAZ_EIO);
    CU_ASSERT_EQUAL(haz_ctx_errno(f.ctx), ENOTDIR);
    snprintf(path, sizeof path,
             "mock spawner: core:blocked: cannot create '%s/top.txt/x': %s",
             root, strerror(ENOTDIR));
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx), path);
    TRACE_IS(&f, SPAWN_LINE("0.000000000", "core:build", "1", "b", "entry=1")
             SPAWN_LINE("0.000000000", "core:killed", "2", "k", "entry=2")
             SPAWN_LINE("0.000000000", "core:term", "3", "t", "entry=3")
             SPAWN_LINE("0.000000000", "core:died", "4", "d", "entry=4")
             "0.100000000 exit core:died signal=%d\n"
             "0.500000000 deadline\n"
             "0.500000000 signal core:killed SIGKILL\n"
             "0.500000000 signal core:term SIGTERM\n"
             "0.500000000 exit core:killed signal=9\n"
             "0.500000000 file core:term out/term.txt 1\n"
             "0.500000000 exit core:term code=1\n"
             "1.000000000 file core:build out/sub/a.o 3\n"
             "1.000000000 file core:build top.txt 0\n"
             "1.000000000 exit core:build code=0\n"
             SPAWN_LINE("1.000000000", "core:blocked", "5", "x", "entry=5"),
             SIGABRT);
    fx_done(&f);
    CU_ASSERT_EQUAL(haz_test_rmtree(root), 0);
}

static void test_bad_values(void)
{
    fx f;
    haz_mock_proc *p;

    fx_init(&f);
    p = add(&f, "core:a");
    CU_ASSERT_EQUAL(haz_mock_proc_output(p, 0, HAZ_STREAM_STDOUT, "", 0),
                    HAZ_EINVAL);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx), "empty output chunk");
    CU_ASSERT_EQUAL(haz_mock_proc_output(p, 0, HAZ_STREAM_STDOUT, NULL, 1),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_output(p, 0, (haz_stream)3, "x", 1),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_output(p, NEVER, HAZ_STREAM_STDOUT, "x", 1),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_output(NULL, 0, HAZ_STREAM_STDOUT, "x", 1),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, 0, 256), HAZ_EINVAL);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx),
                           "exit code 256 out of range (0 to 255)");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, 0, -1), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_die(p, 0, 0), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_die(p, 0, 128), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_on_sigterm(p, HAZ_MOCK_TERM_DELAY, NEVER,
                                             0), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_read_error(p, 0, HAZ_STREAM_STDOUT, 0),
                    HAZ_EINVAL);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx),
                           "read error 0: errno must be positive");
    CU_ASSERT_EQUAL(haz_mock_proc_read_error(p, 0, (haz_stream)3, EIO),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_read_error(p, NEVER, HAZ_STREAM_STDERR,
                                             EIO), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_proc_read_error(NULL, 0, HAZ_STREAM_STDERR,
                                             EIO), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_script_new(NULL, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_script_new(f.ctx, NULL), HAZ_EINVAL);
    haz_mock_script_free(NULL);
    fx_done(&f);
}

/* haz_mock_proc_read_error: at its time one HAZ_EV_STREAM_ERROR with the
 * errno; the later chunks of that stream are never delivered (a second
 * read error on it neither), the other stream goes on, the exit follows;
 * the trace has a read-error line. */
static void test_read_error(void)
{
    fx f;
    haz_mock_proc *p;

    fx_init(&f);
    p = add(&f, "core:a");
    CU_ASSERT_EQUAL(haz_mock_proc_output(p, MS(1), HAZ_STREAM_STDOUT, "a", 1),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_read_error(p, MS(2), HAZ_STREAM_STDOUT, EIO),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_output(p, MS(3), HAZ_STREAM_STDOUT, "b", 1),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_read_error(p, MS(3), HAZ_STREAM_STDOUT,
                                             EBADF), HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_output(p, MS(3), HAZ_STREAM_STDERR, "c", 1),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, MS(4), 0), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);
    spawn_ok(&f, "core:a", "a", 1);
    CU_ASSERT_STRING_EQUAL(w(&f, MS(10)), "1>o:a");
    {
        char want[64];

        snprintf(want, sizeof want, "1>o:errno=%d", EIO);
        CU_ASSERT_STRING_EQUAL(w(&f, MS(10)), want);
    }
    CU_ASSERT_STRING_EQUAL(w(&f, MS(10)), "1>e:c");
    CU_ASSERT_STRING_EQUAL(w(&f, MS(10)), "1>exit=0");
    TRACE_IS(&f, SPAWN_LINE("0.000000000", "core:a", "1", "a", "entry=1")
             "0.001000000 stdout core:a 1 \"a\"\n"
             "0.002000000 read-error core:a stdout errno=EIO\n"
             "0.003000000 stderr core:a 1 \"c\"\n"
             "0.004000000 exit core:a code=0\n");
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * Suite "parse".
 * ---------------------------------------------------------------------- */

/* One scenario, scripted twice: through the API and as text. */
static const char scenario_text[] =
    "# a scenario\n"
    "[core:build]\n"
    "stdout 0.1 \"compiling\\n\"\n"
    "stderr 0.25 \"warning\\n\"\n"
    "exit 0.5 0\n"
    "\n"
    "[argv:cc -c b.c]\n"
    "spawn-error ENOENT\n"
    "[sh:sleep 100]\n"
    "hang\n"
    "sigterm delay 2 143\n"
    "[*]\n"
    "die 1 SIGSEGV\n";

static void scenario_api(fx *f)
{
    haz_mock_proc *p = add(f, "core:build");

    out(p, MS(100), HAZ_STREAM_STDOUT, "compiling\n");
    out(p, MS(250), HAZ_STREAM_STDERR, "warning\n");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, MS(500), 0), HAZ_OK);
    p = add(f, "argv:cc -c b.c");
    CU_ASSERT_EQUAL(haz_mock_proc_spawn_error(p, ENOENT), HAZ_OK);
    p = add(f, "sh:sleep 100");
    CU_ASSERT_EQUAL(haz_mock_proc_exit(p, NEVER, 0), HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_proc_on_sigterm(p, HAZ_MOCK_TERM_DELAY, SEC(2),
                                             143), HAZ_OK);
    p = add(f, NULL);
    CU_ASSERT_EQUAL(haz_mock_proc_die(p, SEC(1), SIGSEGV), HAZ_OK);
}

/* Run the scenario; returns a copy of the trace (free it). */
static char *scenario_run(fx *f)
{
    static const char *const ccb[] = {"cc", "-c", "b.c", NULL};
    haz_child c = 0;
    const char *t;
    char *copy;

    CU_ASSERT_EQUAL_FATAL(fx_open(f, 0, NULL), HAZ_OK);
    spawn_ok(f, "core:build", "make", 1);
    CU_ASSERT_EQUAL(spawn_argv(f, "core:cc", ccb, &c), HAZ_ESPAWN);
    spawn_ok(f, "core:sleep", "sleep 100", 2);
    spawn_ok(f, "core:other", "true", 3);
    CU_ASSERT_STRING_EQUAL(w(f, NEVER), "1>o:compiling\\x0a");
    CU_ASSERT_STRING_EQUAL(w(f, NEVER), "1>e:warning\\x0a");
    CU_ASSERT_STRING_EQUAL(w(f, NEVER), "1>exit=0");
    CU_ASSERT_EQUAL(sig(f, 2, SIGTERM), HAZ_OK);
    CU_ASSERT_EQUAL(wait_cap(f, NEVER, NULL, 16), HAZ_OK);
    CU_ASSERT_EQUAL(strncmp(f->desc, "3>sig=", 6), 0);
    CU_ASSERT_STRING_EQUAL(w(f, NEVER), "2>exit=143");
    CU_ASSERT_EQUAL(now(f), MS(2500));
    t = haz_mock_spawner_trace(f->sp, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    copy = malloc(strlen(t) + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
    strcpy(copy, t);
    TRACE_IS(f, SPAWN_LINE("0.000000000", "core:build", "1", "make",
                           "entry=1")
             "0.000000000 spawn-error core:cc errno=ENOENT entry=2\n"
             SPAWN_LINE("0.000000000", "core:sleep", "2", "sleep 100",
                        "entry=3")
             SPAWN_LINE("0.000000000", "core:other", "3", "true", "entry=4")
             "0.100000000 stdout core:build 10 \"compiling\\n\"\n"
             "0.250000000 stderr core:build 8 \"warning\\n\"\n"
             "0.500000000 exit core:build code=0\n"
             "0.500000000 signal core:sleep SIGTERM\n"
             "1.000000000 exit core:other signal=%d\n"
             "2.500000000 exit core:sleep code=143\n", SIGSEGV);
    return copy;
}

static void test_parse_same_as_api(void)
{
    fx a, b, c;
    char *ta, *tb, *tc;

    fx_init(&a);
    scenario_api(&a);
    ta = scenario_run(&a);
    fx_init(&b);
    parse_ok(&b, scenario_text);
    tb = scenario_run(&b);
    CU_ASSERT_STRING_EQUAL(ta, tb);
    fx_done(&a);

    /* The same script again, on a fresh spawner and clock. */
    haz_spawner_close(b.sp);
    b.sp = NULL;
    haz_clock_close(b.clk);
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(b.ctx, &haz_clock_mock, NULL,
                                         &b.clk), HAZ_OK);
    tc = scenario_run(&b);
    CU_ASSERT_STRING_EQUAL(tb, tc);
    fx_done(&b);

    /* Parsed in two pieces: entries are numbered together. */
    fx_init(&c);
    parse_ok(&c, "[core:build]\nstdout 0.1 \"compiling\\n\"\n"
             "stderr 0.25 \"warning\\n\"\nexit 0.5 0\n");
    CU_ASSERT_EQUAL(haz_mock_proc_spawn_error(add(&c, "argv:cc -c b.c"),
                                              ENOENT), HAZ_OK);
    parse_ok(&c, "[sh:sleep 100]\nhang\nsigterm delay 2 143\n"
             "[*]\ndie 1 SIGSEGV");
    free(scenario_run(&c));
    fx_done(&c);
    free(ta);
    free(tb);
    free(tc);
}

/* Strings, times, numbers, CRLF, blanks, odd sections. */
static void test_parse_forms(void)
{
    static const char text[] =
        "# comment\n"
        "  \t\n"
        "  # indented comment\n"
        "[core:a]\r\n"
        "stdout 0.000000001 \"\\t\\x41\\101\\0z\\\"\\\\"
        "\\a\\b\\f\\v\\'\\?\"\r\n"
        "\tstderr\t1\t\"e\"  \n"
        "exit 2 3\n"
        "sigterm delay 0.5 9\n"
        "file \"dir with space/f\" \"\\n\"\n"
        "[argv:cc -c a.c]\n"
        "spawn-error 4000\n"
        "[sh:[ -f x ]]\n"
        "die 0 9\n"
        "[*]\n"
        "hang\n"
        "sigterm exit 0";
    static const char *const cc[] = {"cc", "-c", "a.c", NULL};
    fx f;
    haz_child c = 0;
    char root[1024], buf[16];
    mode_t mode;

    fx_init(&f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(root, sizeof root, "mock"));
    CU_ASSERT_EQUAL(haz_mock_script_parse(f.script, NULL, text,
                                          sizeof text - 1, NULL), HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_script_parse(f.script, NULL, NULL, 0, NULL),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_script_parse(f.script, NULL, NULL, 1, NULL),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mock_script_parse(NULL, NULL, "", 0, NULL),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, root), HAZ_OK);

    spawn_ok(&f, "core:a", "true", 1);
    CU_ASSERT_EQUAL(spawn_argv(&f, "core:b", cc, &c), HAZ_ESPAWN);
    CU_ASSERT_EQUAL(haz_ctx_errno(f.ctx), 4000);
    spawn_ok(&f, "core:c", "[ -f x ]", 2);
    spawn_ok(&f, "core:d", "anything", 3);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "2>sig=9");
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER),
                           "1>o:\\x09AA\\x00z\"\\\\x07\\x08\\x0c\\x0b'?");
    CU_ASSERT_EQUAL(now(&f), 1);
    CU_ASSERT_EQUAL(sig(&f, 1, SIGTERM), HAZ_OK);
    CU_ASSERT_EQUAL(sig(&f, 3, SIGTERM), HAZ_OK);
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "3>exit=0");
    CU_ASSERT_STRING_EQUAL(w(&f, NEVER), "1>exit=9");
    CU_ASSERT_EQUAL(now(&f), MS(500) + 1);
    CU_ASSERT_EQUAL(read_file(root, "dir with space/f", buf, sizeof buf,
                              &mode), 1);
    CU_ASSERT_STRING_EQUAL(buf, "\n");
    TRACE_IS(&f, SPAWN_LINE("0.000000000", "core:a", "1", "true", "entry=1")
             "0.000000000 spawn-error core:b errno=4000 entry=2\n"
             SPAWN_LINE("0.000000000", "core:c", "2", "[ -f x \\x5d",
                        "entry=3")
             SPAWN_LINE("0.000000000", "core:d", "3", "anything", "entry=4")
             "0.000000000 exit core:c signal=9\n"
             "0.000000001 stdout core:a 13 "
             "\"\\tAA\\x00z\\\"\\\\\\x07\\x08\\x0c\\x0b'?\"\n"
             "0.000000001 signal core:a SIGTERM\n"
             "0.000000001 signal core:d SIGTERM\n"
             "0.000000001 exit core:d code=0\n"
             "0.500000001 file core:a dir\\x20with\\x20space/f 1\n"
             "0.500000001 exit core:a code=9\n");
    fx_done(&f);
    CU_ASSERT_EQUAL(haz_test_rmtree(root), 0);
}

static void test_parse_errors(void)
{
    static const char text[] =
        "stdout 0 \"x\"\n"                      /* 1 */
        "[core:a]\n"                            /* 2 */
        "stdout 0.1\n"                          /* 3 */
        "exit 1.5 256\n"                        /* 4 */
        "die 1 SIGFOO\n"                        /* 5 */
        "bogus 1\n"                             /* 6 */
        "stdout 0.1234567891 \"x\"\n"           /* 7 */
        "[nocolon]\n"                           /* 8 */
        "exit 1 0\n"                            /* 9 */
        "exit 2 0\n"                            /* 10 */
        "stdout 1 \"a\\qb\"\n"                  /* 11 */
        "file ../x \"y\"\n"                     /* 12 */
        "sigterm ignore extra\n"                /* 13 */
        "[core:b\n"                             /* 14 */
        "stdout 1 \"unterminated\n"             /* 15 */
        "spawn-error EWHAT\n"                   /* 16 */
        "sigterm maybe\n"                       /* 17 */
        "stdout 1. \"x\"\n"                     /* 18 */
        "stdout 99999999999 \"x\"\n"            /* 19 */
        "stdout 1 \"\"\n"                       /* 20 */
        "stdout 1 \"\\x4\"\n"                   /* 21 */
        "die 1 0\n"                             /* 22 */
        "stdout 1 \"\\400\"\n"                  /* 23 */
        "exit\n"                                /* 24 */
        "[]\n"                                  /* 25 */
        "stdout .5 \"x\"\n"                     /* 26 */
        "exit 1 -1\n"                           /* 27 */
        "read-error 1 stdin EIO\n"              /* 28 */
        "read-error 1 stdout\n"                 /* 29 */
        "read-error 1 stderr 0\n";              /* 30 */
    static const char *const want[] = {
        "t.mock:1: 'stdout' before the first [section] line",
        "t.mock:3: missing output (a quoted string)",
        "t.mock:4: bad exit code '256': expected 0 to 255",
        "t.mock:5: unknown signal 'SIGFOO'",
        "t.mock:6: unknown directive 'bogus'",
        "t.mock:7: time '0.1234567891' has more than 9 decimals",
        "t.mock:8: bad match 'nocolon': expected project:task, argv:WORDS "
        "or sh:SCRIPT",
        "t.mock:10: the end (exit, die or hang) is already scripted",
        "t.mock:11: unknown escape '\\q'",
        "t.mock:12: bad file path '../x': empty, '.' or '..' segment",
        "t.mock:13: unexpected text after 'sigterm'",
        "t.mock:14: a section line must end with ']'",
        "t.mock:15: unterminated string",
        "t.mock:16: unknown errno name 'EWHAT'",
        "t.mock:17: unknown SIGTERM reaction 'maybe' (ignore, exit or delay)",
        "t.mock:18: bad time '1.': expected seconds such as 2 or 0.25",
        "t.mock:19: time '99999999999' out of range",
        "t.mock:20: empty output chunk",
        "t.mock:21: \\x must be followed by two hex digits",
        "t.mock:22: bad signal '0': expected 1 to 127",
        "t.mock:23: octal escape out of range",
        "t.mock:24: missing time",
        "t.mock:25: bad match '': expected project:task, argv:WORDS or "
        "sh:SCRIPT",
        "t.mock:26: bad time '.5': expected seconds such as 2 or 0.25",
        "t.mock:27: bad exit code '-1': expected 0 to 255",
        "t.mock:28: unknown stream 'stdin' (stdout or stderr)",
        "t.mock:29: missing errno",
        "t.mock:30: bad errno '0': expected 1 to 4095",
    };
    static const haz_diag_kind kinds[] = {
        HAZ_DIAG_SYNTAX, HAZ_DIAG_SYNTAX, HAZ_DIAG_BAD_VALUE,
        HAZ_DIAG_BAD_VALUE, HAZ_DIAG_SYNTAX
    };
    fx f;
    haz_diags *d = NULL;
    size_t i;

    fx_init(&f);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(f.ctx, &d), HAZ_OK);
    CU_ASSERT_EQUAL(haz_mock_script_parse(f.script, "t.mock", text,
                                          sizeof text - 1, d), HAZ_EPARSE);
    CU_ASSERT_EQUAL(haz_diags_count(d), sizeof want / sizeof want[0]);
    for (i = 0; i < haz_diags_count(d) && i < sizeof want / sizeof want[0];
         i++) {
        const haz_diag *g = haz_diags_get(d, i);

        if (strcmp(g->text, want[i]) != 0)
            fprintf(stderr, "\nwant: %s\ngot:  %s\n", want[i], g->text);
        CU_ASSERT_STRING_EQUAL(g->text, want[i]);
        CU_ASSERT_STRING_EQUAL(g->file, "t.mock");
        if (i < sizeof kinds / sizeof kinds[0])
            CU_ASSERT_EQUAL(g->kind, kinds[i]);
    }
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx),
                           "t.mock: 28 errors in mock script");

    /* Nothing was added; errors without a diags list; NUL bytes. */
    CU_ASSERT_EQUAL(haz_mock_script_parse(f.script, NULL, "[a:b]\nexit x 0",
                                          14, NULL), HAZ_EPARSE);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx),
                           "script: 1 error in mock script");
    haz_diags_clear(d);
    CU_ASSERT_EQUAL(haz_mock_script_parse(f.script, "n", "[a:\0b]\nx\0", 9,
                                          d), HAZ_EPARSE);
    CU_ASSERT_EQUAL(haz_diags_count(d), 2);
    CU_ASSERT_STRING_EQUAL(haz_diags_get(d, 0)->text,
                           "n:1: NUL byte in a section line");
    CU_ASSERT_STRING_EQUAL(haz_diags_get(d, 1)->text,
                           "n:2: unknown directive 'x\\x00'");
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, 0, NULL), HAZ_OK);
    spawn_ok(&f, "core:a", "a", 1);
    TRACE_IS(&f, SPAWN_LINE("0.000000000", "core:a", "1", "a",
                            "unscripted"));
    haz_diags_free(d);
    fx_done(&f);
}

/* Any bytes: never a crash, a leak, or an answer other than 0/EPARSE. */
static void test_parse_fuzz(void)
{
    static const char *const pieces[] = {
        "[", "]", "[*]\n", "[core:a]\n", "[argv:", "[sh:", "stdout ",
        "stderr ", "exit ", "die ", "hang", "spawn-error ", "sigterm ",
        "read-error ", "stdout ", "EIO ",
        "file ", "ignore", "delay ", "0.5 ", "1 ", "99999999999999999999 ",
        "0.", ".", "\"", "\\", "\\x", "\\0", "\\777", "\"abc\" ", "SIGTERM ",
        "ENOENT ", "\n", "\r\n", "\t", " ", "#", "\0", "\xff", "a/../b ",
        "/x ", "255 ", "256 "
    };
    static const char base[] = "[core:a]\nstdout 0.1 \"x\\n\"\nexit 1 0\n"
                               "sigterm delay 2 1\nfile a/b \"c\"\n";
    fx f;
    haz_diags *d = NULL;
    char text[512];
    unsigned long seed = 12345;
    size_t i, k, len;
    int rc;

    fx_init(&f);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(f.ctx, &d), HAZ_OK);
    for (i = 0; i < 3000; i++) {
        len = 0;
        for (k = 0; k < 12; k++) {
            const char *p;
            size_t n;

            seed = seed * 1103515245u + 12345u;
            p = pieces[(seed >> 8) % (sizeof pieces / sizeof pieces[0])];
            n = p[0] == '\0' ? 1 : strlen(p);
            if (len + n > sizeof text)
                break;
            if ((seed >> 20) % 7 == 0) {
                text[len++] = (char)(seed >> 12);
                continue;
            }
            memcpy(text + len, p, n);
            len += n;
        }
        rc = haz_mock_script_parse(f.script, "fuzz", text, len, d);
        CU_ASSERT(rc == HAZ_OK || rc == HAZ_EPARSE);
        haz_diags_clear(d);
    }
    /* Every prefix, and every byte of the base replaced. */
    for (i = 0; i <= sizeof base - 1; i++) {
        rc = haz_mock_script_parse(f.script, "pre", base, i, d);
        CU_ASSERT(rc == HAZ_OK || rc == HAZ_EPARSE);
        haz_diags_clear(d);
    }
    for (i = 0; i < sizeof base - 1; i++) {
        static const char subs[] = {'\0', '\n', '"', '\\', ' ', '[', 'x'};

        for (k = 0; k < sizeof subs; k++) {
            memcpy(text, base, sizeof base - 1);
            text[i] = subs[k];
            rc = haz_mock_script_parse(f.script, "sub", text, sizeof base - 1,
                                       d);
            CU_ASSERT(rc == HAZ_OK || rc == HAZ_EPARSE);
            haz_diags_clear(d);
        }
    }
    haz_diags_free(d);
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * Suite "oom".
 * ---------------------------------------------------------------------- */

#define TRY(call)                                                           \
    do {                                                                    \
        int rc_ = (call);                                                   \
        if (rc_ == HAZ_ENOMEM) {                                            \
            rc = rc_;                                                       \
            goto done;                                                      \
        }                                                                   \
        CU_ASSERT_EQUAL(rc_, HAZ_OK);                                       \
        if (rc_ != HAZ_OK) {                                                \
            rc = rc_;                                                       \
            goto done;                                                      \
        }                                                                   \
    } while (0)

/* Build a script both ways, spawn, signal and wait to the end.  Returns 0
 * or HAZ_ENOMEM; *trace receives a malloc'd copy of the trace, or NULL
 * when it was lost. */
static int oom_session(haz_test_mem *tm, const char *root, char **trace)
{
    static const char *const ccb[] = {"cc", "-c", "b.c", NULL};
    haz_ctx *ctx = NULL;
    haz_clock *clk = NULL;
    haz_mock_script *s = NULL;
    haz_spawner *sp = NULL;
    haz_diags *d = NULL;
    haz_mock_proc *p = NULL;
    haz_mock_config mc;
    haz_spawner_config cfg;
    haz_spawn_plan plan;
    haz_spawn_event ev[4];
    haz_child c;
    size_t n, left = 4;
    unsigned flags;
    const char *t;
    int rc = HAZ_OK, r;

    *trace = NULL;
    TRY(haz_ctx_new(&ctx, &tm->mem));
    TRY(haz_clock_open(ctx, &haz_clock_mock, NULL, &clk));
    TRY(haz_mock_script_new(ctx, &s));
    TRY(haz_diags_new(ctx, &d));
    TRY(haz_mock_script_add(s, "core:a", &p));
    TRY(haz_mock_proc_output(p, 5, HAZ_STREAM_STDOUT, "hello", 5));
    TRY(haz_mock_proc_output(p, 5, HAZ_STREAM_STDERR, "world", 5));
    TRY(haz_mock_proc_create_file(p, "o/a.txt", "a", 1));
    TRY(haz_mock_proc_exit(p, 10, 0));
    TRY(haz_mock_script_parse(s, "t", scenario_text, strlen(scenario_text),
                              d));
    r = haz_mock_script_parse(s, "bad", "x\n[a]\nexit 1 1 1\n", 17, d);
    if (r == HAZ_ENOMEM) {
        rc = r;
        goto done;
    }
    CU_ASSERT_EQUAL(r, HAZ_EPARSE);
    mc.script = s;
    mc.workspace_root = root;
    mc.max_children = 0;
    cfg.version = 1;
    cfg.clock = clk;
    cfg.backend = &mc;
    TRY(haz_spawner_open(ctx, &haz_spawner_mock, &cfg, &sp));

    memset(&plan, 0, sizeof plan);
    plan.task_id = "core:a";
    plan.action = HAZ_ACTION_SHELL;
    plan.script = "true";
    plan.cwd = "/ws";
    plan.envp = env1;
    TRY(sp->methods->spawn(sp, &plan, &c));
    plan.task_id = "core:build";
    TRY(sp->methods->spawn(sp, &plan, &c));
    plan.task_id = "core:cc";
    plan.action = HAZ_ACTION_ARGV;
    plan.argv = ccb;
    plan.argc = 3;
    r = sp->methods->spawn(sp, &plan, &c);
    CU_ASSERT_EQUAL(r, HAZ_ESPAWN);
    plan.task_id = "core:sleep";
    plan.action = HAZ_ACTION_SHELL;
    plan.script = "sleep 100";
    TRY(sp->methods->spawn(sp, &plan, &c));
    plan.task_id = "core:other";
    TRY(sp->methods->spawn(sp, &plan, &c));
    TRY(sp->methods->signal(sp, 3, SIGTERM));
    while (left > 0) {
        size_t i;

        TRY(sp->methods->wait(sp, UINT64_MAX, NULL, ev, 4, &n, &flags));
        for (i = 0; i < n; i++)
            if (ev[i].type == HAZ_EV_EXIT)
                left--;
    }
    t = haz_mock_spawner_trace(sp, NULL);
    if (t != NULL) {
        *trace = malloc(strlen(t) + 1);
        if (*trace != NULL)
            strcpy(*trace, t);
    }
done:
    haz_spawner_close(sp);
    haz_diags_free(d);
    haz_mock_script_free(s);
    haz_clock_close(clk);
    haz_ctx_free(ctx);
    return rc;
}

static void oom_sweep(int persistent)
{
    haz_test_mem tm;
    char root[1024], *ref = NULL, *got = NULL;
    unsigned long i;
    int rc, done = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(root, sizeof root, "mock"));
    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(oom_session(&tm, root, &ref), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    CU_ASSERT_EQUAL(tm.live, 0);
    for (i = 1; i < 100000 && !done; i++) {
        haz_test_mem_init(&tm);
        haz_test_mem_fail_at(&tm, i, persistent);
        rc = oom_session(&tm, root, &got);
        CU_ASSERT(rc == HAZ_OK || rc == HAZ_ENOMEM);
        CU_ASSERT_EQUAL(tm.live, 0);
        if (rc == HAZ_OK && got != NULL)
            CU_ASSERT_STRING_EQUAL(got, ref);
        if (tm.failures == 0) {
            CU_ASSERT_EQUAL(rc, HAZ_OK);
            done = 1;
        }
        free(got);
        got = NULL;
    }
    CU_ASSERT(done);
    free(ref);
    CU_ASSERT_EQUAL(haz_test_rmtree(root), 0);
}

static void test_oom_single(void)
{
    oom_sweep(0);
}

static void test_oom_persistent(void)
{
    oom_sweep(1);
}

/* ------------------------------------------------------------------------
 * Registration.
 * ---------------------------------------------------------------------- */

static CU_TestInfo open_tests[] = {
    {"errors", test_open_errors},
    {"no config", test_open_no_config},
    CU_TEST_INFO_NULL
};

static CU_TestInfo event_tests[] = {
    {"output timing", test_output_timing},
    {"exit after output", test_exit_after_output},
    {"event order", test_event_order},
    {"die", test_die},
    {"spawn error", test_spawn_error},
    {"matching", test_matching},
    {"trace escaping", test_trace_escaping},
    {"deadline", test_deadline},
    {"cancel", test_cancel},
    {"nothing to wait for", test_nothing_to_wait_for},
    {"sigterm", test_sigterm},
    {"signal cuts output", test_signal_cuts_output},
    {"signal after exit", test_signal_after_exit},
    {"max children", test_max_children},
    {"files", test_files},
    {"bad values", test_bad_values},
    {"read error: an event, then the stream is lost", test_read_error},
    CU_TEST_INFO_NULL
};

static CU_TestInfo parse_tests[] = {
    {"same as api", test_parse_same_as_api},
    {"forms", test_parse_forms},
    {"errors", test_parse_errors},
    {"fuzz", test_parse_fuzz},
    CU_TEST_INFO_NULL
};

static CU_TestInfo oom_tests[] = {
    {"single failure", test_oom_single},
    {"persistent failure", test_oom_persistent},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("open", open_tests),
    HAZ_TEST_SUITE("events", event_tests),
    HAZ_TEST_SUITE("parse", parse_tests),
    HAZ_TEST_SUITE("oom", oom_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
