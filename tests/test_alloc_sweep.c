/*
 * tests/test_alloc_sweep.c: the allocation-failure sweep (style.md item 8,
 * reliability-tests.md R4) over representative scenarios:
 *   graph     building a graph through the API, validating it, selecting
 *             targets; then an invalid graph, whose validation must report
 *             its problems;
 *   hazfile   loading a valid, a malformed and a cyclic hazfile;
 *   run       a run with cache hits and misses: the mock spawner and mock
 *             clock, the filesystem cache store in a temporary workspace
 *             primed by an earlier run, one input changed since (so one
 *             task runs and is stored again, its dependant is a hit through
 *             unchanged stream hashes, others are plain hits, one fails and
 *             skips its dependant), and the recording observer;
 *   cancel    a run cancelled from the observer while tasks hang, one
 *             ignoring SIGTERM (so the grace period runs out) and one
 *             exiting late, one queued, one already stored.
 *
 * Each scenario first runs with nothing failing, which gives the reference
 * results and the number of allocations N.  Then, for n = 1, 2, ..., it
 * runs again from scratch with allocation call n failing (transient: only
 * that call; persistent: every call from n on), until a run sees no failure.
 * Only the step under test runs with failures armed: setting up (opening
 * the store, the clock, the spawner, parsing the graph and the script) and
 * checking happen with the allocator healthy.  After every run:
 *   - the call returned HAZ_ENOMEM (with the context's error code saying
 *     so) or succeeded, and it succeeded when nothing failed;
 *   - on success the results equal the reference ones: an allocation
 *     failure is reported, never turned into a different result;
 *   - in transient mode, a graph or hazfile call that failed with
 *     HAZ_ENOMEM succeeds when repeated, and the end result is the
 *     reference one ("nothing was changed", common.h);
 *   - once everything is freed, no block is live and no descriptor is left
 *     open;
 *   - for the runs: no mock child is left (every child id is retired),
 *     haz_cache_fs_verify finds no broken entry and no temporary, every
 *     output file in the workspace is either absent or complete, and a
 *     successful run left the cache holding the reference entries.
 *
 * Every run here is on the mock spawner in virtual time.  What costs is
 * the cache store's fsync calls, a few dozen per run: the workspaces go to
 * $HAZ_SWEEP_TMPDIR, else /dev/shm when it is a writable directory (a
 * tmpfs, where fsync is free), else the build tree's tests/tmp.  On tmpfs
 * the program takes a few seconds; on a disk, about a minute.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "testutil.h"
#include "sweeputil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* More iterations than this and the sweep is stuck (never ends). */
#define SWEEP_LIMIT 20000UL

/* Mock child ids checked for leftovers after a run. */
#define MAX_CHILD 64

/* ------------------------------------------------------------------------
 * Small helpers: strings (descriptors, scratch directories and copies of
 * a workspace: tests/sweeputil.h).
 * ---------------------------------------------------------------------- */

/* A growable string on the plain C heap (not the allocator under test). */
typedef struct str {
    char *s;
    size_t len, cap;
} str;

static void str_add(str *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void str_add(str *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        size_t room = b->cap - b->len;

        va_start(ap, fmt);
        n = vsnprintf(b->s != NULL ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        CU_ASSERT_FATAL(n >= 0);
        if (b->s != NULL && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b->s);
    }
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s != NULL ? s : "");

    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    return d;
}

/* ------------------------------------------------------------------------
 * The sweep driver.
 * ---------------------------------------------------------------------- */

typedef struct scenario {
    const char *name;
    /* Prepare a run on ctx with the allocator healthy; returns state. */
    void *(*setup)(haz_ctx *ctx);
    /* The step under test, with failures armed.  `retry`: transient mode,
     * repeat a call that failed with HAZ_ENOMEM. */
    int (*step)(haz_ctx *ctx, void *st, int retry);
    /* Check the outcome with the allocator healthy; `reference` is set
     * for the first, failure-free run, which records what the others are
     * compared with. */
    void (*check)(haz_ctx *ctx, void *st, int rc, int reference);
    /* Free everything setup and step made. */
    void (*teardown)(haz_ctx *ctx, void *st);
} scenario;

/* Persistent-mode runs that left a cache temporary behind. */
static unsigned long leftover_temporaries;

/* The run in progress, for messages. */
static const char *g_name;
static unsigned long g_fail_at;
static int g_persistent;

static void note(const char *what)
{
    fprintf(stderr, "\n  %s: fail_at %lu%s: %s\n", g_name, g_fail_at,
            g_persistent ? " persistent" : "", what);
}

/* One run: fail allocation call n (0: none) counted from the step's
 * start.  Returns the number of allocation calls the step made, or 0 when
 * the run saw a failure. */
static unsigned long sweep_one(const scenario *sc, unsigned long n,
                               int persistent, int reference)
{
    haz_test_mem tm;
    haz_ctx *ctx;
    void *st;
    unsigned long calls, failures;
    int rc, fds = haz_sweep_fd_count();

    g_name = sc->name;
    g_fail_at = n;
    g_persistent = persistent;
    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    st = sc->setup(ctx);
    haz_test_mem_fail_at(&tm, n, persistent);
    rc = sc->step(ctx, st, !persistent);
    calls = tm.calls;
    failures = tm.failures;
    haz_test_mem_fail_at(&tm, 0, 0);
    if (rc != HAZ_OK && rc != HAZ_ENOMEM)
        fprintf(stderr, "\n  %s: fail_at %lu%s: step returned %d (%s)\n",
                sc->name, n, persistent ? " persistent" : "", rc,
                haz_ctx_errmsg(ctx));
    CU_ASSERT(rc == HAZ_OK || rc == HAZ_ENOMEM);
    if (failures == 0)
        CU_ASSERT_EQUAL(rc, HAZ_OK);
    if (rc == HAZ_ENOMEM)
        CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);
    sc->check(ctx, st, rc, reference);
    sc->teardown(ctx, st);
    haz_ctx_free(ctx);
    if (tm.live != 0)
        fprintf(stderr, "\n  %s: fail_at %lu%s: %ld block(s) leaked\n",
                sc->name, n, persistent ? " persistent" : "", tm.live);
    CU_ASSERT_EQUAL(tm.live, 0);
    CU_ASSERT_EQUAL(haz_sweep_fd_count(), fds);
    return failures == 0 ? calls : 0;
}

