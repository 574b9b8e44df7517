/*
 * bench/soak.c: the long soak of the posix spawner (reliability-tests.md,
 * run by `make bench-soak`, never by `make check`), and the R5 scaling
 * measure.
 *
 *   soak [-t SECONDS] [-s SEED] [-n MAXTASKS] [-v]
 *       Loop for SECONDS (default 60) over random graphs of real /bin/sh
 *       and argv tasks on the posix spawner and clock, with a filesystem
 *       cache: random successes, failures, spawn errors, timeouts, tasks
 *       that ignore SIGTERM, random tags with caps, random mutexes, soft
 *       edges, and a cancellation in about one run of five.  Run k uses
 *       the seed SEED + k, so one failing run can be replayed alone with
 *       `-s SEED -t 0` (a run count of one).  After every run:
 *         - haz_run returned 0 and every task has exactly one outcome,
 *           delivered by exactly one terminal observer event;
 *         - a task that ran (completed or errored) had every hard
 *           predecessor succeed; a skipped task has a hard predecessor
 *           that did not succeed; without a cancellation, a task is
 *           skipped exactly when a hard predecessor did not succeed, so a
 *           failure skips exactly its hard descendants; every upstream
 *           root named by a skip is a failed or errored task;
 *         - a timed-out task is Failed with the timed-out mark; a task of
 *           a spawn error is Errored with ENOENT; `exit 3` is Failed;
 *         - the exit code is haz_exit_code's rule (130 when cancelled);
 *         - the global cap and every tag cap were never exceeded, and no
 *           two fresh holders of one mutex overlapped unless both shared
 *           (from the observer: started to terminal event, which contains
 *           the holding);
 *         - no zombie (waitpid(-1, WNOHANG) gives ECHILD), every process
 *           group the run created is gone, the open descriptors are the
 *           same as before, nothing is left allocated in the context;
 *         - haz_cache_fs_verify finds no broken entry.
 *       At the end it prints the counts of runs, tasks and faults
 *       survived.  On a broken invariant it prints the seed and exits 1.
 *
 *   soak -S N [-s SEED]
 *       R5 scaling: one random DAG of N `true` tasks, cap 16, 30 mutexes
 *       (a third of the tasks hold one, one in four of them shared),
 *       run in a child process; prints wall time, time per task and the
 *       child's peak RSS.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "../backends/spawn_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

#define MS(x) ((uint64_t)(x) * UINT64_C(1000000))
#define FDMAX 256
#define MAXT 48
#define MAXPID 4096
#define NTAGS 3
#define NMUTEX 4

/* ------------------------------------------------------------------------
 * A small deterministic generator (xorshift64*), one stream per run.
 * ---------------------------------------------------------------------- */

static uint64_t rng;

