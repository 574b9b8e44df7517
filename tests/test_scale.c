/*
 * tests/test_scale.c: R5 of reliability-tests.md (scale and caps) on real
 * processes, bounded for `make check`: a random DAG of 500 t_probe tasks
 * (0 to 2 hard predecessors among the 200 before, 0 to 2 ms of sleep),
 * global cap 16 and 30 named mutexes (each task holds none, one or two,
 * one request in four shared), run by haz_run with the posix spawner.
 * Each task appends "start NS ID" when it begins and "end NS ID" before it
 * exits to one interval log, each record one O_APPEND write (t_probe log),
 * with NS from CLOCK_MONOTONIC, which all processes share.  From the log:
 *   - every task has exactly one start and one end, in that order;
 *   - never more than 16 tasks between start and end at once;
 *   - no two tasks holding one mutex overlap, unless both hold it shared
 *     (readers share, a writer is alone; design 2.2);
 *   - every hard predecessor ends before its dependent starts;
 *   - the sweep's counters are back to 0 at the end.
 * And from the run: every task has exactly one outcome, delivered by one
 * terminal event, and succeeded; no zombie, no process group, no new
 * descriptor is left.  The logged interval of a task lies inside the time
 * the run holds its slot and locks, so any overlap in the log is a real
 * one.  Timing decides nothing: only the order of the logged times is
 * used.  The scaling part of R5 (1,000 against 10,000 tasks, peak RSS) is
 * `bench/soak -S N` (bench/README.md), not part of `make check`.
 * HAZ_SCALE_TASKS=N changes the size (at most 20,000); HAZ_SCALE_SEED the
 * seed.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"
#include "../backends/spawn_posix.h"
#include "pidrec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEC(x) ((uint64_t)(x) * UINT64_C(1000000000))
#define FDMAX 1024
#define MAXN 20000
#define NMUTEX 30
#define CAP 16
#define WINDOW 200

static char probe[4096];

/* ------------------------------------------------------------------------
 * The graph: a description kept by the test, built from a seed.
 * ---------------------------------------------------------------------- */

static unsigned long long rng;

static unsigned rnd(unsigned n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(rng >> 33) % n;
}

typedef struct tdesc {
    unsigned deps[3];
    unsigned ndeps;
    int mutex[2];               /* -1: none */
    int shared[2];
    unsigned sleep_ms;
} tdesc;

typedef struct ev {
    unsigned long long ns;
    unsigned id;
    int end;                    /* 1: "end", 0: "start" */
} ev;

static int ev_cmp(const void *a, const void *b)
{
    const ev *x = a, *y = b;

    if (x->ns != y->ns)
        return x->ns < y->ns ? -1 : 1;
    if (x->end != y->end)       /* at one instant, ends first */
        return x->end ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static unsigned *terminal;

static void ob_end(void *ud, const haz_task_outcome *o)
{
    (void)ud;
    terminal[o->task.index]++;
}

static const haz_observer_methods ob_methods = {
    HAZ_OBSERVER_METHODS_VERSION, NULL, NULL, ob_end, ob_end, ob_end,
    ob_end, NULL
};

static void fd_snapshot(unsigned char *fds)
{
    int fd;

    for (fd = 0; fd < FDMAX; fd++)
        fds[fd] = fcntl(fd, F_GETFD) != -1;
}

static void build(haz_graph *g, const tdesc *d, unsigned n,
                  const char *log)
{
    char name[16], ref[32], mx[16], id[16], ms[16];
    unsigned i, k;

    for (i = 0; i < n; i++) {
        const char *argv[12];
        haz_task *t = NULL;

        snprintf(name, sizeof name, "t%05u", i);
        snprintf(id, sizeof id, "%u", i);
        snprintf(ms, sizeof ms, "%u", d[i].sleep_ms);
        argv[0] = probe;
        argv[1] = "log";
        argv[2] = log;
        argv[3] = "start";
        argv[4] = id;
        argv[5] = "sleep";
        argv[6] = ms;
        argv[7] = "log";
        argv[8] = log;
        argv[9] = "end";
        argv[10] = id;
        CU_ASSERT_EQUAL_FATAL(haz_graph_add_task(g, "r5", name, &t), HAZ_OK);
        CU_ASSERT_EQUAL_FATAL(haz_task_set_argv(t, 11, argv), HAZ_OK);
        for (k = 0; k < d[i].ndeps; k++) {
            snprintf(ref, sizeof ref, "r5:t%05u", d[i].deps[k]);
            CU_ASSERT_EQUAL_FATAL(haz_task_add_dep(t, ref), HAZ_OK);
        }
        for (k = 0; k < 2; k++) {
            if (d[i].mutex[k] < 0)
                continue;
            snprintf(mx, sizeof mx, "m%d", d[i].mutex[k]);
            CU_ASSERT_EQUAL_FATAL(
                haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE,
                                   d[i].shared[k] ? HAZ_MUTEX_SHARED
                                                  : HAZ_MUTEX_EXCLUSIVE,
                                   mx), HAZ_OK);
        }
    }
}

