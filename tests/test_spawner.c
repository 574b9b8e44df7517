/*
 * tests/test_spawner.c: the spawner conformance suite, run against every
 * backend (style.md 2.2): the backend is "posix", "posix-fork" (the posix
 * backend forced onto its fork+exec path) or "mock", taken from
 * $HAZ_TEST_SPAWNER, else from HAZ_TEST_SPAWNER_DEFAULT, with which
 * Makefile.am builds this file once per row.
 *
 * Suite "common" holds scenarios every backend can play: the posix rows run
 * /bin/sh scripts or tests/t_probe, the mock row an equivalent script.
 * Suite "posix" (skipped for the mock) checks what only real processes
 * have: what a child inherits (stdin, descriptors, signal state, process
 * group, PATH, cwd, environment), output volume and binary bytes,
 * grandchildren, exit detection without EOF, close(), the spawn error
 * messages, the FD_SETSIZE limit, injected system-call failures, an
 * allocation-failure sweep, and the direct-exec fast path for plain shell
 * command lines (its rule, and the same results as /bin/sh -c for a table
 * of commands run both ways).
 *
 * After every test fx_end checks the invariants of reliability-tests.md:
 * no memory left (counting allocator), no zombie (waitpid(-1, WNOHANG)
 * gives ECHILD: the test process has no other children), no process group
 * left (kill(-pgid, 0) gives ESRCH for every child the test started) and
 * the same open descriptors 0..1023 as before.  On Linux the test process
 * is a child subreaper, so orphaned grandchildren come back to it and are
 * reaped by group.  Timing never decides a result: steps are sequenced by
 * output, fifos and pid files; the only clock use is a generous 10 s guard.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"
#include "../backends/spawn_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define NEVER UINT64_MAX
#define MS(x) ((uint64_t)(x) * UINT64_C(1000000))
#define SEC(x) ((uint64_t)(x) * UINT64_C(1000000000))
#define GUARD SEC(10)
#define MAXK 64
#define FDMAX 1024
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *backend;
static int is_mock;
static int subreaper;
static int under_valgrind;  /* it cannot survive a failed exec in a child */
static char probe[4096];

/* ------------------------------------------------------------------------
 * Fixture.
 * ---------------------------------------------------------------------- */

typedef struct krec {
    haz_child id;
    long pid;                   /* posix: also the process group */
    char *out, *err;            /* NUL-terminated copies */
    size_t nout, nerr;
    int exited, late;           /* late: output after the exit */
    haz_exit_status st;
    int os_errno;
    int read_err[3];            /* per stream (1 stdout, 2 stderr): the
                                   errno of its HAZ_EV_STREAM_ERROR */
} krec;

typedef struct fx {
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_clock *clk;
    haz_mock_script *script;
    haz_mock_config mc;
    haz_spawner_config cfg;
    haz_spawner *sp;
    krec k[MAXK];
    size_t nk;
    unsigned char fds[FDMAX];
    haz_spawn_event ev[64];
    char dir[4096];             /* scratch directory or "" */
} fx;

static void fd_snapshot(unsigned char *fds)
{
    int fd;

    for (fd = 0; fd < FDMAX; fd++)
        fds[fd] = fcntl(fd, F_GETFD) != -1;
}

static void fx_begin(fx *f)
{
    memset(f, 0, sizeof *f);
    fd_snapshot(f->fds);
    haz_test_mem_init(&f->tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&f->ctx, &f->tm.mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(f->ctx, is_mock ? &haz_clock_mock
                                                         : &haz_clock_posix,
                                         NULL, &f->clk), HAZ_OK);
    if (is_mock)
        CU_ASSERT_EQUAL_FATAL(haz_mock_script_new(f->ctx, &f->script),
                              HAZ_OK);
}

/* Open the spawner; `mock` is the script text the mock row plays. */
static int fx_open(fx *f, const char *mock)
{
    f->cfg.version = 1;
    f->cfg.clock = f->clk;
    if (!is_mock)
        return haz_spawner_open(f->ctx, &haz_spawner_posix, &f->cfg, &f->sp);
    if (mock != NULL)
        CU_ASSERT_EQUAL(haz_mock_script_parse(f->script, "t.mock", mock,
                                              strlen(mock), NULL), HAZ_OK);
    f->mc.script = f->script;
    f->cfg.backend = &f->mc;
    return haz_spawner_open(f->ctx, &haz_spawner_mock, &f->cfg, &f->sp);
}

static char *fx_dir(fx *f)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(f->dir, sizeof f->dir,
                                                  "spawner"));
    return f->dir;
}

static uint64_t now(fx *f)
{
    return haz_clock_now_ns(f->clk);
}

/* Wait until nothing is left of process group pgid (killing it first when
 * asked): reap its members where they are our children, else poll. */
static void reap_group(long pgid, int kill_first)
{
    struct timespec ms = {0, 1000000L};
    int st, i;

    if (kill_first)
        (void)kill(-(pid_t)pgid, SIGKILL);
    /* As subreaper the members are (or will be) our children: block until
     * each has gone; the caller made sure they are ending. */
    if (subreaper)
        while (waitpid(-(pid_t)pgid, &st, 0) > 0 || errno == EINTR)
            ;
    for (i = 0; i < 10000 && kill(-(pid_t)pgid, 0) == 0; i++)
        nanosleep(&ms, NULL);
}

/* Close everything, then check the invariants. */
static void fx_end(fx *f)
{
    unsigned char after[FDMAX];
    size_t i;
    int fd, st;
    pid_t p;

    haz_spawner_close(f->sp);
    haz_mock_script_free(f->script);
    haz_clock_close(f->clk);
    haz_ctx_free(f->ctx);
    CU_ASSERT_EQUAL(f->tm.live, 0);
    /* INV-ZOMBIE: the test process has no child left (checked first: the
     * group check below reaps what it finds). */
    p = waitpid(-1, &st, WNOHANG);
    CU_ASSERT(p == -1 && errno == ECHILD);
    while (p > 0)
        p = waitpid(-1, &st, WNOHANG);
    for (i = 0; i < f->nk; i++) {
        krec *k = &f->k[i];

        free(k->out);
        free(k->err);
        if (k->pid <= 0)
            continue;
        /* INV-GROUP: the group is gone once the leader is reaped (as
         * the subreaper, asked through waitpid: the leader's number may
         * already be another group's on a busy machine). */
        if (!haz_test_group_gone(k->pid, subreaper)) {
            CU_FAIL("a process group of the test is still there");
            reap_group(k->pid, 1);
        }
    }
    /* INV-FD. */
    fd_snapshot(after);
    for (fd = 0; fd < FDMAX; fd++)
        if (after[fd] != f->fds[fd]) {
            fprintf(stderr, "\n  descriptor %d: %s\n", fd,
                    after[fd] ? "leaked" : "closed");
            CU_FAIL("the open descriptors changed");
        }
    if (f->dir[0] != '\0')
        CU_ASSERT_EQUAL(haz_test_rmtree(f->dir), 0);
}

/* ------------------------------------------------------------------------
 * Spawning and waiting.
 * ---------------------------------------------------------------------- */

static const char *const env_std[] = {"PATH=/usr/bin:/bin", NULL};

static void plan_init(haz_spawn_plan *p, const char *task)
{
    memset(p, 0, sizeof *p);
    p->task_id = task;
    p->cwd = "/";
    p->envp = env_std;
    p->path = "/usr/bin:/bin";
}

static krec *rec_of(fx *f, haz_child id)
{
    size_t i;

    for (i = 0; i < f->nk; i++)
        if (f->k[i].id == id)
            return &f->k[i];
    return NULL;
}

static int spawn(fx *f, const haz_spawn_plan *p, haz_child *c)
{
    int rc;
    krec *k;

    *c = 0;
    rc = f->sp->methods->spawn(f->sp, p, c);
    if (rc != HAZ_OK)
        return rc;
    CU_ASSERT_FATAL(f->nk < MAXK);
    CU_ASSERT_PTR_NULL(rec_of(f, *c));
    k = &f->k[f->nk++];
    memset(k, 0, sizeof *k);
    k->id = *c;
    k->pid = is_mock ? -1 : haz__posix_child_pid(f->sp, *c);
    k->out = calloc(1, 1);
    k->err = calloc(1, 1);
    if (!is_mock)
        CU_ASSERT(k->pid > 0);
    return rc;
}

static int spawn_sh(fx *f, const char *task, const char *script,
                    haz_child *c)
{
    haz_spawn_plan p;

    plan_init(&p, task);
    p.action = HAZ_ACTION_SHELL;
    p.script = script;
    return spawn(f, &p, c);
}