static unsigned rnd(unsigned n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (unsigned)((rng * UINT64_C(2685821657736338717)) >> 33) % n;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------
 * The pids the spawner started (each leads its own process group),
 * through the system-call seam.
 * ---------------------------------------------------------------------- */

static long pids[MAXPID];
static size_t npids;

/* The processes alive now (spawned, not yet reaped), with their task's
 * name index (-1: unknown, on the fork path), and the checks made at each
 * start: the global cap, the tag caps, the mutexes. */
typedef struct proc {
    long pid;
    int task;
} proc;

static proc procs[MAXPID];
static size_t nprocs;
static struct soak *cur;

static void proc_start(long pid, int task);
static void proc_end(long pid);

static void note_pid(long pid, int task)
{
    if (npids < MAXPID)
        pids[npids++] = pid;
    proc_start(pid, task);
}

typedef pid_t (*fork_fn)(void);
typedef pid_t (*waitpid_fn)(pid_t, int *, int);

static pid_t seam_fork(void)
{
    pid_t p = ((fork_fn)haz__posix_syscall_default("fork"))();

    if (p > 0)
        note_pid((long)p, -1);
    return p;
}

static pid_t seam_waitpid(pid_t pid, int *st, int opt)
{
    pid_t r = ((waitpid_fn)haz__posix_syscall_default("waitpid"))(pid, st,
                                                                  opt);

    if (r > 0)
        proc_end((long)r);
    return r;
}

#ifdef HAZ_POSIX_HAVE_SPAWN
typedef int (*spawn_fn)(pid_t *, const char *,
                        const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const *,
                        char *const *);

static int seam_spawn(pid_t *pid, const char *path,
                      const posix_spawn_file_actions_t *fa,
                      const posix_spawnattr_t *at, char *const argv[],
                      char *const envp[])
{
    int r = ((spawn_fn)haz__posix_syscall_default("posix_spawn"))(
        pid, path, fa, at, argv, envp);
    int task = -1;
    size_t i;

    for (i = 0; envp != NULL && envp[i] != NULL; i++)
        if (strncmp(envp[i], "SOAK_TASK=", 10) == 0)
            task = atoi(envp[i] + 10);
    if (r == 0)
        note_pid((long)*pid, task);
    return r;
}
#endif

/* ------------------------------------------------------------------------
 * One run: the graph description, and what the observer saw.
 * ---------------------------------------------------------------------- */

enum kind { K_OK, K_FAIL, K_SLEEP, K_TIMEOUT, K_TRAP, K_SPAWNERR, K_NKINDS };

typedef struct tdesc {
    enum kind kind;
    unsigned variant;
    int deps[MAXT];             /* hard predecessors (indices by name) */
    int ndeps;
    int weak;                   /* a soft predecessor or -1 */
    unsigned tags;              /* bit t: tag "t<t>" */
    int mutex;                  /* -1 or 0..NMUTEX-1 */
    int shared;
} tdesc;

typedef struct orec {
    int started, terminal;
    unsigned long t0, t1;       /* event numbers of start and end */
    int hit;
} orec;

typedef struct soak {
    haz_ctx *ctx;
    haz_clock *clk;
    haz_cancel *cancel;
    unsigned n;
    tdesc t[MAXT];
    orec o[MAXT];               /* by canonical index */
    unsigned cap, tagcap[NTAGS];
    unsigned long seq;
    unsigned cancel_at_start;   /* cancel when this many have started; 0 */
    unsigned starts;
    unsigned nrun, tagproc[NTAGS];  /* processes alive, in all, per tag */
    unsigned excl[NMUTEX], shr[NMUTEX]; /* processes holding each mutex */
    unsigned long procs_total, unknown_procs;

    const char *why;            /* the first broken invariant */
    char why_buf[512];
    size_t canon[MAXT];         /* name index -> canonical index */
} soak;

static void broken(soak *s, const char *fmt, const char *id)
{
    if (s->why == NULL) {
        snprintf(s->why_buf, sizeof s->why_buf, fmt, id != NULL ? id : "");
        s->why = s->why_buf;
    }
}

/* Task names are "tNN" in one project, so the canonical index of a task
 * is its number. */

static void ob_started(void *ud, const haz_task_id *task)
{
    soak *s = ud;
    orec *r = &s->o[task->index];

    if (r->started++)
        broken(s, "%s started twice", task->id);
    r->t0 = ++s->seq;
    if (s->cancel_at_start != 0 && ++s->starts == s->cancel_at_start)
        haz_cancel_request(s->cancel, SIGINT);
}

static void ob_output(void *ud, const haz_task_id *task, haz_stream stream,
                      const void *data, size_t len)
{
    (void)ud;
    (void)task;
    (void)stream;
    (void)data;
    (void)len;
}

static void ob_end(void *ud, const haz_task_outcome *o)
{
    soak *s = ud;
    orec *r = &s->o[o->task.index];

    if (r->terminal++)
        broken(s, "%s has two terminal events", o->task.id);
    r->t1 = ++s->seq;
    r->hit = o->kind == HAZ_OUTCOME_COMPLETED &&
             o->source == HAZ_SOURCE_CACHE_HIT;
}

/* A process started: the caps and mutexes it needs must have room (the
 * slot and the locks are held from admission to completion, which
 * contains the process's whole life, design 2.2 and 2.12). */
static void proc_start(long pid, int task)
{
    soak *s = cur;
    unsigned k;

    if (nprocs < MAXPID) {
        procs[nprocs].pid = pid;
        procs[nprocs++].task = task;
    }
    if (s == NULL)
        return;
    s->procs_total++;
    if (++s->nrun > s->cap)
        broken(s, "more processes than the cap%s", "");
    if (task < 0 || task >= (int)s->n) {
        s->unknown_procs++;
        return;
    }
    for (k = 0; k < NTAGS; k++)
        if (((s->t[task].tags >> k) & 1u) &&
            ++s->tagproc[k] > s->tagcap[k])
            broken(s, "more processes with one tag than its cap%s", "");
    if (s->t[task].mutex >= 0) {
        int m = s->t[task].mutex;

        if (s->excl[m] > 0 || (!s->t[task].shared && s->shr[m] > 0))
            broken(s, "two holders of one mutex overlap%s", "");
        if (s->t[task].shared)
            s->shr[m]++;
        else
            s->excl[m]++;
    }
}

static void proc_end(long pid)
{
    soak *s = cur;
    size_t i;
    int task;
    unsigned k;

    for (i = 0; i < nprocs && procs[i].pid != pid; i++)
        ;
    if (i == nprocs)
        return;
    task = procs[i].task;
    procs[i] = procs[--nprocs];
    if (s == NULL)
        return;
    s->nrun--;
    if (task < 0 || task >= (int)s->n)
        return;
    for (k = 0; k < NTAGS; k++)
        if ((s->t[task].tags >> k) & 1u)
            s->tagproc[k]--;
    if (s->t[task].mutex >= 0) {
        if (s->t[task].shared)
            s->shr[s->t[task].mutex]--;
        else
            s->excl[s->t[task].mutex]--;
    }
}

static const haz_observer_methods ob_methods = {
    HAZ_OBSERVER_METHODS_VERSION, ob_started, ob_output, ob_end, ob_end,
    ob_end, ob_end, NULL
};

/* ------------------------------------------------------------------------
 * Building a random graph.
 * ---------------------------------------------------------------------- */

static const char *const host_env[] = {"PATH=/usr/bin:/bin", NULL};

static int succeeded(const haz_task_outcome *o)
{
    return o->kind == HAZ_OUTCOME_COMPLETED &&
           o->state == HAZ_STATE_SUCCEEDED;
}

static void make_desc(soak *s, unsigned maxn)
{
    unsigned i, j;

    s->n = 2 + rnd(maxn - 1);
    for (i = 0; i < s->n; i++) {
        tdesc *d = &s->t[i];
        unsigned r = rnd(100);

        memset(d, 0, sizeof *d);
        d->kind = r < 45 ? K_OK : r < 60 ? K_SLEEP : r < 72 ? K_FAIL
                : r < 80 ? K_TIMEOUT : r < 90 ? K_TRAP : K_SPAWNERR;
        d->variant = rnd(6);
        d->weak = -1;
        for (j = 0; j < i; j++)
            if (rnd(100) < 12 && d->ndeps < MAXT)
                d->deps[d->ndeps++] = (int)j;
        if (i > 0 && rnd(100) < 15) {
            int w = (int)rnd(i);

            for (j = 0; j < (unsigned)d->ndeps; j++)
                if (d->deps[j] == w)
                    w = -1;
            d->weak = w;
        }
        d->tags = rnd(8) & (rnd(2) ? 7u : 0u);
        d->mutex = rnd(100) < 35 ? (int)rnd(NMUTEX) : -1;
        d->shared = rnd(100) < 40;
    }
    s->cap = 1 + rnd(6);
    for (j = 0; j < NTAGS; j++)
        s->tagcap[j] = 1 + rnd(3);
}

static int build(soak *s, haz_graph *g)
{
    char name[16], ref[32], tag[16], mx[16], script[128];
    unsigned i;
    int j;

    for (j = 0; j < NTAGS; j++) {
        snprintf(tag, sizeof tag, "t%d", j);
        if (haz_graph_set_tag_cap(g, tag, s->tagcap[j]) != 0)
            return -1;
    }
    for (i = 0; i < s->n; i++) {
        tdesc *d = &s->t[i];
        haz_task *t = NULL;
        int rc;

        snprintf(name, sizeof name, "t%02u", i);
        if (haz_graph_add_task(g, "s", name, &t) != 0)
            return -1;
        switch (d->kind) {
        case K_OK:
            snprintf(script, sizeof script, "echo ok-%u", d->variant);
            break;
        case K_SLEEP:
            snprintf(script, sizeof script,
                     "sleep 0.0%u; echo slept-%u >&2", d->variant,
                     d->variant);
            break;
        case K_FAIL:
            snprintf(script, sizeof script, "echo fail-%u >&2; exit 3",
                     d->variant);
            break;
        case K_TIMEOUT:
            snprintf(script, sizeof script, "sleep 3; echo late-%u",
                     d->variant);
            break;
        case K_TRAP:
            snprintf(script, sizeof script,
                     "trap '' TERM; sleep 0.0%u; echo trapped-%u",
                     3 + d->variant, d->variant);
            break;
        default:
            break;
        }
        if (d->kind == K_SPAWNERR) {
            const char *argv[] = {"/nonexistent-hazexec-soak/prog", "x"};

            rc = haz_task_set_argv(t, 2, argv);
        } else {
            rc = haz_task_set_shell(t, script);
        }
        if (rc != 0)
            return -1;
        snprintf(name, sizeof name, "%u", i);
        if (haz_task_set_env(t, "SOAK_TASK", name) != 0)
            return -1;
        if (d->kind == K_TIMEOUT &&
            haz_task_set_timeout_ns(t, MS(20 + 10 * d->variant)) != 0)
            return -1;
        for (j = 0; j < d->ndeps; j++) {
            snprintf(ref, sizeof ref, "s:t%02d", d->deps[j]);
            if (haz_task_add_dep(t, ref) != 0)
                return -1;
        }
        if (d->weak >= 0) {
            snprintf(ref, sizeof ref, "s:t%02d", d->weak);
            if (haz_task_add_weak_dep(t, ref) != 0)
                return -1;
        }
        for (j = 0; j < NTAGS; j++) {
            snprintf(tag, sizeof tag, "t%d", j);
            if (((d->tags >> j) & 1u) && haz_task_add_tag(t, tag) != 0)
                return -1;
        }
        if (d->mutex >= 0) {
            snprintf(mx, sizeof mx, "m%d", d->mutex);
            if (haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE,
                                   d->shared ? HAZ_MUTEX_SHARED
                                             : HAZ_MUTEX_EXCLUSIVE,
                                   mx) != 0)
                return -1;
        }
    }
    return haz_graph_validate(g, NULL);
}