static void sweep(const scenario *sc)
{
    unsigned long total, n;
    int persistent;

    total = sweep_one(sc, 0, 0, 1);
    CU_ASSERT(total > 0);
    for (persistent = 0; persistent <= 1; persistent++) {
        for (n = 1; n <= SWEEP_LIMIT; n++)
            if (sweep_one(sc, n, persistent, 0) != 0)
                break;
        /* The run with no failure is the one past the last call. */
        CU_ASSERT_EQUAL(n, total + 1);
    }
    printf("[%s: %lu allocations, each failed in turn] ", sc->name, total);
    if (leftover_temporaries > 0)
        printf("[%lu persistent run(s) left a cache temporary] ",
               leftover_temporaries);
    leftover_temporaries = 0;
}

/* HAZ_ENOMEM, then (transient mode) the same call again must work. */
#define TRY(rc, call, retry) \
    do { \
        (rc) = (call); \
        if ((rc) == HAZ_ENOMEM && (retry)) \
            (rc) = (call); \
    } while (0)

/* ------------------------------------------------------------------------
 * Scenario "graph".
 * ---------------------------------------------------------------------- */

typedef struct graph_st {
    haz_graph *g, *bad;
    haz_diags *d;
    unsigned char sel[16];
    int bad_rc;
} graph_st;

static char *graph_ref_dump;        /* the reference graph, as text */
static char *graph_ref_diags;       /* the invalid graph's diagnostics */

/* Build the valid graph: every kind of setter, then validate and select.
 * Stops at the first error (after the retry, in transient mode). */
static int build_graph(haz_ctx *ctx, graph_st *s, int retry)
{
    static const char *const argv[] = {"cc", "-c", "a b.c"};
    static const char *const host[] = {"PATH", "HOME"};
    static const char *const targets[] = {"app:link", "lint"};
    haz_task *t;
    haz_graph *g;
    int rc;

#define STEP(call) \
    do { TRY(rc, call, retry); if (rc != HAZ_OK) return rc; } while (0)
    STEP(haz_graph_new(ctx, &s->g));
    g = s->g;
    STEP(haz_graph_set_source(g, "api", 1));
    STEP(haz_graph_add_project(g, "core", "core"));
    STEP(haz_graph_add_project_tag(g, "core", "heavy"));
    STEP(haz_graph_add_project(g, "app", "app/src"));
    STEP(haz_graph_set_tag_cap(g, "heavy", 1));
    STEP(haz_graph_set_tag_cap(g, "net", 2));
    STEP(haz_graph_set_env_from_host(g, host, 2));

    STEP(haz_graph_add_task(g, "core", "gen", &t));
    STEP(haz_task_set_argv(t, 3, argv));
    STEP(haz_task_add_output(t, "include/gen.h"));
    STEP(haz_task_set_env(t, "CFLAGS", "-O2"));

    STEP(haz_graph_set_source(g, "api", 2));
    STEP(haz_graph_add_task(g, "core", "build", &t));
    STEP(haz_task_set_shell(t, "cc -c a.c -o a.o"));
    STEP(haz_task_add_input(t, "a.c"));
    STEP(haz_task_add_input(t, "include/*.h"));
    STEP(haz_task_add_output(t, "a.o"));
    STEP(haz_task_add_dep(t, "~:gen"));
    STEP(haz_task_add_weak_dep(t, "core:lint"));
    STEP(haz_task_add_tag(t, "slow"));
    STEP(haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE, HAZ_MUTEX_EXCLUSIVE,
                            "db"));
    STEP(haz_task_add_mutex(t, HAZ_MUTEX_PROJECT, HAZ_MUTEX_SHARED, "cfg"));
    STEP(haz_task_add_env_from_host(t, "USER"));
    STEP(haz_task_set_timeout_ns(t, UINT64_C(60000000000)));

    STEP(haz_graph_add_task(g, "core", "lint", &t));
    STEP(haz_task_set_shell(t, "lint *.c"));
    STEP(haz_task_add_input(t, "src/**/{a,b}[0-9]?.c"));

    STEP(haz_graph_add_task(g, "app", "link", &t));
    STEP(haz_task_set_shell(t, "ld -o app ../../core/a.o"));
    STEP(haz_task_add_dep(t, "core:build"));
    STEP(haz_task_add_input(t, "/core/a.o"));
    STEP(haz_task_add_output(t, "/bin/app"));
    STEP(haz_task_add_tag(t, "net"));

    STEP(haz_graph_add_task(g, "app", "test", &t));
    STEP(haz_task_set_shell(t, "./app --test"));
    STEP(haz_task_add_dep(t, "~:link"));
    STEP(haz_task_set_env(t, "EMPTY", ""));

    STEP(haz_graph_add_task(g, "docs", "lint", &t));
    STEP(haz_task_set_shell(t, "true"));

    STEP(haz_graph_validate(g, s->d));
    STEP(haz_graph_select(g, targets, 2, s->sel, s->d));