/* t_probe with the given words (NULL-terminated). */
static int spawn_probe(fx *f, const char *task, haz_child *c, ...)
{
    const char *argv[64];
    haz_spawn_plan p;
    size_t n = 0;
    va_list ap;

    argv[n++] = probe;
    va_start(ap, c);
    while (n < 63 && (argv[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    plan_init(&p, task);
    p.action = HAZ_ACTION_ARGV;
    p.argv = argv;
    p.argc = n;
    return spawn(f, &p, c);
}

static void append(char **buf, size_t *n, const void *data, size_t len)
{
    char *b = realloc(*buf, *n + len + 1);

    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    memcpy(b + *n, data, len);
    *n += len;
    b[*n] = '\0';
    *buf = b;
}

/* One wait(); its events go into the records. */
static int pump(fx *f, uint64_t deadline, const haz_cancel *cancel,
                size_t cap, size_t *got, unsigned *flags)
{
    size_t n = 99, i;
    unsigned fl = 99;
    int rc;

    rc = f->sp->methods->wait(f->sp, deadline, cancel, f->ev, cap, &n, &fl);
    if (rc != HAZ_OK)
        return rc;
    CU_ASSERT(n <= cap);
    for (i = 0; i < n && i < cap; i++) {
        const haz_spawn_event *e = &f->ev[i];
        krec *k = rec_of(f, e->child);

        CU_ASSERT_PTR_NOT_NULL_FATAL(k);
        if (e->type == HAZ_EV_STREAM_ERROR) {
            /* Before the exit, at most one per stream. */
            CU_ASSERT_FALSE(k->exited);
            CU_ASSERT_FATAL(e->stream == HAZ_STREAM_STDOUT ||
                            e->stream == HAZ_STREAM_STDERR);
            CU_ASSERT_EQUAL(k->read_err[e->stream], 0);
            CU_ASSERT(e->os_errno > 0);
            k->read_err[e->stream] = e->os_errno;
        } else if (e->type == HAZ_EV_OUTPUT) {
            CU_ASSERT(e->len > 0);
            CU_ASSERT_EQUAL(k->read_err[e->stream], 0);
            if (k->exited)
                k->late = 1;
            if (e->stream == HAZ_STREAM_STDOUT)
                append(&k->out, &k->nout, e->data, e->len);
            else
                append(&k->err, &k->nerr, e->data, e->len);
        } else {
            CU_ASSERT_EQUAL(e->type, HAZ_EV_EXIT);
            CU_ASSERT_FALSE(k->exited);
            k->exited = 1;
            k->st = e->status;
            k->os_errno = e->os_errno;
        }
    }
    if (got != NULL)
        *got = n;
    if (flags != NULL)
        *flags = fl;
    return rc;
}

static int contains(const char *buf, size_t n, const char *needle)
{
    size_t m = strlen(needle), i;

    for (i = 0; i + m <= n; i++)
        if (memcmp(buf + i, needle, m) == 0)
            return 1;
    return 0;
}

/* Wait (at most GUARD) until child c has exited, or (needle != NULL)
 * until its stdout contains needle.  Returns 1 when it happened. */
static int wait_for(fx *f, haz_child c, const char *needle, size_t cap)
{
    uint64_t guard = now(f) + GUARD;
    krec *k = rec_of(f, c);
    unsigned fl = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    for (;;) {
        if (needle == NULL ? k->exited : contains(k->out, k->nout, needle))
            return 1;
        if (needle != NULL && k->exited)
            break;
        if (fl & HAZ_WAIT_DEADLINE)
            break;
        CU_ASSERT_EQUAL_FATAL(pump(f, guard, NULL, cap, NULL, &fl), HAZ_OK);
    }
    CU_FAIL(needle == NULL ? "the child did not exit in time"
                           : "the output did not come");
    return 0;
}

static int wait_exit(fx *f, haz_child c)
{
    return wait_for(f, c, NULL, NELEM(f->ev));
}

static int wait_out(fx *f, haz_child c, const char *needle)
{
    return wait_for(f, c, needle, NELEM(f->ev));
}

static void assert_code(fx *f, haz_child c, int code)
{
    krec *k = rec_of(f, c);

    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    CU_ASSERT(k->exited);
    CU_ASSERT_EQUAL(k->st.kind, HAZ_EXIT_CODE);
    CU_ASSERT_EQUAL(k->st.code, code);
    CU_ASSERT_EQUAL(k->os_errno, 0);
    CU_ASSERT_FALSE(k->late);
}

static void assert_signal(fx *f, haz_child c, int signo)
{
    krec *k = rec_of(f, c);

    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    CU_ASSERT(k->exited);
    CU_ASSERT_EQUAL(k->st.kind, HAZ_EXIT_SIGNAL);
    CU_ASSERT_EQUAL(k->st.signo, signo);
    CU_ASSERT_FALSE(k->late);
}

static void kill_and_reap(fx *f, haz_child c)
{
    CU_ASSERT_EQUAL(f->sp->methods->signal(f->sp, c, SIGKILL), HAZ_OK);
    if (wait_exit(f, c))
        assert_signal(f, c, SIGKILL);
}

static const char *out_of(fx *f, haz_child c)
{
    return rec_of(f, c)->out;
}

static const char *err_of(fx *f, haz_child c)
{
    return rec_of(f, c)->err;
}

/* ------------------------------------------------------------------------
 * Common scenarios.
 * ---------------------------------------------------------------------- */

static void test_output_then_exit(void)
{
    fx f;
    haz_child c;

    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, "[t:out]\n"
                                      "stdout 0 \"hello\\n\"\n"
                                      "stderr 0.001 \"oops\\n\"\n"
                                      "exit 0.002 3\n"), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_sh(&f, "t:out", "printf 'hello\\n'; "
                                   "printf 'oops\\n' >&2; exit 3", &c),
                          HAZ_OK);
    CU_ASSERT_NOT_EQUAL(c, 0);
    if (wait_exit(&f, c)) {
        assert_code(&f, c, 3);
        CU_ASSERT_STRING_EQUAL(out_of(&f, c), "hello\n");
        CU_ASSERT_STRING_EQUAL(err_of(&f, c), "oops\n");
    }
    fx_end(&f);
}

static void test_exit_codes(void)
{
    static const int codes[] = {0, 1, 2, 124, 125, 126, 127, 128, 255};
    char mock[2048], task[32], sh[32];
    haz_child c[NELEM(codes)];
    size_t i, len = 0;
    fx f;

    for (i = 0; i < NELEM(codes); i++)
        len += (size_t)snprintf(mock + len, sizeof mock - len,
                                "[t:e%d]\nexit 0.00%d %d\n", codes[i],
                                (int)i + 1, codes[i]);
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, mock), HAZ_OK);
    for (i = 0; i < NELEM(codes); i++) {
        snprintf(task, sizeof task, "t:e%d", codes[i]);
        snprintf(sh, sizeof sh, "exit %d", codes[i]);
        CU_ASSERT_EQUAL_FATAL(spawn_sh(&f, task, sh, &c[i]), HAZ_OK);
        if (i > 0)
            CU_ASSERT(c[i] > c[i - 1]);    /* never reused */
    }
    for (i = 0; i < NELEM(codes); i++)
        if (wait_exit(&f, c[i]))
            assert_code(&f, c[i], codes[i]);
    fx_end(&f);
}

static void test_killed_by_signal(void)
{
    haz_child a, b;
    fx f;

    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, "[t:kill]\nstdout 0 \"hi\\n\"\n"
                                      "die 0.001 SIGKILL\n"
                                      "[t:term]\ndie 0 SIGTERM\n"), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_sh(&f, "t:kill", "echo hi; kill -KILL $$",
                                   &a), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_sh(&f, "t:term", "kill -TERM $$", &b),
                          HAZ_OK);
    if (wait_exit(&f, a)) {
        assert_signal(&f, a, SIGKILL);
        CU_ASSERT_STRING_EQUAL(out_of(&f, a), "hi\n");
    }
    if (wait_exit(&f, b))
        assert_signal(&f, b, SIGTERM);
    fx_end(&f);
}

static void test_missing_program(void)
{
    static const char *const argv[] = {"no_such_prog_xyz", NULL};
    static const char *const env[] = {"PATH=/nonexistent-hazexec", NULL};
    const char *want = "t:missing: cannot run 'no_such_prog_xyz': ";
    haz_spawn_plan p;
    haz_child c = 77;
    fx f;

    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, "[t:missing]\nspawn-error ENOENT\n"),
                          HAZ_OK);
    plan_init(&p, "t:missing");
    p.action = HAZ_ACTION_ARGV;
    p.argv = argv;
    p.argc = 1;
    p.envp = env;
    p.path = "/nonexistent-hazexec";
    CU_ASSERT_EQUAL(f.sp->methods->spawn(f.sp, &p, &c), HAZ_ESPAWN);
    CU_ASSERT_EQUAL(haz_ctx_errno(f.ctx), ENOENT);
    CU_ASSERT_EQUAL(strncmp(haz_ctx_errmsg(f.ctx), want, strlen(want)), 0);
    fx_end(&f);
}

static void test_sigterm_default(void)
{
    haz_child c;
    fx f;

    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, "[t:hang]\nstdout 0 \"ready\\n\"\n"
                                      "hang\n"), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:hang", &c, "echo", "ready",
                                      "block", NULL), HAZ_OK);
    if (wait_out(&f, c, "ready\n")) {
        CU_ASSERT_EQUAL(f.sp->methods->signal(f.sp, c, SIGTERM), HAZ_OK);
        if (wait_exit(&f, c))
            assert_signal(&f, c, SIGTERM);
    }
    fx_end(&f);
}

static void test_sigterm_handled(void)
{
    haz_child c;
    fx f;

    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, "[t:trap]\nstdout 0 \"ready\\n\"\n"
                                      "hang\nsigterm exit 7\n"), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:trap", &c, "trap", "15", "echo",
                                      "ready", "waitsig", "exit", "7", NULL),
                          HAZ_OK);
    if (wait_out(&f, c, "ready\n")) {
        CU_ASSERT_EQUAL(f.sp->methods->signal(f.sp, c, SIGTERM), HAZ_OK);
        if (wait_exit(&f, c))
            assert_code(&f, c, 7);
        CU_ASSERT_EQUAL(strncmp(out_of(&f, c), "ready\n", 6), 0);
    }
    fx_end(&f);
}

static void test_cancel_returns(void)
{
    haz_cancel *cancel = NULL;
    unsigned fl = 0;
    size_t n = 9;
    haz_child c;
    fx f;

    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(f.ctx, &cancel), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, "[t:hang]\nhang\n"), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:hang", &c, "block", NULL),
                          HAZ_OK);
    haz_cancel_request(cancel, SIGINT);
    CU_ASSERT_EQUAL(pump(&f, now(&f) + GUARD, cancel, 8, &n, &fl), HAZ_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(fl, HAZ_WAIT_CANCEL);
    /* Still cancelled on the next call: the token stays fired. */
    CU_ASSERT_EQUAL(pump(&f, now(&f) + GUARD, cancel, 8, &n, &fl), HAZ_OK);
    CU_ASSERT_EQUAL(fl, HAZ_WAIT_CANCEL);
    kill_and_reap(&f, c);
    haz_cancel_free(cancel);
    fx_end(&f);
}

static void test_deadline_returns(void)
{
    unsigned fl = 0;
    size_t n = 9;
    uint64_t dl;
    haz_child c;
    fx f;

    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, "[t:hang]\nhang\n"), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:hang", &c, "block", NULL),
                          HAZ_OK);
    dl = now(&f) + MS(20);
    CU_ASSERT_EQUAL(pump(&f, dl, NULL, 8, &n, &fl), HAZ_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(fl, HAZ_WAIT_DEADLINE);
    CU_ASSERT(now(&f) >= dl);
    /* A deadline already past returns at once. */
    CU_ASSERT_EQUAL(pump(&f, 0, NULL, 8, &n, &fl), HAZ_OK);
    CU_ASSERT_EQUAL(fl, HAZ_WAIT_DEADLINE);
    kill_and_reap(&f, c);
    fx_end(&f);
}

static void test_signal_retired(void)
{
    haz_child c;
    fx f;

    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, "[t:quick]\nexit 0 0\n"), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_sh(&f, "t:quick", "exit 0", &c), HAZ_OK);
    if (wait_exit(&f, c))
        assert_code(&f, c, 0);
    CU_ASSERT_EQUAL(f.sp->methods->signal(f.sp, c, SIGTERM), HAZ_ENOENT);
    CU_ASSERT_EQUAL(f.sp->methods->signal(f.sp, c + 1000, SIGTERM),
                    HAZ_ENOENT);
    CU_ASSERT_EQUAL(f.sp->methods->signal(f.sp, 0, SIGTERM), HAZ_ENOENT);
    fx_end(&f);
}

static void test_wait_misuse(void)
{
    unsigned fl;
    size_t n;
    fx f;

    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    /* Nothing to wait for and no way out: refused, not a hang. */
    CU_ASSERT_EQUAL(f.sp->methods->wait(f.sp, NEVER, NULL, f.ev, 8, &n, &fl),
                    HAZ_EINTERNAL);
    CU_ASSERT_EQUAL(f.sp->methods->wait(f.sp, 0, NULL, f.ev, 0, &n, &fl),
                    HAZ_EINTERNAL);
    CU_ASSERT_EQUAL(f.sp->methods->wait(f.sp, 0, NULL, NULL, 8, &n, &fl),
                    HAZ_EINTERNAL);
    /* Only a deadline: it passes. */
    CU_ASSERT_EQUAL(pump(&f, now(&f) + MS(1), NULL, 8, &n, &fl), HAZ_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(fl, HAZ_WAIT_DEADLINE);
    fx_end(&f);
}

static void test_bad_plan(void)
{
    static const char *const none[] = {NULL};
    haz_spawn_plan p;
    haz_child c;
    fx f;

    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    plan_init(&p, "t:bad");
    p.action = HAZ_ACTION_ARGV;
    p.argv = none;
    p.argc = 0;
    CU_ASSERT_EQUAL(f.sp->methods->spawn(f.sp, &p, &c), HAZ_EINVAL);
    p.action = HAZ_ACTION_SHELL;
    CU_ASSERT_EQUAL(f.sp->methods->spawn(f.sp, &p, &c), HAZ_EINVAL);
    CU_ASSERT_EQUAL(f.sp->methods->spawn(f.sp, NULL, &c), HAZ_EINVAL);
    fx_end(&f);
}

/* Events one at a time: nothing lost, every exit after its output. */
static void test_small_cap(void)
{
    char mock[1024], task[16], sh[96];
    haz_child c[4];
    size_t i, len = 0, live;
    uint64_t guard;
    unsigned fl = 0;
    fx f;

    for (i = 0; i < 4; i++)
        len += (size_t)snprintf(mock + len, sizeof mock - len,
                                "[t:c%d]\nstdout 0 \"a%d\\n\"\n"
                                "stderr 0 \"b%d\\n\"\nstdout 0.001 "
                                "\"c%d\\n\"\nexit 0.002 %d\n",
                                (int)i, (int)i, (int)i, (int)i, (int)i);
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, mock), HAZ_OK);
    for (i = 0; i < 4; i++) {
        snprintf(task, sizeof task, "t:c%d", (int)i);
        snprintf(sh, sizeof sh, "echo a%d; echo b%d >&2; echo c%d; exit %d",
                 (int)i, (int)i, (int)i, (int)i);
        CU_ASSERT_EQUAL_FATAL(spawn_sh(&f, task, sh, &c[i]), HAZ_OK);
    }
    guard = now(&f) + GUARD;
    do {
        size_t n = 0;

        CU_ASSERT_EQUAL_FATAL(pump(&f, guard, NULL, 1, &n, &fl), HAZ_OK);
        CU_ASSERT(n == 1 || (fl & HAZ_WAIT_DEADLINE));
        for (live = 0, i = 0; i < 4; i++)
            live += !rec_of(&f, c[i])->exited;
    } while (live > 0 && !(fl & HAZ_WAIT_DEADLINE));
    CU_ASSERT_EQUAL(live, 0);
    for (i = 0; i < 4; i++) {
        char want[16];

        snprintf(want, sizeof want, "a%d\nc%d\n", (int)i, (int)i);
        CU_ASSERT_STRING_EQUAL(out_of(&f, c[i]), want);
        snprintf(want, sizeof want, "b%d\n", (int)i);
        CU_ASSERT_STRING_EQUAL(err_of(&f, c[i]), want);
        assert_code(&f, c[i], (int)i);
    }
    fx_end(&f);
}

