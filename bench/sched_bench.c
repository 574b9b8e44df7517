/*
 * bench/sched_bench.c: the cost of the scheduler, haz_run(), per task, on
 * the mock spawner and the mock clock.
 *
 *     sched_bench [-j CAP] [-r RUNS] [-n SIZES] [-s SHAPES] [-t] [-u] [-q]
 *                 [-m]
 *
 * For each shape and size it builds a graph and a mock script once, then
 * runs the whole graph RUNS times (default 5), each time on a fresh mock
 * clock and spawner, and prints the best wall time of the haz_run() call
 * divided by the number of tasks, and the peak of the bytes the run
 * allocated through its context (a counting haz_mem allocator), per task.
 * Since the mock starts no process and its clock jumps to the next event,
 * the time is the scheduler's own bookkeeping plus the mock's.
 *
 * Shapes (SHAPES is a comma-separated list, default flat,chain,tree,random):
 *   flat     N independent tasks;
 *   chain    t(i) depends on t(i-1);
 *   tree     a binary fan-in tree: t(i) depends on t(2i+1) and t(2i+2);
 *   random   a random DAG: t(i) depends on k distinct tasks among t(0) ..
 *            t(i-1), k uniform in 0..6 (3 on average), splitmix64-seeded;
 *   mutex    flat, and every task holds one of 4 workspace mutexes, one in
 *            four of them exclusive (parking and re-queueing);
 *   tag      flat, and every other task carries a tag capped at 1 (tasks
 *            set aside by a full tag cap).
 * Every task is a shell task in project "b" whose mock entry (matched by
 * task id) prints one 3-byte chunk halfway and exits 0 after a random
 * 1 to 10 ms of virtual time.  SIZES is a comma-separated list of task
 * counts (default 1000,10000,100000); -j sets the global cap (default 8).
 * -t keeps the mock's trace on (by default it is switched off with
 * haz_mock_spawner_set_trace, so the trace's formatting is not counted);
 * -u uses no script (every child exits at once, with no output); -q
 * prints only the table.
 *
 * Memory: every run allocates the same blocks afresh (at 100,000 tasks
 * about 64 MB, a third of it one 33 MB array of outcomes).  With glibc's
 * defaults a block over its mmap threshold (at most 32 MB) is mapped for
 * each run and unmapped at its end, and the top of the heap is trimmed
 * once enough is free, so the largest sizes pay the kernel's page faults
 * and zero-filling in every run while the small ones reuse the memory of
 * the run before: the comparison between sizes would measure that, not the
 * scheduler.  So with glibc the benchmark asks malloc to serve every block
 * from the heap and never to trim it (mallopt M_MMAP_MAX 0,
 * M_TRIM_THRESHOLD INT_MAX), and every size reuses the memory of the run
 * before; -m keeps the C library's own policy.  Elsewhere -m is the only
 * policy (the header line says which one was used).
 *
 * The columns: shape, tasks, best wall time of haz_run in ms, that time in
 * microseconds per task, the best CPU time of the process during the call
 * in microseconds per task (less disturbed than the wall time by other
 * work on a shared machine: time spent preempted does not count), the
 * run's peak allocated bytes per task (the
 * result included), and the graph's own bytes per task (built and validated
 * before the run, not counted in the peak).  After the table, per shape,
 * the ratio of the time per task at the largest size to that at the
 * smallest (1.0 is perfectly linear).  Exit status: 0, 1 when a run fails
 * or a task does not succeed, 2 on a usage error.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "hazexec.h"

#define MS(x) ((uint64_t)(x) * UINT64_C(1000000))

/* ------------------------------------------------------------------------
 * A counting allocator: the bytes live now and their peak.  Each block
 * carries its size in a header.
 * ---------------------------------------------------------------------- */

typedef union pk_head {
    size_t size;
    long double ld;          /* keeps the payload aligned */
    void *p;
    uint64_t u;
} pk_head;

typedef struct pk_mem {
    haz_mem mem;
    size_t cur;              /* bytes live */
    size_t peak;             /* the most bytes live at once since reset */
} pk_mem;

static void pk_count(pk_mem *m, size_t add, size_t sub)
{
    m->cur = m->cur - sub + add;
    if (m->cur > m->peak)
        m->peak = m->cur;
}