#undef STEP
    return HAZ_OK;
}

/* The invalid graph: a 3-cycle, an unknown reference, a self reference,
 * an output collision, a task without action, a bad name. */
static int build_bad_graph(haz_ctx *ctx, graph_st *s, int retry)
{
    haz_task *t;
    haz_graph *g;
    int rc;

#define STEP(call) \
    do { TRY(rc, call, retry); if (rc != HAZ_OK) return rc; } while (0)
    STEP(haz_graph_new(ctx, &s->bad));
    g = s->bad;
    STEP(haz_graph_add_task(g, "p", "a", &t));
    STEP(haz_task_set_shell(t, "a"));
    STEP(haz_task_add_dep(t, "p:b"));
    STEP(haz_task_add_output(t, "out"));
    STEP(haz_graph_add_task(g, "p", "b", &t));
    STEP(haz_task_set_shell(t, "b"));
    STEP(haz_task_add_dep(t, "p:c"));
    STEP(haz_task_add_output(t, "out"));
    STEP(haz_graph_add_task(g, "p", "c", &t));
    STEP(haz_task_set_shell(t, "c"));
    STEP(haz_task_add_dep(t, "p:a"));
    STEP(haz_task_add_dep(t, "p:nowhere"));
    STEP(haz_task_add_weak_dep(t, "~:c"));
    STEP(haz_graph_add_task(g, "p", "empty", &t));
    STEP(haz_graph_add_task(g, "p", "bad name", &t));
    STEP(haz_task_set_shell(t, "x"));
#undef STEP
    rc = haz_graph_validate(g, s->d);
    if (rc == HAZ_ENOMEM && retry) {
        /* Partial diagnostics from the failed attempt are dropped. */
        haz_diags_clear(s->d);
        rc = haz_graph_validate(g, s->d);
    }
    return rc;
}

static void *graph_setup(haz_ctx *ctx)
{
    graph_st *s = calloc(1, sizeof *s);

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &s->d), HAZ_OK);
    return s;
}

static int graph_step(haz_ctx *ctx, void *p, int retry)
{
    graph_st *s = p;
    int rc = build_graph(ctx, s, retry);

    if (rc != HAZ_OK)
        return rc;
    haz_diags_clear(s->d);
    rc = build_bad_graph(ctx, s, retry);
    s->bad_rc = rc;
    return rc == HAZ_EGRAPH ? HAZ_OK : rc;
}

static char *dump_graph(const haz_graph *g, const unsigned char *sel)
{
    str b = {NULL, 0, 0};
    size_t i, k, n = haz_graph_task_count(g);

    for (i = 0; i < n; i++) {
        haz_task_info ti;

        CU_ASSERT_EQUAL_FATAL(haz_graph_task_info(g, i, &ti), HAZ_OK);
        str_add(&b, "%s root=%s sel=%d action=%d %s timeout=%llu\n", ti.id,
                ti.project_root, sel[i], (int)ti.action,
                ti.script != NULL ? ti.script : "",
                (unsigned long long)ti.timeout_ns);
        for (k = 0; k < ti.argc; k++)
            str_add(&b, "  argv %s\n", ti.argv[k]);
        for (k = 0; k < ti.n_deps; k++)
            str_add(&b, "  dep %zu\n", ti.deps[k]);
        for (k = 0; k < ti.n_weak_deps; k++)
            str_add(&b, "  weak %zu\n", ti.weak_deps[k]);
        for (k = 0; k < ti.n_dependents; k++)
            str_add(&b, "  dependent %zu\n", ti.dependents[k]);
        for (k = 0; k < ti.n_tags; k++)
            str_add(&b, "  tag %s\n", ti.tags[k]);
        for (k = 0; k < ti.n_mutexes; k++)
            str_add(&b, "  mutex %d %d %s\n", (int)ti.mutexes[k].scope,
                    (int)ti.mutexes[k].mode, ti.mutexes[k].name);
        for (k = 0; k < ti.n_env_from_host; k++)
            str_add(&b, "  host %s\n", ti.env_from_host[k]);
        for (k = 0; k < ti.n_env; k++)
            str_add(&b, "  env %s=%s\n", ti.env[k].name, ti.env[k].value);
        for (k = 0; k < ti.n_inputs; k++)
            str_add(&b, "  in %s\n", ti.inputs[k]);
        for (k = 0; k < ti.n_outputs; k++)
            str_add(&b, "  out %s\n", ti.outputs[k]);
    }
    {
        size_t nc;
        const haz_tag_cap *caps = haz_graph_tag_caps(g, &nc);

        for (k = 0; k < nc; k++)
            str_add(&b, "cap %s %u\n", caps[k].tag, (unsigned)caps[k].cap);
    }
    return b.s;
}

static void graph_check(haz_ctx *ctx, void *p, int rc, int reference)
{
    graph_st *s = p;
    char *dump, *diags;

    (void)ctx;
    if (rc != HAZ_OK)
        return;
    CU_ASSERT_EQUAL(s->bad_rc, HAZ_EGRAPH);
    dump = dump_graph(s->g, s->sel);
    diags = haz_test_join_diags(s->d);
    if (reference) {
        CU_ASSERT_EQUAL(haz_graph_task_count(s->g), 6);
        CU_ASSERT(haz_diags_count(s->d) >= 5);
        free(graph_ref_dump);
        free(graph_ref_diags);
        graph_ref_dump = dump;
        graph_ref_diags = diags;
        return;
    }
    CU_ASSERT_STRING_EQUAL(dump, graph_ref_dump);
    CU_ASSERT_STRING_EQUAL(diags, graph_ref_diags);
    free(dump);
    free(diags);
}