static void test_max_children(void)
{
    size_t m;
    fx f;

    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    m = f.sp->methods->max_children(f.sp);
    if (is_mock) {
        CU_ASSERT_EQUAL(m, 0);
    } else {
        CU_ASSERT(m > 0 && m < (size_t)FD_SETSIZE / 2);
        CU_ASSERT_EQUAL(f.sp->methods->caps & HAZ_SPAWNER_REAL_PROCESSES,
                        HAZ_SPAWNER_REAL_PROCESSES);
    }
    fx_end(&f);
}

/* ------------------------------------------------------------------------
 * Posix only: what a child inherits.
 * ---------------------------------------------------------------------- */

#define POSIX_ONLY()                                                       \
    do {                                                                   \
        if (is_mock)                                                       \
            return;                                                        \
    } while (0)

/* P3: stdin is /dev/null even when ours is a pipe nobody writes to. */
static void test_stdin_null(void)
{
    int p[2], saved;
    haz_child a, b;
    fx f;

    POSIX_ONLY();
    CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
    saved = dup(0);
    CU_ASSERT_FATAL(saved >= 0);
    CU_ASSERT_EQUAL_FATAL(dup2(p[0], 0), 0);
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:stdin", &a, "stdin", NULL),
                          HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_sh(&f, "t:cat", "cat; read x; echo \"[$x]\"",
                                   &b), HAZ_OK);
    if (wait_exit(&f, a)) {
        assert_code(&f, a, 0);
        CU_ASSERT_STRING_EQUAL(out_of(&f, a), "stdin: eof\n");
    }
    if (wait_exit(&f, b)) {
        CU_ASSERT_STRING_EQUAL(out_of(&f, b), "[]\n");
    }
    fx_end(&f);
    CU_ASSERT_EQUAL(dup2(saved, 0), 0);
    close(saved);
    close(p[0]);
    close(p[1]);
}

/* P4: only 0, 1, 2 reach the child, while other children's pipes, a
 * cancel token and a descriptor without FD_CLOEXEC are open here. */
static void test_only_stdio(void)
{
    haz_cancel *cancel = NULL;
    haz_child bg, c;
    char want[1024];
    int loose;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    loose = open("/dev/null", O_RDONLY);    /* deliberately inheritable */
    CU_ASSERT_FATAL(loose > 2);
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(f.ctx, &cancel), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:bg", &bg, "block", NULL),
                          HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:fds", &c, "fds", NULL), HAZ_OK);
    if (wait_exit(&f, c)) {
        assert_code(&f, c, 0);
        size_t len = (size_t)snprintf(want, sizeof want, "fds: 0 1 2");
        int fd, fl;

        /* Where the platform gives no way to close them, descriptors
         * without FD_CLOEXEC (ours, and any we inherited) leak; never one
         * of the library's. */
        for (fd = 3; fd < FDMAX && !haz__posix_spawner_closes_fds(); fd++)
            if ((fl = fcntl(fd, F_GETFD)) != -1 && !(fl & FD_CLOEXEC) &&
                len + 16 < sizeof want)
                len += (size_t)snprintf(want + len, sizeof want - len, " %d",
                                        fd);
        snprintf(want + len, sizeof want - len, "\n");
        CU_ASSERT_STRING_EQUAL(out_of(&f, c), want);
    }
    kill_and_reap(&f, bg);
    haz_cancel_free(cancel);
    close(loose);
    fx_end(&f);
}

static void set_sig(int sig, void (*h)(int), struct sigaction *old)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sigemptyset(&sa.sa_mask);
    CU_ASSERT_EQUAL(sigaction(sig, &sa, old), 0);
}

static void on_usr1(int sig)
{
    (void)sig;
}

/* P10: an empty mask and default dispositions, whatever the host set. */
static void test_signal_state(void)
{
    static const int ign[] = {SIGINT, SIGTERM, SIGPIPE};
    struct sigaction old[4], now_sa;
    sigset_t block, prev, after;
    haz_child c;
    size_t i;
    fx f;

    POSIX_ONLY();
    for (i = 0; i < 3; i++)
        set_sig(ign[i], SIG_IGN, &old[i]);
    set_sig(SIGUSR1, on_usr1, &old[3]);
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGUSR2);
    CU_ASSERT_EQUAL(sigprocmask(SIG_BLOCK, &block, &prev), 0);
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:sig", &c, "sigstate", NULL),
                          HAZ_OK);
    if (wait_exit(&f, c)) {
        assert_code(&f, c, 0);
        CU_ASSERT_STRING_EQUAL(out_of(&f, c),
                               "blocked: -\nnondefault: -\n");
    }
    fx_end(&f);
    /* Our own state is untouched. */
    CU_ASSERT_EQUAL(sigprocmask(SIG_SETMASK, &prev, &after), 0);
    CU_ASSERT_EQUAL(sigismember(&after, SIGCHLD), 1);
    CU_ASSERT_EQUAL(sigismember(&after, SIGUSR2), 1);
    CU_ASSERT_EQUAL(sigaction(SIGPIPE, NULL, &now_sa), 0);
    CU_ASSERT(now_sa.sa_handler == SIG_IGN);
    CU_ASSERT_EQUAL(sigaction(SIGUSR1, NULL, &now_sa), 0);
    CU_ASSERT(now_sa.sa_handler == on_usr1);
    for (i = 0; i < 3; i++)
        sigaction(ign[i], &old[i], NULL);
    sigaction(SIGUSR1, &old[3], NULL);
}

static void test_own_group(void)
{
    char want[128];
    haz_child c;
    long pid;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:ids", &c, "ids", NULL), HAZ_OK);
    pid = rec_of(&f, c)->pid;
    CU_ASSERT(pid != (long)getpgrp());
    if (wait_exit(&f, c)) {
        assert_code(&f, c, 0);
        snprintf(want, sizeof want, "pid=%ld pgid=%ld sid=%ld\n", pid, pid,
                 (long)getsid(0));
        CU_ASSERT_STRING_EQUAL(out_of(&f, c), want);
    }
    CU_ASSERT_EQUAL(haz__posix_child_pid(f.sp, c), -1);   /* retired */
    fx_end(&f);
}

static void test_cwd_and_env(void)
{
    static const char *const env[] = {"A=1", "B=two words", "C=", "EMPTY=",
                                      "PATH=/nowhere", NULL};
    const char *argv[] = {probe, "cwd", "env", NULL};
    char want[8192], real[4096];
    haz_spawn_plan p;
    haz_child c;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(fx_dir(&f), real));
    plan_init(&p, "t:cwd");
    p.action = HAZ_ACTION_ARGV;
    p.argv = argv;
    p.argc = 3;
    p.cwd = real;
    p.envp = env;
    p.path = "/nowhere";
    CU_ASSERT_EQUAL_FATAL(spawn(&f, &p, &c), HAZ_OK);
    if (wait_exit(&f, c)) {
        assert_code(&f, c, 0);
        snprintf(want, sizeof want, "cwd=%s\nA=1\nB=two words\nC=\nEMPTY=\n"
                 "PATH=/nowhere\n", real);
        CU_ASSERT_STRING_EQUAL(out_of(&f, c), want);
    }
    /* No environment at all. */
    p.envp = NULL;
    argv[1] = "env";
    argv[2] = NULL;
    p.argc = 2;
    CU_ASSERT_EQUAL_FATAL(spawn(&f, &p, &c), HAZ_OK);
    if (wait_exit(&f, c))
        CU_ASSERT_STRING_EQUAL(out_of(&f, c), "");
    fx_end(&f);
}

static void write_file(const char *dir, const char *name, const char *text,
                       mode_t mode)
{
    char path[4200];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(path, text, strlen(text)), 0);
    CU_ASSERT_EQUAL_FATAL(chmod(path, mode), 0);
}

static void make_dir(const char *dir, const char *name)
{
    char path[4200];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0755), 0);
}

/* Spawn argv[0] with PATH `path` in cwd; returns spawn's result. */
static int try_argv(fx *f, const char *prog, const char *cwd,
                    const char *path, haz_child *c)
{
    const char *argv[] = {prog, NULL};
    const char *env[2] = {NULL, NULL};
    char pe[4200];
    haz_spawn_plan p;

    plan_init(&p, "t:run");
    p.action = HAZ_ACTION_ARGV;
    p.argv = argv;
    p.argc = 1;
    p.cwd = cwd;
    p.path = path;
    if (path != NULL) {
        snprintf(pe, sizeof pe, "PATH=%s", path);
        env[0] = pe;
    }
    p.envp = env;
    return spawn(f, &p, c);
}

static void expect_error(fx *f, int rc, int code, int os_errno,
                         const char *msg)
{
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_EQUAL(haz_ctx_errno(f->ctx), os_errno);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f->ctx), msg);
}

/* The program is found in the plan's PATH, not ours, by the parent. */
static void test_path_search(void)
{
    char path[8400], msg[9000], *d;
    haz_child c;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    d = fx_dir(&f);
    make_dir(d, "bin1");
    make_dir(d, "bin2");
    make_dir(d, "empty");
    make_dir(d, "bin1/hello_dir");
    write_file(d, "bin1/hello", "#!/bin/sh\necho wrong\n", 0644);
    write_file(d, "bin2/hello", "#!/bin/sh\necho from-bin2\n", 0755);
    write_file(d, "bin2/hello_dir", "#!/bin/sh\necho file\n", 0755);

    /* bin1/hello is not executable: skipped, bin2/hello runs. */
    snprintf(path, sizeof path, "%s/bin1:%s/bin2", d, d);
    CU_ASSERT_EQUAL_FATAL(try_argv(&f, "hello", "/", path, &c), HAZ_OK);
    if (wait_exit(&f, c)) {
        assert_code(&f, c, 0);
        CU_ASSERT_STRING_EQUAL(out_of(&f, c), "from-bin2\n");
    }
    /* A directory in the way is skipped too. */
    CU_ASSERT_EQUAL_FATAL(try_argv(&f, "hello_dir", "/", path, &c), HAZ_OK);
    if (wait_exit(&f, c))
        CU_ASSERT_STRING_EQUAL(out_of(&f, c), "file\n");
    /* Relative PATH entries are relative to the child's directory. */
    CU_ASSERT_EQUAL_FATAL(try_argv(&f, "hello", d, "empty:bin2", &c),
                          HAZ_OK);
    if (wait_exit(&f, c))
        CU_ASSERT_STRING_EQUAL(out_of(&f, c), "from-bin2\n");
    /* sh is in our PATH but not in the plan's. */
    snprintf(path, sizeof path, "%s/empty", d);
    snprintf(msg, sizeof msg,
             "t:run: cannot run 'sh': not found in PATH '%s/empty'", d);
    expect_error(&f, try_argv(&f, "sh", "/", path, &c), HAZ_ESPAWN, ENOENT,
                 msg);
    /* Found, but not executable. */
    snprintf(path, sizeof path, "%s/bin1", d);
    snprintf(msg, sizeof msg,
             "t:run: cannot run 'hello': '%s/bin1/hello' is not executable",
             d);
    expect_error(&f, try_argv(&f, "hello", "/", path, &c), HAZ_ESPAWN,
                 EACCES, msg);
    expect_error(&f, try_argv(&f, "hello", "/", NULL, &c), HAZ_ESPAWN,
                 ENOENT, "t:run: cannot run 'hello': not found (the task's "
                 "environment has no PATH)");
    fx_end(&f);
}