static void describe(tdesc *d, unsigned n)
{
    unsigned i, k, j;

    for (i = 0; i < n; i++) {
        d[i].ndeps = 0;
        if (i > 0) {
            unsigned want = rnd(3);

            for (k = 0; k < want; k++) {
                unsigned p = i - 1 - rnd(i < WINDOW ? i : WINDOW);
                int dup = 0;

                for (j = 0; j < d[i].ndeps; j++)
                    dup |= d[i].deps[j] == p;
                if (!dup && rnd(3) != 0)
                    d[i].deps[d[i].ndeps++] = p;
            }
        }
        d[i].mutex[0] = rnd(3) != 0 ? (int)rnd(NMUTEX) : -1;
        d[i].mutex[1] = d[i].mutex[0] >= 0 && rnd(4) == 0
                        ? (int)rnd(NMUTEX) : -1;
        if (d[i].mutex[1] == d[i].mutex[0])
            d[i].mutex[1] = -1;
        d[i].shared[0] = rnd(4) == 0;
        d[i].shared[1] = rnd(4) == 0;
        d[i].sleep_ms = rnd(3);
    }
}

/* Read the interval log into events; every line must parse. */
static ev *read_log(const char *path, unsigned n, size_t *nev)
{
    FILE *f = fopen(path, "r");
    char word[16];
    unsigned long long ns;
    unsigned id;
    ev *e = calloc((size_t)n * 2 + 1, sizeof *e);
    size_t k = 0;
    int r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    while ((r = fscanf(f, "%15s %llu %u\n", word, &ns, &id)) == 3) {
        CU_ASSERT_FATAL(k < (size_t)n * 2);
        CU_ASSERT_FATAL(id < n);
        CU_ASSERT_FATAL(strcmp(word, "start") == 0 ||
                        strcmp(word, "end") == 0);
        e[k].ns = ns;
        e[k].id = id;
        e[k].end = word[0] == 'e';
        k++;
    }
    CU_ASSERT_EQUAL(r, EOF);
    fclose(f);
    *nev = k;
    return e;
}