static void graph_teardown(haz_ctx *ctx, void *p)
{
    graph_st *s = p;

    (void)ctx;
    haz_graph_free(s->g);
    haz_graph_free(s->bad);
    haz_diags_free(s->d);
    free(s);
}

static void test_graph(void)
{
    static const scenario sc = {
        "graph", graph_setup, graph_step, graph_check, graph_teardown
    };

    sweep(&sc);
    free(graph_ref_dump);
    free(graph_ref_diags);
    graph_ref_dump = graph_ref_diags = NULL;
}

/* ------------------------------------------------------------------------
 * Scenario "hazfile".
 * ---------------------------------------------------------------------- */

static const struct {
    const char *file;
    int rc;
} hazfiles[] = {
    {"hazfile/design.hazfile", HAZ_OK},
    {"hazfile/quoting.hazfile", HAZ_OK},
    {"hazfile/errors.hazfile", HAZ_EPARSE},
    {"hazfile/cycle.hazfile", HAZ_EGRAPH}
};
#define N_HAZFILES (sizeof hazfiles / sizeof hazfiles[0])

typedef struct hazfile_st {
    haz_hazfile *hf[N_HAZFILES];
    haz_diags *d[N_HAZFILES];
    int rc[N_HAZFILES];
} hazfile_st;

static char *hazfile_ref[N_HAZFILES];   /* graph dump or diagnostics */

static void *hazfile_setup(haz_ctx *ctx)
{
    hazfile_st *s = calloc(1, sizeof *s);
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (i = 0; i < N_HAZFILES; i++)
        CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &s->d[i]), HAZ_OK);
    return s;
}

static int hazfile_step(haz_ctx *ctx, void *p, int retry)
{
    hazfile_st *s = p;
    size_t i;

    for (i = 0; i < N_HAZFILES; i++) {
        char path[4096];
        int rc;

        CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_data_path(path, sizeof path,
                                                        hazfiles[i].file));
        rc = haz_hazfile_load(ctx, path, &s->hf[i], s->d[i]);
        if (rc == HAZ_ENOMEM) {
            CU_ASSERT_PTR_NULL(s->hf[i]);
            if (!retry)
                return rc;
            haz_diags_clear(s->d[i]);
            rc = haz_hazfile_load(ctx, path, &s->hf[i], s->d[i]);
        }
        s->rc[i] = rc;
        if (rc != hazfiles[i].rc)
            return rc;
    }
    return HAZ_OK;
}

static void hazfile_check(haz_ctx *ctx, void *p, int rc, int reference)
{
    hazfile_st *s = p;
    size_t i;

    (void)ctx;
    if (rc != HAZ_OK)
        return;
    for (i = 0; i < N_HAZFILES; i++) {
        char *dump;

        CU_ASSERT_EQUAL(s->rc[i], hazfiles[i].rc);
        CU_ASSERT_EQUAL(s->hf[i] != NULL, hazfiles[i].rc == HAZ_OK);
        if (s->hf[i] != NULL) {
            size_t n = haz_graph_task_count(s->hf[i]->graph);
            unsigned char sel[64];
            str b = {NULL, 0, 0};
            char *g;

            CU_ASSERT_FATAL(n <= sizeof sel);
            memset(sel, 1, sizeof sel);
            g = dump_graph(s->hf[i]->graph, sel);
            str_add(&b, "%s conc=%u grace=%llu output=%d\n%s",
                    s->hf[i]->path, s->hf[i]->concurrency,
                    (unsigned long long)s->hf[i]->cancel_grace_ns,
                    (int)s->hf[i]->output, g != NULL ? g : "");
            free(g);
            dump = b.s;
        } else {
            dump = haz_test_join_diags(s->d[i]);
            CU_ASSERT(haz_diags_count(s->d[i]) > 0);
        }
        if (reference) {
            free(hazfile_ref[i]);
            hazfile_ref[i] = dump;
        } else {
            CU_ASSERT_STRING_EQUAL(dump, hazfile_ref[i]);
            free(dump);
        }
    }
}

static void hazfile_teardown(haz_ctx *ctx, void *p)
{
    hazfile_st *s = p;
    size_t i;

    (void)ctx;
    for (i = 0; i < N_HAZFILES; i++) {
        haz_hazfile_free(s->hf[i]);
        haz_diags_free(s->d[i]);
    }
    free(s);
}

static void test_hazfile(void)
{
    static const scenario sc = {
        "hazfile", hazfile_setup, hazfile_step, hazfile_check,
        hazfile_teardown
    };
    size_t i;

    sweep(&sc);
    for (i = 0; i < N_HAZFILES; i++) {
        free(hazfile_ref[i]);
        hazfile_ref[i] = NULL;
    }
}

/* ------------------------------------------------------------------------
 * The runs: a workspace, the cache, the mock spawner.
 * ---------------------------------------------------------------------- */

static const char *const host_env[] = {"PATH=/bin", NULL};