static void test_spawn_messages(void)
{
    char prog[4200], msg[9000], cwd[4200], *d;
    haz_child c;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    d = fx_dir(&f);
    make_dir(d, "sub");
    write_file(d, "plain", "#!/bin/sh\nexit 0\n", 0644);
    write_file(d, "nointerp", "#!/nonexistent-hazexec/sh\n", 0755);
    write_file(d, "sub/tool", "#!/bin/sh\necho tool \"$0\"\n", 0755);

    snprintf(prog, sizeof prog, "%s/sub", d);
    snprintf(msg, sizeof msg, "t:run: cannot run '%s': is a directory", prog);
    expect_error(&f, try_argv(&f, prog, "/", "/bin", &c), HAZ_ESPAWN, EACCES,
                 msg);
    snprintf(prog, sizeof prog, "%s/plain", d);
    snprintf(msg, sizeof msg, "t:run: cannot run '%s': not executable",
             prog);
    expect_error(&f, try_argv(&f, prog, "/", "/bin", &c), HAZ_ESPAWN, EACCES,
                 msg);
    snprintf(prog, sizeof prog, "%s/missing", d);
    snprintf(msg, sizeof msg, "t:run: cannot run '%s': no such file", prog);
    expect_error(&f, try_argv(&f, prog, "/", "/bin", &c), HAZ_ESPAWN, ENOENT,
                 msg);
    snprintf(msg, sizeof msg,
             "t:run: cannot run 'sub/missing': no such file in '%s'", d);
    expect_error(&f, try_argv(&f, "sub/missing", d, "/bin", &c), HAZ_ESPAWN,
                 ENOENT, msg);
    snprintf(prog, sizeof prog, "%s/nointerp", d);
    snprintf(msg, sizeof msg, "t:run: cannot run '%s': '%s' exists but its "
             "'#!' interpreter or program loader was not found", prog, prog);
    if (!under_valgrind)
        expect_error(&f, try_argv(&f, prog, "/", "/bin", &c), HAZ_ESPAWN,
                     ENOENT, msg);
    expect_error(&f, try_argv(&f, "", "/", "/bin", &c), HAZ_EINVAL, 0,
                 "t:run: cannot run '': the program name is empty");
    /* A relative program runs from the child's directory. */
    CU_ASSERT_EQUAL_FATAL(try_argv(&f, "sub/tool", d, "/bin", &c), HAZ_OK);
    if (wait_exit(&f, c)) {
        snprintf(msg, sizeof msg, "tool %s/sub/tool\n", d);
        CU_ASSERT_STRING_EQUAL(out_of(&f, c), msg);
    }
    /* The working directory. */
    snprintf(cwd, sizeof cwd, "%s/nope", d);
    snprintf(msg, sizeof msg,
             "t:run: working directory '%s' does not exist", cwd);
    expect_error(&f, try_argv(&f, "sh", cwd, "/bin", &c), HAZ_ESPAWN, ENOENT,
                 msg);
    snprintf(cwd, sizeof cwd, "%s/plain", d);
    snprintf(msg, sizeof msg,
             "t:run: working directory '%s' is not a directory", cwd);
    expect_error(&f, try_argv(&f, "sh", cwd, "/bin", &c), HAZ_ESPAWN,
                 ENOTDIR, msg);
    expect_error(&f, try_argv(&f, "sh", "rel/dir", "/bin", &c), HAZ_EINVAL,
                 0, "t:run: working directory 'rel/dir' is not absolute");
    fx_end(&f);
}

/* ------------------------------------------------------------------------
 * Posix only: output.
 * ---------------------------------------------------------------------- */

static unsigned char pattern(unsigned long k)
{
    return (unsigned char)((k * 131u + (k >> 8) + (k >> 16)) & 0xffu);
}

static void pattern_digest(unsigned long n, unsigned char *digest)
{
    unsigned char *buf = malloc(n ? n : 1);
    unsigned long i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    for (i = 0; i < n; i++)
        buf[i] = pattern(i);
    haz_sha256(buf, n, digest);
    free(buf);
}

static void check_digest(const char *data, size_t n, unsigned long want_n)
{
    unsigned char a[32], b[32];

    CU_ASSERT_EQUAL(n, want_n);
    haz_sha256(data, n, a);
    pattern_digest(want_n, b);
    CU_ASSERT_EQUAL(memcmp(a, b, 32), 0);
}

/* R6 in small: 1 MiB on stdout, and 1 MiB on both streams at once. */
static void test_big_output(void)
{
    haz_child a, b;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:big", &a, "bytes", "1048576",
                                      "out", NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:both", &b, "bytes", "1048576",
                                      "both", NULL), HAZ_OK);
    if (wait_exit(&f, a) && wait_exit(&f, b)) {
        krec *ka = rec_of(&f, a), *kb = rec_of(&f, b);

        assert_code(&f, a, 0);
        assert_code(&f, b, 0);
        check_digest(ka->out, ka->nout, 1048576);
        CU_ASSERT_EQUAL(ka->nerr, 0);
        check_digest(kb->out, kb->nout, 1048576);
        check_digest(kb->err, kb->nerr, 1048576);
    }
    fx_end(&f);
}

/* R6: three children flooding both streams at once all finish, exact. */
static void test_three_floods(void)
{
    haz_child c[3];
    int i;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    for (i = 0; i < 3; i++)
        CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:flood", &c[i], "bytes",
                                          "2097152", "both", NULL), HAZ_OK);
    for (i = 0; i < 3; i++) {
        krec *k = rec_of(&f, c[i]);

        if (!wait_exit(&f, c[i]))
            continue;
        assert_code(&f, c[i], 0);
        check_digest(k->out, k->nout, 2097152);
        check_digest(k->err, k->nerr, 2097152);
    }
    fx_end(&f);
}

/* B4: every byte value, NUL runs, invalid UTF-8, a partial sequence. */
static void test_binary(void)
{
    static const unsigned char odd[] = {
        0, 0, 0, 0, '\n', 0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80, '\r',
        0x1b, '[', '3', '1', 'm', 0xe2, 0x82
    };
    unsigned char want[256 + sizeof odd];
    haz_child c;
    int i;
    fx f;

    POSIX_ONLY();
    for (i = 0; i < 256; i++)
        want[i] = (unsigned char)i;
    memcpy(want + 256, odd, sizeof odd);
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:bin", &c, "binary", NULL),
                          HAZ_OK);
    if (wait_exit(&f, c)) {
        krec *k = rec_of(&f, c);

        assert_code(&f, c, 0);
        CU_ASSERT_EQUAL(k->nout, sizeof want);
        CU_ASSERT_EQUAL(k->nerr, sizeof want);
        CU_ASSERT(k->nout == sizeof want &&
                  memcmp(k->out, want, sizeof want) == 0);
        CU_ASSERT(k->nerr == sizeof want &&
                  memcmp(k->err, want, sizeof want) == 0);
    }
    fx_end(&f);
}

/* ------------------------------------------------------------------------
 * Posix only: exits, grandchildren, close.
 * ---------------------------------------------------------------------- */

static void fifo_path(fx *f, char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", f->dir, name);
    CU_ASSERT_EQUAL_FATAL(mkfifo(buf, 0600), 0);
}

/* Open the fifo for writing (blocks until the probe opens it to read) and
 * close it: the probe reads EOF and goes on. */
static void release(const char *fifo)
{
    int fd;

    do
        fd = open(fifo, O_WRONLY);
    while (fd < 0 && errno == EINTR);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
}

/* P13a: the leader exits while a grandchild keeps its pipes open; wait
 * still returns its exit (after a bounded drain), with its output. */
static void test_grandchild_holds_pipes(void)
{
    char fifo[4200];
    haz_child c;
    long pgid;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    fx_dir(&f);
    fifo_path(&f, fifo, sizeof fifo, "hold");
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:ninja", &c, "fork", "fifo",
                                      fifo, "--", "echo", "leader", "exit",
                                      "5", NULL), HAZ_OK);
    pgid = rec_of(&f, c)->pid;
    if (wait_exit(&f, c)) {
        assert_code(&f, c, 5);
        CU_ASSERT_STRING_EQUAL(out_of(&f, c), "leader\n");
    }
    /* The grandchild is still blocked on the fifo, in the group. */
    CU_ASSERT_EQUAL(kill(-(pid_t)pgid, 0), 0);
    release(fifo);
    reap_group(pgid, 0);
    fx_end(&f);
}

/* The same with a grandchild that left the group and the session. */
static void test_setsid_grandchild(void)
{
    char fifo[4200];
    haz_child c;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    fx_dir(&f);
    fifo_path(&f, fifo, sizeof fifo, "hold");
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:away", &c, "fork", "setsid",
                                      "fifo", fifo, "--", "exit", "0", NULL),
                          HAZ_OK);
    if (wait_exit(&f, c))
        assert_code(&f, c, 0);
    release(fifo);
    /* Our child again as subreaper; else init reaps it. */
    if (subreaper) {
        int st;

        while (wait(&st) > 0 || errno == EINTR)
            ;
    }
    fx_end(&f);
}

/* P13b: EOF long before the exit; the exit is still waited for. */
static void test_closed_pipes_running(void)
{
    char fifo[4200];
    unsigned fl = 0;
    haz_child c;
    int i;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    fx_dir(&f);
    fifo_path(&f, fifo, sizeof fifo, "go");
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:closed", &c, "echo", "bye",
                                      "closeout", "fifo", fifo, "exit", "3",
                                      NULL), HAZ_OK);
    /* It cannot exit before we open the fifo: every wait must come back
     * without its exit. */
    for (i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(pump(&f, now(&f) + MS(30), NULL, 8, NULL, &fl),
                        HAZ_OK);
        CU_ASSERT_FALSE(rec_of(&f, c)->exited);
    }
    release(fifo);
    if (wait_exit(&f, c)) {
        assert_code(&f, c, 3);
        CU_ASSERT_STRING_EQUAL(out_of(&f, c), "bye\n");
    }
    fx_end(&f);
}

/* P6: SIGTERM to the group reaches a grandchild. */
static void test_sigterm_grandchild(void)
{
    haz_child c;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:grp", &c, "ignore", "15",
                                      "fork", "default", "15", "echo",
                                      "ready", "block", "--", "reap", "exit",
                                      "0", NULL), HAZ_OK);
    if (wait_out(&f, c, "ready\n")) {
        CU_ASSERT_EQUAL(f.sp->methods->signal(f.sp, c, SIGTERM), HAZ_OK);
        if (wait_exit(&f, c)) {
            assert_code(&f, c, 0);
            CU_ASSERT_STRING_EQUAL(out_of(&f, c),
                                   "ready\nchild signal 15\n");
        }
    }
    fx_end(&f);
}

/* close() kills and reaps every child and its group. */
static void test_close_kills_all(void)
{
    haz_child a, b, c;
    long pg[3];
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:a", &a, "ignore", "15", "fork",
                                      "echo", "ready", "block", "--",
                                      "block", NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:b", &b, "block", NULL),
                          HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_sh(&f, "t:c", "trap '' TERM; echo ready; "
                                   "while :; do sleep 1; done", &c), HAZ_OK);
    pg[0] = rec_of(&f, a)->pid;
    pg[1] = rec_of(&f, b)->pid;
    pg[2] = rec_of(&f, c)->pid;
    wait_out(&f, a, "ready\n");
    wait_out(&f, c, "ready\n");
    haz_spawner_close(f.sp);
    f.sp = NULL;
    /* The leaders are reaped; what is left of the groups is dead and comes
     * back to us (subreaper) or to init. */
    reap_group(pg[0], 0);
    reap_group(pg[1], 0);
    reap_group(pg[2], 0);
    fx_end(&f);
}