/* R5: caps, mutexes and dependencies from the interval log. */
static void test_scale_and_caps(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = NULL;
    haz_clock *clk = NULL;
    haz_spawner *sp = NULL;
    haz_graph *g = NULL;
    haz_run_result *res = NULL;
    haz_spawner_config sc;
    haz_run_options ro;
    haz_run_config cfg;
    haz_observer obs;
    unsigned char fds[FDMAX], after[FDMAX];
    static const char *const host_env[] = {"PATH=/usr/bin:/bin", NULL};
    char tmp[4096], dir[4096], log[4200];
    const char *s;
    unsigned n = 500, i, k, running = 0, peak = 0;
    unsigned excl[NMUTEX], shr[NMUTEX];
    unsigned long long *t_start, *t_end;
    unsigned char *seen_start, *seen_end;
    unsigned long long seed = 20261126ULL;
    tdesc *d;
    ev *e;
    size_t nev, j;
    int fd, st, bad = 0;

    if ((s = getenv("HAZ_SCALE_TASKS")) != NULL && atoi(s) > 1 &&
        atoi(s) <= MAXN)
        n = (unsigned)atoi(s);
    if ((s = getenv("HAZ_SCALE_SEED")) != NULL)
        seed = strtoull(s, NULL, 10);
    fprintf(stderr, "\n  R5: %u tasks, seed %llu\n", n, seed);
    rng = seed;
    fd_snapshot(fds);
    d = calloc(n, sizeof *d);
    terminal = calloc(n, sizeof *terminal);
    t_start = calloc(n, sizeof *t_start);
    t_end = calloc(n, sizeof *t_end);
    seen_start = calloc(n, 1);
    seen_end = calloc(n, 1);
    CU_ASSERT_FATAL(d != NULL && terminal != NULL &&
                    t_start != NULL && t_end != NULL &&
                    seen_start != NULL && seen_end != NULL);
    describe(d, n);

    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(tmp, sizeof tmp, "scale"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(tmp, dir));
    snprintf(log, sizeof log, "%s/intervals.log", dir);
    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(ctx, &haz_clock_posix, NULL, &clk),
                          HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_graph_new(ctx, &g), HAZ_OK);
    build(g, d, n, log);
    CU_ASSERT_EQUAL_FATAL(haz_graph_validate(g, NULL), HAZ_OK);
    memset(&sc, 0, sizeof sc);
    sc.version = 1;
    sc.clock = clk;
    CU_ASSERT_EQUAL_FATAL(haz_spawner_open(ctx, &haz_spawner_posix, &sc,
                                           &sp), HAZ_OK);
    haz_pidrec_start(MAXN);
    haz_run_options_init(&ro);
    ro.concurrency = CAP;
    ro.workspace_root = dir;
    ro.host_env = host_env;
    ro.no_cache = 1;
    obs.methods = &ob_methods;
    obs.ud = NULL;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = g;
    cfg.spawner = sp;
    cfg.clock = clk;
    cfg.observer = &obs;
    cfg.options = &ro;
    CU_ASSERT_EQUAL_FATAL(haz_run(ctx, &cfg, &res), HAZ_OK);
    haz_pidrec_stop();

    /* Every task: one outcome, one terminal event, succeeded. */
    CU_ASSERT_EQUAL_FATAL(haz_run_result_count(res), n);
    for (i = 0; i < n; i++) {
        const haz_task_outcome *o = haz_run_result_get(res, i);

        CU_ASSERT_EQUAL(terminal[i], 1);
        if (o->kind != HAZ_OUTCOME_COMPLETED ||
            o->state != HAZ_STATE_SUCCEEDED) {
            fprintf(stderr, "  %s: kind %d state %d %s\n", o->task.id,
                    (int)o->kind, (int)o->state,
                    o->message != NULL ? o->message : "");
            CU_FAIL("a task did not succeed");
        }
    }
    CU_ASSERT_EQUAL(haz_exit_code(res, 0), HAZ_EXIT_OK);
    CU_ASSERT_EQUAL(haz_pidrec_count(), n);

    /* The log: one start and one end per task. */
    e = read_log(log, n, &nev);
    CU_ASSERT_EQUAL(nev, (size_t)n * 2);
    for (j = 0; j < nev; j++) {
        unsigned char *seen = e[j].end ? seen_end : seen_start;

        CU_ASSERT_EQUAL(seen[e[j].id], 0);
        seen[e[j].id] = 1;
        (e[j].end ? t_end : t_start)[e[j].id] = e[j].ns;
    }
    for (i = 0; i < n; i++) {
        CU_ASSERT(seen_start[i] && seen_end[i]);
        CU_ASSERT(t_start[i] <= t_end[i]);
    }
    /* The sweep: the cap and the mutexes. */
    qsort(e, nev, sizeof *e, ev_cmp);
    memset(excl, 0, sizeof excl);
    memset(shr, 0, sizeof shr);
    for (j = 0; j < nev; j++) {
        const tdesc *t = &d[e[j].id];

        if (e[j].end) {
            running--;
            for (k = 0; k < 2; k++)
                if (t->mutex[k] >= 0)
                    (t->shared[k] ? shr : excl)[t->mutex[k]]--;
            continue;
        }
        if (++running > peak)
            peak = running;
        for (k = 0; k < 2; k++) {
            int m = t->mutex[k];

            if (m < 0)
                continue;
            if (excl[m] > 0 || (!t->shared[k] && shr[m] > 0)) {
                if (bad++ < 5)
                    fprintf(stderr, "  mutex m%d: task %u starts while it "
                            "is held\n", m, e[j].id);
            }
            (t->shared[k] ? shr : excl)[m]++;
        }
    }
    CU_ASSERT(peak <= CAP);
    CU_ASSERT(peak >= 1);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(running, 0);
    for (k = 0; k < NMUTEX; k++)
        CU_ASSERT(excl[k] == 0 && shr[k] == 0);
    fprintf(stderr, "  R5: peak %u running (cap %u)\n", peak, CAP);
    /* Dependencies: each hard predecessor ended before the start. */
    for (i = 0; i < n; i++)
        for (k = 0; k < d[i].ndeps; k++)
            if (!(t_end[d[i].deps[k]] < t_start[i])) {
                if (bad++ < 10)
                    fprintf(stderr, "  t%05u starts before t%05u ends\n", i,
                            d[i].deps[k]);
            }
    CU_ASSERT_EQUAL(bad, 0);
    free(e);

    haz_run_result_free(res);
    haz_spawner_close(sp);
    haz_graph_free(g);
    haz_clock_close(clk);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
    /* No zombie, no process group, no descriptor. */
    CU_ASSERT(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD);
    CU_ASSERT(haz_pidrec_groups_gone());
    fd_snapshot(after);
    for (fd = 0; fd < FDMAX; fd++)
        if (after[fd] != fds[fd])
            CU_FAIL("the open descriptors changed");
    CU_ASSERT_EQUAL(haz_test_rmtree(dir), 0);
    free(d);
    free(terminal);
    free(t_start);
    free(t_end);
    free(seen_start);
    free(seen_end);
}

static CU_TestInfo scale_tests[] = {
    {"R5 scale and caps: interval log of 500 real tasks",
     test_scale_and_caps},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("R5 scale and caps", scale_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    snprintf(probe, sizeof probe, "%s/tests/t_probe", haz_test_builddir());
    if (probe[0] != '/') {
        fprintf(stderr, "%s: set HAZ_TEST_BUILDDIR to the absolute build "
                "directory (t_probe is run by absolute path)\n", argv[0]);
        return 99;
    }
    return haz_test_main(argc, argv, suites);
}