/* The graph and script of scenario "run". */
static const char run_graph[] =
    "[workspace]\n"
    "concurrency = 3\n"
    "[tag io]\n"
    "cap = 1\n"
    "[project q]\n"
    "root = lib\n"
    "[task p:gen]\n"
    "run = gen\n"
    "inputs = src.txt\n"
    "outputs = out/gen.txt\n"
    "mutex = db\n"
    "[task p:use]\n"
    "run = use\n"
    "deps = ~:gen\n"
    "inputs = out/gen.txt\n"
    "outputs = out/use.txt\n"
    "mutex = db\n"
    "[task p:other]\n"
    "run = other\n"
    "inputs = other/*.txt\n"
    "outputs = out/other.txt out/o2/*.bin\n"
    "tags = io\n"
    "[task p:bad]\n"
    "run = bad\n"
    "tags = io\n"
    "[task p:after]\n"
    "run = after\n"
    "deps = ~:bad\n"
    "[task p:soft]\n"
    "argv = soft --x \"a b\"\n"
    "weak_deps = ~:gen\n"
    "env.X = 1\n"
    "outputs = out/soft.txt\n"
    "[task q:lib]\n"
    "run = lib\n"
    "inputs = /src.txt a.c\n"
    "outputs = lib.a\n";

static const char run_script[] =
    "[p:gen]\n"
    "stdout 0.1 \"made\\n\"\n"
    "stderr 0.2 \"warn\\n\"\n"
    "file out/gen.txt \"generated\"\n"
    "exit 0.5 0\n"
    "[p:use]\n"
    "stdout 0.1 \"used\\n\"\n"
    "file out/use.txt \"consumed\"\n"
    "exit 0.5 0\n"
    "[p:other]\n"
    "stdout 0.3 \"other\\n\"\n"
    "file out/other.txt \"o\"\n"
    "file out/o2/a.bin \"\\000\\001\"\n"
    "file out/o2/b.bin \"\\377\"\n"
    "exit 0.4 0\n"
    "[p:bad]\n"
    "stderr 0.1 \"oops\\n\"\n"
    "exit 0.2 1\n"
    "[p:soft]\n"
    "stdout 0.1 \"soft\"\n"
    "file out/soft.txt \"s\"\n"
    "exit 0.1 0\n"
    "[q:lib]\n"
    "stdout 0.05 \"lib\\n\"\n"
    "file lib/lib.a \"!<arch>\\n\"\n"
    "exit 0.3 0\n";

/* Every output file the runs may write, with its only allowed content. */
static const struct {
    const char *path;
    const char *text;
    size_t len;
} run_outputs[] = {
    {"out/gen.txt", "generated", 9},
    {"out/use.txt", "consumed", 8},
    {"out/other.txt", "o", 1},
    {"out/o2/a.bin", "\000\001", 2},
    {"out/o2/b.bin", "\377", 1},
    {"out/soft.txt", "s", 1},
    {"lib/lib.a", "!<arch>\n", 8},
    {"q.txt", "quick", 5}
};

/* The cancelled run's graph and script.  Concurrency 3 admits a_quick,
 * b_slow and c_term at 0; d_trigger takes a_quick's slot when it has
 * finished (0.2 s) and been stored; d_trigger's output at 1.2 s cancels
 * the run (through the observer), with e_queued still waiting for a slot
 * and f_after for b_slow.  b_slow ignores SIGTERM and is killed when the
 * 2 s grace runs out; c_term exits 0.5 s after SIGTERM. */
static const char cancel_graph[] =
    "[workspace]\n"
    "concurrency = 3\n"
    "cancel_grace = 2\n"
    "[task c:a_quick]\n"
    "run = quick\n"
    "outputs = q.txt\n"
    "[task c:b_slow]\n"
    "run = slow\n"
    "[task c:c_term]\n"
    "run = term\n"
    "[task c:d_trigger]\n"
    "run = trigger\n"
    "[task c:e_queued]\n"
    "run = queued\n"
    "[task c:f_after]\n"
    "run = after\n"
    "deps = ~:b_slow\n";

static const char cancel_script[] =
    "[c:a_quick]\n"
    "stdout 0.1 \"q\\n\"\n"
    "file q.txt \"quick\"\n"
    "exit 0.2 0\n"
    "[c:b_slow]\n"
    "stdout 0.5 \"working\"\n"
    "hang\n"
    "sigterm ignore\n"
    "[c:c_term]\n"
    "hang\n"
    "sigterm delay 0.5 143\n"
    "[c:d_trigger]\n"
    "stdout 1 \"go\\n\"\n"
    "hang\n"
    "[c:e_queued]\n"
    "exit 0.1 0\n";

/* Where the runs live: <tmp>/golden-run (the primed workspace of scenario
 * "run"), <tmp>/ws (each run's copy, same path every time so that traces
 * compare). */
static char run_dir[1024];

typedef struct run_st {
    int cancelled;              /* scenario "cancel" */
    char ws[1100];
    char cache[1200];
    haz_hazfile *hf;
    haz_clock *clock;
    haz_cache_store *store;
    haz_mock_script *script;
    haz_spawner *sp;
    haz_observer_obj *rec;
    haz_observer obs;
    haz_cancel *cancel;
    haz_run_options opt;
    haz_run_result *r;
} run_st;

/* The observer of the cancelled run: cancel on c:trigger's output. */
static void cancel_on_output(void *ud, const haz_task_id *task,
                             haz_stream stream, const void *data, size_t len)
{
    run_st *s = ud;

    (void)stream;
    (void)data;
    (void)len;
    if (strcmp(task->id, "c:d_trigger") == 0)
        haz_cancel_request(s->cancel, SIGINT);
}

static const haz_observer_methods cancel_observer = {
    1, NULL, cancel_on_output, NULL, NULL, NULL, NULL, NULL
};

/* Open everything a run needs on the workspace s->ws, whose cache is
 * s->cache. */
