/*
 * tests/test_stress.c: concurrency stress of the scheduler, haz_run()
 * (lib/sched.c), on the mock spawner and the mock clock, checked by
 * invariant rather than by exact traces.
 *
 * Each scenario is drawn from one 64-bit seed (splitmix64): a random DAG of
 * tasks spread over random projects, with a random global cap (1..16),
 * random tags with random caps (on projects and on tasks), 0 to 3 random
 * mutexes per task (workspace and project scope, shared and exclusive),
 * random hard and soft edges, and a mock script giving every task a random
 * duration and output chunks, some tasks failing (exit 1..255), dying by a
 * signal or failing to spawn; sometimes the spawner has a reported or a
 * hidden child limit (HAZ_ELIMIT).  The run goes through two probes:
 *   - a spawner that wraps the mock and keeps the books of running
 *     children (per tag, per lock, in total) at every spawn and exit, and of
 *     the signals sent;
 *   - a checking observer that numbers every event and checks its order.
 * Then the outcomes are checked against the scenario.  The invariants:
 *   caps       never more children running than the global cap, any tag
 *              cap, or the spawner's limit;
 *   mutexes    never an exclusive holder with any other holder, never a
 *              shared holder with an exclusive one;
 *   events     every task gets exactly one terminal event and one outcome,
 *              which agree; on_task_started at most once, before it, and
 *              a task spawns only between the two; output only while its
 *              child runs, chunk by chunk as scripted;
 *   order      a task starts only once its soft predecessors are terminal
 *              and its hard predecessors succeeded;
 *   cascade    the undecided hard descendants of a failed, errored or
 *              cancelled task, and only they, end skipped (or cancelled)
 *              naming it as the root: the first of their hard ancestors to
 *              end that way; their events follow the root's at once, in
 *              canonical order; soft-only descendants are never skipped;
 *   outcomes   every other task ends as its script says (exit status,
 *              stream hashes, spawn errno); the run's exit code agrees.
 * The cancellation scenarios also make one task print a chunk on which a
 * chained observer calls haz_cancel_request (and sometimes a second
 * request, which escalates), with random grace periods and SIGTERM
 * reactions; or, in some, the request comes from that task's
 * on_task_started, inside an admission round (and that task may then fail
 * to spawn).  They check: no task starts after the request; exactly the
 * children running when the scheduler notices it end
 * Cancelled(SignaledInFlight), each SIGTERMed once (SIGKILL at most once),
 * nobody else is signalled; after the first cancelled event every event is
 * a cancellation; the cascade rule above with cancelled roots.  One more
 * test replays, in a fixed three-task run, the case the series found: a
 * request in an admission round that leaves nothing running.
 *
 * `make check` runs 200 seeds of 10 to 800 tasks, 8 of them with 2,000,
 * and 25 cancellation seeds (2 with 2,000).  HAZ_STRESS_SEEDS=N runs N
 * seeds (and N/8 cancellation seeds) instead; HAZ_STRESS_BASE=HEX draws
 * another series.
 * A failure prints the seed and the line that replays it alone:
 * HAZ_STRESS_SEED=SEED:TASKS:CANCEL.  HAZ_STRESS_VERBOSE=1 prints what a
 * series exercised (outcomes, parked tasks, spawner refusals, tasks at the
 * cap, lock sharing); =2 also prints every event of every run, which is
 * meant for a replayed seed.
 *
 * The "mock" suite checks the mock spawner's O(1) entry index against the
 * documented matching rules (task id, argv, sh, FIFO, script order) on
 * random scripts, and that haz_mock_spawner_set_trace changes nothing but
 * the trace.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS(x) ((uint64_t)(x) * UINT64_C(1000000))
#define NONE SIZE_MAX
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------
 * The generator.
 * ---------------------------------------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

/* splitmix64 (Steele, Lea, Flood). */
static uint64_t rnext(rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A number in 0..n-1 (n > 0). */
static size_t rbelow(rng *r, size_t n)
{
    return (size_t)(rnext(r) % (uint64_t)n);
}

/* True with probability pm / 1000. */
static int rchance(rng *r, unsigned pm)
{
    return rbelow(r, 1000) < pm;
}

/* A number from the environment, or dflt. */
static unsigned long env_number(const char *name, unsigned long dflt)
{
    const char *v = getenv(name);
    char *end;
    unsigned long x;

    if (v == NULL || *v == '\0')
        return dflt;
    errno = 0;
    x = strtoul(v, &end, 0);
    if (errno != 0 || *end != '\0') {
        fprintf(stderr, "stress: ignoring %s=%s\n", name, v);
        return dflt;
    }
    return x;
}

/* ------------------------------------------------------------------------
 * Scenarios.
 * ---------------------------------------------------------------------- */

enum { MAXD = 6, MAXW = 3, MAXM = 3, MAXT = 2, MAXC = 4, MAXTAGS = 6,
       MAXPROJ = 6, MAXMUTEX = 4 };

typedef enum gend {
    END_OK = 0,      /* exit 0 */
    END_FAIL,        /* exit code 1..255 */
    END_SIGNAL,      /* dies by a signal */
    END_SPAWN        /* the spawn fails with an errno */
} gend;

typedef struct gchunk {
    uint64_t at;
    haz_stream stream;
    char text[32];
} gchunk;

typedef struct gmutex {
    haz_mutex_scope scope;
    haz_mutex_mode mode;
    unsigned name;
} gmutex;

/* One task as generated; gen order is a topological order. */
typedef struct gtask {
    unsigned project;
    unsigned name;               /* the number in its name (a permutation) */
    size_t nd, d[MAXD];          /* hard predecessors, gen indices */
    size_t nw, w[MAXW];          /* soft predecessors */
    unsigned nt, t[MAXT];        /* own tags */
    unsigned nm;
    gmutex m[MAXM];
    gend end;
    int value;                   /* exit code, signal or errno */
    uint64_t end_ns;
    unsigned nc;
    gchunk c[MAXC];
    int term;                    /* -1: no SIGTERM reaction, else haz_mock_term */
    uint64_t term_delay;
    int term_code;
    size_t canon;                /* canonical index in the graph */
} gtask;

typedef struct scen {
    uint64_t seed;
    size_t n;
    int cancel;                  /* a cancellation scenario */
    unsigned n_proj, n_tags, n_mutex;
    unsigned tag_cap[MAXTAGS];   /* 0: not capped */
    int proj_tag[MAXPROJ];       /* -1: none */
    unsigned cap;                /* global */
    int limit_mode;              /* 0 none, 1 reported, 2 hidden */
    size_t limit;
    uint64_t grace;
    int signo;                   /* of the cancel request */
    int escalate;                /* second request at the first cancel */
    int on_start;                /* the request comes from the trigger's
                                    on_task_started, inside an admission
                                    round, instead of from its chunk */
    size_t trigger;              /* gen index of the task printing TRIGGER */
    gtask *g;                    /* n tasks */
} scen;

static const char TRIGGER[] = "CANCEL-NOW\n";

static void scen_pick(rng *r, size_t *v, size_t *n, size_t max, size_t below,
                      size_t window, const size_t *avoid, size_t n_avoid)
{
    size_t want = rbelow(r, max + 1), tries = 0, k;

    if (below == 0)
        return;
    while (*n < want && tries++ < 4 * max + 8) {
        size_t span = window < below ? window : below;
        size_t d = below - 1 - rbelow(r, span);
        int dup = 0;

        for (k = 0; k < *n; k++)
            dup |= v[k] == d;
        for (k = 0; k < n_avoid; k++)
            dup |= avoid[k] == d;
        if (!dup)
            v[(*n)++] = d;
    }
}

/* Draw the whole scenario from its seed. */
static int scen_make(scen *sc, uint64_t seed, size_t n, int cancel)
{
    rng r;
    size_t i, k, window;
    unsigned hd, sd, mu_pm, tg_pm, fail_pm, sig_pm, spawn_pm, zero_pm, long_pm;
    uint64_t max_dur;
    size_t *perm;
    static const int sigs[] = { SIGSEGV, SIGKILL, SIGABRT, SIGTERM, SIGBUS };
    static const int errs[] = { ENOENT, EACCES, ENOEXEC, E2BIG };

    memset(sc, 0, sizeof *sc);
    r.s = seed;
    sc->seed = seed;
    sc->n = n;
    sc->cancel = cancel;
    sc->g = calloc(n, sizeof *sc->g);
    perm = malloc(n * sizeof *perm);
    if (sc->g == NULL || perm == NULL) {
        free(perm);
        free(sc->g);
        return -1;
    }
    sc->n_proj = 1 + (unsigned)rbelow(&r, MAXPROJ);
    sc->n_tags = (unsigned)rbelow(&r, MAXTAGS + 1);
    sc->n_mutex = 1 + (unsigned)rbelow(&r, MAXMUTEX);
    for (k = 0; k < sc->n_tags; k++)
        sc->tag_cap[k] = rchance(&r, 750) ? 1 + (unsigned)rbelow(&r, 4) : 0;
    for (k = 0; k < sc->n_proj; k++)
        sc->proj_tag[k] = sc->n_tags > 0 && rchance(&r, 300)
                              ? (int)rbelow(&r, sc->n_tags) : -1;
    sc->cap = 1 + (unsigned)rbelow(&r, 16);
    sc->limit_mode = rchance(&r, 300) ? 1 + (int)rbelow(&r, 2) : 0;
    sc->limit = 1 + rbelow(&r, sc->cap);
    hd = (unsigned)rbelow(&r, MAXD + 1);
    sd = (unsigned)rbelow(&r, MAXW + 1);
    window = rchance(&r, 500) ? 1 + rbelow(&r, 40) : n;
    mu_pm = (unsigned)rbelow(&r, 700);
    tg_pm = (unsigned)rbelow(&r, 500);
    fail_pm = (unsigned)rbelow(&r, 60);
    sig_pm = (unsigned)rbelow(&r, 25);
    spawn_pm = (unsigned)rbelow(&r, 25);
    zero_pm = (unsigned)rbelow(&r, 500);
    long_pm = cancel ? (unsigned)rbelow(&r, 150) : 0;
    max_dur = MS(1 + rbelow(&r, 100));
    sc->grace = rchance(&r, 200) ? 0 : MS(rbelow(&r, 2000));
    sc->signo = rchance(&r, 500) ? SIGINT : SIGTERM;
    sc->escalate = rchance(&r, 300);
    sc->on_start = rchance(&r, 300);
    sc->trigger = cancel ? n / 4 + rbelow(&r, n / 2 + 1) : NONE;

    /* Task names: a random permutation, so that the canonical order has
     * nothing to do with the topological one. */
    for (i = 0; i < n; i++)
        perm[i] = i;
    for (i = n; i > 1; i--) {
        size_t j = rbelow(&r, i), x = perm[i - 1];

        perm[i - 1] = perm[j];
        perm[j] = x;
    }
    for (i = 0; i < n; i++) {
        gtask *t = &sc->g[i];

        t->project = (unsigned)rbelow(&r, sc->n_proj);
        t->name = (unsigned)perm[i];
        if (i != sc->trigger)
            scen_pick(&r, t->d, &t->nd, hd, i, window, NULL, 0);
        scen_pick(&r, t->w, &t->nw, sd, i, window, t->d, t->nd);
        if (sc->n_tags > 0 && rchance(&r, tg_pm)) {
            t->nt = 1 + (unsigned)rbelow(&r, MAXT);
            t->t[0] = (unsigned)rbelow(&r, sc->n_tags);
            t->t[1] = (unsigned)rbelow(&r, sc->n_tags);
            if (t->nt == 2 && t->t[1] == t->t[0])
                t->nt = 1;
        }
        if (rchance(&r, mu_pm)) {
            unsigned want = 1 + (unsigned)rbelow(&r, MAXM);

            while (t->nm < want) {
                gmutex m;
                unsigned j;
                int dup = 0;

                m.scope = rchance(&r, 300) ? HAZ_MUTEX_PROJECT
                                           : HAZ_MUTEX_WORKSPACE;
                m.mode = rchance(&r, 500) ? HAZ_MUTEX_SHARED
                                          : HAZ_MUTEX_EXCLUSIVE;
                m.name = (unsigned)rbelow(&r, sc->n_mutex);
                for (j = 0; j < t->nm; j++)
                    dup |= t->m[j].scope == m.scope && t->m[j].name == m.name;
                if (dup)
                    break;
                t->m[t->nm++] = m;
            }
        }
        t->end = END_OK;
        if (i == sc->trigger && sc->on_start && rchance(&r, 300)) {
            /* The request comes from a task that then fails to spawn:
             * the admission round may leave nothing running. */
            t->end = END_SPAWN;
            t->value = ENOENT;
        } else if (i != sc->trigger) {
            size_t x = rbelow(&r, 1000);

            if (x < fail_pm) {
                t->end = END_FAIL;
                t->value = 1 + (int)rbelow(&r, 255);
            } else if (x < fail_pm + sig_pm) {
                t->end = END_SIGNAL;
                t->value = sigs[rbelow(&r, NELEM(sigs))];
            } else if (x < fail_pm + sig_pm + spawn_pm) {
                t->end = END_SPAWN;
                t->value = errs[rbelow(&r, NELEM(errs))];
            }
        }
        if (rchance(&r, long_pm))
            t->end_ns = MS(100000) + rnext(&r) % MS(100000);
        else
            t->end_ns = rchance(&r, zero_pm) ? 0 : rnext(&r) % max_dur;
        if (t->end != END_SPAWN) {
            t->nc = (unsigned)rbelow(&r, MAXC + 1);
            for (k = 0; k < t->nc; k++) {
                gchunk *c = &t->c[k];

                c->at = t->end_ns == 0 ? 0 : rnext(&r) % (t->end_ns + 1);
                if (k > 0 && c->at < t->c[k - 1].at)
                    c->at = t->c[k - 1].at;     /* keep them in order */
                c->stream = rchance(&r, 700) ? HAZ_STREAM_STDOUT
                                             : HAZ_STREAM_STDERR;
                (void)snprintf(c->text, sizeof c->text, "t%u.%u%s",
                               t->name, (unsigned)k,
                               rchance(&r, 500) ? "\n" : "");
            }
        }
        if (i == sc->trigger) {
            if (t->end_ns < MS(2))
                t->end_ns = MS(2);
            if (t->nc == MAXC)
                t->nc--;
            t->c[t->nc].at = t->nc > 0 ? t->c[t->nc - 1].at : 0;
            if (t->c[t->nc].at >= t->end_ns)
                t->end_ns = t->c[t->nc].at + 1;
            t->c[t->nc].stream = HAZ_STREAM_STDOUT;
            (void)snprintf(t->c[t->nc].text, sizeof t->c[t->nc].text, "%s",
                           TRIGGER);
            t->nc++;
        }
        t->term = -1;
        if (cancel && rchance(&r, 600)) {
            t->term = (int)rbelow(&r, 3);
            t->term_delay = MS(rbelow(&r, 3000));
            t->term_code = (int)rbelow(&r, 256);
        }
    }
    free(perm);
    return 0;
}

static void scen_free(scen *sc)
{
    free(sc->g);
    sc->g = NULL;
}

static void task_ref(char *buf, size_t size, const gtask *t)
{
    (void)snprintf(buf, size, "p%u:t%05u", t->project, t->name);
}

/* ------------------------------------------------------------------------
 * The checker: what the probes saw, per task by canonical index.
 * ---------------------------------------------------------------------- */

typedef struct ctask {
    const gtask *g;
    unsigned long started;       /* seq of on_task_started, 0: none */
    unsigned long term;          /* seq of the terminal event, 0: none */
    unsigned n_started, n_term;
    haz_outcome_kind kind;       /* of the terminal event */
    int cause;                   /* skip cause or cancel kind */
    size_t upstream;             /* canonical index, NONE */
    int succeeded;               /* Completed / Succeeded */
    int live;                    /* its child runs (spawner probe) */
    unsigned spawns, attempts;
    int at_cancel;               /* running when the cancel was requested */
    unsigned sigterm, sigkill, nsig;
    int first_sig;
    unsigned chunks;             /* chunks delivered */
    size_t caps[MAXT + 1];       /* capped tags it carries */
    unsigned n_caps;
    size_t locks[MAXM];          /* lock numbers of its mutexes */
} ctask;

typedef struct chk {
    const scen *sc;
    size_t n;
    ctask *t;                    /* by canonical index */
    size_t *by_child;            /* child id -> canonical index */
    size_t n_child;
    unsigned long seq;
    unsigned long fails;
    /* books of the spawner probe */
    size_t running;
    unsigned tag_used[MAXTAGS];
    unsigned *lk_sh, *lk_ex;
    size_t n_locks;
    /* cancellation */
    haz_cancel *cancel;
    unsigned long cancel_seq;    /* seq of the chunk that fired it */
    int requests;
    unsigned long first_cancelled;
    int snap_pending;            /* take at_cancel at the next wait */
    int log;                     /* HAZ_STRESS_VERBOSE >= 2: print events */
} chk;

/* What the scenarios exercised, summed over a series (printed with
 * HAZ_STRESS_VERBOSE=1, to see that the generator reaches every path). */
typedef struct tally {
    unsigned long tasks, ok, failed, errored, skipped, up_cancelled,
        run_cancelled, in_flight, parked, elimit, at_cap, excl, shared2;
} tally;

static tally totals;

static void fail(chk *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void fail(chk *c, const char *fmt, ...)
{
    va_list ap;

    if (c->fails++ >= 12)
        return;
    fprintf(stderr, "stress seed 0x%016" PRIx64 " (%lu tasks%s): ",
            c->sc->seed, (unsigned long)c->sc->n,
            c->sc->cancel ? ", cancel" : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

#define CK(c, cond, ...)                                                    \
    do {                                                                    \
        if (!(cond))                                                        \
            fail((c), __VA_ARGS__);                                         \
    } while (0)

static const char *tid(const chk *c, size_t i)
{
    static char buf[2][40];
    static int k;

    k ^= 1;
    if (i >= c->n)
        return "?";
    task_ref(buf[k], sizeof buf[k], c->t[i].g);
    return buf[k];
}

/* With HAZ_STRESS_VERBOSE=2, one line per event, for replaying a seed. */
static void note(const chk *c, const char *what, size_t i, long x)
{
    if (c->log)
        fprintf(stderr, "  %5lu %-9s %-10s %ld\n", c->seq, what,
                i < c->n ? tid(c, i) : "-", x);
}

/* A task index from an event's task id, or NONE (a failure). */
static size_t ev_index(chk *c, const haz_task_id *id, const char *what)
{
    if (id == NULL || id->index >= c->n) {
        fail(c, "%s: bad task id", what);
        return NONE;
    }
    return id->index;
}

/* Every task's capped tags and lock numbers, from the scenario alone. */
static void chk_books(chk *c)
{
    const scen *sc = c->sc;
    size_t i;

    for (i = 0; i < c->n; i++) {
        ctask *t = &c->t[i];
        const gtask *g = t->g;
        int has[MAXTAGS];
        unsigned k;

        memset(has, 0, sizeof has);
        if (sc->proj_tag[g->project] >= 0)
            has[sc->proj_tag[g->project]] = 1;
        for (k = 0; k < g->nt; k++)
            has[g->t[k]] = 1;
        for (k = 0; k < sc->n_tags; k++)
            if (has[k] && sc->tag_cap[k] > 0)
                t->caps[t->n_caps++] = k;
        for (k = 0; k < g->nm; k++)
            t->locks[k] = g->m[k].scope == HAZ_MUTEX_WORKSPACE
                              ? g->m[k].name
                              : sc->n_mutex * (1 + g->project) + g->m[k].name;
    }
}

/* The children running when the scheduler notices the request: they
 * must end signalled in flight. */
static void snapshot(chk *c)
{
    size_t k;

    for (k = 0; k < c->n; k++)
        c->t[k].at_cancel = c->t[k].live;
    c->snap_pending = 0;
}

/* ------------------------------------------------------------------------
 * The spawner probe: the mock behind a methods table that keeps books.
 * ---------------------------------------------------------------------- */

typedef struct probe_cfg {
    haz_spawner *inner;
    chk *chk;
    size_t report;               /* what max_children() says */
} probe_cfg;

typedef struct probe {
    haz_spawner base;
    haz_spawner *inner;
    chk *chk;
    size_t report;
} probe;

static int probe_open(haz_spawner *sp, const haz_spawner_config *cfg)
{
    probe *p = (probe *)sp;
    const probe_cfg *pc = cfg->backend;

    p->inner = pc->inner;
    p->chk = pc->chk;
    p->report = pc->report;
    return HAZ_OK;
}

static void probe_close(haz_spawner *sp)
{
    (void)sp;
}

/* Take (or, with d = -1, give back) task i's slot, tags and locks. */
static void books(chk *c, size_t i, int d)
{
    ctask *t = &c->t[i];
    const scen *sc = c->sc;
    unsigned k;

    c->running += (size_t)(long)d;
    for (k = 0; k < t->n_caps; k++)
        c->tag_used[t->caps[k]] += (unsigned)d;
    for (k = 0; k < t->g->nm; k++) {
        if (t->g->m[k].mode == HAZ_MUTEX_EXCLUSIVE)
            c->lk_ex[t->locks[k]] += (unsigned)d;
        else
            c->lk_sh[t->locks[k]] += (unsigned)d;
    }
    if (d < 0)
        return;
    totals.at_cap += c->running == sc->cap;
    for (k = 0; k < t->g->nm; k++) {
        totals.excl += t->g->m[k].mode == HAZ_MUTEX_EXCLUSIVE;
        totals.shared2 += c->lk_sh[t->locks[k]] >= 2;
    }
    CK(c, c->running <= sc->cap, "%s: %lu children running, global cap %u",
       tid(c, i), (unsigned long)c->running, sc->cap);
    CK(c, sc->limit_mode == 0 || c->running <= sc->limit,
       "%s: %lu children running, spawner limit %lu", tid(c, i),
       (unsigned long)c->running, (unsigned long)sc->limit);
    for (k = 0; k < t->n_caps; k++)
        CK(c, c->tag_used[t->caps[k]] <= sc->tag_cap[t->caps[k]],
           "%s: tag g%lu has %u running, cap %u", tid(c, i),
           (unsigned long)t->caps[k], c->tag_used[t->caps[k]],
           sc->tag_cap[t->caps[k]]);
    for (k = 0; k < t->g->nm; k++) {
        size_t l = t->locks[k];

        if (t->g->m[k].mode == HAZ_MUTEX_EXCLUSIVE)
            CK(c, c->lk_ex[l] == 1 && c->lk_sh[l] == 0,
               "%s: exclusive lock %lu taken with %u exclusive and %u "
               "shared holders", tid(c, i), (unsigned long)l, c->lk_ex[l],
               c->lk_sh[l]);
        else
            CK(c, c->lk_ex[l] == 0, "%s: shared lock %lu taken with an "
               "exclusive holder", tid(c, i), (unsigned long)l);
    }
}

static int probe_spawn(haz_spawner *sp, const haz_spawn_plan *plan,
                       haz_child *child)
{
    probe *p = (probe *)sp;
    chk *c = p->chk;
    size_t i = plan->task_index, k;
    ctask *t;
    int rc;

    if (i >= c->n) {
        fail(c, "spawn of task index %lu", (unsigned long)i);
        return HAZ_EINVAL;
    }
    t = &c->t[i];
    t->attempts++;
    CK(c, t->started != 0 && t->term == 0, "%s: spawned %s", tid(c, i),
       t->started == 0 ? "before on_task_started" : "after its outcome");
    CK(c, !t->live && t->spawns == 0, "%s: spawned twice", tid(c, i));
    /* After the request nothing spawns, except the task whose own
     * on_task_started made it: its admission goes on to the spawn (the
     * request is noticed at the next step), so it runs, and is signalled,
     * like the others. */
    CK(c, c->cancel_seq == 0 ||
          (t->started == c->cancel_seq && c->seq == c->cancel_seq),
       "%s: spawned after the cancel request", tid(c, i));
    for (k = 0; k < t->g->nd; k++) {
        const ctask *d = &c->t[c->sc->g[t->g->d[k]].canon];

        CK(c, d->succeeded, "%s: spawned before its hard predecessor %s "
           "succeeded", tid(c, i), tid(c, d->g->canon));
    }
    totals.parked += t->started != c->seq;   /* not at once */
    rc = p->inner->methods->spawn(p->inner, plan, child);
    note(c, rc == HAZ_OK ? "spawn" : "spawn-err", i, rc);
    if (rc != HAZ_OK)
        return rc;
    t->spawns++;
    t->live = 1;
    if (*child >= c->n_child)
        fail(c, "%s: child id %" PRIu64 " out of range", tid(c, i), *child);
    else
        c->by_child[*child] = i;
    books(c, i, 1);
    return HAZ_OK;
}

static size_t child_task(chk *c, haz_child id, const char *what)
{
    if (id >= c->n_child || c->by_child[id] == NONE) {
        fail(c, "%s: unknown child %" PRIu64, what, id);
        return NONE;
    }
    return c->by_child[id];
}

static int probe_signal(haz_spawner *sp, haz_child child, int signo)
{
    probe *p = (probe *)sp;
    chk *c = p->chk;
    size_t i = child_task(c, child, "signal");

    if (i != NONE) {
        ctask *t = &c->t[i];

        note(c, "signal", i, signo);
        CK(c, t->live, "%s: signalled after its exit", tid(c, i));
        if (t->nsig++ == 0)
            t->first_sig = signo;
        t->sigterm += signo == SIGTERM;
        t->sigkill += signo == SIGKILL;
    }
    return p->inner->methods->signal(p->inner, child, signo);
}

static int probe_wait(haz_spawner *sp, uint64_t deadline,
                      const haz_cancel *cancel, haz_spawn_event *ev,
                      size_t cap, size_t *n, unsigned *flags)
{
    probe *p = (probe *)sp;
    chk *c = p->chk;
    size_t e;
    int rc;

    rc = p->inner->methods->wait(p->inner, deadline, cancel, ev, cap, n,
                                 flags);
    if (rc != HAZ_OK)
        return rc;
    for (e = 0; e < *n; e++) {
        size_t i = child_task(c, ev[e].child, "event");

        if (i == NONE)
            continue;
        CK(c, c->t[i].live, "%s: event after its exit", tid(c, i));
        if (ev[e].type == HAZ_EV_EXIT)
            note(c, "exit", i, (long)ev[e].status.code * 1000 +
                                   ev[e].status.signo);
        if (ev[e].type == HAZ_EV_EXIT && c->t[i].live) {
            c->t[i].live = 0;
            c->by_child[ev[e].child] = NONE;
            books(c, i, -1);
        }
    }
    if (c->snap_pending)
        snapshot(c);
    return HAZ_OK;
}

static size_t probe_max_children(haz_spawner *sp)
{
    return ((probe *)sp)->report;
}

static const haz_spawner_methods probe_methods = {
    HAZ_SPAWNER_METHODS_VERSION,    /* version */
    "probe",                        /* name */
    0,                              /* caps */
    sizeof(probe),                  /* state_size */
    probe_open,                     /* open */
    probe_close,                    /* close */
    probe_spawn,                    /* spawn */
    probe_signal,                   /* signal */
    probe_wait,                     /* wait */
    probe_max_children              /* max_children */
};

/* ------------------------------------------------------------------------
 * The checking observer.
 * ---------------------------------------------------------------------- */

/* Request the cancellation.  The scheduler notices it at the top of its
 * loop: from an output chunk, once the batch is handled (no child starts
 * or ends in between, so the running children are those of now); from
 * on_task_started, after the admission round and one more wait(), whose
 * exits are settled normally first (the probe takes the snapshot then). */
static void fire(chk *c, int in_admission)
{
    note(c, "REQUEST", NONE, c->sc->signo);
    c->cancel_seq = c->seq;
    if (in_admission)
        c->snap_pending = 1;
    else
        snapshot(c);
    c->requests++;
    haz_cancel_request(c->cancel, c->sc->signo);
}

static void obs_started(void *ud, const haz_task_id *task)
{
    chk *c = ud;
    size_t i = ev_index(c, task, "started"), k;
    ctask *t;

    c->seq++;
    note(c, "started", i, 0);
    if (i == NONE)
        return;
    t = &c->t[i];
    CK(c, t->n_started++ == 0, "%s: started twice", tid(c, i));
    CK(c, t->term == 0, "%s: started after its outcome", tid(c, i));
    CK(c, c->cancel_seq == 0, "%s: started after the cancel request",
       tid(c, i));
    t->started = c->seq;
    if (c->cancel != NULL && c->cancel_seq == 0 && c->sc->on_start &&
        t->g == &c->sc->g[c->sc->trigger])
        fire(c, 1);
    for (k = 0; k < t->g->nw; k++) {
        const ctask *w = &c->t[c->sc->g[t->g->w[k]].canon];

        CK(c, w->term != 0, "%s: started before its soft predecessor %s "
           "ended", tid(c, i), tid(c, w->g->canon));
    }
    for (k = 0; k < t->g->nd; k++) {
        const ctask *d = &c->t[c->sc->g[t->g->d[k]].canon];

        CK(c, d->succeeded, "%s: started before its hard predecessor %s "
           "succeeded", tid(c, i), tid(c, d->g->canon));
    }
}

static void obs_output(void *ud, const haz_task_id *task, haz_stream stream,
                       const void *data, size_t len)
{
    chk *c = ud;
    size_t i = ev_index(c, task, "output");
    ctask *t;
    const gchunk *ch;

    c->seq++;
    note(c, "output", i, (long)len);
    if (i == NONE)
        return;
    t = &c->t[i];
    /* Its exit may be in the same batch: the probe has seen it, the
     * scheduler has not handled it yet. */
    CK(c, t->spawns == 1 && t->term == 0,
       "%s: output without a child or after its outcome", tid(c, i));
    if (t->chunks >= t->g->nc) {
        fail(c, "%s: chunk %u was never scripted", tid(c, i), t->chunks);
        return;
    }
    ch = &t->g->c[t->chunks++];
    CK(c, ch->stream == stream && strlen(ch->text) == len &&
          memcmp(ch->text, data, len) == 0,
       "%s: chunk %u differs from the script", tid(c, i), t->chunks - 1);
    if (c->cancel != NULL && c->cancel_seq == 0 && len == strlen(TRIGGER) &&
        memcmp(data, TRIGGER, len) == 0)
        fire(c, 0);
}

/* A terminal event of the given kind. */
static void terminal(chk *c, const haz_task_outcome *o, haz_outcome_kind kind,
                     const char *what)
{
    size_t i = ev_index(c, o != NULL ? &o->task : NULL, what);
    ctask *t;

    c->seq++;
    note(c, what, i, o != NULL ? (long)o->skip_cause * 10 + o->cancel_kind
                               : 0);
    if (i == NONE)
        return;
    t = &c->t[i];
    CK(c, t->n_term++ == 0, "%s: a second terminal event (%s)", tid(c, i),
       what);
    CK(c, o->kind == kind, "%s: %s event with outcome kind %d", tid(c, i),
       what, (int)o->kind);
    CK(c, !t->live, "%s: %s while its child runs", tid(c, i), what);
    t->term = c->seq;
    t->kind = kind;
    t->upstream = o->upstream != NULL ? o->upstream->index : NONE;
    if (kind == HAZ_OUTCOME_SKIPPED)
        t->cause = (int)o->skip_cause;
    else if (kind == HAZ_OUTCOME_CANCELLED)
        t->cause = (int)o->cancel_kind;
    t->succeeded = kind == HAZ_OUTCOME_COMPLETED &&
                   o->state == HAZ_STATE_SUCCEEDED;
    if (kind == HAZ_OUTCOME_CANCELLED && c->first_cancelled == 0)
        c->first_cancelled = c->seq;
    if (kind != HAZ_OUTCOME_CANCELLED && c->first_cancelled != 0)
        fail(c, "%s: %s after a cancellation event", tid(c, i), what);
    if (kind == HAZ_OUTCOME_CANCELLED && c->cancel != NULL &&
        c->sc->escalate && c->requests == 1) {
        c->requests++;
        haz_cancel_request(c->cancel, c->sc->signo);
    }
}

static void obs_finished(void *ud, const haz_task_outcome *o)
{
    terminal(ud, o, HAZ_OUTCOME_COMPLETED, "finished");
}

static void obs_skipped(void *ud, const haz_task_outcome *o)
{
    terminal(ud, o, HAZ_OUTCOME_SKIPPED, "skipped");
}

static void obs_cancelled(void *ud, const haz_task_outcome *o)
{
    terminal(ud, o, HAZ_OUTCOME_CANCELLED, "cancelled");
}

static void obs_errored(void *ud, const haz_task_outcome *o)
{
    terminal(ud, o, HAZ_OUTCOME_ERRORED, "errored");
}

static void obs_violation(void *ud, const haz_violation *v)
{
    (void)v;
    fail(ud, "an invariant violation was reported");
}

static const haz_observer_methods check_methods = {
    HAZ_OBSERVER_METHODS_VERSION, obs_started, obs_output, obs_finished,
    obs_skipped, obs_cancelled, obs_errored, obs_violation
};

/* ------------------------------------------------------------------------
 * Building the graph and the script.
 * ---------------------------------------------------------------------- */

static int build_graph(haz_ctx *ctx, scen *sc, haz_graph **out)
{
    haz_graph *g = NULL;
    char name[40], ref[40];
    size_t i, k;
    int rc;

#define TRY(call)                                                           \
    do {                                                                    \
        if ((rc = (call)) != HAZ_OK)                                        \
            goto done;                                                      \
    } while (0)
    TRY(haz_graph_new(ctx, &g));
    for (k = 0; k < sc->n_proj; k++) {
        char p[8];

        (void)snprintf(p, sizeof p, "p%u", (unsigned)k);
        TRY(haz_graph_add_project(g, p, p));
        if (sc->proj_tag[k] >= 0) {
            (void)snprintf(name, sizeof name, "g%d", sc->proj_tag[k]);
            TRY(haz_graph_add_project_tag(g, p, name));
        }
    }
    for (k = 0; k < sc->n_tags; k++) {
        if (sc->tag_cap[k] == 0)
            continue;
        (void)snprintf(name, sizeof name, "g%u", (unsigned)k);
        TRY(haz_graph_set_tag_cap(g, name, sc->tag_cap[k]));
    }
    for (i = 0; i < sc->n; i++) {
        const gtask *t = &sc->g[i];
        haz_task *ht = NULL;
        char p[8];

        (void)snprintf(p, sizeof p, "p%u", t->project);
        (void)snprintf(name, sizeof name, "t%05u", t->name);
        TRY(haz_graph_add_task(g, p, name, &ht));
        (void)snprintf(ref, sizeof ref, "run %u", t->name);
        TRY(haz_task_set_shell(ht, ref));
        for (k = 0; k < t->nd; k++) {
            task_ref(ref, sizeof ref, &sc->g[t->d[k]]);
            TRY(haz_task_add_dep(ht, ref));
        }
        for (k = 0; k < t->nw; k++) {
            task_ref(ref, sizeof ref, &sc->g[t->w[k]]);
            TRY(haz_task_add_weak_dep(ht, ref));
        }
        for (k = 0; k < t->nt; k++) {
            (void)snprintf(ref, sizeof ref, "g%u", t->t[k]);
            TRY(haz_task_add_tag(ht, ref));
        }
        for (k = 0; k < t->nm; k++) {
            (void)snprintf(ref, sizeof ref, "m%u", t->m[k].name);
            TRY(haz_task_add_mutex(ht, t->m[k].scope, t->m[k].mode, ref));
        }
    }
    TRY(haz_graph_validate(g, NULL));
    for (i = 0; i < sc->n; i++) {
        task_ref(ref, sizeof ref, &sc->g[i]);
        TRY(haz_graph_find_task(g, ref, NULL, &sc->g[i].canon));
    }
#undef TRY
done:
    if (rc != HAZ_OK) {
        haz_graph_free(g);
        g = NULL;
    }
    *out = g;
    return rc;
}

static int build_script(haz_mock_script *s, const scen *sc)
{
    char ref[40];
    size_t i, k;
    int rc = HAZ_OK;

    for (i = 0; i < sc->n && rc == HAZ_OK; i++) {
        const gtask *t = &sc->g[i];
        haz_mock_proc *p = NULL;

        task_ref(ref, sizeof ref, t);
        rc = haz_mock_script_add(s, ref, &p);
        for (k = 0; k < t->nc && rc == HAZ_OK; k++)
            rc = haz_mock_proc_output(p, t->c[k].at, t->c[k].stream,
                                      t->c[k].text, strlen(t->c[k].text));
        if (rc != HAZ_OK)
            break;
        if (t->end == END_SIGNAL)
            rc = haz_mock_proc_die(p, t->end_ns, t->value);
        else if (t->end == END_FAIL)
            rc = haz_mock_proc_exit(p, t->end_ns, t->value);
        else if (t->end == END_SPAWN)
            rc = haz_mock_proc_spawn_error(p, t->value);
        else
            rc = haz_mock_proc_exit(p, t->end_ns, 0);
        if (rc == HAZ_OK && t->term >= 0)
            rc = haz_mock_proc_on_sigterm(p, (haz_mock_term)t->term,
                                          t->term_delay, t->term_code);
    }
    return rc;
}

/* ------------------------------------------------------------------------
 * The checks after the run.
 * ---------------------------------------------------------------------- */

/* A task that ends the way that makes it a cascade root. */
static int is_root(const ctask *t)
{
    return (t->kind == HAZ_OUTCOME_COMPLETED && !t->succeeded) ||
           t->kind == HAZ_OUTCOME_ERRORED ||
           (t->kind == HAZ_OUTCOME_CANCELLED &&
            (t->cause == HAZ_CANCEL_RUN_CANCELLED ||
             t->cause == HAZ_CANCEL_SIGNALED_IN_FLIGHT));
}

/* The digest of a stream as scripted. */
static void stream_hash(const gtask *g, haz_stream stream, unsigned char *h)
{
    haz_sha256_ctx hc;
    unsigned k;

    haz_sha256_init(&hc);
    for (k = 0; k < g->nc; k++)
        if (g->c[k].stream == stream)
            haz_sha256_update(&hc, g->c[k].text, strlen(g->c[k].text));
    haz_sha256_out(&hc, h);
}

/* Task i was not reached by a cascade: it ends as its script says, or
 * was caught by the cancellation. */
static void check_own_outcome(chk *c, size_t i, const haz_task_outcome *o)
{
    ctask *t = &c->t[i];
    const gtask *g = t->g;
    unsigned char h[32];

    if (t->kind == HAZ_OUTCOME_SKIPPED) {
        fail(c, "%s: skipped (cause %d) without a failed hard ancestor",
             tid(c, i), t->cause);
        return;
    }
    /* Drained from the ready set, a task may not have been started
     * (or started, then parked by a mutex). */
    CK(c, t->started != 0 || (t->kind == HAZ_OUTCOME_CANCELLED &&
                              t->cause == HAZ_CANCEL_RUN_CANCELLED),
       "%s: never started", tid(c, i));
    if (t->kind == HAZ_OUTCOME_CANCELLED) {
        CK(c, c->cancel_seq != 0 && t->term > c->cancel_seq,
           "%s: cancelled without a cancel request", tid(c, i));
        if (t->cause == HAZ_CANCEL_SIGNALED_IN_FLIGHT) {
            CK(c, t->at_cancel, "%s: signalled in flight but not running "
               "at the request", tid(c, i));
            CK(c, o->state == HAZ_STATE_CANCELLED, "%s: in-flight "
               "cancellation with state %d", tid(c, i), (int)o->state);
            CK(c, t->spawns == 1, "%s: in flight without a child",
               tid(c, i));
        } else {
            CK(c, t->cause == HAZ_CANCEL_RUN_CANCELLED,
               "%s: cancelled upstream without a cancelled hard ancestor",
               tid(c, i));
            CK(c, t->spawns == 0 && !t->at_cancel, "%s: run-cancelled "
               "although its child ran", tid(c, i));
            CK(c, o->upstream == NULL, "%s: run-cancelled naming a root",
               tid(c, i));
        }
        return;
    }
    CK(c, !t->at_cancel, "%s: running at the request, not cancelled",
       tid(c, i));
    if (g->end == END_SPAWN) {
        CK(c, t->kind == HAZ_OUTCOME_ERRORED &&
              o->error == HAZ_TERR_SPAWN && o->os_errno == g->value,
           "%s: expected a spawn error (errno %d), got kind %d error %d "
           "errno %d", tid(c, i), g->value, (int)t->kind, (int)o->error,
           o->os_errno);
        CK(c, t->spawns == 0, "%s: a child for a spawn error", tid(c, i));
        CK(c, o->message != NULL && strstr(o->message, tid(c, i)) != NULL,
           "%s: the error message does not name the task", tid(c, i));
        return;
    }
    if (t->kind != HAZ_OUTCOME_COMPLETED) {
        fail(c, "%s: expected completed, got kind %d", tid(c, i),
             (int)t->kind);
        return;
    }
    CK(c, t->spawns == 1, "%s: completed with %u children", tid(c, i),
       t->spawns);
    CK(c, o->source == HAZ_SOURCE_FRESH && !o->timed_out,
       "%s: not a fresh completion", tid(c, i));
    switch (g->end) {
    case END_OK:
        CK(c, o->state == HAZ_STATE_SUCCEEDED &&
              o->status.kind == HAZ_EXIT_CODE && o->status.code == 0,
           "%s: expected success", tid(c, i));
        break;
    case END_FAIL:
        CK(c, o->state == HAZ_STATE_FAILED &&
              o->status.kind == HAZ_EXIT_CODE && o->status.code == g->value,
           "%s: expected exit %d", tid(c, i), g->value);
        break;
    default:
        CK(c, o->state == HAZ_STATE_FAILED &&
              o->status.kind == HAZ_EXIT_SIGNAL &&
              o->status.signo == g->value,
           "%s: expected death by signal %d", tid(c, i), g->value);
        break;
    }
    CK(c, t->chunks == g->nc, "%s: %u of %u chunks delivered", tid(c, i),
       t->chunks, g->nc);
    CK(c, o->hash_len == 32, "%s: hash length %lu", tid(c, i),
       (unsigned long)o->hash_len);
    stream_hash(g, HAZ_STREAM_STDOUT, h);
    CK(c, memcmp(h, o->stdout_hash, 32) == 0, "%s: stdout hash",
       tid(c, i));
    stream_hash(g, HAZ_STREAM_STDERR, h);
    CK(c, memcmp(h, o->stderr_hash, 32) == 0, "%s: stderr hash",
       tid(c, i));
    CK(c, o->start_ns <= o->end_ns, "%s: ends before it starts",
       tid(c, i));
}

static void check_result(chk *c, const haz_run_result *r)
{
    const scen *sc = c->sc;
    size_t n = c->n, i, k, *root = NULL, *count = NULL;
    int bad = 0, cancelled = 0, code;

    CK(c, haz_run_result_count(r) == n, "%lu outcomes for %lu tasks",
       (unsigned long)haz_run_result_count(r), (unsigned long)n);
    if (haz_run_result_count(r) != n)
        return;
    CK(c, c->running == 0, "%lu children left running",
       (unsigned long)c->running);
    root = malloc(n * sizeof *root);
    count = calloc(n, sizeof *count);
    if (root == NULL || count == NULL) {
        fail(c, "out of memory in the checker");
        free(root);
        free(count);
        return;
    }
    /* The first root among each task's hard ancestors (gen order is
     * topological). */
    for (k = 0; k < n; k++) {
        const gtask *g = &sc->g[k];
        size_t best = NONE, j;

        for (j = 0; j < g->nd; j++) {
            size_t p = sc->g[g->d[j]].canon;
            size_t cand = is_root(&c->t[p]) ? p : root[p];

            if (cand != NONE &&
                (best == NONE || c->t[cand].term < c->t[best].term))
                best = cand;
        }
        root[g->canon] = best;
    }
    for (i = 0; i < n; i++) {
        const haz_task_outcome *o = haz_run_result_get(r, i);
        ctask *t = &c->t[i];
        size_t a = root[i];

        CK(c, o->task.index == i, "outcome %lu names task %lu",
           (unsigned long)i, (unsigned long)o->task.index);
        CK(c, t->n_term == 1, "%s: %u terminal events", tid(c, i),
           t->n_term);
        if (t->n_term == 0)
            continue;
        CK(c, o->kind == t->kind, "%s: outcome kind %d, event kind %d",
           tid(c, i), (int)o->kind, (int)t->kind);
        CK(c, o->kind != HAZ_OUTCOME_ERRORED || o->error != HAZ_TERR_INTERNAL,
           "%s: errored inside the scheduler: %s", tid(c, i),
           o->message != NULL ? o->message : "");
        CK(c, t->started == 0 || t->started < t->term,
           "%s: started after its outcome", tid(c, i));
        bad |= (o->kind == HAZ_OUTCOME_COMPLETED && !t->succeeded) ||
               o->kind == HAZ_OUTCOME_ERRORED;
        cancelled |= o->kind == HAZ_OUTCOME_CANCELLED;
        if (a == NONE) {
            check_own_outcome(c, i, o);
            continue;
        }
        /* Reached by the cascade of root a. */
        if (c->t[a].kind == HAZ_OUTCOME_CANCELLED)
            CK(c, t->kind == HAZ_OUTCOME_CANCELLED &&
                  t->cause == HAZ_CANCEL_UPSTREAM_CANCELLED,
               "%s: expected upstream-cancelled by %s, got kind %d cause "
               "%d", tid(c, i), tid(c, a), (int)t->kind, t->cause);
        else
            CK(c, t->kind == HAZ_OUTCOME_SKIPPED &&
                  t->cause == (c->t[a].kind == HAZ_OUTCOME_ERRORED
                                   ? HAZ_SKIP_UPSTREAM_ERRORED
                                   : HAZ_SKIP_UPSTREAM_FAILED),
               "%s: expected skipped by %s, got kind %d cause %d",
               tid(c, i), tid(c, a), (int)t->kind, t->cause);
        CK(c, t->upstream == a, "%s: names %s as its root, expected %s",
           tid(c, i), tid(c, t->upstream), tid(c, a));
        CK(c, t->started == 0 && t->attempts == 0 && o->start_ns == 0,
           "%s: started although cascaded", tid(c, i));
        /* Canonical order, right after the root's event. */
        count[a]++;
        CK(c, t->term == c->t[a].term + count[a],
           "%s: cascaded event %ld after %s's, expected %lu", tid(c, i),
           (long)t->term - (long)c->t[a].term, tid(c, a),
           (unsigned long)count[a]);
    }
    free(root);
    free(count);
    /* Signals and the exit code. */
    for (i = 0; i < n; i++) {
        const ctask *t = &c->t[i];

        if (!t->at_cancel) {
            CK(c, t->nsig == 0, "%s: signalled although not running at the "
               "request", tid(c, i));
            continue;
        }
        CK(c, t->sigterm == 1 && t->first_sig == SIGTERM && t->sigkill <= 1 &&
              t->nsig == t->sigterm + t->sigkill,
           "%s: signals: %u in all, %u SIGTERM, %u SIGKILL, first %d",
           tid(c, i), t->nsig, t->sigterm, t->sigkill, t->first_sig);
    }
    code = haz_exit_code(r, haz_run_result_cancel_signal(r));
    if (sc->cancel) {
        CK(c, c->cancel_seq != 0, "the trigger chunk never arrived");
        CK(c, haz_run_result_cancel_signal(r) == sc->signo,
           "cancel signal %d, expected %d", haz_run_result_cancel_signal(r),
           sc->signo);
        CK(c, code == 128 + sc->signo, "exit code %d", code);
    } else {
        CK(c, !cancelled, "a task was cancelled without a request");
        CK(c, haz_run_result_cancel_signal(r) == 0, "a cancel signal");
        CK(c, code == (bad ? 1 : 0), "exit code %d", code);
    }
}


static void tally_seed(const chk *c, const haz_run_result *r)
{
    size_t i;

    totals.tasks += (unsigned long)c->n;
    for (i = 0; i < c->n && i < haz_run_result_count(r); i++) {
        const haz_task_outcome *o = haz_run_result_get(r, i);
        const ctask *t = &c->t[i];

        totals.ok += o->kind == HAZ_OUTCOME_COMPLETED && t->succeeded;
        totals.failed += o->kind == HAZ_OUTCOME_COMPLETED && !t->succeeded;
        totals.errored += o->kind == HAZ_OUTCOME_ERRORED;
        totals.skipped += o->kind == HAZ_OUTCOME_SKIPPED;
        totals.up_cancelled += o->kind == HAZ_OUTCOME_CANCELLED &&
                               t->cause == HAZ_CANCEL_UPSTREAM_CANCELLED;
        totals.run_cancelled += o->kind == HAZ_OUTCOME_CANCELLED &&
                                t->cause == HAZ_CANCEL_RUN_CANCELLED;
        totals.in_flight += o->kind == HAZ_OUTCOME_CANCELLED &&
                            t->cause == HAZ_CANCEL_SIGNALED_IN_FLIGHT;
        totals.elimit += t->attempts - t->spawns -
                         (t->g->end == END_SPAWN && t->attempts > 0);
    }
}

/* ------------------------------------------------------------------------
 * One seed.
 * ---------------------------------------------------------------------- */

/* Run one scenario; returns the number of failed checks. */
static unsigned long run_seed(uint64_t seed, size_t n, int cancel)
{
    scen sc;
    chk c;
    haz_test_mem tm;
    haz_ctx *ctx = NULL;
    haz_clock *clk = NULL;
    haz_mock_script *script = NULL;
    haz_graph *g = NULL;
    haz_spawner *mock = NULL, *sp = NULL;
    haz_cancel *tok = NULL;
    haz_run_result *r = NULL;
    haz_mock_config mc;
    haz_spawner_config scfg;
    probe_cfg pc;
    haz_observer obs;
    haz_run_options opt;
    haz_run_config cfg;
    size_t i;
    int rc;

    memset(&c, 0, sizeof c);
    if (scen_make(&sc, seed, n, cancel) != 0) {
        fprintf(stderr, "stress: out of memory\n");
        return 1;
    }
    c.sc = &sc;
    c.n = n;
    c.log = env_number("HAZ_STRESS_VERBOSE", 0) >= 2;
    c.t = calloc(n, sizeof *c.t);
    c.n_child = n + 1;
    c.by_child = malloc(c.n_child * sizeof *c.by_child);
    c.n_locks = (size_t)sc.n_mutex * (1 + sc.n_proj);
    c.lk_sh = calloc(c.n_locks, sizeof *c.lk_sh);
    c.lk_ex = calloc(c.n_locks, sizeof *c.lk_ex);
    haz_test_mem_init(&tm);
    if (c.t == NULL || c.by_child == NULL || c.lk_sh == NULL ||
        c.lk_ex == NULL || haz_ctx_new(&ctx, &tm.mem) != HAZ_OK) {
        fail(&c, "cannot set up");
        goto done;
    }
    for (i = 0; i < c.n_child; i++)
        c.by_child[i] = NONE;
    rc = build_graph(ctx, &sc, &g);
    if (rc != HAZ_OK) {
        fail(&c, "graph: %s: %s", haz_strerror(rc), haz_ctx_errmsg(ctx));
        goto done;
    }
    for (i = 0; i < n; i++)
        c.t[sc.g[i].canon].g = &sc.g[i];
    chk_books(&c);
    if (haz_mock_script_new(ctx, &script) != HAZ_OK ||
        build_script(script, &sc) != HAZ_OK ||
        haz_clock_open(ctx, &haz_clock_mock, NULL, &clk) != HAZ_OK ||
        haz_cancel_new(ctx, &tok) != HAZ_OK) {
        fail(&c, "script: %s", haz_ctx_errmsg(ctx));
        goto done;
    }
    memset(&mc, 0, sizeof mc);
    mc.script = script;
    mc.max_children = sc.limit_mode != 0 ? sc.limit : 0;
    scfg.version = 1;
    scfg.clock = clk;
    scfg.backend = &mc;
    if (haz_spawner_open(ctx, &haz_spawner_mock, &scfg, &mock) != HAZ_OK ||
        haz_mock_spawner_set_trace(mock, 0) != HAZ_OK) {
        fail(&c, "mock: %s", haz_ctx_errmsg(ctx));
        goto done;
    }
    pc.inner = mock;
    pc.chk = &c;
    pc.report = sc.limit_mode == 1 ? sc.limit : 0;
    scfg.backend = &pc;
    if (haz_spawner_open(ctx, &probe_methods, &scfg, &sp) != HAZ_OK) {
        fail(&c, "probe: %s", haz_ctx_errmsg(ctx));
        goto done;
    }
    c.cancel = cancel ? tok : NULL;
    obs.methods = &check_methods;
    obs.ud = &c;
    haz_run_options_init(&opt);
    opt.concurrency = sc.cap;
    opt.cancel_grace_ns = sc.grace;
    opt.workspace_root = "/ws";
    opt.no_cache = 1;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = g;
    cfg.spawner = sp;
    cfg.clock = clk;
    cfg.observer = &obs;
    cfg.cancel = tok;
    cfg.options = &opt;
    rc = haz_run(ctx, &cfg, &r);
    if (rc != HAZ_OK)
        fail(&c, "haz_run: %s: %s", haz_strerror(rc), haz_ctx_errmsg(ctx));
    else
        check_result(&c, r);
    if (r != NULL)
        tally_seed(&c, r);
done:
    haz_run_result_free(r);
    haz_spawner_close(sp);
    haz_spawner_close(mock);
    haz_cancel_free(tok);
    haz_clock_close(clk);
    haz_mock_script_free(script);
    haz_graph_free(g);
    haz_ctx_free(ctx);
    CK(&c, tm.live == 0, "%ld blocks leaked", tm.live);
    if (c.fails > 0)
        fprintf(stderr, "stress: %lu failed checks; replay with "
                "HAZ_STRESS_SEED=0x%016" PRIx64 ":%lu:%d\n", c.fails, seed,
                (unsigned long)n, cancel);
    free(c.t);
    free(c.by_child);
    free(c.lk_sh);
    free(c.lk_ex);
    scen_free(&sc);
    return c.fails;
}

/* ------------------------------------------------------------------------
 * The series of seeds.
 * ---------------------------------------------------------------------- */

static uint64_t series_base(void)
{
    const char *v = getenv("HAZ_STRESS_BASE");

    if (v != NULL && *v != '\0')
        return (uint64_t)strtoull(v, NULL, 16);
    return UINT64_C(0x68617a2d73747273);   /* "haz-strs" */
}

/* HAZ_STRESS_SEED=SEED:TASKS:CANCEL replays one scenario instead of the
 * series; returns 1 when it was set. */
static int replay(void)
{
    const char *v = getenv("HAZ_STRESS_SEED");
    unsigned long long seed;
    unsigned long n = 300;
    int cancel = 0;

    if (v == NULL || *v == '\0')
        return 0;
    if (sscanf(v, "%llx:%lu:%d", &seed, &n, &cancel) < 1 || n == 0) {
        CU_FAIL("HAZ_STRESS_SEED=SEED:TASKS:CANCEL");
        return 1;
    }
    fprintf(stderr, "\nstress: replaying seed 0x%016llx, %lu tasks%s\n",
            seed, n, cancel ? ", cancel" : "");
    CU_ASSERT_EQUAL(run_seed((uint64_t)seed, (size_t)n, cancel), 0);
    return 1;
}

/* Run `count` seeds of the series; every `big`-th one has 2,000 tasks,
 * the others 10 to 800. */
static void series(uint64_t salt, unsigned long count, unsigned long big,
                   int cancel)
{
    rng r;
    unsigned long i, failed = 0, tasks = 0;

    r.s = series_base() ^ salt;
    for (i = 0; i < count; i++) {
        uint64_t seed = rnext(&r);
        size_t n = i % big == big - 1 ? 2000 : 10 + (size_t)(seed % 791);

        tasks += (unsigned long)n;
        if (run_seed(seed, n, cancel) != 0)
            failed++;
    }
    if (failed > 0)
        fprintf(stderr, "stress: %lu of %lu seeds failed\n", failed, count);
    if (env_number("HAZ_STRESS_VERBOSE", 0) != 0) {
        const tally *t = &totals;

        fprintf(stderr, "\nstress: %lu seeds, %lu tasks: %lu succeeded, "
                "%lu failed, %lu errored, %lu skipped; cancelled: %lu in "
                "flight, %lu run, %lu upstream; %lu spawns later than their "
                "start, %lu refused by the spawner limit, %lu at the global "
                "cap, %lu exclusive locks, %lu shared with others\n", count,
                t->tasks, t->ok, t->failed, t->errored, t->skipped,
                t->in_flight, t->run_cancelled, t->up_cancelled, t->parked,
                t->elimit, t->at_cap, t->excl, t->shared2);
        memset(&totals, 0, sizeof totals);
    }
    CU_ASSERT_EQUAL(failed, 0);
    CU_ASSERT_TRUE(tasks > 0);
}

/* The invariants of the top of the file on 200 random scenarios (8 of
 * them with 2,000 tasks). */
static void test_random_dags(void)
{
    if (replay())
        return;
    series(0, env_number("HAZ_STRESS_SEEDS", 200), 25, 0);
}

/* The same with a cancellation fired by an output chunk mid-run. */
static void test_cancel_mid_run(void)
{
    unsigned long n = env_number("HAZ_STRESS_SEEDS", 200) / 8;

    if (getenv("HAZ_STRESS_SEED") != NULL)
        return;
    series(UINT64_C(0xca9ce1), n > 0 ? n : 1, 10, 1);
}

/* The request of a regression found by the series: made from
 * on_task_started of a task whose spawn then fails, so that the admission
 * round stops with no child running. */
static haz_cancel *adm_token;

static void adm_started(void *ud, const haz_task_id *task)
{
    (void)ud;
    if (strcmp(task->id, "a:x") == 0)
        haz_cancel_request(adm_token, SIGINT);
}

static const haz_observer_methods adm_methods = {
    HAZ_OBSERVER_METHODS_VERSION, adm_started, NULL, NULL, NULL, NULL, NULL,
    NULL
};

/* A request during an admission round that leaves nothing running must
 * still be noticed: the tasks left waiting end RunCancelled and the run
 * exits 130, rather than ending ERRORED inside the scheduler. */
static void test_cancel_in_admission(void)
{
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_graph *g;
    haz_task *t;
    haz_clock *clk;
    haz_mock_script *s;
    haz_mock_proc *p;
    haz_spawner *sp;
    haz_mock_config mc;
    haz_spawner_config scfg;
    haz_observer obs;
    haz_run_options opt;
    haz_run_config cfg;
    haz_run_result *r = NULL;
    const char *names[] = { "x", "y", "z" };
    size_t k;

    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_graph_new(ctx, &g), HAZ_OK);
    for (k = 0; k < 3; k++) {
        CU_ASSERT_EQUAL_FATAL(haz_graph_add_task(g, "a", names[k], &t),
                              HAZ_OK);
        CU_ASSERT_EQUAL_FATAL(haz_task_set_shell(t, names[k]), HAZ_OK);
    }
    CU_ASSERT_EQUAL_FATAL(haz_graph_validate(g, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(ctx, &haz_clock_mock, NULL, &clk),
                          HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_mock_script_new(ctx, &s), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_mock_script_add(s, "a:x", &p), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_mock_proc_spawn_error(p, ENOENT), HAZ_OK);
    memset(&mc, 0, sizeof mc);
    mc.script = s;
    scfg.version = 1;
    scfg.clock = clk;
    scfg.backend = &mc;
    CU_ASSERT_EQUAL_FATAL(haz_spawner_open(ctx, &haz_spawner_mock, &scfg,
                                           &sp), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(ctx, &adm_token), HAZ_OK);
    obs.methods = &adm_methods;
    obs.ud = NULL;
    haz_run_options_init(&opt);
    opt.concurrency = 1;
    opt.workspace_root = "/ws";
    opt.no_cache = 1;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = g;
    cfg.spawner = sp;
    cfg.clock = clk;
    cfg.observer = &obs;
    cfg.cancel = adm_token;
    cfg.options = &opt;
    CU_ASSERT_EQUAL_FATAL(haz_run(ctx, &cfg, &r), HAZ_OK);
    CU_ASSERT_EQUAL(haz_run_result_get(r, 0)->kind, HAZ_OUTCOME_ERRORED);
    CU_ASSERT_EQUAL(haz_run_result_get(r, 0)->error, HAZ_TERR_SPAWN);
    for (k = 1; k < 3; k++) {
        const haz_task_outcome *o = haz_run_result_get(r, k);

        CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_CANCELLED);
        CU_ASSERT_EQUAL(o->cancel_kind, HAZ_CANCEL_RUN_CANCELLED);
    }
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(r), SIGINT);
    CU_ASSERT_EQUAL(haz_exit_code(r, haz_run_result_cancel_signal(r)), 130);
    haz_run_result_free(r);
    haz_spawner_close(sp);
    haz_cancel_free(adm_token);
    haz_mock_script_free(s);
    haz_clock_close(clk);
    haz_graph_free(g);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* ------------------------------------------------------------------------
 * mock: the entry index against the documented rules.
 * ---------------------------------------------------------------------- */

static const char *const m_tasks[] = { "a:x", "a:y", "b:x" };
static const char *const m_words[] = { "cc", "-c", "a.c", "a", ".c", "" };
static const char *const m_sh[] = { "true", "echo hi", "cc -c a.c" };

/* The text of entry kind k (0 FIFO, 1 task, 2 argv, 3 sh) drawn from the
 * pools above, into buf. */
static const char *m_match(rng *r, int k, char *buf, size_t size)
{
    size_t n, j, len = 0;

    switch (k) {
    case 0:
        return NULL;
    case 1:
        return m_tasks[rbelow(r, NELEM(m_tasks))];
    case 2:
        len = (size_t)snprintf(buf, size, "argv:");
        n = 1 + rbelow(r, 3);
        for (j = 0; j < n; j++)
            len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                    j > 0 ? " " : "",
                                    m_words[rbelow(r, 3)]);
        return buf;
    default:
        (void)snprintf(buf, size, "sh:%s",
                       m_sh[rbelow(r, NELEM(m_sh))]);
        return buf;
    }
}

/* argv joined with single spaces equals key. */
static int m_argv_is(const char *key, const char *const *argv, size_t argc)
{
    char buf[256];
    size_t i, len = 0;

    buf[0] = '\0';
    for (i = 0; i < argc; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s",
                                i > 0 ? " " : "", argv[i]);
    return strcmp(buf, key) == 0;
}

/* The entry (1-based) that docs/mock-script.md section 2 picks, or 0. */
static size_t m_reference(char **match, unsigned char *used, size_t n,
                          const haz_spawn_plan *p)
{
    size_t pass, i;

    for (pass = 1; pass <= 4; pass++) {
        for (i = 0; i < n; i++) {
            const char *m = match[i];
            int ok;

            if (used[i])
                continue;
            if (pass == 4)
                ok = m == NULL;
            else if (m == NULL)
                ok = 0;
            else if (pass == 2)
                ok = strncmp(m, "argv:", 5) == 0 &&
                     p->action == HAZ_ACTION_ARGV &&
                     m_argv_is(m + 5, p->argv, p->argc);
            else if (pass == 3)
                ok = strncmp(m, "sh:", 3) == 0 &&
                     p->action == HAZ_ACTION_SHELL &&
                     strcmp(m + 3, p->script) == 0;
            else
                ok = strncmp(m, "argv:", 5) != 0 &&
                     strncmp(m, "sh:", 3) != 0 && strcmp(m, p->task_id) == 0;
            if (ok) {
                used[i] = 1;
                return i + 1;
            }
        }
    }
    return 0;
}

/* The entry the spawner used for its last spawn: the number after
 * "entry=" on the trace's last line, 0 for "unscripted". */
static size_t m_last_entry(haz_spawner *sp)
{
    const char *t = haz_mock_spawner_trace(sp, NULL), *line, *e;
    size_t len;

    if (t == NULL || (len = strlen(t)) == 0)
        return SIZE_MAX;
    for (line = t + len - 1; line > t && line[-1] != '\n'; line--)
        ;
    e = strstr(line, " entry=");
    if (e != NULL)
        return (size_t)strtoul(e + 7, NULL, 10);
    return strstr(line, " unscripted") != NULL ? 0 : SIZE_MAX;
}

/* Random scripts with duplicate matches of every kind; every spawn must
 * use the entry the documented rules pick, spawn errors included. */
static void test_mock_index(void)
{
    rng r;
    int round;

    r.s = UINT64_C(0x1dec5);
    for (round = 0; round < 200; round++) {
        haz_test_mem tm;
        haz_ctx *ctx;
        haz_clock *clk;
        haz_mock_script *s;
        haz_spawner *sp;
        haz_mock_config mc;
        haz_spawner_config scfg;
        char *match[40];
        unsigned char used[40];
        size_t n = rbelow(&r, 40), i;
        int k, mismatch = 0;

        haz_test_mem_init(&tm);
        CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
        CU_ASSERT_EQUAL_FATAL(haz_clock_open(ctx, &haz_clock_mock, NULL,
                                             &clk), HAZ_OK);
        CU_ASSERT_EQUAL_FATAL(haz_mock_script_new(ctx, &s), HAZ_OK);
        for (i = 0; i < n; i++) {
            char buf[64];
            const char *m = m_match(&r, (int)rbelow(&r, 4), buf, sizeof buf);
            haz_mock_proc *p = NULL;

            match[i] = m != NULL ? strdup(m) : NULL;
            used[i] = 0;
            CU_ASSERT_EQUAL_FATAL(haz_mock_script_add(s, m, &p), HAZ_OK);
            if (rchance(&r, 200))
                CU_ASSERT_EQUAL(haz_mock_proc_spawn_error(p, EACCES),
                                HAZ_OK);
        }
        memset(&mc, 0, sizeof mc);
        mc.script = s;
        scfg.version = 1;
        scfg.clock = clk;
        scfg.backend = &mc;
        CU_ASSERT_EQUAL_FATAL(haz_spawner_open(ctx, &haz_spawner_mock, &scfg,
                                               &sp), HAZ_OK);
        for (k = 0; k < 50 && !mismatch; k++) {
            const char *argv[4];
            haz_spawn_plan p;
            haz_child child;
            size_t want, got, j;
            int rc;

            memset(&p, 0, sizeof p);
            p.task_id = m_tasks[rbelow(&r, NELEM(m_tasks))];
            p.cwd = "/ws";
            if (rchance(&r, 500)) {
                p.action = HAZ_ACTION_SHELL;
                p.script = m_sh[rbelow(&r, NELEM(m_sh))];
            } else {
                p.action = HAZ_ACTION_ARGV;
                p.argc = 1 + rbelow(&r, 3);
                for (j = 0; j < p.argc; j++)
                    argv[j] = m_words[rbelow(&r, NELEM(m_words))];
                argv[p.argc] = NULL;
                p.argv = argv;
            }
            want = m_reference(match, used, n, &p);
            rc = sp->methods->spawn(sp, &p, &child);
            CU_ASSERT_TRUE(rc == HAZ_OK || rc == HAZ_ESPAWN);
            got = m_last_entry(sp);
            if (got != want) {
                fprintf(stderr, "mock index: round %d spawn %d: entry %lu, "
                        "expected %lu\n", round, k, (unsigned long)got,
                        (unsigned long)want);
                mismatch = 1;
            }
        }
        CU_ASSERT_FALSE(mismatch);
        haz_spawner_close(sp);
        haz_mock_script_free(s);
        haz_clock_close(clk);
        haz_ctx_free(ctx);
        CU_ASSERT_EQUAL(tm.live, 0);
        for (i = 0; i < n; i++)
            free(match[i]);
    }
}

/* Events of one whole mock session, written out. */
static void m_session(int trace, char *out, size_t size, int *had_trace)
{
    haz_ctx *ctx;
    haz_clock *clk;
    haz_mock_script *s;
    haz_spawner *sp;
    haz_mock_config mc;
    haz_spawner_config scfg;
    haz_spawn_plan p;
    haz_spawn_event ev[3];
    haz_child child;
    size_t len = 0, n, e, left = 0;
    unsigned flags;
    int k, signalled = 0;
    static const char text[] =
        "[a:x]\nstdout 0.1 \"one\"\nstderr 0.1 \"two\"\nexit 0.5 3\n"
        "[a:y]\nhang\nsigterm delay 1 7\n[*]\ndie 0.2 SIGSEGV\n";

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(ctx, &haz_clock_mock, NULL, &clk),
                          HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_mock_script_new(ctx, &s), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_mock_script_parse(s, "m", text, strlen(text),
                                                NULL), HAZ_OK);
    memset(&mc, 0, sizeof mc);
    mc.script = s;
    scfg.version = 1;
    scfg.clock = clk;
    scfg.backend = &mc;
    CU_ASSERT_EQUAL_FATAL(haz_spawner_open(ctx, &haz_spawner_mock, &scfg,
                                           &sp), HAZ_OK);
    if (!trace)
        CU_ASSERT_EQUAL(haz_mock_spawner_set_trace(sp, 0), HAZ_OK);
    memset(&p, 0, sizeof p);
    p.cwd = "/ws";
    p.action = HAZ_ACTION_SHELL;
    p.script = "x";
    for (k = 0; k < 3; k++) {
        p.task_id = k == 0 ? "a:x" : k == 1 ? "a:y" : "b:z";
        CU_ASSERT_EQUAL(sp->methods->spawn(sp, &p, &child), HAZ_OK);
        left++;
    }
    while (left > 0) {
        CU_ASSERT_EQUAL_FATAL(sp->methods->wait(sp, signalled ? UINT64_MAX
                                                : UINT64_C(300000000),
                                                NULL, ev, 3, &n, &flags),
                              HAZ_OK);
        len += (size_t)snprintf(out + len, size - len, "[%" PRIu64 " %u]",
                                haz_clock_now_ns(clk), flags);
        for (e = 0; e < n; e++) {
            if (ev[e].type == HAZ_EV_EXIT) {
                left--;
                len += (size_t)snprintf(out + len, size - len,
                                        " %" PRIu64 ":exit %d/%d",
                                        ev[e].child, ev[e].status.code,
                                        ev[e].status.signo);
            } else {
                len += (size_t)snprintf(out + len, size - len,
                                        " %" PRIu64 ":%d:%.*s", ev[e].child,
                                        (int)ev[e].stream, (int)ev[e].len,
                                        (const char *)ev[e].data);
            }
        }
        if (flags & HAZ_WAIT_DEADLINE) {
            CU_ASSERT_EQUAL(sp->methods->signal(sp, 2, SIGTERM), HAZ_OK);
            signalled = 1;
        }
    }
    *had_trace = haz_mock_spawner_trace(sp, NULL) != NULL;
    if (!trace) {
        /* Switched on again, it starts from an empty trace. */
        CU_ASSERT_EQUAL(haz_mock_spawner_set_trace(sp, 1), HAZ_OK);
        CU_ASSERT_STRING_EQUAL(haz_mock_spawner_trace(sp, NULL), "");
        CU_ASSERT_EQUAL(sp->methods->signal(sp, 99, SIGTERM), HAZ_ENOENT);
        CU_ASSERT_STRING_EQUAL(haz_mock_spawner_trace(sp, NULL), "");
    }
    haz_spawner_close(sp);
    haz_mock_script_free(s);
    haz_clock_close(clk);
    haz_ctx_free(ctx);
}

/* Without a trace the events, virtual times and flags are the same. */
static void test_mock_trace_off(void)
{
    char a[2048], b[2048];
    int ta = 0, tb = 1;

    a[0] = b[0] = '\0';
    m_session(1, a, sizeof a, &ta);
    m_session(0, b, sizeof b, &tb);
    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT_TRUE(strlen(a) > 40);
    CU_ASSERT_EQUAL(ta, 1);
    CU_ASSERT_EQUAL(tb, 0);
    CU_ASSERT_EQUAL(haz_mock_spawner_set_trace(NULL, 0), HAZ_EINVAL);
}

/* ------------------------------------------------------------------------
 * Registration.
 * ---------------------------------------------------------------------- */

static CU_TestInfo stress_tests[] = {
    {"random DAGs: caps, mutexes, events, cascades", test_random_dags},
    {"cancellation mid-run", test_cancel_mid_run},
    {"cancel request in an admission round leaving nothing running",
     test_cancel_in_admission},
    CU_TEST_INFO_NULL
};

static CU_TestInfo mock_tests[] = {
    {"entry index follows the matching rules", test_mock_index},
    {"trace off changes nothing else", test_mock_trace_off},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("stress", stress_tests),
    HAZ_TEST_SUITE("mock", mock_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