/* ------------------------------------------------------------------------
 * The invariants of one finished run.
 * ---------------------------------------------------------------------- */

typedef struct totals {
    unsigned long runs, tasks, ok, hits, failed, timeouts, errored, skipped,
        cancelled, cancels, killed, procs, unknown;
} totals;

static void check_outcomes(soak *s, const haz_run_result *res, totals *tot)
{
    unsigned i, j;
    int cancelled_run = s->cancel_at_start != 0 &&
                        haz_cancel_requested(s->cancel);
    int want_exit, any_bad = 0;

    if (haz_run_result_count(res) != s->n) {
        broken(s, "the result has the wrong task count%s", "");
        return;
    }
    for (i = 0; i < s->n; i++) {
        const haz_task_outcome *o = haz_run_result_get(res, i);
        const tdesc *d = &s->t[i];
        int preds_ok = 1;

        if (o->task.index != i) {
            broken(s, "%s: outcome out of order", o->task.id);
            continue;
        }
        if (o->kind == HAZ_OUTCOME_NONE)
            broken(s, "%s has no outcome", o->task.id);
        if (s->o[i].terminal != 1)
            broken(s, "%s: not exactly one terminal event", o->task.id);
        for (j = 0; j < (unsigned)d->ndeps; j++)
            if (!succeeded(haz_run_result_get(res, (size_t)d->deps[j])))
                preds_ok = 0;
        if ((o->kind == HAZ_OUTCOME_COMPLETED ||
             o->kind == HAZ_OUTCOME_ERRORED) && !preds_ok)
            broken(s, "%s ran though a hard predecessor did not succeed",
                   o->task.id);
        if (o->kind == HAZ_OUTCOME_SKIPPED && preds_ok)
            broken(s, "%s skipped though its predecessors succeeded",
                   o->task.id);
        if (!cancelled_run && !preds_ok && o->kind != HAZ_OUTCOME_SKIPPED)
            broken(s, "%s not skipped below a failure", o->task.id);
        if (o->kind == HAZ_OUTCOME_SKIPPED) {
            const haz_task_outcome *u;

            if (o->upstream == NULL) {
                broken(s, "%s skipped without an upstream root", o->task.id);
                continue;
            }
            u = haz_run_result_get(res, o->upstream->index);
            if (!(u->kind == HAZ_OUTCOME_ERRORED ||
                  (u->kind == HAZ_OUTCOME_COMPLETED &&
                   u->state == HAZ_STATE_FAILED)))
                broken(s, "%s skipped below a root that did not fail",
                       o->task.id);
        }
        if (o->kind == HAZ_OUTCOME_COMPLETED) {
            if (d->kind == K_TIMEOUT &&
                !(o->state == HAZ_STATE_FAILED && o->timed_out))
                broken(s, "%s: timeout not reported", o->task.id);
            if (d->kind == K_FAIL &&
                !(o->state == HAZ_STATE_FAILED &&
                  o->status.kind == HAZ_EXIT_CODE && o->status.code == 3))
                broken(s, "%s: exit 3 not reported", o->task.id);
            if ((d->kind == K_OK || d->kind == K_SLEEP ||
                 d->kind == K_TRAP) && o->state != HAZ_STATE_SUCCEEDED)
                broken(s, "%s: a sound task did not succeed", o->task.id);
            if (d->kind == K_SPAWNERR)
                broken(s, "%s: a spawn error completed", o->task.id);
        }
        if (o->kind == HAZ_OUTCOME_ERRORED &&
            !(d->kind == K_SPAWNERR && o->error == HAZ_TERR_SPAWN &&
              o->os_errno == ENOENT))
            broken(s, "%s: an unexpected executor error", o->task.id);
        if (o->kind == HAZ_OUTCOME_CANCELLED && !cancelled_run)
            broken(s, "%s cancelled without a cancellation", o->task.id);
        if (o->kind == HAZ_OUTCOME_ERRORED ||
            (o->kind == HAZ_OUTCOME_COMPLETED &&
             o->state == HAZ_STATE_FAILED))
            any_bad = 1;
        tot->tasks++;
        switch (o->kind) {
        case HAZ_OUTCOME_COMPLETED:
            if (o->state == HAZ_STATE_SUCCEEDED) {
                tot->ok++;
                tot->hits += o->source == HAZ_SOURCE_CACHE_HIT;
            } else {
                tot->failed++;
                tot->timeouts += o->timed_out != 0;
            }
            break;
        case HAZ_OUTCOME_ERRORED: tot->errored++; break;
        case HAZ_OUTCOME_SKIPPED: tot->skipped++; break;
        case HAZ_OUTCOME_CANCELLED:
            tot->cancelled++;
            tot->killed += o->cancel_kind == HAZ_CANCEL_SIGNALED_IN_FLIGHT;
            break;
        default: break;
        }
    }
    want_exit = cancelled_run ? 128 + SIGINT : any_bad ? 1 : 0;
    if (haz_exit_code(res, haz_run_result_cancel_signal(res)) != want_exit)
        broken(s, "the exit code is wrong%s", "");
    if (s->nrun != 0)
        broken(s, "a process was never reaped%s", "");
}