/* ------------------------------------------------------------------------
 * Posix only: signals arriving in the parent.
 * ---------------------------------------------------------------------- */

static haz_cancel *alarm_cancel;

static void on_alarm(int sig)
{
    haz_cancel_request(alarm_cancel, sig);
}

static void on_tick(int sig)
{
    (void)sig;
}

static void set_timer(long usec, int repeat)
{
    struct itimerval it;

    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = usec / 1000000;
    it.it_value.tv_usec = usec % 1000000;
    if (repeat)
        it.it_interval = it.it_value;
    CU_ASSERT_EQUAL(setitimer(ITIMER_REAL, &it, NULL), 0);
}

/* Stop the timer and put the old SIGALRM action back; SIG_IGN in between
 * discards a signal still pending. */
static void stop_timer(const struct sigaction *old)
{
    set_timer(0, 0);
    set_sig(SIGALRM, SIG_IGN, NULL);
    sigaction(SIGALRM, old, NULL);
}

/* A cancel requested from a signal handler wakes a blocked wait; once
 * acknowledged (haz_cancel_ack) the token lets waits block again. */
static void test_cancel_wakes_wait(void)
{
    struct sigaction old;
    unsigned fl = 0;
    size_t n = 9;
    haz_child c;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(f.ctx, &alarm_cancel), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:hang", &c, "block", NULL),
                          HAZ_OK);
    set_sig(SIGALRM, on_alarm, &old);
    set_timer(20000, 0);
    CU_ASSERT_EQUAL(pump(&f, NEVER, alarm_cancel, 8, &n, &fl), HAZ_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(fl, HAZ_WAIT_CANCEL);
    /* Acknowledged, the token no longer cuts a wait short ... */
    haz_cancel_ack(alarm_cancel);
    CU_ASSERT_EQUAL(pump(&f, now(&f) + MS(10), alarm_cancel, 8, &n, &fl),
                    HAZ_OK);
    CU_ASSERT_EQUAL(fl, HAZ_WAIT_DEADLINE);
    /* ... until the next request wakes it again. */
    set_timer(20000, 0);
    CU_ASSERT_EQUAL(pump(&f, NEVER, alarm_cancel, 8, &n, &fl), HAZ_OK);
    CU_ASSERT_EQUAL(fl, HAZ_WAIT_CANCEL);
    CU_ASSERT_EQUAL(haz_cancel_count(alarm_cancel), 2);
    stop_timer(&old);
    kill_and_reap(&f, c);
    haz_cancel_free(alarm_cancel);
    alarm_cancel = NULL;
    fx_end(&f);
}

/* P12 in small: a signal every millisecond (no SA_RESTART) while 1 MiB
 * flows on both streams: nothing lost, no error. */
static void test_eintr_storm(void)
{
    struct sigaction old;
    haz_child c;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    set_sig(SIGALRM, on_tick, &old);
    set_timer(1000, 1);
    CU_ASSERT_EQUAL(spawn_probe(&f, "t:storm", &c, "bytes", "1048576",
                                "both", NULL), HAZ_OK);
    if (wait_exit(&f, c)) {
        krec *k = rec_of(&f, c);

        assert_code(&f, c, 0);
        check_digest(k->out, k->nout, 1048576);
        check_digest(k->err, k->nerr, 1048576);
    }
    stop_timer(&old);
    fx_end(&f);
}

/* ------------------------------------------------------------------------
 * Posix only: limits and injected failures.
 * ---------------------------------------------------------------------- */

/* R2: a pipe at or above FD_SETSIZE is refused before select sees it. */
static void test_fd_setsize(void)
{
    struct rlimit old, rl;
    int fd, *fill;
    size_t nfill = 0;
    haz_child c;
    fx f;

    POSIX_ONLY();
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_NOFILE, &old), 0);
    rl = old;
    if (rl.rlim_cur < (rlim_t)FD_SETSIZE + 64) {
        rl.rlim_cur = (rlim_t)FD_SETSIZE + 64;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur)
            return;             /* cannot raise the limit: skip */
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            return;             /* e.g. under valgrind */
    }
    fill = calloc(FD_SETSIZE, sizeof *fill);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fill);
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    /* Take every free descriptor below FD_SETSIZE. */
    while ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0 &&
           fd < FD_SETSIZE)
        fill[nfill++] = fd;
    if (fd >= FD_SETSIZE)
        close(fd);
    CU_ASSERT_EQUAL(spawn_sh(&f, "t:many", "exit 0", &c), HAZ_ELIMIT);
    CU_ASSERT(strstr(haz_ctx_errmsg(f.ctx), "FD_SETSIZE") != NULL);
    while (nfill > 0)
        close(fill[--nfill]);
    free(fill);
    /* Works again once there is room. */
    CU_ASSERT_EQUAL(spawn_sh(&f, "t:few", "exit 0", &c), HAZ_OK);
    if (wait_exit(&f, c))
        assert_code(&f, c, 0);
    fx_end(&f);
    setrlimit(RLIMIT_NOFILE, &old);
}


static int fail_at, calls, fail_errno;

static int counted(void)
{
    return ++calls == fail_at;
}

static int pipe_fail(int *fds)
{
    if (counted()) {
        errno = fail_errno;
        return -1;
    }
    return HAZ__PX_DEFAULT(pipe)(fds);
}

static int fcntl_fail(int fd, int cmd, int arg)
{
    if (cmd == F_SETFL && counted()) {
        errno = fail_errno;
        return -1;
    }
    return HAZ__PX_DEFAULT(fcntl)(fd, cmd, arg);
}

static pid_t fork_fail(void)
{
    errno = EAGAIN;
    return -1;
}

#ifdef HAZ_POSIX_HAVE_SPAWN
static int spawn_fail(pid_t *pid, const char *path,
                      const posix_spawn_file_actions_t *fa,
                      const posix_spawnattr_t *attr, char *const argv[],
                      char *const envp[])
{
    (void)pid;
    (void)path;
    (void)fa;
    (void)attr;
    (void)argv;
    (void)envp;
    return EAGAIN;
}
#endif

static int execve_fail(const char *path, char *const argv[],
                       char *const envp[])
{
    (void)path;
    (void)argv;
    (void)envp;
    errno = ENOEXEC;
    return -1;
}

static pid_t lost_pid;

static pid_t waitpid_lose(pid_t pid, int *st, int opt)
{
    if (pid == lost_pid) {
        errno = ECHILD;
        return -1;
    }
    return HAZ__PX_DEFAULT(waitpid)(pid, st, opt);
}

static int kill_fail(pid_t pid, int sig)
{
    (void)pid;
    (void)sig;
    errno = EPERM;
    return -1;
}

static int select_eintr(int n, fd_set *r, fd_set *w, fd_set *x,
                        struct timeval *tv)
{
    if (++calls % 2 == 1) {
        errno = EINTR;
        return -1;
    }
    return HAZ__PX_DEFAULT(select)(n, r, w, x, tv);
}

static ssize_t read_eintr(int fd, void *buf, size_t n)
{
    if (++calls % 2 == 1) {
        errno = EINTR;
        return -1;
    }
    return HAZ__PX_DEFAULT(read)(fd, buf, n);
}

#define SEAM(name, fn)                                                     \
    CU_ASSERT_EQUAL(                                                       \
        haz__posix_syscall_set(name, (haz__posix_syscall_fn)(fn)), 0)

/* R3: pipe, fcntl and start failures leave nothing behind. */
static void test_start_failures(void)
{
    char want[256];
    haz_child c;
    int i;
    fx f;

    POSIX_ONLY();
    CU_ASSERT_EQUAL(haz__posix_syscall_set("nonesuch", NULL), -1);
    CU_ASSERT_PTR_NULL(haz__posix_syscall_default("nonesuch"));
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    SEAM("pipe", pipe_fail);
    fail_errno = EMFILE;
    for (i = 1; i <= 2; i++) {
        calls = 0;
        fail_at = i;
        CU_ASSERT_EQUAL(spawn_sh(&f, "t:p", "exit 0", &c), HAZ_ESPAWN);
        CU_ASSERT_EQUAL(haz_ctx_errno(f.ctx), EMFILE);
        /* strerror's text differs between C libraries (musl) */
        snprintf(want, sizeof want,
                 "t:p: cannot create the output pipes: %s", strerror(EMFILE));
        CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(f.ctx), want);
    }
    SEAM("pipe", NULL);
    SEAM("fcntl", fcntl_fail);
    fail_errno = EBADF;
    for (i = 1; i <= 2; i++) {
        calls = 0;
        fail_at = i;
        CU_ASSERT_EQUAL(spawn_sh(&f, "t:f", "exit 0", &c), HAZ_ESPAWN);
        CU_ASSERT_EQUAL(haz_ctx_errno(f.ctx), EBADF);
    }
    SEAM("fcntl", NULL);
    SEAM("fork", fork_fail);
#ifdef HAZ_POSIX_HAVE_SPAWN
    SEAM("posix_spawn", spawn_fail);
#endif
    CU_ASSERT_EQUAL(spawn_sh(&f, "t:s", "exit 0", &c), HAZ_ESPAWN);
    CU_ASSERT_EQUAL(haz_ctx_errno(f.ctx), EAGAIN);
    SEAM("fork", NULL);
    SEAM("posix_spawn", NULL);
    /* The fork path's error pipe: exec fails in the child, which is
     * reaped. */
    haz__posix_spawner_use_fork(1);
    SEAM("execve", execve_fail);
    CU_ASSERT_EQUAL(spawn_sh(&f, "t:x", "exit 0", &c), HAZ_ESPAWN);
    CU_ASSERT_EQUAL(haz_ctx_errno(f.ctx), ENOEXEC);
    CU_ASSERT(strncmp(haz_ctx_errmsg(f.ctx), "t:x: cannot run '/bin/sh': ",
                      27) == 0);
    SEAM("execve", NULL);
    haz__posix_spawner_use_fork(strcmp(backend, "posix-fork") == 0);
    /* Everything works again. */
    CU_ASSERT_EQUAL(spawn_sh(&f, "t:ok", "exit 4", &c), HAZ_OK);
    if (wait_exit(&f, c))
        assert_code(&f, c, 4);
    fx_end(&f);
}

/* P11b: another reaper took the status: EXIT says so, never a guess. */
static void test_status_lost(void)
{
    haz_child c;
    int st;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_sh(&f, "t:lost", "echo hi; exit 3", &c),
                          HAZ_OK);
    lost_pid = (pid_t)rec_of(&f, c)->pid;
    SEAM("waitpid", waitpid_lose);
    if (wait_exit(&f, c)) {
        krec *k = rec_of(&f, c);

        CU_ASSERT_EQUAL(k->st.kind, HAZ_EXIT_NONE);
        CU_ASSERT_EQUAL(k->os_errno, ECHILD);
        CU_ASSERT_STRING_EQUAL(k->out, "hi\n");
        CU_ASSERT_FALSE(k->late);
    }
    SEAM("waitpid", NULL);
    /* The "other reaper" is us. */
    CU_ASSERT_EQUAL(waitpid(lost_pid, &st, 0), lost_pid);
    fx_end(&f);
}

/* P11a for real: with SIGCHLD ignored (SIG_IGN, or SA_NOCLDWAIT) the
 * kernel reaps the children itself; the exit is still delivered, after
 * the output, as status lost.  The second child closes its output and
 * waits, so that its exit is found through the pidfd (or the polling)
 * after EOF. */