static void run_open(haz_ctx *ctx, run_st *s, const char *graph,
                     const char *script)
{
    haz_diags *d;
    haz_cache_store_config cc;
    haz_mock_config mc;
    haz_spawner_config sc;

    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_hazfile_parse(ctx, "hazfile", graph,
                                            strlen(graph), &s->hf, d),
                          HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_mock_script_new(ctx, &s->script), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_mock_script_parse(s->script, "script", script,
                                                strlen(script), d), HAZ_OK);
    haz_diags_free(d);
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(ctx, &haz_clock_mock, NULL,
                                         &s->clock), HAZ_OK);
    memset(&cc, 0, sizeof cc);
    cc.version = 1;
    cc.workspace_root = s->ws;
    cc.hash = &haz_hash_sha256;
    cc.clock = s->clock;
    CU_ASSERT_EQUAL_FATAL(haz_cache_store_open(ctx, &haz_cache_store_fs,
                                               &cc, &s->store), HAZ_OK);
    memset(&mc, 0, sizeof mc);
    mc.script = s->script;
    mc.workspace_root = s->ws;
    memset(&sc, 0, sizeof sc);
    sc.version = 1;
    sc.clock = s->clock;
    sc.backend = &mc;
    CU_ASSERT_EQUAL_FATAL(haz_spawner_open(ctx, &haz_spawner_mock, &sc,
                                           &s->sp), HAZ_OK);
    if (s->cancelled) {
        CU_ASSERT_EQUAL_FATAL(haz_cancel_new(ctx, &s->cancel), HAZ_OK);
        s->obs.methods = &cancel_observer;
        s->obs.ud = s;
    } else {
        CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(ctx, NULL, &s->rec,
                                                         &s->obs), HAZ_OK);
    }
    haz_run_options_init(&s->opt);
    s->opt.concurrency = s->hf->concurrency;
    s->opt.cancel_grace_ns = s->hf->cancel_grace_ns;
    s->opt.workspace_root = s->ws;
    s->opt.host_env = host_env;
    s->opt.created_at = 1700000000;
}

static int run_go(haz_ctx *ctx, run_st *s)
{
    haz_run_config cfg;

    memset(&cfg, 0, sizeof cfg);
    cfg.graph = s->hf->graph;
    cfg.spawner = s->sp;
    cfg.clock = s->clock;
    cfg.cache = s->store;
    cfg.observer = &s->obs;
    cfg.cancel = s->cancel;
    cfg.options = &s->opt;
    return haz_run(ctx, &cfg, &s->r);
}

static void run_close(run_st *s)
{
    haz_run_result_free(s->r);
    haz_observer_free(s->rec);
    haz_spawner_close(s->sp);
    haz_cache_store_close(s->store);
    haz_clock_close(s->clock);
    haz_mock_script_free(s->script);
    haz_hazfile_free(s->hf);
    haz_cancel_free(s->cancel);
    s->r = NULL;
    s->rec = NULL;
    s->sp = NULL;
    s->store = NULL;
    s->clock = NULL;
    s->script = NULL;
    s->hf = NULL;
    s->cancel = NULL;
}

/* Prime the golden workspace of scenario "run": inputs, one full run that
 * stores every successful task, then src.txt changed and two outputs
 * deleted, so the swept run has misses and hits that restore. */
static void make_golden(void)
{
    run_st s;
    haz_ctx *ctx;
    char p[4096];

    memset(&s, 0, sizeof s);
    (void)snprintf(s.ws, sizeof s.ws, "%s/golden-run", run_dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(s.ws, 0777), 0);
    (void)snprintf(p, sizeof p, "%s/other", s.ws);
    CU_ASSERT_EQUAL_FATAL(mkdir(p, 0777), 0);
    (void)snprintf(p, sizeof p, "%s/lib", s.ws);
    CU_ASSERT_EQUAL_FATAL(mkdir(p, 0777), 0);
    haz_sweep_write_text(s.ws, "src.txt", "source v1\n");
    haz_sweep_write_text(s.ws, "other/1.txt", "one\n");
    haz_sweep_write_text(s.ws, "other/2.txt", "two\n");
    haz_sweep_write_text(s.ws, "lib/a.c", "int a;\n");
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    run_open(ctx, &s, run_graph, run_script);
    CU_ASSERT_EQUAL_FATAL(run_go(ctx, &s), HAZ_OK);
    CU_ASSERT_EQUAL(haz_exit_code(s.r, 0), 1);
    run_close(&s);
    haz_ctx_free(ctx);
    haz_sweep_write_text(s.ws, "src.txt", "source v2\n");
    (void)snprintf(p, sizeof p, "%s/out/use.txt", s.ws);
    CU_ASSERT_EQUAL_FATAL(unlink(p), 0);
    (void)snprintf(p, sizeof p, "%s/out/o2/a.bin", s.ws);
    CU_ASSERT_EQUAL_FATAL(unlink(p), 0);
}

static void *run_setup_common(haz_ctx *ctx, int cancelled)
{
    run_st *s = calloc(1, sizeof *s);

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    s->cancelled = cancelled;
    (void)snprintf(s->ws, sizeof s->ws, "%s/ws", run_dir);
    (void)snprintf(s->cache, sizeof s->cache, "%s/.haz/cache", s->ws);
    if (cancelled) {
        CU_ASSERT_EQUAL_FATAL(mkdir(s->ws, 0777), 0);
        run_open(ctx, s, cancel_graph, cancel_script);
    } else {
        char golden[2048];

        (void)snprintf(golden, sizeof golden, "%s/golden-run", run_dir);
        haz_sweep_copy_tree(golden, s->ws);
        run_open(ctx, s, run_graph, run_script);
    }
    return s;
}