static int subreaper;

/* Wait until process group pgid is gone.  Its leader is reaped by the
 * spawner; grandchildren killed with it are orphans, which come back to
 * this process when it is a subreaper and are reaped here by group (else
 * init reaps them, on its own schedule). */
static int group_gone(long pgid)
{
    uint64_t end = mono_ns() + MS(10000);
    struct timespec ms = {0, 1000000L};
    int st;

    for (;;) {
        while (subreaper && waitpid(-(pid_t)pgid, &st, WNOHANG) > 0)
            ;
        if (kill(-(pid_t)pgid, 0) == -1 && errno == ESRCH)
            break;
        if (mono_ns() > end)
            return 0;
        nanosleep(&ms, NULL);
    }
    return 1;
}

static void fd_snapshot(unsigned char *fds)
{
    int fd;

    for (fd = 0; fd < FDMAX; fd++)
        fds[fd] = fcntl(fd, F_GETFD) != -1;
}

/* One run with seed `seed` in workspace `dir`.  0, or -1 with s->why. */
static int one_run(soak *s, const char *dir, unsigned maxn, totals *tot)
{
    unsigned char before[FDMAX], after[FDMAX];
    haz_spawner_config sc;
    haz_cache_store_config cc;
    haz_run_options ro;
    haz_run_config cfg;
    haz_observer obs;
    haz_spawner *sp = NULL;
    haz_cache_store *cache = NULL;
    haz_graph *g = NULL;
    haz_run_result *res = NULL;
    haz_cache_stats st;
    char cache_dir[4200];
    size_t i;
    int rc, status;
    uint64_t t0;

    fd_snapshot(before);
    memset(s->o, 0, sizeof s->o);
    s->nrun = 0;
    memset(s->tagproc, 0, sizeof s->tagproc);
    memset(s->excl, 0, sizeof s->excl);
    memset(s->shr, 0, sizeof s->shr);
    nprocs = 0;
    s->seq = 0;
    s->starts = 0;
    s->why = NULL;
    npids = 0;
    make_desc(s, maxn);
    s->cancel_at_start = rnd(100) < 20 ? 1 + rnd(s->n) : 0;
    if (haz_cancel_new(s->ctx, &s->cancel) != 0 ||
        haz_graph_new(s->ctx, &g) != 0 || build(s, g) != 0) {
        broken(s, "cannot build the graph: %s", haz_ctx_errmsg(s->ctx));
        goto out;
    }
    memset(&sc, 0, sizeof sc);
    sc.version = 1;
    sc.clock = s->clk;
    memset(&cc, 0, sizeof cc);
    cc.version = 1;
    cc.workspace_root = dir;
    cc.hash = &haz_hash_sha256;
    cc.clock = s->clk;
    if (haz_spawner_open(s->ctx, &haz_spawner_posix, &sc, &sp) != 0 ||
        haz_cache_store_open(s->ctx, &haz_cache_store_fs, &cc, &cache)
        != 0) {
        broken(s, "cannot open the spawner or the cache: %s",
               haz_ctx_errmsg(s->ctx));
        goto out;
    }
    haz_run_options_init(&ro);
    ro.concurrency = s->cap;
    ro.cancel_grace_ns = MS(30);
    ro.workspace_root = dir;
    ro.host_env = host_env;
    obs.methods = &ob_methods;
    obs.ud = s;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = g;
    cfg.spawner = sp;
    cfg.clock = s->clk;
    cfg.cache = cache;
    cfg.observer = &obs;
    cfg.cancel = s->cancel;
    cfg.options = &ro;
    t0 = haz_clock_now_ns(s->clk);
    rc = haz_run(s->ctx, &cfg, &res);
    if (rc != 0) {
        broken(s, "haz_run failed: %s", haz_ctx_errmsg(s->ctx));
        goto out;
    }
    check_outcomes(s, res, tot);
    if (getenv("SOAK_DEBUG") != NULL)
        for (i = 0; i < s->n; i++) {
            const haz_task_outcome *o = haz_run_result_get(res, i);

            fprintf(stderr, "%s kind %d/%d %.3f..%.3f s\n", o->task.id,
                    (int)s->t[i].kind, (int)o->kind,
                    o->start_ns ? (double)(o->start_ns - t0) / 1e9 : 0.0,
                    (double)(o->end_ns - t0) / 1e9);
        }
    tot->cancels += s->cancel_at_start != 0 &&
                    haz_cancel_requested(s->cancel);
    /* No process group left (orphans reaped), then no child at all. */
    for (i = 0; i < npids; i++)
        if (!group_gone(pids[i]))
            broken(s, "a process group of the run is left%s", "");
    if (!(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD))
        broken(s, "a child of the run is left%s", "");
    snprintf(cache_dir, sizeof cache_dir, "%s/.haz/cache", dir);
    memset(&st, 0, sizeof st);
    if (haz_cache_fs_verify(s->ctx, cache_dir, &haz_hash_sha256, &st) != 0 ||
        st.broken != 0)
        broken(s, "the cache does not verify: %s", haz_ctx_errmsg(s->ctx));
out:
    haz_run_result_free(res);
    haz_cache_store_close(cache);
    haz_spawner_close(sp);
    haz_graph_free(g);
    haz_cancel_free(s->cancel);
    s->cancel = NULL;
    fd_snapshot(after);
    if (memcmp(before, after, sizeof before) != 0)
        broken(s, "the open descriptors changed%s", "");
    tot->runs++;
    tot->procs += s->procs_total;
    tot->unknown += s->unknown_procs;
    s->procs_total = s->unknown_procs = 0;
    return s->why == NULL ? 0 : -1;
}