static void test_sigchld_ignored(void)
{
    struct sigaction sa, old;
    char fifo[4200];
    haz_child c;
    int v;
    fx f;

    POSIX_ONLY();
    for (v = 0; v < 2; v++) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = v == 0 ? SIG_IGN : SIG_DFL;
        sa.sa_flags = v == 0 ? 0 : SA_NOCLDWAIT;
        sigemptyset(&sa.sa_mask);
        CU_ASSERT_EQUAL_FATAL(sigaction(SIGCHLD, &sa, &old), 0);
        fx_begin(&f);
        CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
        fx_dir(&f);
        CU_ASSERT_EQUAL_FATAL(spawn_sh(&f, "t:ign", "echo hi; exit 3", &c),
                              HAZ_OK);
        if (wait_exit(&f, c)) {
            krec *k = rec_of(&f, c);

            CU_ASSERT_EQUAL(k->st.kind, HAZ_EXIT_NONE);
            CU_ASSERT_EQUAL(k->os_errno, ECHILD);
            CU_ASSERT_STRING_EQUAL(k->out, "hi\n");
        }
        fifo_path(&f, fifo, sizeof fifo, "go");
        CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:closed", &c, "echo", "bye",
                                          "closeout", "fifo", fifo, "exit",
                                          "3", NULL), HAZ_OK);
        release(fifo);
        if (wait_exit(&f, c)) {
            krec *k = rec_of(&f, c);

            CU_ASSERT_EQUAL(k->st.kind, HAZ_EXIT_NONE);
            CU_ASSERT_EQUAL(k->os_errno, ECHILD);
            CU_ASSERT_STRING_EQUAL(k->out, "bye\n");
        }
        fx_end(&f);
        CU_ASSERT_EQUAL(sigaction(SIGCHLD, &old, NULL), 0);
    }
}

static void test_kill_failure(void)
{
    haz_child c;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:k", &c, "block", NULL), HAZ_OK);
    SEAM("kill", kill_fail);
    CU_ASSERT_EQUAL(f.sp->methods->signal(f.sp, c, SIGTERM), HAZ_EIO);
    CU_ASSERT_EQUAL(haz_ctx_errno(f.ctx), EPERM);
    SEAM("kill", NULL);
    kill_and_reap(&f, c);
    fx_end(&f);
}

/* ------------------------------------------------------------------------
 * The exit of a child whose pipes are at EOF (P13b): a pidfd where the
 * kernel gives one, else polling; every way must end with the exact exit.
 * ---------------------------------------------------------------------- */


static int pidfd_calls, pidfd_errno;
static unsigned late_yields, yield_calls;
static int late_pidfd, yield_slow;

/* A real yield, counted, and always reported quick: the spawner then
 * yields after the EOF of every child that still runs, whatever else it
 * does, so the count shows that EOF was seen. */
static int yield_counting(haz_clock *clock)
{
    yield_calls++;
    (void)HAZ__PX_DEFAULT(sched_yield)(clock);
    return 0;
}

static int pidfd_refuse(pid_t pid, unsigned flags)
{
    (void)pid;
    (void)flags;
    pidfd_calls++;
    errno = pidfd_errno;
    return -1;
}

/* Gives a descriptor that select() always finds readable (/dev/null), as
 * a pidfd that fires although the child runs on. */