static void *pk_malloc(size_t n, void *ud)
{
    pk_head *h;

    if (n > SIZE_MAX - sizeof *h)
        return NULL;
    h = malloc(sizeof *h + n);
    if (h == NULL)
        return NULL;
    h->size = n;
    pk_count(ud, n, 0);
    return h + 1;
}

static void *pk_calloc(size_t nmemb, size_t size, void *ud)
{
    pk_head *h;
    size_t n;

    if (size != 0 && nmemb > (SIZE_MAX - sizeof *h) / size)
        return NULL;
    n = nmemb * size;
    h = calloc(1, sizeof *h + n);
    if (h == NULL)
        return NULL;
    h->size = n;
    pk_count(ud, n, 0);
    return h + 1;
}

static void pk_free(void *p, void *ud)
{
    pk_head *h;

    if (p == NULL)
        return;
    h = (pk_head *)p - 1;
    pk_count(ud, 0, h->size);
    free(h);
}

static void *pk_realloc(void *p, size_t n, void *ud)
{
    pk_head *h, *nh;
    size_t old;

    if (p == NULL)
        return pk_malloc(n, ud);
    if (n > SIZE_MAX - sizeof *h)
        return NULL;
    h = (pk_head *)p - 1;
    old = h->size;
    nh = realloc(h, sizeof *nh + n);
    if (nh == NULL)
        return NULL;
    nh->size = n;
    pk_count(ud, n, old);
    return nh + 1;
}

static void pk_init(pk_mem *m)
{
    memset(m, 0, sizeof *m);
    m->mem.ud = m;
    m->mem.malloc_fn = pk_malloc;
    m->mem.free_fn = pk_free;
    m->mem.calloc_fn = pk_calloc;
    m->mem.realloc_fn = pk_realloc;
}

/* ------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------- */

/* Seconds on the given clock (CLOCK_MONOTONIC or the CPU time of the
 * process). */