/* ------------------------------------------------------------------------
 * The counting allocator: nothing may stay allocated between runs.
 * ---------------------------------------------------------------------- */

static long live_blocks;

static void *m_malloc(size_t n, void *ud)
{
    void *p = malloc(n);

    (void)ud;
    live_blocks += p != NULL;
    return p;
}

static void *m_calloc(size_t k, size_t n, void *ud)
{
    void *p = calloc(k, n);

    (void)ud;
    live_blocks += p != NULL;
    return p;
}

static void *m_realloc(void *p, size_t n, void *ud)
{
    void *q = realloc(p, n);

    (void)ud;
    if (p == NULL && q != NULL)
        live_blocks++;
    if (p != NULL && n == 0 && q == NULL)
        live_blocks--;
    return q;
}

static void m_free(void *p, void *ud)
{
    (void)ud;
    live_blocks -= p != NULL;
    free(p);
}

static int rm_tree(const char *path)
{
    char cmd[4300];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------------
 * R5 scaling: N `true` tasks, cap 16, 30 mutexes, in a child process.
 * ---------------------------------------------------------------------- */

static int scale_child(unsigned n, uint64_t seed)
{
    haz_ctx *ctx = NULL;
    haz_clock *clk = NULL;
    haz_spawner *sp = NULL;
    haz_graph *g = NULL;
    haz_run_result *res = NULL;
    haz_spawner_config sc;
    haz_run_options ro;
    haz_run_config cfg;
    struct rusage ru;
    char name[16], ref[32], mx[8], dir[] = "/tmp/haz-soak-scale-XXXXXX";
    const char *argv[] = {"true"};
    uint64_t t0, t1;
    unsigned i, ok = 0;

    rng = seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
    if (mkdtemp(dir) == NULL || haz_ctx_new(&ctx, NULL) != 0 ||
        haz_clock_open(ctx, &haz_clock_posix, NULL, &clk) != 0 ||
        haz_graph_new(ctx, &g) != 0)
        return 1;
    for (i = 0; i < n; i++) {
        haz_task *t = NULL;

        snprintf(name, sizeof name, "t%05u", i);
        if (haz_graph_add_task(g, "s", name, &t) != 0 ||
            haz_task_set_argv(t, 1, argv) != 0)
            return 1;
        if (i > 0 && rnd(4) != 0) {
            /* one or two hard predecessors among the 64 before */
            unsigned d1 = i - 1 - rnd(i < 64 ? i : 64);
            unsigned d2 = i - 1 - rnd(i < 64 ? i : 64);

            snprintf(ref, sizeof ref, "s:t%05u", d1);
            if (haz_task_add_dep(t, ref) != 0)
                return 1;
            snprintf(ref, sizeof ref, "s:t%05u", d2);
            if (d2 != d1 && rnd(2) && haz_task_add_dep(t, ref) != 0)
                return 1;
        }
        if (rnd(3) == 0) {
            snprintf(mx, sizeof mx, "m%u", rnd(30));
            if (haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE,
                                   rnd(4) == 0 ? HAZ_MUTEX_SHARED
                                               : HAZ_MUTEX_EXCLUSIVE,
                                   mx) != 0)
                return 1;
        }
    }
    if (haz_graph_validate(g, NULL) != 0)
        return 1;
    memset(&sc, 0, sizeof sc);
    sc.version = 1;
    sc.clock = clk;
    if (haz_spawner_open(ctx, &haz_spawner_posix, &sc, &sp) != 0)
        return 1;
    haz_run_options_init(&ro);
    ro.concurrency = 16;
    ro.workspace_root = dir;
    ro.host_env = host_env;
    ro.no_cache = 1;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = g;
    cfg.spawner = sp;
    cfg.clock = clk;
    cfg.options = &ro;
    t0 = mono_ns();
    if (haz_run(ctx, &cfg, &res) != 0)
        return 1;
    t1 = mono_ns();
    for (i = 0; i < n; i++)
        ok += succeeded(haz_run_result_get(res, i));
    (void)getrusage(RUSAGE_SELF, &ru);
    printf("scale: %u tasks (%u succeeded), cap 16, 30 mutexes: "
           "%.3f s, %.1f us per task, peak RSS %ld KiB\n", n, ok,
           (double)(t1 - t0) / 1e9, (double)(t1 - t0) / 1e3 / n,
           (long)ru.ru_maxrss);
    fflush(stdout);
    haz_run_result_free(res);
    haz_spawner_close(sp);
    haz_graph_free(g);
    haz_clock_close(clk);
    haz_ctx_free(ctx);
    (void)rmdir(dir);
    return ok == n ? 0 : 1;
}