static int pidfd_bogus(pid_t pid, unsigned flags)
{
    (void)pid;
    (void)flags;
    pidfd_calls++;
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Does the kernel give this process a pidfd (a real one, not the seam)? */
static int kernel_pidfd(void)
{
    int fd = HAZ__PX_DEFAULT(pidfd_open)(getpid(), 0);

    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

/* One child that closes its output and exits 3 only once released, then
 * `more` quick ones ("exit 0") one after the other. */
static void closed_then_exit(fx *f, int more)
{
    static unsigned serial;
    char fifo[4200], name[32];
    unsigned fl = 0;
    uint64_t guard;
    haz_child c;
    int i;

    snprintf(name, sizeof name, "go%u", ++serial);
    fifo_path(f, fifo, sizeof fifo, name);
    SEAM("sched_yield", yield_counting);
    yield_calls = 0;
    CU_ASSERT_EQUAL_FATAL(spawn_probe(f, "t:closed", &c, "echo", "bye",
                                      "closeout", "fifo", fifo, "exit", "3",
                                      NULL), HAZ_OK);
    /* Released only once the spawner has seen its EOF while it runs (it
     * has yielded then), so that what follows (a pidfd, a refused
     * pidfd_open) is certain; the guard only bounds a failure. */
    guard = now(f) + MS(20000);
    while (yield_calls == 0 && now(f) < guard)
        CU_ASSERT_EQUAL(pump(f, now(f) + MS(30), NULL, 8, NULL, &fl),
                        HAZ_OK);
    CU_ASSERT(yield_calls > 0);
    CU_ASSERT_FALSE(rec_of(f, c)->exited);
    SEAM("sched_yield", NULL);
    release(fifo);
    if (wait_exit(f, c)) {
        assert_code(f, c, 3);
        CU_ASSERT_STRING_EQUAL(out_of(f, c), "bye\n");
    }
    for (i = 0; i < more; i++) {
        CU_ASSERT_EQUAL_FATAL(spawn_probe(f, "t:quick", &c, "exit", "0",
                                          NULL), HAZ_OK);
        if (wait_exit(f, c))
            assert_code(f, c, 0);
    }
}

/* P13b with a pidfd: one is opened for a child whose pipes are at EOF
 * while it runs (where the kernel gives one), and closed again (fx_end
 * checks every descriptor). */
static void test_pidfd_watch(void)
{
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    fx_dir(&f);
    closed_then_exit(&f, 0);
    CU_ASSERT_EQUAL(haz__posix_spawner_pidfds(f.sp), kernel_pidfd());
    CU_ASSERT_EQUAL(haz__posix_spawner_pidfds(NULL), -1);
    fx_end(&f);
}

/* style.md 2.4: pidfd_open refused at run time.  ENOSYS, EPERM (seccomp)
 * or EINVAL: polling for this child and every later one, pidfd_open never
 * tried again; EMFILE (or ENFILE, ENOMEM): polling for this child only. */
static void test_pidfd_refused(void)
{
    static const int perm[] = {ENOSYS, EPERM, EINVAL};
    size_t k;
    fx f;

    POSIX_ONLY();
    SEAM("pidfd_open", pidfd_refuse);
    for (k = 0; k < NELEM(perm) + 1; k++) {
        pidfd_calls = 0;
        pidfd_errno = k < NELEM(perm) ? perm[k] : EMFILE;
        fx_begin(&f);
        CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
        fx_dir(&f);
        /* Each closed child is certain to call pidfd_open once; a quick
         * one may or may not, so they run only where no call is allowed. */
        closed_then_exit(&f, 0);
        closed_then_exit(&f, k < NELEM(perm) ? 2 : 0);
        CU_ASSERT_EQUAL(pidfd_calls, k < NELEM(perm) ? 1 : 2);
        CU_ASSERT_EQUAL(haz__posix_spawner_pidfds(f.sp), 0);
        fx_end(&f);
    }
    SEAM("pidfd_open", NULL);
}

/* A pidfd that fires while the child still runs: it is closed, the child
 * is polled for and its exit comes exactly once, when it happens. */
static void test_pidfd_early(void)
{
    fx f;

    POSIX_ONLY();
    pidfd_calls = 0;
    SEAM("pidfd_open", pidfd_bogus);
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    fx_dir(&f);
    closed_then_exit(&f, 0);
    CU_ASSERT_EQUAL(pidfd_calls, 1);
    CU_ASSERT_EQUAL(haz__posix_spawner_pidfds(f.sp), 1);
    fx_end(&f);
    SEAM("pidfd_open", NULL);
}

/* ------------------------------------------------------------------------
 * P13b, the wait after EOF adapts (docs/spawner-posix.md section 4):
 * yields first while they are quick, a pidfd at once while they are slow,
 * a probe yield every HAZ_POSIX_PROBE_EVERY-th late child.  The seam
 * scripts it all: waitpid(WNOHANG) says "running" until the child has had
 * late_yields more yields (or, with late_pidfd, until a pidfd is opened),
 * then waits for the real exit; the yield reports yield_slow; the "pidfd"
 * is /dev/null, readable at once.  No count depends on timing.
 * ---------------------------------------------------------------------- */

static pid_t waitpid_late(pid_t pid, int *st, int opt)
{
    if ((opt & WNOHANG) && (late_yields > 0 || late_pidfd))
        return 0;
    return HAZ__PX_DEFAULT(waitpid)(pid, st, opt & ~WNOHANG);
}

static int yield_scripted(haz_clock *clock)
{
    (void)clock;
    yield_calls++;
    if (late_yields > 0)
        late_yields--;
    return yield_slow;
}

static int pidfd_late(pid_t pid, unsigned flags)
{
    (void)pid;
    (void)flags;
    pidfd_calls++;
    late_pidfd = 0;
    late_yields = 0;
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* One quick child ("exit 0") that is still exiting at EOF until `yields`
 * yields (or, with until_pidfd, until a pidfd is watched); the yields
 * report `slow`.  Asserts the yields and pidfd_open calls it took, and
 * the mode it leaves. */
static void late_child(fx *f, unsigned yields, int until_pidfd, int slow,
                       unsigned want_yields, int want_pidfds, int want_first)
{
    haz_child c;

    yield_calls = 0;
    pidfd_calls = 0;
    late_yields = yields;
    late_pidfd = until_pidfd;
    yield_slow = slow;
    CU_ASSERT_EQUAL_FATAL(spawn_probe(f, "t:late", &c, "exit", "0", NULL),
                          HAZ_OK);
    if (wait_exit(f, c))
        assert_code(f, c, 0);
    CU_ASSERT_EQUAL(yield_calls, want_yields);
    CU_ASSERT_EQUAL(pidfd_calls, want_pidfds);
    CU_ASSERT_EQUAL(haz__posix_spawner_pidfd_first(f->sp), want_first);
    late_yields = 0;
    late_pidfd = 0;
}

static void test_eof_adaptive(void)
{
    unsigned i, round;
    fx f;

    POSIX_ONLY();
    SEAM("waitpid", waitpid_late);
    SEAM("sched_yield", yield_scripted);
    SEAM("pidfd_open", pidfd_late);
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_EQUAL(haz__posix_spawner_pidfd_first(f.sp), 0);
    CU_ASSERT_EQUAL(haz__posix_spawner_pidfd_first(NULL), -1);
    /* Exited by EOF: nothing more. */
    late_child(&f, 0, 0, 0, 0, 0, 0);
    /* Quick yields: as many as it takes, up to 8, then the pidfd. */
    late_child(&f, 1, 0, 0, 1, 0, 0);
    late_child(&f, 3, 0, 0, 3, 0, 0);
    late_child(&f, 0, 1, 0, HAZ_POSIX_EOF_SPINS, 1, 0);
    /* A slow yield: this child gets its pidfd after it; the next ones at
     * once, without yielding, even those one yield would have done,
     * until every HAZ_POSIX_PROBE_EVERY-th yields again: slow again
     * (the count restarts), then quick (back to yielding first). */
    late_child(&f, 0, 1, 1, 1, 1, 1);
    for (round = 0; round < 2; round++) {
        for (i = 1; i < HAZ_POSIX_PROBE_EVERY; i++)
            late_child(&f, i % 2, i % 2 == 0, 0, 0, 1, 1);
        if (round == 0)
            late_child(&f, 0, 1, 1, 1, 1, 1);
        else
            late_child(&f, 1, 0, 0, 1, 0, 0);
    }
    late_child(&f, 2, 0, 1, 1, 1, 1);
    late_child(&f, 0, 1, 0, 0, 1, 1);
    fx_end(&f);
    SEAM("pidfd_open", NULL);
    SEAM("sched_yield", NULL);
    SEAM("waitpid", NULL);
}

/* Without a pidfd the yields are all there is before the backoff: a slow
 * one does not end them. */
static void test_eof_no_pidfd_yields(void)
{
    fx f;

    POSIX_ONLY();
    SEAM("waitpid", waitpid_late);
    SEAM("sched_yield", yield_scripted);
    SEAM("pidfd_open", pidfd_refuse);
    pidfd_errno = ENOSYS;
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    /* The first slow yield turns to the pidfd, which is refused: the
     * other yields follow; pidfd_open is never tried again. */
    late_child(&f, 3, 0, 1, 3, 1, 1);
    late_child(&f, 3, 0, 1, 3, 0, 1);
    late_child(&f, HAZ_POSIX_EOF_SPINS, 0, 0, HAZ_POSIX_EOF_SPINS, 0, 1);
    CU_ASSERT_EQUAL(haz__posix_spawner_pidfds(f.sp), 0);
    fx_end(&f);
    SEAM("pidfd_open", NULL);
    SEAM("sched_yield", NULL);
    SEAM("waitpid", NULL);
}

/* EINTR from every other select and read: retried, nothing lost. */
static void test_injected_eintr(void)
{
    haz_child c;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    calls = 0;
    SEAM("select", select_eintr);
    SEAM("read", read_eintr);
    CU_ASSERT_EQUAL_FATAL(spawn_probe(&f, "t:e", &c, "bytes", "300000",
                                      "both", NULL), HAZ_OK);
    if (wait_exit(&f, c)) {
        krec *k = rec_of(&f, c);

        assert_code(&f, c, 0);
        check_digest(k->out, k->nout, 300000);
        check_digest(k->err, k->nerr, 300000);
    }
    SEAM("select", NULL);
    SEAM("read", NULL);
    fx_end(&f);
}

static ssize_t read_eio_first(int fd, void *buf, size_t n)
{
    if (++calls == 1) {
        errno = EIO;
        return -1;
    }
    return HAZ__PX_DEFAULT(read)(fd, buf, n);
}

/* Reference-exec.md 3.4 step 3: a failed read of a child's output is an
 * event of that child (HAZ_EV_STREAM_ERROR with the errno), not an error
 * of wait(); the stream is no longer read, the other one is, the child is
 * not signalled and its exit follows; no descriptor is left.  The child
 * writes stdout first, so the first read of wait() (the one that fails)
 * is of stdout. */
static void test_read_error_event(void)
{
    haz_child c;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(spawn_sh(&f, "t:r", "echo out; echo err >&2; "
                                   "exit 3", &c), HAZ_OK);
    /* From here on (the fork path reads its exec report in spawn). */
    calls = 0;
    SEAM("read", read_eio_first);
    if (wait_exit(&f, c)) {
        krec *k = rec_of(&f, c);

        assert_code(&f, c, 3);
        CU_ASSERT_EQUAL(k->read_err[HAZ_STREAM_STDOUT], EIO);
        CU_ASSERT_EQUAL(k->read_err[HAZ_STREAM_STDERR], 0);
        CU_ASSERT_EQUAL(k->nout, 0);
        CU_ASSERT_EQUAL(k->nerr, 4);
        CU_ASSERT(k->err != NULL && memcmp(k->err, "err\n", 4) == 0);
    }
    SEAM("read", NULL);
    fx_end(&f);
}

static void test_open_refuses_mock_clock(void)
{
    haz_spawner_config cfg;
    haz_clock *mclk = NULL;
    haz_spawner *sp = (haz_spawner *)&cfg;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(f.ctx, &haz_clock_mock, NULL,
                                         &mclk), HAZ_OK);
    cfg.version = 1;
    cfg.clock = mclk;
    cfg.backend = NULL;
    CU_ASSERT_EQUAL(haz_spawner_open(f.ctx, &haz_spawner_posix, &cfg, &sp),
                    HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(sp);
    cfg.clock = NULL;
    CU_ASSERT_EQUAL(haz_spawner_open(f.ctx, &haz_spawner_posix, &cfg, &sp),
                    HAZ_EINVAL);
    haz_clock_close(mclk);
    fx_end(&f);
}

/* R4 in small: every allocation of open, spawn, wait, close can fail. */
static void test_oom_sweep(void)
{
    unsigned long n;
    int done = 0;

    POSIX_ONLY();
    for (n = 1; n < 200 && !done; n++) {
        haz_child c;
        int rc;
        fx f;

        fx_begin(&f);
        haz_test_mem_fail_at(&f.tm, n, 0);
        rc = fx_open(&f, NULL);
        CU_ASSERT(rc == HAZ_OK || rc == HAZ_ENOMEM);
        if (rc == HAZ_OK) {
            rc = spawn_probe(&f, "t:oom", &c, "echo", "hi", NULL);
            CU_ASSERT(rc == HAZ_OK || rc == HAZ_ENOMEM);
            if (rc == HAZ_OK && wait_exit(&f, c)) {
                assert_code(&f, c, 0);
                CU_ASSERT_STRING_EQUAL(out_of(&f, c), "hi\n");
            }
            /* A plain shell command line: the fast path allocates too. */
            rc = spawn_sh(&f, "t:oom2", "seq 2", &c);
            CU_ASSERT(rc == HAZ_OK || rc == HAZ_ENOMEM);
            if (rc == HAZ_OK && wait_exit(&f, c)) {
                assert_code(&f, c, 0);
                CU_ASSERT_STRING_EQUAL(out_of(&f, c), "1\n2\n");
            }
        }
        done = f.tm.failures == 0;
        fx_end(&f);
    }
    CU_ASSERT(done);
}

/* ------------------------------------------------------------------------
 * Posix only: the direct-exec fast path for plain shell command lines
 * (docs/spawner-posix.md section 2a).
 * ---------------------------------------------------------------------- */

/* The rule itself: what is a plain command line and what is not. */
static void test_fast_rule(void)
{
    static const char *const plain[] = {
        "seq 100", "  seq 100  ", "sleep\t0.01", "true", " false ",
        "/usr/bin/env", "./build.sh -o out/a.o", "cc -c a.c -DX=1 -o a.o",
        "x a=b", "t_probe echo a@b,c+d%e:f", "truex", "echoes", "-x",
        "make -j2 all", "a_very_long_program_name_indeed arg"
    };
    static const char *const shell[] = {
        "", "   ", "\t", "true x", "false 1", "echo hi", "printf x",
        "test 1", "pwd", "kill 1", "cd /", "exit 0", "exec true", ". x",
        ": x", "read x", "wait", "type ls", "command ls", "eval x",
        "set -e", "export A", "unset A", "local a", "times", "trap x",
        "alias a", "hash", "ulimit -n", "umask 022", "X=1 seq 3", "a=b",
        "%1", "a%b c", "seq 3; true", "seq 3 | cat", "seq 3 > f",
        "seq 3 < f", "seq 3 &", "seq $N", "seq `x`", "seq 'a'",
        "seq \"a\"", "ls *", "ls ?", "ls [a]", "ls ~", "a\\ b", "(seq 3)",
        "{ seq 3; }", "! true", "seq 3 # c", "if true", "for x", "while x",
        "until x", "case x", "time seq 3", "function f", "select x",
        "coproc x", "seq\n3", "seq\r3", "caf\xc3\xa9", "source x",
        "declare x", "typeset x", "let x", "builtin x", "[ 1 ]", "seq 3^2"
    };
    size_t i;

    for (i = 0; i < NELEM(plain); i++)
        if (!haz__posix_sh_plain(plain[i])) {
            fprintf(stderr, "\n  not plain: '%s'\n", plain[i]);
            CU_FAIL("a plain command line is refused");
        }
    for (i = 0; i < NELEM(shell); i++)
        if (haz__posix_sh_plain(shell[i])) {
            fprintf(stderr, "\n  plain: '%s'\n", shell[i]);
            CU_FAIL("a command line with shell syntax is plain");
        }
    CU_ASSERT_FALSE(haz__posix_sh_plain(NULL));
}

/* A scratch bin directory with t_probe under a plain name, and a few
 * programs that fail to start in each way. */
static void fast_setup(fx *f, char *bin, size_t n)
{
    char *d = fx_dir(f), link[4300];

    snprintf(bin, n, "%s/bin", d);
    snprintf(link, sizeof link, "%s/t_probe", bin);
    make_dir(d, "bin");
    make_dir(d, "work");
    make_dir(d, "work/sub");
    CU_ASSERT_EQUAL_FATAL(symlink(probe, link), 0);
    write_file(d, "work/noexec", "#!/bin/sh\necho no\n", 0644);
    write_file(d, "work/noshebang", "echo from-sh \"$0\"\nexit 4\n", 0755);
    write_file(d, "work/badinterp", "#!/nonexistent-hazexec/sh\n", 0755);
}

/* Run `script` as a shell action in cwd with env (PATH first) and return
 * its record, started the fast way or (shell != 0) through /bin/sh.  *via
 * gets how it was started. */
static krec *fast_run(fx *f, const char *script, const char *cwd,
                      const char *const *env, int shell, int *via)
{
    unsigned long before[4], after[4];
    haz_spawn_plan p;
    haz_child c;
    int k;

    plan_init(&p, "t:fast");
    p.action = HAZ_ACTION_SHELL;
    p.script = script;
    p.cwd = cwd;
    p.envp = env;
    p.path = env[0] != NULL && strncmp(env[0], "PATH=", 5) == 0 ? env[0] + 5
                                                                : NULL;
    haz__posix_spawner_use_shell(shell);
    CU_ASSERT_EQUAL(haz__posix_spawner_counts(f->sp, before), 0);
    CU_ASSERT_EQUAL_FATAL(spawn(f, &p, &c), HAZ_OK);
    CU_ASSERT_EQUAL(haz__posix_spawner_counts(f->sp, after), 0);
    haz__posix_spawner_use_shell(0);
    for (k = 0, *via = -1; k < 4; k++)
        if (after[k] != before[k])
            *via = k;
    if (!wait_exit(f, c))
        return NULL;
    return rec_of(f, c);
}

/* Lines sorted, for outputs whose order the shell chooses (env). */
static char *sorted_lines(const char *text)
{
    size_t n = 0, i, j, len = strlen(text);
    char *copy = malloc(len + 1), *out = malloc(len + 2), **line, *p;

    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    memcpy(copy, text, len + 1);
    line = calloc(len + 1, sizeof *line);
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    for (p = strtok(copy, "\n"); p != NULL; p = strtok(NULL, "\n"))
        line[n++] = p;
    for (i = 1; i < n; i++)
        for (j = i; j > 0 && strcmp(line[j - 1], line[j]) > 0; j--) {
            p = line[j];
            line[j] = line[j - 1];
            line[j - 1] = p;
        }
    out[0] = '\0';
    for (i = 0; i < n; i++)
        strcat(strcat(out, line[i]), "\n");
    free(line);
    free(copy);
    return out;
}

/* Every command gives exactly what /bin/sh -c gives (status, stdout,
 * stderr), and is started the expected way. */
static void test_fast_same_as_sh(void)
{
    static const struct {
        const char *script;
        int via;            /* expected HAZ_POSIX_VIA_* */
        int sort;           /* compare sorted lines (the environment) */
        int env;            /* which environment (below) */
    } cases[] = {
        {"t_probe echo hello err oops exit 3", HAZ_POSIX_VIA_DIRECT, 0, 0},
        {"  t_probe\techo  a=b,c+d@e%f:g/h.i-j_k  ", HAZ_POSIX_VIA_DIRECT,
         0, 0},
        {"seq 3", HAZ_POSIX_VIA_DIRECT, 0, 0},
        {"true", HAZ_POSIX_VIA_DIRECT, 0, 0},
        {"false", HAZ_POSIX_VIA_DIRECT, 0, 0},
        {"t_probe exit 127", HAZ_POSIX_VIA_DIRECT, 0, 0},
        {"t_probe exit 126", HAZ_POSIX_VIA_DIRECT, 0, 0},
        {"t_probe cwd stdin", HAZ_POSIX_VIA_DIRECT, 0, 0},
        {"t_probe sigstate fds", HAZ_POSIX_VIA_DIRECT, 0, 0},
        {"t_probe env", HAZ_POSIX_VIA_DIRECT, 1, 0},
        {"t_probe env", HAZ_POSIX_VIA_DIRECT, 1, 1},
        {"t_probe env", HAZ_POSIX_VIA_DIRECT, 1, 2},
        {"t_probe env", HAZ_POSIX_VIA_DIRECT, 1, 3},
        {"sub/../noshebang x", HAZ_POSIX_VIA_RETRY, 0, 0},
        {"./badinterp", HAZ_POSIX_VIA_RETRY, 0, 0},
        {"no_such_prog_xyz a b", HAZ_POSIX_VIA_SHELL, 0, 0},
        {"/nonexistent-hazexec/bin", HAZ_POSIX_VIA_SHELL, 0, 0},
        {"./noexec", HAZ_POSIX_VIA_SHELL, 0, 0},
        {"sub", HAZ_POSIX_VIA_SHELL, 0, 0},
        {"./sub", HAZ_POSIX_VIA_SHELL, 0, 0},
        {"t_probe env", HAZ_POSIX_VIA_SHELL, 1, 4},
        {"t_probe env", HAZ_POSIX_VIA_SHELL, 1, 5},
        {"t_probe env", HAZ_POSIX_VIA_SHELL, 0, 6},
        {"echo -e x", HAZ_POSIX_VIA_SHELL, 0, 0},
        {"true --help", HAZ_POSIX_VIA_SHELL, 0, 0}
    };
    char bin[4200], pathv[4300], work[4200], link[4200], pwd_link[4300];
    char pwd_bad[64], pwd_work[4300];
    const char *envs[7][5];
    size_t i;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    fast_setup(&f, bin, sizeof bin);
    snprintf(pathv, sizeof pathv, "PATH=%s:/usr/bin:/bin", bin);
    snprintf(work, sizeof work, "%s/work", f.dir);
    snprintf(link, sizeof link, "%s/link", f.dir);
    CU_ASSERT_EQUAL_FATAL(symlink(work, link), 0);
    snprintf(pwd_link, sizeof pwd_link, "PWD=%s", link);
    snprintf(pwd_work, sizeof pwd_work, "PWD=%s/", work);
    snprintf(pwd_bad, sizeof pwd_bad, "PWD=/");
    memset(envs, 0, sizeof envs);
    /* 0: PATH only; 1: PWD naming the directory through a symlink (kept);
     * 2: a PWD elsewhere (replaced); 3: PWD with a trailing slash, and a
     * variable sorting after PWD; 4, 5: variables the shell changes or
     * drops; 6: no PATH (the shell's default search). */
    envs[0][0] = pathv;
    envs[1][0] = pathv;
    envs[1][1] = pwd_link;
    envs[2][0] = pathv;
    envs[2][1] = pwd_bad;
    envs[3][0] = pathv;
    envs[3][1] = pwd_work;
    envs[3][2] = "ZZ=last";
    envs[4][0] = pathv;
    envs[4][1] = "IFS=x";
    envs[5][0] = pathv;
    envs[5][1] = "A-B=1";
    envs[6][0] = "A=1";
    for (i = 0; i < NELEM(cases); i++) {
        const char *const *env = envs[cases[i].env];
        int via_sh = -2, via = -2, in_link = cases[i].env == 1;
        krec *a, *b;

        /* A failed execve kills a child under valgrind. */
        if (under_valgrind && cases[i].via == HAZ_POSIX_VIA_RETRY)
            continue;
        a = fast_run(&f, cases[i].script, in_link ? link : work, env, 1,
                     &via_sh);
        b = fast_run(&f, cases[i].script, in_link ? link : work, env, 0,
                     &via);
        CU_ASSERT_EQUAL(via_sh, HAZ_POSIX_VIA_SHELL);
        if (via != cases[i].via) {
            fprintf(stderr, "\n  '%s': started via %d, not %d\n",
                    cases[i].script, via, cases[i].via);
            CU_FAIL("the fast path decided wrongly");
        }
        if (a == NULL || b == NULL)
            continue;
        CU_ASSERT_EQUAL(a->st.kind, b->st.kind);
        CU_ASSERT_EQUAL(a->st.code, b->st.code);
        CU_ASSERT_EQUAL(a->st.signo, b->st.signo);
        {
            char *x = cases[i].sort ? sorted_lines(a->out) : NULL;
            char *y = cases[i].sort ? sorted_lines(b->out) : NULL;
            const char *oa = x != NULL ? x : a->out;
            const char *ob = y != NULL ? y : b->out;

            CU_ASSERT_STRING_EQUAL(oa, ob);
            CU_ASSERT_STRING_EQUAL(a->err, b->err);
            if (a->st.code != b->st.code || strcmp(oa, ob) != 0 ||
                strcmp(a->err, b->err) != 0)
                fprintf(stderr, "\n  '%s':\n  sh   %d [%s] [%s]\n  fast %d "
                        "[%s] [%s]\n", cases[i].script, a->st.code, oa,
                        a->err, b->st.code, ob, b->err);
            free(x);
            free(y);
        }
    }
    fx_end(&f);
}

/* The documented difference: a program that kills itself.  Debian's dash
 * forks for its command and reports 128+N; the fast path, like shells
 * that exec their last command, reports the signal. */
static void test_fast_self_signal(void)
{
    char bin[4200], pathv[4300], work[4200];
    const char *env[2];
    int via = -2;
    krec *k;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    fast_setup(&f, bin, sizeof bin);
    snprintf(pathv, sizeof pathv, "PATH=%s:/usr/bin:/bin", bin);
    snprintf(work, sizeof work, "%s/work", f.dir);
    env[0] = pathv;
    env[1] = NULL;
    k = fast_run(&f, "t_probe echo x kill 15", work, env, 0, &via);
    CU_ASSERT_EQUAL(via, HAZ_POSIX_VIA_DIRECT);
    if (k != NULL) {
        CU_ASSERT_EQUAL(k->st.kind, HAZ_EXIT_SIGNAL);
        CU_ASSERT_EQUAL(k->st.signo, SIGTERM);
        CU_ASSERT_STRING_EQUAL(k->out, "x\n");
    }
    k = fast_run(&f, "t_probe echo x kill 15", work, env, 1, &via);
    if (k != NULL)
        CU_ASSERT((k->st.kind == HAZ_EXIT_SIGNAL && k->st.signo == SIGTERM) ||
                  (k->st.kind == HAZ_EXIT_CODE && k->st.code == 128 + 15));
    fx_end(&f);
}

/* Signals reach a fast-path child the same way; cancellation works. */
static void test_fast_signal(void)
{
    char bin[4200], pathv[4300];
    const char *env[2];
    haz_spawn_plan p;
    unsigned long n[4];
    haz_child c;
    fx f;

    POSIX_ONLY();
    fx_begin(&f);
    CU_ASSERT_EQUAL_FATAL(fx_open(&f, NULL), HAZ_OK);
    fast_setup(&f, bin, sizeof bin);
    snprintf(pathv, sizeof pathv, "PATH=%s:/usr/bin:/bin", bin);
    env[0] = pathv;
    env[1] = NULL;
    plan_init(&p, "t:sig");
    p.action = HAZ_ACTION_SHELL;
    p.script = "t_probe echo ready block";
    p.envp = env;
    p.path = pathv + 5;
    CU_ASSERT_EQUAL_FATAL(spawn(&f, &p, &c), HAZ_OK);
    CU_ASSERT_EQUAL(haz__posix_spawner_counts(f.sp, n), 0);
    CU_ASSERT_EQUAL(n[HAZ_POSIX_VIA_DIRECT], 1);
    CU_ASSERT_EQUAL(haz__posix_spawner_counts(NULL, n), -1);
    if (wait_out(&f, c, "ready\n")) {
        CU_ASSERT_EQUAL(f.sp->methods->signal(f.sp, c, SIGTERM), HAZ_OK);
        if (wait_exit(&f, c))
            assert_signal(&f, c, SIGTERM);
    }
    fx_end(&f);
}

/* ------------------------------------------------------------------------
 * Registration.
 * ---------------------------------------------------------------------- */

static CU_TestInfo common_tests[] = {
    {"output then exit code", test_output_then_exit},
    {"exit codes", test_exit_codes},
    {"killed by a signal", test_killed_by_signal},
    {"missing program", test_missing_program},
    {"SIGTERM, default", test_sigterm_default},
    {"SIGTERM, handled", test_sigterm_handled},
    {"cancel returns", test_cancel_returns},
    {"deadline returns", test_deadline_returns},
    {"signal to a retired child", test_signal_retired},
    {"wait misuse", test_wait_misuse},
    {"bad plan", test_bad_plan},
    {"one event at a time", test_small_cap},
    {"max_children", test_max_children},
    CU_TEST_INFO_NULL
};

static CU_TestInfo posix_tests[] = {
    {"stdin is /dev/null", test_stdin_null},
    {"only 0 1 2", test_only_stdio},
    {"signal state", test_signal_state},
    {"own process group", test_own_group},
    {"cwd and environment", test_cwd_and_env},
    {"PATH search", test_path_search},
    {"spawn messages", test_spawn_messages},
    {"1 MiB output", test_big_output},
    {"three floods", test_three_floods},
    {"binary bytes", test_binary},
    {"grandchild holds the pipes", test_grandchild_holds_pipes},
    {"setsid grandchild", test_setsid_grandchild},
    {"pipes closed, still running", test_closed_pipes_running},
    {"SIGTERM reaches a grandchild", test_sigterm_grandchild},
    {"close kills all", test_close_kills_all},
    {"cancel wakes wait", test_cancel_wakes_wait},
    {"EINTR storm", test_eintr_storm},
    {"FD_SETSIZE", test_fd_setsize},
    {"start failures", test_start_failures},
    {"status lost", test_status_lost},
    {"SIGCHLD ignored", test_sigchld_ignored},
    {"kill failure", test_kill_failure},
    {"P13b exit watched by a pidfd", test_pidfd_watch},
    {"P13b pidfd refused: polling", test_pidfd_refused},
    {"P13b pidfd fires early", test_pidfd_early},
    {"P13b wait after EOF adapts", test_eof_adaptive},
    {"P13b no pidfd: every yield", test_eof_no_pidfd_yields},
    {"injected EINTR", test_injected_eintr},
    {"read error: an event of the child (ref 3.4 step 3)",
     test_read_error_event},
    {"open refuses a mock clock", test_open_refuses_mock_clock},
    {"allocation failures", test_oom_sweep},
    {"fast path: the rule", test_fast_rule},
    {"fast path: same as sh", test_fast_same_as_sh},
    {"fast path: self-inflicted signal", test_fast_self_signal},
    {"fast path: signals", test_fast_signal},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("common", common_tests),
    HAZ_TEST_SUITE("posix", posix_tests),
    CU_SUITE_INFO_NULL
};

#ifndef HAZ_TEST_SPAWNER_DEFAULT
#define HAZ_TEST_SPAWNER_DEFAULT "posix"
#endif

int main(int argc, char **argv)
{
    const char *b = getenv("HAZ_TEST_SPAWNER");

    backend = b != NULL && b[0] != '\0' ? b : HAZ_TEST_SPAWNER_DEFAULT;
    if (strcmp(backend, "mock") == 0) {
        is_mock = 1;
    } else if (strcmp(backend, "posix-fork") == 0) {
        haz__posix_spawner_use_fork(1);
    } else if (strcmp(backend, "posix") != 0) {
        fprintf(stderr, "%s: unknown backend '%s' (posix, posix-fork, "
                "mock)\n", argv[0], backend);
        return 99;
    }
    snprintf(probe, sizeof probe, "%s/tests/t_probe", haz_test_builddir());
    if (!is_mock && probe[0] != '/') {
        fprintf(stderr, "%s: set HAZ_TEST_BUILDDIR to the absolute build "
                "directory (t_probe is run by absolute path)\n", argv[0]);
        return 99;
    }
#if defined(__linux__) && defined(PR_SET_CHILD_SUBREAPER)
    subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
#endif
    b = getenv("LD_PRELOAD");
    under_valgrind = b != NULL && strstr(b, "vgpreload") != NULL;
    printf("spawner backend: %s\n", backend);
    return haz_test_main(argc, argv, suites);
}