static void *run_setup(haz_ctx *ctx)
{
    return run_setup_common(ctx, 0);
}

static void *cancel_setup(haz_ctx *ctx)
{
    return run_setup_common(ctx, 1);
}

static int run_step(haz_ctx *ctx, void *p, int retry)
{
    (void)retry;
    return run_go(ctx, p);
}

/* The references of scenarios "run" and "cancel". */
typedef struct run_ref {
    char *outcomes;     /* one line per task */
    char *events;       /* the recording observer's text, or NULL */
    char *trace;        /* the mock spawner's trace */
    char *workspace;    /* output files present */
    uint64_t entries;   /* complete cache entries after the run */
} run_ref;

static run_ref run_refs[2];

static char *dump_outcomes(const haz_run_result *r)
{
    str b = {NULL, 0, 0};
    size_t i, k;

    str_add(&b, "exit=%d\n", haz_exit_code(r, haz_run_result_cancel_signal(r)));
    for (i = 0; i < haz_run_result_count(r); i++) {
        const haz_task_outcome *o = haz_run_result_get(r, i);
        char hex[2 * HAZ_HASH_MAX_DIGEST + 1] = "";

        if (o->has_key)
            haz_hash_hex(o->key, o->hash_len, hex);
        str_add(&b, "%s %s src=%d state=%d exit=%d/%d/%d skip=%d cancel=%d "
                "err=%d key=%s up=%s end=%llu\n", o->task.id,
                haz_outcome_kind_name(o->kind), (int)o->source,
                (int)o->state, (int)o->status.kind, o->status.code,
                o->status.signo, (int)o->skip_cause, (int)o->cancel_kind,
                (int)o->error, hex,
                o->upstream != NULL ? o->upstream->id : "-",
                (unsigned long long)o->end_ns);
        for (k = 0; k < o->n_outputs; k++)
            str_add(&b, "  %s\n", o->outputs[k]);
    }
    return b.s;
}

/* Which output files exist; each must be complete. */
static char *check_workspace(const run_st *s)
{
    str b = {NULL, 0, 0};
    size_t i;

    str_add(&b, "%s", "");
    for (i = 0; i < sizeof run_outputs / sizeof run_outputs[0]; i++) {
        char path[4096], buf[64];
        int fd;
        ssize_t n;

        (void)snprintf(path, sizeof path, "%s/%s", s->ws, run_outputs[i].path);
        fd = open(path, O_RDONLY);
        if (fd < 0) {
            CU_ASSERT_EQUAL(errno, ENOENT);
            continue;
        }
        n = read(fd, buf, sizeof buf);
        close(fd);
        if (n != (ssize_t)run_outputs[i].len ||
            memcmp(buf, run_outputs[i].text, run_outputs[i].len) != 0) {
            fprintf(stderr, "\n  %s: partial or wrong content\n", path);
            CU_FAIL("an output file is partial");
        }
        str_add(&b, "%s\n", run_outputs[i].path);
    }
    return b.s;
}