static int scale(unsigned n, uint64_t seed)
{
    int st;
    pid_t p;

    fflush(stdout);
    p = fork();
    if (p < 0)
        return 1;
    if (p == 0)
        _exit(scale_child(n, seed));
    while (waitpid(p, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* ------------------------------------------------------------------------
 * main
 * ---------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: soak [-t SECONDS] [-s SEED] [-n MAXTASKS] "
            "[-v]\n       soak -S NTASKS [-s SEED]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    haz_mem mem;
    soak s;
    totals tot;
    uint64_t seed = (uint64_t)time(NULL), k, t_end;
    double secs = 60;
    unsigned maxn = 40, scale_n = 0;
    int i, verbose = 0, fails = 0;
    char dir[] = "/tmp/haz-soak-XXXXXX", real[4096];

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
            secs = atof(argv[++i]);
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            maxn = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "-S") == 0 && i + 1 < argc)
            scale_n = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else
            usage();
    }
    if (scale_n > 0)
        return scale(scale_n, seed);
#if defined(__linux__) && defined(PR_SET_CHILD_SUBREAPER)
    subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
#endif
    if (maxn < 2 || maxn > MAXT)
        usage();
    mem.malloc_fn = m_malloc;
    mem.calloc_fn = m_calloc;
    mem.realloc_fn = m_realloc;
    mem.free_fn = m_free;
    mem.ud = NULL;
    memset(&s, 0, sizeof s);
    cur = &s;
    if (mkdtemp(dir) == NULL || realpath(dir, real) == NULL ||
        haz_ctx_new(&s.ctx, &mem) != 0 ||
        haz_clock_open(s.ctx, &haz_clock_posix, NULL, &s.clk) != 0) {
        perror("soak: setup");
        return 1;
    }
    haz__posix_syscall_set("fork", (haz__posix_syscall_fn)seam_fork);
    haz__posix_syscall_set("waitpid", (haz__posix_syscall_fn)seam_waitpid);