static double now_seconds(clockid_t id)
{
    struct timespec ts;

    if (clock_gettime(id, &ts) != 0) {
        perror("clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64: the generator of the random DAG and of the durations. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void die_rc(haz_ctx *ctx, const char *what, int rc)
{
    fprintf(stderr, "sched_bench: %s: %s (%s)\n", what, haz_strerror(rc),
            ctx != NULL ? haz_ctx_errmsg(ctx) : "");
    exit(1);
}

#define CHECK(ctx, what, call)                                              \
    do {                                                                    \
        int rc_ = (call);                                                   \
        if (rc_ != HAZ_OK)                                                  \
            die_rc((ctx), (what), rc_);                                     \
    } while (0)

typedef enum shape {
    SH_FLAT, SH_CHAIN, SH_TREE, SH_RANDOM, SH_MUTEX, SH_TAG, SH_COUNT
} shape;

static const char *const shape_names[SH_COUNT] = {
    "flat", "chain", "tree", "random", "mutex", "tag"
};

typedef struct opts {
    unsigned cap;
    int runs;
    int trace;
    int unscripted;
    int quiet;
    int libc_memory;            /* -m */
} opts;

/* ------------------------------------------------------------------------
 * Building a graph and its script.
 * ---------------------------------------------------------------------- */

static void task_name(char *buf, size_t size, size_t i)
{
    (void)snprintf(buf, size, "t%07lu", (unsigned long)i);
}

static void add_dep(haz_ctx *ctx, haz_task *t, size_t d)
{
    char ref[32];

    (void)snprintf(ref, sizeof ref, "b:t%07lu", (unsigned long)d);
    CHECK(ctx, "haz_task_add_dep", haz_task_add_dep(t, ref));
}

/* The graph of `sh` with n tasks, validated. */
static haz_graph *build_graph(haz_ctx *ctx, shape sh, size_t n)
{
    haz_graph *g = NULL;
    uint64_t rs = 1;
    unsigned char *picked = NULL;
    size_t i, k;

    CHECK(ctx, "haz_graph_new", haz_graph_new(ctx, &g));
    CHECK(ctx, "haz_graph_add_project", haz_graph_add_project(g, "b", "."));
    if (sh == SH_TAG)
        CHECK(ctx, "haz_graph_set_tag_cap", haz_graph_set_tag_cap(g, "one",
                                                                  1));
    if (sh == SH_RANDOM) {
        picked = calloc(n, 1);
        if (picked == NULL) {
            fprintf(stderr, "sched_bench: out of memory\n");
            exit(1);
        }
    }
    for (i = 0; i < n; i++) {
        haz_task *t = NULL;
        char name[32];

        task_name(name, sizeof name, i);
        CHECK(ctx, "haz_graph_add_task", haz_graph_add_task(g, "b", name,
                                                            &t));
        CHECK(ctx, "haz_task_set_shell", haz_task_set_shell(t, "true"));
        switch (sh) {
        case SH_CHAIN:
            if (i > 0)
                add_dep(ctx, t, i - 1);
            break;
        case SH_TREE:
            for (k = 2 * i + 1; k <= 2 * i + 2 && k < n; k++)
                add_dep(ctx, t, k);
            break;
        case SH_RANDOM: {
            size_t want = (size_t)(next_random(&rs) % 7), got[6], ng = 0;

            if (want > i)
                want = i;
            while (ng < want) {
                size_t d = (size_t)(next_random(&rs) % i);

                if (picked[d])
                    continue;
                picked[d] = 1;
                got[ng++] = d;
                add_dep(ctx, t, d);
            }
            for (k = 0; k < ng; k++)
                picked[got[k]] = 0;
            break;
        }
        case SH_MUTEX: {
            char m[8];

            (void)snprintf(m, sizeof m, "m%u", (unsigned)(i % 4));
            CHECK(ctx, "haz_task_add_mutex",
                  haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE,
                                     i % 16 < 4 ? HAZ_MUTEX_EXCLUSIVE
                                                : HAZ_MUTEX_SHARED, m));
            break;
        }
        case SH_TAG:
            if (i % 2 == 0)
                CHECK(ctx, "haz_task_add_tag", haz_task_add_tag(t, "one"));
            break;
        default:
            break;
        }
    }
    free(picked);
    CHECK(ctx, "haz_graph_validate", haz_graph_validate(g, NULL));
    return g;
}

/* One entry per task: a chunk halfway, exit 0 after 1 to 10 ms. */
static haz_mock_script *build_script(haz_ctx *ctx, size_t n)
{
    haz_mock_script *s = NULL;
    uint64_t rs = 7;
    size_t i;

    CHECK(ctx, "haz_mock_script_new", haz_mock_script_new(ctx, &s));
    for (i = 0; i < n; i++) {
        haz_mock_proc *p = NULL;
        char id[40];
        uint64_t d = MS(1) + next_random(&rs) % MS(9);

        (void)snprintf(id, sizeof id, "b:t%07lu", (unsigned long)i);
        CHECK(ctx, "haz_mock_script_add", haz_mock_script_add(s, id, &p));
        CHECK(ctx, "haz_mock_proc_output",
              haz_mock_proc_output(p, d / 2, HAZ_STREAM_STDOUT, "ok\n", 3));
        CHECK(ctx, "haz_mock_proc_exit", haz_mock_proc_exit(p, d, 0));
    }
    return s;
}

/* ------------------------------------------------------------------------
 * Measuring.
 * ---------------------------------------------------------------------- */

typedef struct measure {
    double best;             /* seconds */
    double best_cpu;         /* seconds of CPU time */
    size_t peak;             /* bytes */
    size_t graph;            /* bytes */
} measure;

static const char *const host_env[] = { "PATH=/usr/bin:/bin", NULL };

static void run_once(const opts *o, const haz_graph *g,
                     const haz_mock_script *script, size_t n, haz_ctx *aux,
                     haz_ctx *rctx, pk_mem *rmem, double *secs, double *cpu,
                     size_t *peak)
{
    haz_clock *clk = NULL;
    haz_spawner *sp = NULL;
    haz_mock_config mc;
    haz_spawner_config scfg;
    haz_run_options ro;
    haz_run_config cfg;
    haz_run_result *r = NULL;
    size_t i, base;
    double t0, t1, c0, c1;
    int rc;

    CHECK(aux, "haz_clock_open", haz_clock_open(aux, &haz_clock_mock, NULL,
                                                &clk));
    memset(&mc, 0, sizeof mc);
    mc.script = script;
    scfg.version = 1;
    scfg.clock = clk;
    scfg.backend = &mc;
    CHECK(aux, "haz_spawner_open", haz_spawner_open(aux, &haz_spawner_mock,
                                                    &scfg, &sp));
    if (!o->trace)
        CHECK(aux, "haz_mock_spawner_set_trace",
              haz_mock_spawner_set_trace(sp, 0));
    haz_run_options_init(&ro);
    ro.concurrency = o->cap;
    ro.workspace_root = "/ws";
    ro.host_env = host_env;
    ro.no_cache = 1;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = g;
    cfg.spawner = sp;
    cfg.clock = clk;
    cfg.options = &ro;

    base = rmem->cur;
    rmem->peak = base;
    c0 = now_seconds(CLOCK_PROCESS_CPUTIME_ID);
    t0 = now_seconds(CLOCK_MONOTONIC);
    rc = haz_run(rctx, &cfg, &r);
    t1 = now_seconds(CLOCK_MONOTONIC);
    c1 = now_seconds(CLOCK_PROCESS_CPUTIME_ID);
    if (rc != HAZ_OK)
        die_rc(rctx, "haz_run", rc);
    *secs = t1 - t0;
    *cpu = c1 - c0;
    *peak = rmem->peak - base;
    if (haz_run_result_count(r) != n) {
        fprintf(stderr, "sched_bench: %lu outcomes for %lu tasks\n",
                (unsigned long)haz_run_result_count(r), (unsigned long)n);
        exit(1);
    }
    for (i = 0; i < n; i++) {
        const haz_task_outcome *oc = haz_run_result_get(r, i);

        if (oc->kind != HAZ_OUTCOME_COMPLETED ||
            oc->state != HAZ_STATE_SUCCEEDED) {
            fprintf(stderr, "sched_bench: %s did not succeed\n",
                    oc->task.id);
            exit(1);
        }
    }
    haz_run_result_free(r);
    haz_spawner_close(sp);
    haz_clock_close(clk);
}

static measure bench(const opts *o, shape sh, size_t n)
{
    pk_mem gmem, rmem;
    haz_ctx *gctx = NULL, *aux = NULL, *rctx = NULL;
    haz_graph *g;
    haz_mock_script *script = NULL;
    measure m;
    size_t before;
    int k;

    pk_init(&gmem);
    pk_init(&rmem);
    if (haz_ctx_new(&gctx, &gmem.mem) != HAZ_OK ||
        haz_ctx_new(&aux, NULL) != HAZ_OK ||
        haz_ctx_new(&rctx, &rmem.mem) != HAZ_OK) {
        fprintf(stderr, "sched_bench: cannot create a context\n");
        exit(1);
    }
    before = gmem.cur;
    g = build_graph(gctx, sh, n);
    m.graph = gmem.cur - before;
    if (!o->unscripted)
        script = build_script(aux, n);
    m.best = -1;
    m.best_cpu = -1;
    m.peak = 0;
    for (k = 0; k < o->runs; k++) {
        double secs, cpu;
        size_t peak;

        run_once(o, g, script, n, aux, rctx, &rmem, &secs, &cpu, &peak);
        if (m.best < 0 || secs < m.best)
            m.best = secs;
        if (m.best_cpu < 0 || cpu < m.best_cpu)
            m.best_cpu = cpu;
        if (peak > m.peak)
            m.peak = peak;
    }
    haz_mock_script_free(script);
    haz_graph_free(g);
    haz_ctx_free(rctx);
    haz_ctx_free(aux);
    haz_ctx_free(gctx);
    return m;
}

/* ------------------------------------------------------------------------
 * Options and the table.
 * ---------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: sched_bench [-j CAP] [-r RUNS] [-n SIZES] "
            "[-s SHAPES] [-t] [-u] [-q] [-m]\n");
    exit(2);
}

static unsigned long number(const char *s, unsigned long max)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0 || v > max)
        usage();
    return v;
}

/* Make every run reuse the memory the run before freed (see the top of
 * the file); returns a description of the policy in force. */
static const char *memory_policy(const opts *o)
{
#if defined(__GLIBC__) && defined(M_MMAP_MAX) && defined(M_TRIM_THRESHOLD)
    if (!o->libc_memory && mallopt(M_MMAP_MAX, 0) == 1 &&
        mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1)
        return "memory reused between runs";
#else
    (void)o;
#endif
    return "the C library's memory policy";
}

/* Split a comma-separated list in place; returns the item count. */
static size_t split(char *s, char **items, size_t max)
{
    size_t n = 0;
    char *p = s;

    while (n < max) {
        char *c = strchr(p, ',');

        items[n++] = p;
        if (c == NULL)
            break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

int main(int argc, char **argv)
{
    static char def_sizes[] = "1000,10000,100000";
    static char def_shapes[] = "flat,chain,tree,random";
    opts o;
    char *sizes_arg = def_sizes, *shapes_arg = def_shapes;
    char *items[16];
    size_t sizes[16], n_sizes, n_shapes, a, b;
    shape shapes[SH_COUNT];
    double first[SH_COUNT], last[SH_COUNT], cfirst[SH_COUNT], clast[SH_COUNT];
    struct rusage ru;
    const char *policy;
    int i;

    memset(&o, 0, sizeof o);
    o.cap = 8;
    o.runs = 5;
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (strcmp(arg, "-t") == 0)
            o.trace = 1;
        else if (strcmp(arg, "-u") == 0)
            o.unscripted = 1;
        else if (strcmp(arg, "-q") == 0)
            o.quiet = 1;
        else if (strcmp(arg, "-m") == 0)
            o.libc_memory = 1;
        else if (i + 1 < argc && strcmp(arg, "-j") == 0)
            o.cap = (unsigned)number(argv[++i], 1000000);
        else if (i + 1 < argc && strcmp(arg, "-r") == 0)
            o.runs = (int)number(argv[++i], 1000);
        else if (i + 1 < argc && strcmp(arg, "-n") == 0)
            sizes_arg = argv[++i];
        else if (i + 1 < argc && strcmp(arg, "-s") == 0)
            shapes_arg = argv[++i];
        else
            usage();
    }
    n_sizes = split(sizes_arg, items, 16);
    for (a = 0; a < n_sizes; a++)
        sizes[a] = number(items[a], 100000000);
    n_shapes = split(shapes_arg, items, SH_COUNT);
    for (a = 0; a < n_shapes; a++) {
        for (b = 0; b < SH_COUNT; b++)
            if (strcmp(items[a], shape_names[b]) == 0)
                break;
        if (b == SH_COUNT)
            usage();
        shapes[a] = (shape)b;
    }
    policy = memory_policy(&o);
    if (!o.quiet)
        printf("mock spawner, global cap %u, best of %d runs%s%s, %s\n",
               o.cap, o.runs, o.trace ? ", trace on" : "",
               o.unscripted ? ", unscripted" : "", policy);
    printf("%-7s %8s %10s %8s %8s %8s %8s\n", "shape", "tasks", "best ms",
           "us/task", "cpu us/t", "B/task", "graph B");
    for (a = 0; a < n_shapes; a++) {
        for (b = 0; b < n_sizes; b++) {
            measure m = bench(&o, shapes[a], sizes[b]);
            double per = m.best * 1e6 / (double)sizes[b];
            double cper = m.best_cpu * 1e6 / (double)sizes[b];

            if (b == 0) {
                first[a] = per;
                cfirst[a] = cper;
            }
            last[a] = per;
            clast[a] = cper;
            printf("%-7s %8lu %10.2f %8.3f %8.3f %8.0f %8.0f\n",
                   shape_names[shapes[a]], (unsigned long)sizes[b],
                   m.best * 1e3, per, cper,
                   (double)m.peak / (double)sizes[b],
                   (double)m.graph / (double)sizes[b]);
            fflush(stdout);
        }
    }
    if (!o.quiet && n_sizes > 1) {
        printf("us/task at %lu tasks / us/task at %lu tasks:",
               (unsigned long)sizes[n_sizes - 1], (unsigned long)sizes[0]);
        for (a = 0; a < n_shapes; a++)
            printf(" %s %.2f", shape_names[shapes[a]], last[a] / first[a]);
        printf("\nthe same for the CPU time:");
        for (a = 0; a < n_shapes; a++)
            printf(" %s %.2f", shape_names[shapes[a]], clast[a] / cfirst[a]);
        printf("\n");
        if (getrusage(RUSAGE_SELF, &ru) == 0)
            printf("max RSS of the process: %ld KiB\n", (long)ru.ru_maxrss);
    }
    return 0;
}