static void run_check(haz_ctx *ctx, void *p, int rc, int reference)
{
    run_st *s = p;
    run_ref *ref = &run_refs[s->cancelled];
    haz_cache_stats stats;
    haz_child c;
    char *outcomes = NULL, *events = NULL, *trace = NULL, *ws;
    const char *t;

    /* No mock child is left, whatever happened. */
    for (c = 1; c <= MAX_CHILD; c++)
        CU_ASSERT_EQUAL(s->sp->methods->signal(s->sp, c, 0), HAZ_ENOENT);
    /* The cache holds no broken entry and no temporary. */
    memset(&stats, 0, sizeof stats);
    CU_ASSERT_EQUAL(haz_cache_fs_verify(ctx, s->cache, &haz_hash_sha256,
                                        &stats), HAZ_OK);
    CU_ASSERT_EQUAL(stats.broken, 0);
    if (g_persistent && rc == HAZ_ENOMEM && stats.temporaries > 0) {
        /* Known: when every allocation fails from some point of a restore
         * on, cfs_restore cannot build the names of its staged files to
         * remove them (docs/FUZZING.md, "Allocation-failure sweep").  A
         * temporary is not a broken entry: lookups never see it, and
         * `hazrun cache clean` removes it once it is old. */
        leftover_temporaries++;
    } else {
        if (stats.broken != 0 || stats.temporaries != 0) {
            note("broken cache entries or temporaries left");
            fprintf(stderr, "  rc %d, %lu broken, %lu temporaries\n", rc,
                    (unsigned long)stats.broken,
                    (unsigned long)stats.temporaries);
        }
        CU_ASSERT_EQUAL(stats.temporaries, 0);
    }
    ws = check_workspace(s);
    if (rc != HAZ_OK) {
        CU_ASSERT_PTR_NULL(s->r);
        free(ws);
        return;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(s->r);
    outcomes = dump_outcomes(s->r);
    if (s->rec != NULL) {
        t = haz_observer_recording_text(s->rec, NULL);
        events = xstrdup(t);
    }
    t = haz_mock_spawner_trace(s->sp, NULL);
    trace = t != NULL ? xstrdup(t) : NULL;
    if (reference) {
        free(ref->outcomes);
        free(ref->events);
        free(ref->trace);
        free(ref->workspace);
        ref->outcomes = outcomes;
        ref->events = events;
        ref->trace = trace;
        ref->workspace = ws;
        ref->entries = stats.entries;
        CU_ASSERT_PTR_NOT_NULL(trace);
        if (getenv("HAZ_SWEEP_VERBOSE") != NULL)
            fprintf(stderr, "\n%s reference run:\n%s%s%s%s", g_name,
                    outcomes, events != NULL ? events : "",
                    trace != NULL ? trace : "", ws);
        return;
    }
    /* A successful run is the reference run.  Only the observer's record
     * and the spawner's trace may have lost lines to the failure, and then
     * they say so. */
    if (strcmp(outcomes, ref->outcomes) != 0) {
        note("outcomes differ from the reference run's");
        fprintf(stderr, "%s--- reference:\n%s", outcomes, ref->outcomes);
    }
    CU_ASSERT_STRING_EQUAL(outcomes, ref->outcomes);
    CU_ASSERT_STRING_EQUAL(ws, ref->workspace);
    if (stats.entries != ref->entries) {
        note("cache entries differ from the reference run's");
        fprintf(stderr, "  %lu entries, reference %lu\n",
                (unsigned long)stats.entries, (unsigned long)ref->entries);
    }
    CU_ASSERT_EQUAL(stats.entries, ref->entries);
    /* Events the recording observer could not record are counted in a
     * "lost N" line before the next one; lost at the very end, they are
     * simply missing (docs/observer-trace.md): the record is then a
     * prefix of the reference, cut at a line end. */
    if (events != NULL && strstr(events, "lost ") == NULL) {
        size_t el = strlen(events);
        int ok = strncmp(events, ref->events, el) == 0 &&
                 (el == 0 || events[el - 1] == '\n');

        if (!ok) {
            note("observer events differ from the reference run's");
            fprintf(stderr, "%s--- reference:\n%s", events, ref->events);
        }
        CU_ASSERT(ok);
    }
    if (trace != NULL)
        CU_ASSERT_STRING_EQUAL(trace, ref->trace);
    free(outcomes);
    free(events);
    free(trace);
    free(ws);
}

static void run_teardown(haz_ctx *ctx, void *p)
{
    run_st *s = p;

    (void)ctx;
    run_close(s);
    CU_ASSERT_EQUAL(haz_test_rmtree(s->ws), 0);
    free(s);
}

static void free_ref(run_ref *ref)
{
    free(ref->outcomes);
    free(ref->events);
    free(ref->trace);
    free(ref->workspace);
    memset(ref, 0, sizeof *ref);
}

static void test_run(void)
{
    static const scenario sc = {
        "run", run_setup, run_step, run_check, run_teardown
    };
    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_sweep_mkdtemp(run_dir, sizeof run_dir,
                                                   "alloc-sweep"));
    make_golden();
    sweep(&sc);
    /* What the reference run did: p:gen and q:lib ran (their input
     * changed) and were stored again, p:use was a hit through p:gen's
     * unchanged streams, p:other and p:soft were hits, p:bad failed,
     * p:after was skipped. */
    CU_ASSERT_PTR_NOT_NULL(strstr(run_refs[0].outcomes,
                                  "p:gen completed src=0 state=0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(run_refs[0].outcomes,
                                  "p:use completed src=1 state=0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(run_refs[0].outcomes,
                                  "p:other completed src=1 state=0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(run_refs[0].outcomes,
                                  "p:bad completed src=0 state=1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(run_refs[0].outcomes, "p:after skipped"));
    CU_ASSERT_PTR_NOT_NULL(strstr(run_refs[0].outcomes,
                                  "p:soft completed src=1 state=0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(run_refs[0].outcomes,
                                  "q:lib completed src=0 state=0"));
    CU_ASSERT_EQUAL(run_refs[0].entries, 7);
    free_ref(&run_refs[0]);
    CU_ASSERT_EQUAL(haz_test_rmtree(run_dir), 0);
}

static void test_cancel(void)
{
    static const scenario sc = {
        "cancel", cancel_setup, run_step, run_check, run_teardown
    };

    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_sweep_mkdtemp(run_dir, sizeof run_dir,
                                                   "alloc-sweep"));
    sweep(&sc);
    /* The reference: cancelled by SIGINT, c:a_quick stored and nothing
     * else. */
    CU_ASSERT_PTR_NOT_NULL(strstr(run_refs[1].outcomes, "exit=130\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(run_refs[1].outcomes,
                                  "c:a_quick completed src=0 state=0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(run_refs[1].outcomes,
                                  "c:b_slow cancelled"));
    CU_ASSERT_PTR_NOT_NULL(strstr(run_refs[1].outcomes,
                                  "c:e_queued cancelled"));
    CU_ASSERT_PTR_NOT_NULL(strstr(run_refs[1].outcomes,
                                  "c:f_after cancelled"));
    CU_ASSERT_PTR_NOT_NULL(strstr(run_refs[1].trace,
                                  "signal c:b_slow SIGKILL"));
    CU_ASSERT_EQUAL(run_refs[1].entries, 1);
    free_ref(&run_refs[1]);
    CU_ASSERT_EQUAL(haz_test_rmtree(run_dir), 0);
}

static CU_TestInfo tests[] = {
    {"graph: build, validate, select", test_graph},
    {"hazfile: load valid and invalid files", test_hazfile},
    {"run: cache hits and misses", test_run},
    {"run: cancelled", test_cancel},
    CU_TEST_INFO_NULL
};

int main(int argc, char **argv)
{
    CU_SuiteInfo suites[] = {
        HAZ_TEST_SUITE("alloc-sweep", tests),
        CU_SUITE_INFO_NULL
    };

    return haz_test_main(argc, argv, suites);
}