#ifdef HAZ_POSIX_HAVE_SPAWN
    haz__posix_syscall_set("posix_spawn", (haz__posix_syscall_fn)seam_spawn);
#endif
    memset(&tot, 0, sizeof tot);
    printf("soak: seed %llu, %.0f s, up to %u tasks per graph, in %s\n",
           (unsigned long long)seed, secs, maxn, real);
    fflush(stdout);
    t_end = mono_ns() + (uint64_t)(secs * 1e9);
    for (k = 0;; k++) {
        long live0 = live_blocks;
        uint64_t t_run = mono_ns();

        rng = (seed + k) * UINT64_C(0x9e3779b97f4a7c15) + 1;
        if (one_run(&s, real, maxn, &tot) != 0 ||
            (live_blocks != live0 && (s.why = "memory left allocated")
             != NULL)) {
            printf("soak: FAILED at run %llu, seed %llu (replay: soak -s "
                   "%llu -t 0 -n %u): %s\n", (unsigned long long)k,
                   (unsigned long long)(seed + k),
                   (unsigned long long)(seed + k), maxn, s.why);
            fails = 1;
            break;
        }
        if (verbose)
            printf("run %llu ok: %u tasks, %.3f s\n", (unsigned long long)k,
                   s.n, (double)(mono_ns() - t_run) / 1e9);
        if (mono_ns() >= t_end)
            break;
    }
    haz__posix_syscall_set("fork", NULL);
    haz__posix_syscall_set("waitpid", NULL);
    haz__posix_syscall_set("posix_spawn", NULL);
    printf("soak: %lu runs, %lu tasks, %lu processes (%lu checked against "
           "the tag caps and mutexes): %lu succeeded (%lu cache hits), "
           "%lu failed (%lu timeouts), %lu spawn errors, %lu skipped, "
           "%lu cancelled (%lu signalled in flight) in %lu cancelled runs; "
           "%s\n", tot.runs, tot.tasks, tot.procs, tot.procs - tot.unknown,
           tot.ok, tot.hits, tot.failed,
           tot.timeouts, tot.errored, tot.skipped, tot.cancelled, tot.killed,
           tot.cancels, fails ? "FAILED" : "every invariant held");
    haz_clock_close(s.clk);
    haz_ctx_free(s.ctx);
    (void)rm_tree(real);
    return fails;
}
