/*
 * lib/sched.c: the scheduler, haz_run().
 *
 * One single-threaded event loop owns all state (design section 1).  Each
 * pass of the loop:
 *   1. notices cancellation: the caller's token (EXEC-012; each request is
 *      acknowledged, haz_cancel_ack) or the internal one tripped by a
 *      runtime cycle (design 2.8).  Once cancelling, it SIGTERMs every
 *      running child (EXEC-013 step 2) and, on every pass, drains the ready
 *      set as RunCancelled (EXEC-013 step 1); a further request on the
 *      token escalates: every running child is SIGKILLed at once;
 *   2. otherwise, when something changed that can let a task start, runs
 *      an admission round: ready tasks in canonical order, every one that
 *      fits the global and tag caps is admitted (EXEC-004/005, design 2.4
 *      and 2.12), announced once (on_task_started), looked up in the cache
 *      first (EXEC-007; without a cache every lookup misses), then given
 *      all its mutexes at once or parked (MUTEX-001..007, design 2.2/2.3),
 *      then spawned (design 2.14);
 *   3. blocks in the spawner's wait() until output, an exit, a timer
 *      (timeout, design 2.10; SIGKILL after the grace period, EXEC-014) or
 *      the cancel token;
 *   4. handles what came back: output goes to the observer and the stream
 *      hashes (design 2.6); an exit completes its task (EXEC-009): mutexes
 *      and slots are released, then successors are promoted, or the
 *      failure is cascaded to the hard descendants with the root named
 *      (EXEC-010/011); a success is checked for output overlap (EXEC-020)
 *      and runtime cycles (EXEC-019); then timers that fell due fire.
 * The loop ends when nothing runs and nothing more can be admitted; every
 * task of the run then has exactly one outcome.
 *
 * Behaviours decided here (the references leave them open):
 *   - Writer preference (design 2.2) is tracked per key: an exclusive
 *     request that is refused because the key has holders registers as a
 *     waiter on that key, and a shared request yields to a registered
 *     waiter.  The registration is refreshed each time the task competes
 *     (kept only while the key still has holders) and withdrawn when it
 *     acquires, is drained or skipped; a withdrawal re-queues the parked
 *     tasks, as a release does.  Registering regardless of holders could
 *     deadlock: two tasks each wanting one key shared and the other's key
 *     exclusive would wait for each other with nothing held.
 *   - Signals to several children at one instant go in canonical order.
 *     Drained tasks are taken in canonical order, each followed by its own
 *     cascade (also in canonical order).
 *   - Timers fire only after a wait(): what the spawner reports at the
 *     instant a timeout or grace period ends is handled first.  A child
 *     that exits exactly at its timeout is not timed out; a child that
 *     exits during (or at the end of) the grace period is never SIGKILLed;
 *     with cancel_grace 0, SIGKILL follows SIGTERM at the same instant
 *     only for a child that did not die at once.
 *   - A task whose timeout already sent SIGTERM when the run is cancelled
 *     keeps its timeout outcome (Completed, Failed, timed out).
 *   - Cancellation (either token) is noticed at the top of the loop, so the
 *     events of the batch being handled are settled first: a child whose
 *     exit arrived in that batch keeps its normal outcome.
 *   - Every request is acknowledged when noticed (haz_cancel_ack), so
 *     wait() keeps blocking while cancelling and wakes at once for a
 *     further request, which escalates.  Two requests seen at once both
 *     start the flow and escalate: SIGTERM then SIGKILL at one instant.
 *   - The result records the caller's signal (haz_run_result_cancel_signal)
 *     only if the caller's token was seen during the run; the internal
 *     cancellation of a runtime cycle records none.
 *   - A runtime cycle: cycle members still waiting end Skipped(RuntimeCycle)
 *     in canonical order; the hard descendants of those members can never
 *     run and end Cancelled(RunCancelled) at once, like the rest of the
 *     ready set drained by the internal cancellation.  Producer edges go to
 *     every task of the run whose input patterns match a materialised
 *     path; the path search follows hard, soft and producer edges between
 *     tasks of the run.
 *   - After an output overlap, tasks never admitted end
 *     Skipped(AdmissionClosed) when the run ends, in canonical order
 *     (unless a failure or cancellation cascade reached them first).
 *   - A spawn refused with HAZ_ELIMIT while children of this run are
 *     running puts the task back into the ready set until one of them
 *     exits; with none running it is a spawn error.
 *
 * The file is divided into: state and helpers; the ready heap; caps and
 * mutexes; outcomes and cascades; spawning and admission; completion and
 * the runtime invariants; cancellation and timers; setup; the loop and
 * haz_run().
 */
#include "internal.h"
#include "cachekey.h"
#include "filestat.h"
#include "graph_private.h"
#include "pattern.h"
#include "result.h"
#include "strmap.h"
#include "walk.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------
 * State.
 * ---------------------------------------------------------------------- */

enum tstate {
    T_OUT = 0,       /* not part of the run */
    T_WAITING,       /* predecessors pending */
    T_READY,         /* in the ready heap */
    T_PARKED,        /* rejected by the mutex check, waiting for a release */
    T_RUNNING,       /* admitted: its process is (being) started */
    T_DONE           /* has its outcome */
};

typedef struct stask {
    const haz__gtask *gt;    /* the frozen task */
    const haz_task_info *info; /* &gt->info */
    size_t pos;              /* index in the result */
    enum tstate state;
    size_t pend_hard;        /* hard predecessors not yet succeeded */
    size_t pend_soft;        /* soft predecessors in the run not terminal */
    uint64_t timeout_ns;     /* own or the run's default; 0: none */
    unsigned started : 1;    /* on_task_started fired */
    unsigned term_sent : 1;  /* SIGTERM sent (cancellation or timeout) */
    unsigned kill_sent : 1;
    unsigned timed_out : 1;
    unsigned cancel_sent : 1; /* signalled because of cancellation */
    unsigned char *reg;      /* per mutex: registered exclusive waiter */
    haz_child child;
    uint64_t timeout_at;     /* 0: none */
    uint64_t kill_at;        /* valid when term_sent */
    void *hs_out;            /* stream hash states while running, from */
    void *hs_err;            /* the running slots' pool */
    unsigned out_fed : 1;    /* bytes went into hs_out (else the digest */
    unsigned err_fed : 1;    /* of the empty stream is copied) */
    size_t *redges;          /* producer edges found at run time (EXEC-019):
                                to the consumers of what it materialised */
    size_t n_redges;
    size_t *rin;             /* the same edges seen from the consumer */
    size_t n_rin;
    size_t cap_rin;
    unsigned looked_up : 1;  /* the cache lookup was done (a parked task
                                keeps its result, design 2.3) */
    haz__input_set inputs;   /* what the key was derived from */
    haz_buf out;             /* captured streams, for the cache store */
    haz_buf err;
} stask;

typedef struct slock {
    size_t shared;           /* shared holders */
    size_t excl;             /* exclusive holders (0 or 1) */
    size_t excl_waiting;     /* registered exclusive waiters */
} slock;

/* A literal input path of some task: the chain of its consumers. */
typedef struct sinput {
    size_t task;
    size_t next;             /* SIZE_MAX ends the chain */
} sinput;

typedef struct sched {
    haz_ctx *ctx;
    const haz_run_config *cfg;
    haz_run_options opt;
    char *root;              /* workspace root, no trailing '/' but "/" */
    const haz_graph *g;
    const haz_hash_methods *hash;
    haz_observer obs;
    haz_run_result *res;
    size_t n;                /* tasks in the graph */
    stask *t;                /* n entries */
    size_t n_run;            /* tasks in the run */
    /* the ready set of graph indices (canonical order = index order): a
     * bitmap, a summary bit per word of it, and a lower bound on the
     * summary words that have a bit set */
    uint64_t *ready;
    uint64_t *ready_sum;
    size_t ready_lo;
    size_t n_heap;           /* bits set in `ready` */
    /* parked tasks */
    size_t *parked;
    size_t n_parked;
    /* running tasks */
    size_t *running;
    size_t n_running;
    /* caps */
    unsigned global_cap;
    unsigned *tag_cap;       /* per capped tag */
    unsigned *tag_used;
    size_t max_children;     /* spawner limit, 0: none */
    int spawner_full;        /* HAZ_ELIMIT seen; cleared by an exit */
    /* locks */
    slock *lk;
    size_t n_lk;
    unsigned char *regpool;  /* stask.reg point into it */
    /* flags */
    int dirty;               /* something changed: run an admission round */
    int caller_cancel;       /* the caller's token was seen */
    int seen_requests;       /* requests on the caller's token handled */
    int escalated;           /* a further request killed everything */
    int internal_cancel;     /* a runtime cycle asks to cancel */
    int cancelling;          /* grace-then-kill flow and drain are active */
    int gate_closed;         /* admission closed by an invariant violation */
    int fatal;               /* a fatal error code, 0 if none */
    size_t n_done;           /* tasks of the run with their outcome */
    int timed;               /* some task of the run has a timeout */
    /* runtime invariants */
    haz_strmap claims;       /* output path -> first claimant (EXEC-020) */
    haz_strmap lit_in;       /* literal input path -> first sinput */
    sinput *inputs;
    size_t n_inputs;
    size_t *glob_in;         /* tasks with a glob input */
    size_t n_glob_in;
    int any_inputs;          /* some task of the run declares inputs */
    /* scratch, n entries each */
    size_t *scratch;         /* cascades, path search */
    size_t *prev;            /* path search */
    size_t *blocked;         /* admission round: set aside */
    size_t *cons;            /* consumers of a completion */
    unsigned char *mark;     /* cascades, path search */
    unsigned char *mark2;    /* consumers */
    void *hs;                /* hash states, a pair per running slot */
    size_t hs_stride;        /* bytes per state */
    size_t *hs_free;         /* free pairs, a stack */
    size_t n_hs_free;
    unsigned char empty_digest[HAZ_HASH_MAX_DIGEST]; /* of no byte */
    haz_spawn_event *ev;
    size_t ev_cap;
    /* the cache (EXEC-007, design 2.15/2.16) */
    haz_cache_store *store;  /* NULL: every lookup misses, nothing stored */
    haz__filestat *fsrec;    /* input-hash record, may be NULL */
    int64_t created_at;      /* timestamp of entries stored by this run */
} sched;

#define SCHED_EVENTS 64

static uint64_t now_ns(sched *s)
{
    return haz_clock_now_ns(s->cfg->clock);
}

static void alloc_fail(sched *s)
{
    if (s->fatal == 0)
        s->fatal = HAZ_ENOMEM;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------------------
 * The ready set ("heap"): taken smallest index first.  A bitmap with a
 * summary word per 4096 tasks rather than a binary heap: inserting is O(1)
 * and taking the smallest scans a few summary words from a lower bound, so
 * the cost per task does not grow with the graph (a heap's sift-down
 * touches log2(n) cache lines of an 8-byte-per-task array).  A task
 * decided while in the set leaves a stale bit, dropped when taken.
 * ---------------------------------------------------------------------- */

/* The index of the lowest set bit of x (x != 0). */
static unsigned lowest_bit(uint64_t x)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll((unsigned long long)x);
#else
    unsigned n = 0;

    if ((x & UINT64_C(0xffffffff)) == 0) {
        n += 32;
        x >>= 32;
    }
    if ((x & 0xffff) == 0) {
        n += 16;
        x >>= 16;
    }
    if ((x & 0xff) == 0) {
        n += 8;
        x >>= 8;
    }
    if ((x & 0xf) == 0) {
        n += 4;
        x >>= 4;
    }
    if ((x & 0x3) == 0) {
        n += 2;
        x >>= 2;
    }
    return n + ((x & 1) == 0);
#endif
}

static void heap_insert(sched *s, size_t i)
{
    size_t w = i / 64;
    uint64_t b = (uint64_t)1 << (i % 64);

    if ((s->ready[w] & b) == 0) {
        s->ready[w] |= b;
        s->ready_sum[w / 64] |= (uint64_t)1 << (w % 64);
        if (w / 64 < s->ready_lo)
            s->ready_lo = w / 64;
        s->n_heap++;
    }
    s->t[i].state = T_READY;
}

/* A task becomes ready: the next admission round must look at it. */
static void heap_push(sched *s, size_t i)
{
    heap_insert(s, i);
    s->dirty = 1;
}

/* The smallest index in the set (which is not empty), taken out. */
static size_t heap_pop(sched *s)
{
    size_t sw = s->ready_lo, w;

    while (s->ready_sum[sw] == 0)
        sw++;
    s->ready_lo = sw;
    w = sw * 64 + lowest_bit(s->ready_sum[sw]);
    s->n_heap--;
    {
        size_t i = w * 64 + lowest_bit(s->ready[w]);

        s->ready[w] &= s->ready[w] - 1;
        if (s->ready[w] == 0)
            s->ready_sum[sw] &= ~((uint64_t)1 << (w % 64));
        return i;
    }
}

static void make_ready_if_free(sched *s, size_t i)
{
    stask *t = &s->t[i];

    if (t->state == T_WAITING && t->pend_hard == 0 && t->pend_soft == 0)
        heap_push(s, i);
}

/* ------------------------------------------------------------------------
 * Caps (EXEC-004/005, design 2.12) and mutexes (design 2.2).
 * ---------------------------------------------------------------------- */

static int global_full(const sched *s)
{
    if (s->n_running >= s->global_cap || s->spawner_full)
        return 1;
    return s->max_children != 0 && s->n_running >= s->max_children;
}

/* A task needs room in every capped tag it carries. */
static int tags_fit(const sched *s, const stask *t)
{
    size_t k;

    for (k = 0; k < t->gt->n_caps; k++)
        if (s->tag_used[t->gt->caps[k]] >= s->tag_cap[t->gt->caps[k]])
            return 0;
    return 1;
}

static void slot_take(sched *s, const stask *t)
{
    size_t k;

    for (k = 0; k < t->gt->n_caps; k++)
        s->tag_used[t->gt->caps[k]]++;
}

static void slot_release(sched *s, const stask *t)
{
    size_t k;

    for (k = 0; k < t->gt->n_caps; k++)
        s->tag_used[t->gt->caps[k]]--;
    if (t->gt->n_caps > 0)
        s->dirty = 1;
}

static int is_excl(const stask *t, size_t k)
{
    return t->info->mutexes[k].mode == HAZ_MUTEX_EXCLUSIVE;
}

/* Every parked task competes again, in canonical order (design 2.3). */
static void requeue_parked(sched *s)
{
    size_t k;

    for (k = 0; k < s->n_parked; k++)
        heap_push(s, s->parked[k]);
    s->n_parked = 0;
}

/* Withdraw the task's waiter registrations; 1 if it had any. */
static int locks_withdraw(sched *s, stask *t)
{
    size_t k;
    int any = 0;

    for (k = 0; k < t->info->n_mutexes; k++) {
        if (t->reg[k]) {
            t->reg[k] = 0;
            s->lk[t->gt->locks[k]].excl_waiting--;
            any = 1;
        }
    }
    return any;
}

/*
 * The mutex check of EXEC-007 step 3 (MUTEX-003/005, design 2.2): an
 * exclusive request conflicts with any holder; a shared one with an
 * exclusive holder or a registered exclusive waiter (writer preference).
 * All or nothing: on success every mutex is taken and 1 returned.  On a
 * conflict nothing is taken, the task's registrations are refreshed (see
 * the top of the file) and 0 is returned.
 */
static int locks_try(sched *s, stask *t)
{
    size_t k;
    int conflict = 0, withdrew = 0;

    for (k = 0; k < t->info->n_mutexes && !conflict; k++) {
        const slock *l = &s->lk[t->gt->locks[k]];

        if (is_excl(t, k))
            conflict = l->shared > 0 || l->excl > 0;
        else
            conflict = l->excl > 0 || l->excl_waiting > 0;
    }
    if (!conflict) {
        (void)locks_withdraw(s, t);
        for (k = 0; k < t->info->n_mutexes; k++) {
            if (is_excl(t, k))
                s->lk[t->gt->locks[k]].excl++;
            else
                s->lk[t->gt->locks[k]].shared++;
        }
        return 1;
    }
    for (k = 0; k < t->info->n_mutexes; k++) {
        slock *l = &s->lk[t->gt->locks[k]];
        int held = l->shared > 0 || l->excl > 0;

        if (!is_excl(t, k))
            continue;
        if (t->reg[k] && !held) {
            t->reg[k] = 0;
            l->excl_waiting--;
            withdrew = 1;
        } else if (!t->reg[k] && held) {
            t->reg[k] = 1;
            l->excl_waiting++;
        }
    }
    if (withdrew)
        requeue_parked(s);
    return 0;
}

/* Give the mutexes back.  `requeue`: other tasks may have seen them held,
 * so the parked tasks compete again (MUTEX-006, design 2.3). */
static void locks_release(sched *s, const stask *t, int requeue)
{
    size_t k;

    if (t->info->n_mutexes == 0)
        return;
    for (k = 0; k < t->info->n_mutexes; k++) {
        if (is_excl(t, k))
            s->lk[t->gt->locks[k]].excl--;
        else
            s->lk[t->gt->locks[k]].shared--;
    }
    if (requeue)
        requeue_parked(s);
}

static void unpark(sched *s, size_t i)
{
    size_t k, w;

    for (k = 0, w = 0; k < s->n_parked; k++)
        if (s->parked[k] != i)
            s->parked[w++] = s->parked[k];
    s->n_parked = w;
}

/* ------------------------------------------------------------------------
 * Outcomes and cascades.
 * ---------------------------------------------------------------------- */

static haz_task_outcome *outcome_of(sched *s, size_t i)
{
    return &s->res->outcomes[s->t[i].pos];
}

static const haz_task_id *id_of(sched *s, size_t i)
{
    return &s->res->ids[s->t[i].pos];
}

#define OBS_CALL(s, slot, ...)                                              \
    do {                                                                    \
        if ((s)->obs.methods != NULL && (s)->obs.methods->slot != NULL)     \
            (s)->obs.methods->slot((s)->obs.ud, __VA_ARGS__);               \
    } while (0)

/* The task has its outcome. */
static void settle(sched *s, size_t i)
{
    s->t[i].state = T_DONE;
    s->n_done++;
    outcome_of(s, i)->end_ns = now_ns(s);
}

/* Release the soft successors of a decided task (design 2.1: any terminal
 * outcome releases them). */
static void release_soft(sched *s, size_t i)
{
    const stask *t = &s->t[i];
    size_t k;

    for (k = 0; k < t->info->n_weak_dependents; k++) {
        size_t d = t->info->weak_dependents[k];

        if (s->t[d].state == T_WAITING) {
            s->t[d].pend_soft--;
            make_ready_if_free(s, d);
        }
    }
}

/*
 * Give every undecided hard descendant of `root` the outcome `kind`
 * (SKIPPED or CANCELLED) with the given cause and `upstream` (EXEC-011:
 * the root, never an intermediate task), firing the observer for each in
 * canonical order (design 2.7).  Undecided hard descendants are always
 * waiting: none of them can have had all its hard predecessors succeed.
 */
static void cascade(sched *s, size_t root, haz_outcome_kind kind, int cause,
                    const haz_task_id *upstream)
{
    size_t head = 0, tail = 0, k;

    s->scratch[tail++] = root;
    s->mark[root] = 1;
    while (head < tail) {
        const stask *t = &s->t[s->scratch[head++]];

        for (k = 0; k < t->info->n_dependents; k++) {
            size_t d = t->info->dependents[k];

            if (s->mark[d] || s->t[d].state != T_WAITING)
                continue;
            s->mark[d] = 1;
            s->scratch[tail++] = d;
        }
    }
    for (k = 0; k < tail; k++)
        s->mark[s->scratch[k]] = 0;
    if (tail == 1)
        return;
    /* The root stays first; the rest in canonical order. */
    qsort(s->scratch + 1, tail - 1, sizeof(size_t), cmp_size);
    for (k = 1; k < tail; k++) {
        size_t d = s->scratch[k];
        haz_task_outcome *o = outcome_of(s, d);

        o->kind = kind;
        o->upstream = upstream;
        settle(s, d);
        if (kind == HAZ_OUTCOME_SKIPPED) {
            o->skip_cause = (haz_skip_cause)cause;
            OBS_CALL(s, on_task_skipped, o);
        } else {
            o->cancel_kind = (haz_cancel_kind)cause;
            OBS_CALL(s, on_task_cancelled, o);
        }
    }
    /* Soft successors are released once every event was emitted. */
    for (k = 1; k < tail; k++)
        release_soft(s, s->scratch[k]);
}

static void emit_errored(sched *s, size_t i, haz_task_error kind, int os_errno,
                         const char *msg)
{
    haz_task_outcome *o = outcome_of(s, i);
    char *m = haz__run_result_strdup(s->res, msg);

    if (m == NULL)
        alloc_fail(s);
    o->kind = HAZ_OUTCOME_ERRORED;
    o->error = kind;
    o->os_errno = os_errno;
    o->message = m != NULL ? m : "out of memory while recording the error";
    settle(s, i);
    OBS_CALL(s, on_task_errored, o);
    cascade(s, i, HAZ_OUTCOME_SKIPPED, HAZ_SKIP_UPSTREAM_ERRORED, id_of(s, i));
    release_soft(s, i);
}

/* A task that never started its process ends RunCancelled (EXEC-013 step
 * 1); its hard descendants end UpstreamCancelled naming it. */
static void emit_run_cancelled(sched *s, size_t i)
{
    haz_task_outcome *o = outcome_of(s, i);

    o->kind = HAZ_OUTCOME_CANCELLED;
    o->cancel_kind = HAZ_CANCEL_RUN_CANCELLED;
    settle(s, i);
    OBS_CALL(s, on_task_cancelled, o);
    cascade(s, i, HAZ_OUTCOME_CANCELLED, HAZ_CANCEL_UPSTREAM_CANCELLED,
            id_of(s, i));
    release_soft(s, i);
}

/* ------------------------------------------------------------------------
 * Spawning and admission.
 * ---------------------------------------------------------------------- */

/* The value of NAME in the host snapshot, or NULL. */
static const char *host_value(const sched *s, const char *name)
{
    const char *const *e = s->opt.host_env;
    size_t len = strlen(name);

    if (e == NULL)
        return NULL;
    for (; *e != NULL; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

/*
 * Build the child's environment (design 2.14, CACHE-008): empty, then the
 * allow-listed host variables that are set, then the overrides, which win.
 * Both lists are sorted by name, so a merge yields a sorted environment.
 * The strings live in `b`; *envp receives a NULL-terminated array and
 * *path the PATH value, or NULL.  Returns 0 or HAZ_ENOMEM.
 */
static int build_env(sched *s, const stask *t, haz_buf *b, const char ***envp,
                     const char **path)
{
    const haz_task_info *ti = t->info;
    size_t nh = ti->n_env_from_host, no = ti->n_env, a = 0, o = 0, n = 0;
    size_t *offs;
    const char **env;

    offs = haz__reallocarray(s->ctx, NULL, nh + no + 1, sizeof(*offs));
    if (offs == NULL)
        return HAZ_ENOMEM;
    while (a < nh || o < no) {
        const char *name, *value;
        int c;

        if (a >= nh)
            c = 1;
        else if (o >= no)
            c = -1;
        else
            c = strcmp(ti->env_from_host[a], ti->env[o].name);
        if (c < 0) {
            name = ti->env_from_host[a++];
            value = host_value(s, name);
            if (value == NULL)
                continue;       /* absent on the host: omitted */
        } else {
            if (c == 0)
                a++;
            name = ti->env[o].name;
            value = ti->env[o].value;
            o++;
        }
        offs[n++] = b->len;
        if (haz__buf_printf(b, "%s=%s", name, value) != 0 ||
            haz__buf_append(b, "", 1) != 0) {
            haz__free(s->ctx, offs);
            return HAZ_ENOMEM;
        }
    }
    env = haz__reallocarray(s->ctx, NULL, n + 1, sizeof(*env));
    if (env == NULL) {
        haz__free(s->ctx, offs);
        return HAZ_ENOMEM;
    }
    *path = NULL;
    for (a = 0; a < n; a++) {
        env[a] = b->data + offs[a];
        if (strncmp(env[a], "PATH=", 5) == 0)
            *path = env[a] + 5;
    }
    env[n] = NULL;
    haz__free(s->ctx, offs);
    *envp = env;
    return HAZ_OK;
}

/* The working directory: the project's root under the workspace root. */
static int build_cwd(sched *s, const stask *t, haz_buf *b)
{
    const char *pr = t->info->project_root;

    if (pr == NULL || strcmp(pr, ".") == 0)
        return haz__buf_puts(b, s->root);
    return haz__buf_printf(b, "%s/%s", strcmp(s->root, "/") == 0 ? ""
                                                                 : s->root,
                           pr);
}

/*
 * Spawn admitted task i, whose slot and mutexes are held.  A spawner at
 * its limit (HAZ_ELIMIT) with children of ours running: the task goes back
 * to the ready set (through `blocked`) until one of them exits.  Any other
 * failure but memory ends the task ERRORED (design 2.7).
 */
static void spawn_task(sched *s, size_t i, size_t *nb)
{
    stask *t = &s->t[i];
    haz_spawn_plan plan;
    haz_buf envbuf, cwd;
    const char **envp = NULL;
    int rc;

    haz__buf_init(&envbuf, s->ctx);
    haz__buf_init(&cwd, s->ctx);
    memset(&plan, 0, sizeof(plan));
    plan.task_index = i;
    plan.task_id = t->info->id;
    plan.action = t->info->action;
    plan.script = t->info->script;
    plan.argv = t->info->argv;
    plan.argc = t->info->argc;
    rc = build_cwd(s, t, &cwd);
    if (rc == 0)
        rc = build_env(s, t, &envbuf, &envp, &plan.path);
    if (rc == 0) {
        plan.cwd = cwd.data;
        plan.envp = envp;
        haz__error_clear(s->ctx);
        rc = s->cfg->spawner->methods->spawn(s->cfg->spawner, &plan,
                                             &t->child);
    } else {
        rc = HAZ_ENOMEM;
    }
    haz__free(s->ctx, (void *)envp);
    haz__buf_free(&envbuf);
    haz__buf_free(&cwd);
    if (rc == HAZ_OK) {
        t->state = T_RUNNING;
        s->running[s->n_running++] = i;
        if (t->timeout_ns != 0) {
            uint64_t now = now_ns(s);

            t->timeout_at = now + t->timeout_ns < now ? UINT64_MAX
                                                      : now + t->timeout_ns;
        }
        {
            size_t pair = s->hs_free[--s->n_hs_free];

            t->hs_out = (char *)s->hs + 2 * pair * s->hs_stride;
            t->hs_err = (char *)t->hs_out + s->hs_stride;
            t->out_fed = 0;
            t->err_fed = 0;
        }
        return;
    }
    /* Give the mutexes and the slot back.  Parked tasks compete again: the
     * mutex check withdrew this task's waiter registrations. */
    locks_release(s, t, 1);
    slot_release(s, t);
    if (rc == HAZ_ENOMEM) {
        t->state = T_READY;
        alloc_fail(s);
        return;
    }
    if (rc == HAZ_ELIMIT && s->n_running > 0) {
        t->state = T_READY;
        s->blocked[(*nb)++] = i;
        s->spawner_full = 1;
        return;
    }
    {
        const char *m = haz_ctx_errmsg(s->ctx);
        char buf[1200];

        if (m[0] == '\0') {
            (void)snprintf(buf, sizeof(buf), "%s: cannot start: %s",
                           t->info->id, haz_strerror(rc));
            m = buf;
        }
        emit_errored(s, i, HAZ_TERR_SPAWN, haz_ctx_errno(s->ctx), m);
    }
}

/* ------------------------------------------------------------------------
 * The cache (EXEC-007, EXEC-015..017, CACHE-007, CACHE-018).
 * ---------------------------------------------------------------------- */

static void complete(sched *s, size_t i);

/* Report task i ERRORED with the context's message, prefixed when the
 * message does not name the task already. */
static void errored_from_ctx(sched *s, size_t i, haz_task_error kind,
                             const char *what)
{
    const char *id = s->t[i].info->id;
    const char *m = haz_ctx_errmsg(s->ctx);
    char buf[1400];

    if (strncmp(m, id, strlen(id)) == 0 && m[strlen(id)] == ':')
        (void)snprintf(buf, sizeof(buf), "%s", m);
    else
        (void)snprintf(buf, sizeof(buf), "%s: %s: %s", id, what,
                       m[0] != '\0' ? m : "failed");
    emit_errored(s, i, kind, haz_ctx_errno(s->ctx), buf);
}

/*
 * Derive task i's key and look it up.  Returns 0 on a miss (go on to the
 * mutex check), 1 when the task was settled here: a hit restored and
 * replayed (EXEC-017), or an executor error (BuildKeyFailed,
 * RestoreFailed).  A corrupt entry is a miss (design 2.16).
 */
static int lookup(sched *s, size_t i)
{
    stask *t = &s->t[i];
    haz_task_outcome *o = outcome_of(s, i);
    const haz_cache_store_methods *m;
    haz__pred_hashes *preds = NULL;
    haz_cache_entry *e = NULL;
    size_t k, n = t->info->n_deps;
    int rc;

    if (s->store == NULL)
        return 0;
    m = s->store->methods;
    /* CACHE-007: the stream hashes of the hard predecessors, which all
     * succeeded before this task became ready. */
    if (n > 0) {
        preds = haz__reallocarray(s->ctx, NULL, n, sizeof(*preds));
        if (preds == NULL) {
            alloc_fail(s);
            return 1;
        }
        for (k = 0; k < n; k++) {
            const haz_task_outcome *po = outcome_of(s, t->info->deps[k]);

            preds[k].id = po->task.id;
            memcpy(preds[k].stdout_hash, po->stdout_hash, po->hash_len);
            memcpy(preds[k].stderr_hash, po->stderr_hash, po->hash_len);
        }
    }
    haz__error_clear(s->ctx);
    rc = haz__task_cache_key(s->ctx, s->hash, s->root, t->gt,
                             s->opt.host_env, preds, n, s->fsrec, &t->inputs,
                             o->key);
    haz__free(s->ctx, preds);
    if (rc == HAZ_ENOMEM) {
        alloc_fail(s);
        return 1;
    }
    if (rc != 0) {
        errored_from_ctx(s, i, HAZ_TERR_BUILD_KEY, "cannot derive the key");
        return 1;
    }
    o->has_key = 1;
    haz__error_clear(s->ctx);
    rc = m->lookup(s->store, o->key, s->hash->digest_len, &e);
    if (rc == HAZ_ENOMEM) {
        alloc_fail(s);
        return 1;
    }
    if (rc != 0 || e == NULL)
        return 0;   /* CACHE-016: a miss, including an unreadable entry */
    rc = m->restore(s->store, e);
    if (rc != 0) {
        m->entry_free(s->store, e);
        if (rc == HAZ_ECORRUPT)
            return 0;   /* removed by the store; the task runs fresh */
        if (rc == HAZ_ENOMEM) {
            alloc_fail(s);
            return 1;
        }
        errored_from_ctx(s, i, HAZ_TERR_RESTORE, "cannot restore its outputs");
        return 1;
    }
    /* A hit (CACHE-018): replay stdout then stderr, one call each and none
     * for an empty stream (design 2.5), then settle like a fresh success.
     * The recorded paths become the materialised outputs (EXEC-019/020). */
    if (e->n_outputs > 0) {
        const char **v = haz__run_result_alloc(s->res,
                                               e->n_outputs * sizeof(*v));

        for (k = 0; v != NULL && k < e->n_outputs; k++)
            if ((v[k] = haz__run_result_strdup(s->res,
                                               e->outputs[k].path)) == NULL)
                v = NULL;
        if (v == NULL) {
            m->entry_free(s->store, e);
            alloc_fail(s);
            return 1;
        }
        o->outputs = v;
        o->n_outputs = e->n_outputs;
    }
    if (e->stdout_size > 0)
        OBS_CALL(s, on_output, id_of(s, i), HAZ_STREAM_STDOUT,
                 e->stdout_data, (size_t)e->stdout_size);
    if (e->stderr_size > 0)
        OBS_CALL(s, on_output, id_of(s, i), HAZ_STREAM_STDERR,
                 e->stderr_data, (size_t)e->stderr_size);
    o->source = HAZ_SOURCE_CACHE_HIT;
    o->state = HAZ_STATE_SUCCEEDED;
    o->status.kind = HAZ_EXIT_NONE;
    o->hash_len = s->hash->digest_len;
    memcpy(o->stdout_hash, e->stdout_hash, o->hash_len);
    memcpy(o->stderr_hash, e->stderr_hash, o->hash_len);
    m->entry_free(s->store, e);
    s->dirty = 1;
    complete(s, i);
    return 1;
}

/*
 * After a successful fresh run of task i (CACHE-018): store its outputs and
 * streams under its key, unless an input changed while it ran (the result
 * would not match the key).  A store failure is an executor error
 * (StoreFailed).  Returns 0 to go on, 1 when the task was settled.
 */
static int store_result(sched *s, size_t i)
{
    stask *t = &s->t[i];
    haz_task_outcome *o = outcome_of(s, i);
    haz_cache_output *outs = NULL;
    size_t k, rl = strcmp(s->root, "/") == 0 ? 0 : strlen(s->root);
    int rc = 0;

    if (s->store == NULL || !o->has_key)
        return 0;
    rc = haz__input_set_changed(s->root, &t->inputs, NULL);
    if (rc == HAZ_ENOMEM) {
        alloc_fail(s);          /* not a silent "changed": never stored */
        return 1;
    }
    if (rc != 0)
        return 0;
    if (o->n_outputs > 0) {
        outs = haz__calloc(s->ctx, o->n_outputs, sizeof(*outs));
        if (outs == NULL)
            rc = HAZ_ENOMEM;
    }
    for (k = 0; rc == 0 && k < o->n_outputs; k++) {
        size_t pl = strlen(o->outputs[k]);
        char *hp = haz__malloc(s->ctx, rl + pl + 1);
        struct stat st;

        if (hp == NULL) {
            rc = HAZ_ENOMEM;
            break;
        }
        memcpy(hp, s->root, rl);
        memcpy(hp + rl, o->outputs[k], pl + 1);
        outs[k].path = o->outputs[k];
        outs[k].host_path = hp;
        if (stat(hp, &st) != 0)
            rc = haz__error_os(s->ctx, HAZ_EIO, errno, "cannot stat '%s'",
                               o->outputs[k]);
        else
            outs[k].mode = (unsigned)(st.st_mode & 07777);
    }
    if (rc == 0) {
        haz__error_clear(s->ctx);
        rc = s->store->methods->store(s->store, o->key, s->hash->digest_len,
                                      outs, o->n_outputs, t->out.data,
                                      t->out.len, t->err.data, t->err.len,
                                      s->created_at);
    }
    for (k = 0; outs != NULL && k < o->n_outputs; k++)
        haz__free(s->ctx, (void *)outs[k].host_path);
    haz__free(s->ctx, outs);
    haz__buf_free(&t->out);
    haz__buf_free(&t->err);
    if (rc == 0)
        return 0;
    if (rc == HAZ_ENOMEM) {
        alloc_fail(s);
        return 1;
    }
    errored_from_ctx(s, i, HAZ_TERR_STORE, "cannot store the result");
    return 1;
}

/* Admit ready task i, which fits the caps (reference-exec.md 3.3 step
 * 2): announce it once, look it up, then the mutex check. */
static void admit(sched *s, size_t i, size_t *nb)
{
    stask *t = &s->t[i];

    if (!t->started) {
        haz_task_outcome *o = outcome_of(s, i);

        t->started = 1;
        o->start_ns = now_ns(s);
        OBS_CALL(s, on_task_started, id_of(s, i));
    }
    /* EXEC-007 step 1: the cache is consulted before any mutex; a hit is
     * restored and settled here without touching a mutex (MUTEX-007).  A
     * parked task keeps its lookup result (design 2.3). */
    if (!t->looked_up) {
        t->looked_up = 1;
        if (lookup(s, i) != 0)
            return;
    }
    /* Step 3: MUTEX-005 and design 2.3.  The slot would be taken at
     * admission and given back on a rejection: taking it only once the
     * mutexes are held is the same, observably. */
    if (!locks_try(s, t)) {
        t->state = T_PARKED;
        s->parked[s->n_parked++] = i;
        return;
    }
    slot_take(s, t);
    t->state = T_RUNNING;   /* spawn_task settles it */
    spawn_task(s, i, nb);
}

/*
 * Admission rounds (design 2.4): every ready task that fits is admitted in
 * canonical order; those whose tags are full are set aside and wait for
 * the next round.  Rounds run only when something changed (s->dirty), and
 * again when a round itself freed something.  A request on the cancel
 * token (from a signal handler or an observer) stops the round at once.
 */
static void admission(sched *s)
{
    while (s->dirty && s->fatal == 0 && !s->gate_closed) {
        size_t nb = 0, k;

        s->dirty = 0;
        while (s->n_heap > 0 && !global_full(s) && s->fatal == 0 &&
               haz_cancel_count(s->cfg->cancel) <= s->seen_requests) {
            size_t i = heap_pop(s);

            if (s->t[i].state != T_READY)
                continue;       /* stale: decided while queued */
            if (!tags_fit(s, &s->t[i])) {
                s->blocked[nb++] = i;
                continue;
            }
            admit(s, i, &nb);
        }
        for (k = 0; k < nb; k++)
            heap_insert(s, s->blocked[k]);
    }
}

/* ------------------------------------------------------------------------
 * Completion and the runtime invariants.
 * ---------------------------------------------------------------------- */

static size_t find_running(const sched *s, haz_child c)
{
    size_t k;

    for (k = 0; k < s->n_running; k++)
        if (s->t[s->running[k]].child == c)
            return k;
    return SIZE_MAX;
}

static void on_output(sched *s, const haz_spawn_event *ev)
{
    size_t k = find_running(s, ev->child);
    stask *t;

    if (k == SIZE_MAX || ev->len == 0)
        return;
    t = &s->t[s->running[k]];
    if (ev->stream == HAZ_STREAM_STDERR) {
        if (!t->err_fed)
            s->hash->init(t->hs_err);
        t->err_fed = 1;
        s->hash->update(t->hs_err, ev->data, ev->len);
    } else {
        if (!t->out_fed)
            s->hash->init(t->hs_out);
        t->out_fed = 1;
        s->hash->update(t->hs_out, ev->data, ev->len);
    }
    /* EXEC-016: the streams are captured in full for the cache store. */
    if (s->store != NULL &&
        haz__buf_append(ev->stream == HAZ_STREAM_STDERR ? &t->err : &t->out,
                        ev->data, ev->len) != 0) {
        alloc_fail(s);
        return;
    }
    OBS_CALL(s, on_output, id_of(s, s->running[k]), ev->stream, ev->data,
             ev->len);
}

/* Resolve the output patterns of fresh task i after success into the
 * outcome's materialised list.  On failure the task ends ERRORED (or the
 * run fails for lack of memory) and 1 is returned. */
static int resolve_outputs(sched *s, size_t i)
{
    stask *t = &s->t[i];
    haz_task_outcome *o = outcome_of(s, i);
    haz_pathlist pl;
    const char **v;
    size_t k;
    int rc;

    if (t->info->n_outputs == 0)
        return 0;
    haz__pathlist_init(&pl, s->ctx);
    haz__error_clear(s->ctx);
    rc = haz__resolve_patterns(s->ctx, s->root, t->gt->outputs,
                               t->info->n_outputs, 1, &pl);
    if (rc == HAZ_ENOMEM) {
        haz__pathlist_free(&pl);
        alloc_fail(s);
        return 1;
    }
    if (rc != 0) {
        char buf[1200];
        haz_task_error kind = rc == HAZ_ENOENT ? HAZ_TERR_OUTPUT_MISSING
                              : rc == HAZ_EEXIST ? HAZ_TERR_OUTPUT_NOT_REGULAR
                                                 : HAZ_TERR_OUTPUT_RESOLVE;
        int e = haz_ctx_errno(s->ctx);

        (void)snprintf(buf, sizeof(buf), "%s: output %s", t->info->id,
                       haz_ctx_errmsg(s->ctx));
        haz__pathlist_free(&pl);
        emit_errored(s, i, kind, e, buf);
        return 1;
    }
    v = haz__run_result_alloc(s->res, (pl.n + 1) * sizeof(*v));
    for (k = 0; v != NULL && k < pl.n; k++) {
        v[k] = haz__run_result_strdup(s->res, pl.v[k]);
        if (v[k] == NULL)
            v = NULL;
    }
    haz__pathlist_free(&pl);
    if (v == NULL) {
        alloc_fail(s);
        return 1;
    }
    o->outputs = v;
    o->n_outputs = k;
    return 0;
}

static int add_violation(sched *s, const haz_violation *v)
{
    if (haz__run_result_add_violation(s->res, v) != 0) {
        alloc_fail(s);
        return HAZ_ENOMEM;
    }
    s->gate_closed = 1;     /* design 2.8: admission stops */
    OBS_CALL(s, on_violation,
             &s->res->violations[s->res->n_violations - 1]);
    return HAZ_OK;
}

/* EXEC-020: the first task to materialise a path claims it; every later
 * claimant is reported against the first (the claim is kept). */
static void check_overlap(sched *s, size_t i)
{
    const haz_task_outcome *o = outcome_of(s, i);
    size_t k, first;

    for (k = 0; k < o->n_outputs && s->fatal == 0; k++) {
        if (haz__strmap_get(&s->claims, o->outputs[k], &first)) {
            haz_violation v;

            if (first == i)
                continue;
            memset(&v, 0, sizeof(v));
            v.kind = HAZ_VIOLATION_OUTPUT_OVERLAP;
            v.first = id_of(s, first);
            v.second = id_of(s, i);
            v.path = o->outputs[k];
            (void)add_violation(s, &v);
        } else if (haz__strmap_put(&s->claims, o->outputs[k], i) != 0) {
            alloc_fail(s);
        }
    }
}

/* Does task c read path p through one of its glob input patterns? */
static int globs_match(const stask *c, const char *p)
{
    size_t k;

    for (k = 0; k < c->info->n_inputs; k++) {
        const haz__gpattern *in = &c->gt->inputs[k];

        if (in->is_glob && haz__pattern_match(in->abs, p))
            return 1;
    }
    return 0;
}

/*
 * Search a path from `from` to `to` over every edge kind (hard, soft and
 * the producer edges found so far) between tasks of the run.  On success
 * the path's nodes are in s->scratch[0..*len-1] and 1 is returned.
 */
static int find_path(sched *s, size_t from, size_t to, size_t *len)
{
    size_t head = 0, tail = 0, k, n;
    size_t *prev = s->prev;
    int found = 0;

    s->scratch[tail++] = from;
    s->mark[from] = 1;
    prev[from] = SIZE_MAX;
    while (head < tail && !found) {
        size_t u = s->scratch[head++];
        const stask *t = &s->t[u];
        size_t l;

        for (l = 0; l < 3 && !found; l++) {
            const size_t *v = l == 0 ? t->info->dependents
                              : l == 1 ? t->info->weak_dependents
                                       : t->redges;
            size_t nv = l == 0 ? t->info->n_dependents
                        : l == 1 ? t->info->n_weak_dependents : t->n_redges;

            for (k = 0; k < nv; k++) {
                size_t w = v[k];

                if (s->mark[w] || s->t[w].state == T_OUT)
                    continue;
                s->mark[w] = 1;
                prev[w] = u;
                s->scratch[tail++] = w;
                if (w == to) {
                    found = 1;
                    break;
                }
            }
        }
    }
    for (k = 0; k < tail; k++)
        s->mark[s->scratch[k]] = 0;
    if (!found)
        return 0;
    n = 0;
    for (k = to; k != SIZE_MAX; k = prev[k])
        s->scratch[n++] = k;
    *len = n;
    return 1;
}

/* The tasks of the run (other than i) that read a path task i
 * materialised, in canonical order, into s->cons; returns their count. */
static size_t consumers(sched *s, size_t i)
{
    const haz_task_outcome *o = outcome_of(s, i);
    size_t k, g, nc = 0, e;

    for (k = 0; k < o->n_outputs; k++) {
        if (haz__strmap_get(&s->lit_in, o->outputs[k], &e)) {
            for (; e != SIZE_MAX; e = s->inputs[e].next) {
                size_t c = s->inputs[e].task;

                if (!s->mark2[c] && c != i) {
                    s->mark2[c] = 1;
                    s->cons[nc++] = c;
                }
            }
        }
        for (g = 0; g < s->n_glob_in; g++) {
            size_t c = s->glob_in[g];

            if (!s->mark2[c] && c != i && globs_match(&s->t[c],
                                                      o->outputs[k])) {
                s->mark2[c] = 1;
                s->cons[nc++] = c;
            }
        }
    }
    for (k = 0; k < nc; k++)
        s->mark2[s->cons[k]] = 0;
    qsort(s->cons, nc, sizeof(*s->cons), cmp_size);
    return nc;
}

/* Record the runtime cycle `path` (len nodes) closed by the edge i -> c,
 * skip its waiting members and ask for the internal cancellation. */
static void runtime_cycle(sched *s, size_t i, size_t c, size_t len)
{
    haz_violation v;
    const haz_task_id **mem;
    size_t m;

    mem = haz__run_result_alloc(s->res, len * sizeof(*mem));
    if (mem == NULL) {
        alloc_fail(s);
        return;
    }
    qsort(s->scratch, len, sizeof(size_t), cmp_size);
    for (m = 0; m < len; m++)
        mem[m] = id_of(s, s->scratch[m]);
    memset(&v, 0, sizeof(v));
    v.kind = HAZ_VIOLATION_RUNTIME_CYCLE;
    v.first = id_of(s, i);
    v.second = id_of(s, c);
    v.cycle = mem;
    v.n_cycle = len;
    if (add_violation(s, &v) != 0)
        return;
    s->internal_cancel = 1;
    /* Waiting members never start (EXEC-019), canonical order.  `mem`
     * keeps the members: the cascades below reuse s->scratch. */
    for (m = 0; m < len; m++) {
        size_t u = mem[m]->index;
        stask *ut = &s->t[u];
        haz_task_outcome *o = outcome_of(s, u);

        if (ut->state != T_WAITING && ut->state != T_READY &&
            ut->state != T_PARKED)
            continue;
        if (ut->state == T_PARKED)
            unpark(s, u);
        (void)locks_withdraw(s, ut);
        o->kind = HAZ_OUTCOME_SKIPPED;
        o->skip_cause = HAZ_SKIP_RUNTIME_CYCLE;
        settle(s, u);
        s->mark2[u] = 1;        /* skipped here: cascaded below */
        OBS_CALL(s, on_task_skipped, o);
    }
    /* Their hard descendants can never run: the internal cancellation
     * drains them as RunCancelled (design 2.8). */
    for (m = 0; m < len; m++) {
        size_t u = mem[m]->index;

        if (!s->mark2[u])
            continue;
        s->mark2[u] = 0;
        cascade(s, u, HAZ_OUTCOME_CANCELLED, HAZ_CANCEL_RUN_CANCELLED, NULL);
        release_soft(s, u);
    }
}

/*
 * Mark in s->mark every task of the run from which task i can be reached
 * over every edge kind (hard, soft, producer), i included; the marked
 * tasks are in s->scratch[0..return-1].
 */
static size_t mark_ancestors(sched *s, size_t i)
{
    size_t head = 0, tail = 0, k, l;

    s->scratch[tail++] = i;
    s->mark[i] = 1;
    while (head < tail) {
        const stask *t = &s->t[s->scratch[head++]];

        for (l = 0; l < 3; l++) {
            const size_t *v = l == 0 ? t->info->deps
                              : l == 1 ? t->info->weak_deps : t->rin;
            size_t nv = l == 0 ? t->info->n_deps
                        : l == 1 ? t->info->n_weak_deps : t->n_rin;

            for (k = 0; k < nv; k++) {
                size_t w = v[k];

                if (s->mark[w] || s->t[w].state == T_OUT)
                    continue;
                s->mark[w] = 1;
                s->scratch[tail++] = w;
            }
        }
    }
    return tail;
}

/*
 * EXEC-019 / design 2.8: every task of the run whose inputs match a path
 * that task i materialised gains an edge i -> consumer (a task completes
 * once, so these edges are all new).  An edge closes a cycle when its
 * consumer can reach i; the first such consumer in canonical order is
 * reported.  Edges leaving i cannot lie on a path to i, so one backward
 * search from i serves every new edge.
 */
static void check_cycles(sched *s, size_t i)
{
    stask *t = &s->t[i];
    size_t nc, k, n, c = SIZE_MAX, len;

    if (outcome_of(s, i)->n_outputs == 0 || !s->any_inputs)
        return;
    nc = consumers(s, i);
    if (nc == 0)
        return;
    t->redges = haz__reallocarray(s->ctx, NULL, nc, sizeof(*t->redges));
    if (t->redges == NULL) {
        alloc_fail(s);
        return;
    }
    memcpy(t->redges, s->cons, nc * sizeof(*t->redges));
    t->n_redges = nc;
    for (k = 0; k < nc; k++) {
        stask *ct = &s->t[s->cons[k]];

        if (ct->n_rin == ct->cap_rin) {
            size_t cap = ct->cap_rin ? 2 * ct->cap_rin : 4;
            size_t *ne = haz__reallocarray(s->ctx, ct->rin, cap, sizeof(*ne));

            if (ne == NULL) {
                alloc_fail(s);
                return;
            }
            ct->rin = ne;
            ct->cap_rin = cap;
        }
        ct->rin[ct->n_rin++] = i;
    }
    n = mark_ancestors(s, i);
    for (k = 0; k < nc && c == SIZE_MAX; k++)
        if (s->mark[s->cons[k]])
            c = s->cons[k];
    for (k = 0; k < n; k++)
        s->mark[s->scratch[k]] = 0;
    if (c != SIZE_MAX && find_path(s, c, i, &len) && len >= 2)
        runtime_cycle(s, i, c, len);
}

/* A task reached Succeeded or Failed: announce, record, then promote or
 * cascade (reference-exec.md 3.3 step 5). */
static void complete(sched *s, size_t i)
{
    const stask *t = &s->t[i];
    haz_task_outcome *o = outcome_of(s, i);
    size_t k;

    o->kind = HAZ_OUTCOME_COMPLETED;
    settle(s, i);
    OBS_CALL(s, on_task_finished, o);
    if (o->state != HAZ_STATE_SUCCEEDED) {
        cascade(s, i, HAZ_OUTCOME_SKIPPED, HAZ_SKIP_UPSTREAM_FAILED,
                id_of(s, i));
        release_soft(s, i);
        return;
    }
    check_overlap(s, i);
    check_cycles(s, i);
    for (k = 0; k < t->info->n_dependents; k++) {
        size_t d = t->info->dependents[k];

        if (s->t[d].state == T_WAITING) {
            s->t[d].pend_hard--;
            make_ready_if_free(s, d);
        }
    }
    release_soft(s, i);
}

/* A child ended: classify it (EXEC-009) and settle the task. */
static void on_exit_event(sched *s, const haz_spawn_event *ev)
{
    size_t k = find_running(s, ev->child), i;
    stask *t;
    haz_task_outcome *o;

    if (k == SIZE_MAX)
        return;
    i = s->running[k];
    t = &s->t[i];
    s->running[k] = s->running[--s->n_running];
    s->spawner_full = 0;
    s->dirty = 1;
    locks_release(s, t, 1);
    slot_release(s, t);
    o = outcome_of(s, i);
    o->status = ev->status;
    o->source = HAZ_SOURCE_FRESH;
    o->hash_len = s->hash->digest_len;
    if (t->out_fed)
        s->hash->out(t->hs_out, o->stdout_hash);
    else
        memcpy(o->stdout_hash, s->empty_digest, o->hash_len);
    if (t->err_fed)
        s->hash->out(t->hs_err, o->stderr_hash);
    else
        memcpy(o->stderr_hash, s->empty_digest, o->hash_len);
    s->hs_free[s->n_hs_free++] = (size_t)((char *)t->hs_out - (char *)s->hs) /
                                 (2 * s->hs_stride);
    if (t->cancel_sent) {
        /* EXEC-013 step 2: signalled by the executor; never stored
         * (EXEC-015) whatever the exit status. */
        o->kind = HAZ_OUTCOME_CANCELLED;
        o->cancel_kind = HAZ_CANCEL_SIGNALED_IN_FLIGHT;
        o->state = HAZ_STATE_CANCELLED;
        settle(s, i);
        OBS_CALL(s, on_task_cancelled, o);
        cascade(s, i, HAZ_OUTCOME_CANCELLED, HAZ_CANCEL_UPSTREAM_CANCELLED,
                id_of(s, i));
        release_soft(s, i);
        return;
    }
    if (ev->status.kind == HAZ_EXIT_NONE) {
        char buf[256];

        (void)snprintf(buf, sizeof(buf), "%s: lost the exit status: %s",
                       t->info->id, strerror(ev->os_errno));
        memset(o->stdout_hash, 0, sizeof(o->stdout_hash));
        memset(o->stderr_hash, 0, sizeof(o->stderr_hash));
        o->hash_len = 0;
        emit_errored(s, i, HAZ_TERR_WAIT, ev->os_errno, buf);
        return;
    }
    o->timed_out = t->timed_out;
    if (!t->timed_out && ev->status.kind == HAZ_EXIT_CODE &&
        ev->status.code == 0) {
        /* Succeeded: enumerate what it materialised; a problem there is
         * an executor error even though the child succeeded
         * (reference-exec.md 3.4 step 6). */
        if (resolve_outputs(s, i) != 0 || store_result(s, i) != 0)
            return;
        o->state = HAZ_STATE_SUCCEEDED;
    } else {
        o->state = HAZ_STATE_FAILED;
    }
    complete(s, i);
}

/* ------------------------------------------------------------------------
 * Cancellation and timers.
 * ---------------------------------------------------------------------- */

static void send_signal(sched *s, const stask *t, int signo)
{
    /* Best effort: a child that exited meanwhile is not an error. */
    (void)s->cfg->spawner->methods->signal(s->cfg->spawner, t->child, signo);
}

/* SIGTERM now, SIGKILL once the grace period is over (EXEC-014). */
static void terminate(sched *s, stask *t, uint64_t now)
{
    uint64_t g = s->opt.cancel_grace_ns;

    t->term_sent = 1;
    t->kill_at = now + g < now ? UINT64_MAX : now + g;
    send_signal(s, t, SIGTERM);
}

/* Drain every waiting task as RunCancelled, in canonical order (EXEC-013
 * step 1); draining releases soft successors, which are drained too. */
static void drain(sched *s)
{
    size_t k;

    for (k = 0; k < s->n_parked; k++)
        heap_insert(s, s->parked[k]);
    s->n_parked = 0;
    while (s->n_heap > 0) {
        size_t i = heap_pop(s);

        if (s->t[i].state != T_READY)
            continue;
        (void)locks_withdraw(s, &s->t[i]);
        emit_run_cancelled(s, i);
    }
}

/* The running tasks in canonical order, in s->scratch; their count. */
static size_t running_sorted(sched *s)
{
    memcpy(s->scratch, s->running, s->n_running * sizeof(*s->running));
    qsort(s->scratch, s->n_running, sizeof(*s->scratch), cmp_size);
    return s->n_running;
}

static void begin_cancel(sched *s)
{
    uint64_t now = now_ns(s);
    size_t k, n = running_sorted(s);

    s->cancelling = 1;
    for (k = 0; k < n; k++) {
        stask *t = &s->t[s->scratch[k]];

        if (t->term_sent)
            continue;           /* already stopping for its timeout */
        t->cancel_sent = 1;
        terminate(s, t, now);
    }
}

/* A further request on the caller's token: every running process group is
 * killed at once (run.h, haz_cancel_request), in canonical order. */
static void escalate(sched *s)
{
    size_t k, n = running_sorted(s);

    s->escalated = 1;
    for (k = 0; k < n; k++) {
        stask *t = &s->t[s->scratch[k]];

        if (t->kill_sent)
            continue;
        if (!t->term_sent)
            t->cancel_sent = 1;
        t->term_sent = 1;
        t->kill_sent = 1;
        send_signal(s, t, SIGKILL);
    }
}

/* Look at the caller's token (EXEC-012): acknowledge new requests; the
 * first starts the graceful flow, any further one escalates. */
static void notice_cancel(sched *s)
{
    int count = haz_cancel_count(s->cfg->cancel);

    if (count <= s->seen_requests)
        return;
    s->seen_requests = count;
    s->caller_cancel = 1;
    haz_cancel_ack(s->cfg->cancel);
    if (!s->cancelling)
        begin_cancel(s);
    if (count >= 2 && !s->escalated)
        escalate(s);
}

static uint64_t next_deadline(const sched *s)
{
    uint64_t d = UINT64_MAX;
    size_t k;

    /* Timers exist only for timeouts and while cancelling. */
    if (!s->timed && !s->cancelling)
        return d;
    for (k = 0; k < s->n_running; k++) {
        const stask *t = &s->t[s->running[k]];

        if (!t->term_sent && t->timeout_at != 0 && t->timeout_at < d)
            d = t->timeout_at;
        if (t->term_sent && !t->kill_sent && t->kill_at < d)
            d = t->kill_at;
    }
    return d;
}

/* After a wait(): SIGKILL children whose grace period is over, then
 * SIGTERM those whose timeout passed (design 2.10), each in canonical
 * order. */
static void check_timers(sched *s)
{
    uint64_t now = now_ns(s), d = next_deadline(s);
    size_t k, n;

    if (d > now)
        return;
    n = running_sorted(s);
    for (k = 0; k < n; k++) {
        stask *t = &s->t[s->scratch[k]];

        if (t->term_sent && !t->kill_sent && now >= t->kill_at) {
            t->kill_sent = 1;
            send_signal(s, t, SIGKILL);
        }
    }
    for (k = 0; k < n; k++) {
        stask *t = &s->t[s->scratch[k]];

        if (!t->term_sent && t->timeout_at != 0 && now >= t->timeout_at) {
            t->timed_out = 1;
            terminate(s, t, now);
        }
    }
}

/* ------------------------------------------------------------------------
 * Setup.
 * ---------------------------------------------------------------------- */

/* The hold set has one entry per distinct lock key of the graph and the
 * tag caps one per capped tag; the frozen graph indexes both. */
static int setup_caps_and_locks(sched *s)
{
    size_t n_caps, k, n_reg = 0, i;
    const haz_tag_cap *caps = haz_graph_tag_caps(s->g, &n_caps);

    (void)haz__graph_locks(s->g, &s->n_lk);
    if (s->n_lk > 0) {
        s->lk = haz__calloc(s->ctx, s->n_lk, sizeof(*s->lk));
        if (s->lk == NULL)
            return HAZ_ENOMEM;
        for (i = 0; i < s->n; i++)
            n_reg += s->t[i].info->n_mutexes;
        s->regpool = haz__calloc(s->ctx, n_reg, 1);
        if (s->regpool == NULL)
            return HAZ_ENOMEM;
        for (i = 0, n_reg = 0; i < s->n; i++) {
            s->t[i].reg = s->regpool + n_reg;
            n_reg += s->t[i].info->n_mutexes;
        }
    }
    if (n_caps == 0)
        return HAZ_OK;
    s->tag_cap = haz__calloc(s->ctx, n_caps, sizeof(*s->tag_cap));
    s->tag_used = haz__calloc(s->ctx, n_caps, sizeof(*s->tag_used));
    if (s->tag_cap == NULL || s->tag_used == NULL)
        return HAZ_ENOMEM;
    for (k = 0; k < n_caps; k++)
        s->tag_cap[k] = caps[k].cap;
    return HAZ_OK;
}

/* Index the input patterns of the run for producer matching (EXEC-019):
 * literal paths in a map to chains of consumers, glob readers in a list. */
static int setup_inputs(sched *s)
{
    size_t i, k, n_lit = 0, n_glob = 0;

    for (i = 0; i < s->n; i++) {
        const stask *t = &s->t[i];
        int glob = 0;

        if (t->state == T_OUT)
            continue;
        for (k = 0; k < t->info->n_inputs; k++) {
            if (t->gt->inputs[k].is_glob)
                glob = 1;
            else
                n_lit++;
        }
        n_glob += glob;
    }
    if (n_lit + n_glob == 0)
        return HAZ_OK;
    s->any_inputs = 1;
    if (n_lit > 0) {
        s->inputs = haz__reallocarray(s->ctx, NULL, n_lit, sizeof(*s->inputs));
        if (s->inputs == NULL)
            return HAZ_ENOMEM;
    }
    if (n_glob > 0) {
        s->glob_in = haz__reallocarray(s->ctx, NULL, n_glob,
                                       sizeof(*s->glob_in));
        if (s->glob_in == NULL)
            return HAZ_ENOMEM;
    }
    for (i = 0; i < s->n; i++) {
        const stask *t = &s->t[i];
        int glob = 0;

        if (t->state == T_OUT)
            continue;
        for (k = 0; k < t->info->n_inputs; k++) {
            const char *p = t->gt->inputs[k].abs;
            size_t head;

            if (t->gt->inputs[k].is_glob) {
                glob = 1;
                continue;
            }
            if (!haz__strmap_get(&s->lit_in, p, &head))
                head = SIZE_MAX;
            s->inputs[s->n_inputs].task = i;
            s->inputs[s->n_inputs].next = head;
            if (haz__strmap_put(&s->lit_in, p, s->n_inputs) != 0)
                return HAZ_ENOMEM;
            s->n_inputs++;
        }
        if (glob)
            s->glob_in[s->n_glob_in++] = i;
    }
    return HAZ_OK;
}

/* Alignment for the hash states packed in one block. */
typedef union sched_align {
    long double ld;
    void *p;
    uint64_t u;
} sched_align;

/* The cache of the run: the store, the input-hash record under the cache
 * directory (a speed-up only: without it every input is read), and the
 * timestamp of stored entries. */
static int setup_cache(sched *s)
{
    haz_buf dir;
    int rc;

    if (s->cfg->cache == NULL || s->opt.no_cache)
        return HAZ_OK;
    if (s->cfg->cache->methods == NULL)
        return haz__error(s->ctx, HAZ_EINVAL,
                          "haz_run: the cache store is not open");
    s->store = s->cfg->cache;
    s->created_at = s->opt.created_at != 0
                        ? s->opt.created_at
                        : haz_clock_wall_seconds(s->cfg->clock);
    haz__buf_init(&dir, s->ctx);
    if (s->opt.cache_dir != NULL)
        rc = haz__buf_puts(&dir, s->opt.cache_dir);
    else
        rc = haz__buf_printf(&dir, "%s/.haz/cache",
                             strcmp(s->root, "/") == 0 ? "" : s->root) < 0
                 ? HAZ_ENOMEM
                 : HAZ_OK;
    if (rc == HAZ_OK && dir.data[0] == '/')
        rc = haz__filestat_open(s->ctx, dir.data, s->hash, &s->fsrec);
    haz__buf_free(&dir);
    if (rc == HAZ_ENOMEM)
        return rc;
    return HAZ_OK;      /* no record: inputs are simply read every time */
}

static int setup(sched *s)
{
    const haz_run_config *cfg = s->cfg;
    size_t i, k, pos = 0, stride;
    int rc;
    const haz__gtask *gts = haz__graph_tasks(s->g, &s->n);

    if (s->n > 0) {
        size_t words = (s->n + 63) / 64;

        s->t = haz__calloc(s->ctx, s->n, sizeof(*s->t));
        s->ready = haz__calloc(s->ctx, words, sizeof(*s->ready));
        s->ready_sum = haz__calloc(s->ctx, (words + 63) / 64,
                                   sizeof(*s->ready_sum));
        s->parked = haz__calloc(s->ctx, s->n, sizeof(*s->parked));
        s->running = haz__calloc(s->ctx, s->n, sizeof(*s->running));
        s->scratch = haz__calloc(s->ctx, s->n, sizeof(*s->scratch));
        s->prev = haz__calloc(s->ctx, s->n, sizeof(*s->prev));
        s->blocked = haz__calloc(s->ctx, s->n, sizeof(*s->blocked));
        s->cons = haz__calloc(s->ctx, s->n, sizeof(*s->cons));
        s->mark = haz__calloc(s->ctx, s->n, 1);
        s->mark2 = haz__calloc(s->ctx, s->n, 1);
        if (s->t == NULL || s->ready == NULL || s->ready_sum == NULL ||
            s->parked == NULL ||
            s->running == NULL || s->scratch == NULL || s->prev == NULL ||
            s->blocked == NULL || s->cons == NULL || s->mark == NULL ||
            s->mark2 == NULL)
            return HAZ_ENOMEM;
    }
    for (i = 0; i < s->n; i++) {
        stask *t = &s->t[i];

        t->gt = &gts[i];
        t->info = &gts[i].info;
        t->state = (cfg->selected == NULL || cfg->selected[i]) ? T_WAITING
                                                                : T_OUT;
        if (t->state != T_OUT)
            t->pos = s->n_run++;
    }
    /* A run must contain the hard predecessors of its tasks (their stream
     * hashes feed the cache key, CACHE-007); soft predecessors outside the
     * run are ignored. */
    for (i = 0; i < s->n; i++) {
        stask *t = &s->t[i];

        if (t->state == T_OUT)
            continue;
        if (cfg->selected == NULL) {
            /* Every task is in the run: no predecessor to look up. */
            t->pend_hard = t->info->n_deps;
            t->pend_soft = t->info->n_weak_deps;
        } else {
            for (k = 0; k < t->info->n_deps; k++) {
                if (s->t[t->info->deps[k]].state == T_OUT)
                    return haz__error(s->ctx, HAZ_EINVAL,
                                      "haz_run: %s: its dependency %s is "
                                      "not selected for the run",
                                      t->info->id,
                                      s->t[t->info->deps[k]].info->id);
                t->pend_hard++;
            }
            for (k = 0; k < t->info->n_weak_deps; k++)
                if (s->t[t->info->weak_deps[k]].state != T_OUT)
                    t->pend_soft++;
        }
        t->timeout_ns = t->info->timeout_ns != 0 ? t->info->timeout_ns
                                                 : s->opt.default_timeout_ns;
        s->timed |= t->timeout_ns != 0;
    }
    s->res = haz__run_result_new(s->ctx, s->n_run);
    if (s->res == NULL)
        return HAZ_ENOMEM;
    /* One pair of stream hash states per task that can run at once: the
     * global cap bounds the running tasks. */
    s->global_cap = s->opt.concurrency != 0 ? s->opt.concurrency
                                            : haz_online_cpus();
    stride = (s->hash->context_size + sizeof(sched_align) - 1) /
             sizeof(sched_align) * sizeof(sched_align);
    s->hs_stride = stride;
    if (s->n_run > 0) {
        size_t pairs = s->n_run < s->global_cap ? s->n_run : s->global_cap;

        s->hs = haz__calloc(s->ctx, 2 * pairs, stride);
        s->hs_free = haz__reallocarray(s->ctx, NULL, pairs,
                                       sizeof(*s->hs_free));
        if (s->hs == NULL || s->hs_free == NULL)
            return HAZ_ENOMEM;
        while (s->n_hs_free < pairs) {
            s->hs_free[s->n_hs_free] = pairs - 1 - s->n_hs_free;
            s->n_hs_free++;
        }
        s->hash->init(s->hs);
        s->hash->out(s->hs, s->empty_digest);
    }
    for (i = 0; i < s->n; i++) {
        stask *t = &s->t[i];
        haz_task_id *id;

        if (t->state == T_OUT)
            continue;
        id = &s->res->ids[pos];
        id->index = i;
        id->project = t->info->project;
        id->task = t->info->name;
        id->id = t->info->id;
        s->res->outcomes[pos].task = *id;
        haz__buf_init(&t->out, s->ctx);
        haz__buf_init(&t->err, s->ctx);
        haz__input_set_init(&t->inputs, s->ctx);
        pos++;
    }
    if ((rc = setup_caps_and_locks(s)) != 0)
        return rc;
    if ((rc = setup_inputs(s)) != 0)
        return rc;
    if (cfg->spawner->methods->max_children != NULL)
        s->max_children = cfg->spawner->methods->max_children(cfg->spawner);
    s->ev_cap = SCHED_EVENTS;
    s->ev = haz__calloc(s->ctx, s->ev_cap, sizeof(*s->ev));
    if (s->ev == NULL)
        return HAZ_ENOMEM;
    if ((rc = setup_cache(s)) != 0)
        return rc;
    for (i = 0; i < s->n; i++)
        if (s->t[i].pend_hard == 0 && s->t[i].pend_soft == 0)
            make_ready_if_free(s, i);
    s->dirty = 1;
    return HAZ_OK;
}

static void teardown(sched *s)
{
    size_t i;

    for (i = 0; i < s->n && s->t != NULL; i++) {
        haz__free(s->ctx, s->t[i].redges);
        haz__free(s->ctx, s->t[i].rin);
        haz__buf_free(&s->t[i].out);
        haz__buf_free(&s->t[i].err);
        haz__input_set_free(&s->t[i].inputs);
    }
    haz__filestat_close(s->fsrec);
    haz__strmap_free(&s->claims);
    haz__strmap_free(&s->lit_in);
    haz__free(s->ctx, s->inputs);
    haz__free(s->ctx, s->glob_in);
    haz__free(s->ctx, s->t);
    haz__free(s->ctx, s->ready);
    haz__free(s->ctx, s->ready_sum);
    haz__free(s->ctx, s->parked);
    haz__free(s->ctx, s->running);
    haz__free(s->ctx, s->scratch);
    haz__free(s->ctx, s->prev);
    haz__free(s->ctx, s->blocked);
    haz__free(s->ctx, s->cons);
    haz__free(s->ctx, s->mark);
    haz__free(s->ctx, s->mark2);
    haz__free(s->ctx, s->hs);
    haz__free(s->ctx, s->hs_free);
    haz__free(s->ctx, s->tag_cap);
    haz__free(s->ctx, s->tag_used);
    haz__free(s->ctx, s->lk);
    haz__free(s->ctx, s->regpool);
    haz__free(s->ctx, s->ev);
    haz__free(s->ctx, s->root);
}

/* ------------------------------------------------------------------------
 * The loop.
 * ---------------------------------------------------------------------- */

/* After a fatal error: kill and reap every child before returning. */
static void kill_all(sched *s)
{
    size_t k, rounds = 0;

    for (k = 0; k < s->n_running; k++)
        send_signal(s, &s->t[s->running[k]], SIGKILL);
    while (s->n_running > 0 && rounds++ < 1000) {
        size_t n = 0, e;
        unsigned flags = 0;

        if (s->cfg->spawner->methods->wait(s->cfg->spawner, UINT64_MAX, NULL,
                                           s->ev, s->ev_cap, &n, &flags) != 0)
            break;
        for (e = 0; e < n; e++) {
            if (s->ev[e].type == HAZ_EV_EXIT) {
                size_t r = find_running(s, s->ev[e].child);

                if (r != SIZE_MAX)
                    s->running[r] = s->running[--s->n_running];
            }
        }
    }
}

static int loop(sched *s)
{
    haz_spawner *sp = s->cfg->spawner;

    for (;;) {
        size_t n = 0, e;
        unsigned flags = 0;
        int rc;

        notice_cancel(s);
        if (!s->cancelling && s->internal_cancel)
            begin_cancel(s);
        if (s->cancelling)
            drain(s);
        else
            admission(s);
        if (s->fatal != 0)
            return s->fatal;
        if (s->n_running == 0) {
            /* A request made during the admission round (by a signal
             * handler or an observer), or a runtime cycle found by a
             * cache hit in it, is noticed before the run ends: the tasks
             * still waiting are drained, not left undecided. */
            if (!s->cancelling &&
                (haz_cancel_count(s->cfg->cancel) > s->seen_requests ||
                 s->internal_cancel))
                continue;
            break;
        }
        /* The token is passed even while cancelling: wait() returns only
         * for a request not yet acknowledged, i.e. an escalation. */
        rc = sp->methods->wait(sp, next_deadline(s), s->cfg->cancel, s->ev,
                               s->ev_cap, &n, &flags);
        if (rc != 0)
            return rc;
        for (e = 0; e < n && s->fatal == 0; e++) {
            if (s->ev[e].type == HAZ_EV_OUTPUT)
                on_output(s, &s->ev[e]);
            else if (s->ev[e].type == HAZ_EV_EXIT)
                on_exit_event(s, &s->ev[e]);
        }
        if (s->fatal != 0)
            return s->fatal;
        check_timers(s);
    }
    return HAZ_OK;
}

/* Tasks that never got an outcome (design 2.8): after an output overlap,
 * those never admitted. */
static void finish_undecided(sched *s)
{
    size_t i;

    if (s->n_done == s->n_run)
        return;
    for (i = 0; i < s->n; i++) {
        stask *t = &s->t[i];
        haz_task_outcome *o;

        if (t->state == T_OUT || t->state == T_DONE)
            continue;
        o = outcome_of(s, i);
        if (s->cancelling) {
            emit_run_cancelled(s, i);
        } else if (s->gate_closed) {
            o->kind = HAZ_OUTCOME_SKIPPED;
            o->skip_cause = HAZ_SKIP_ADMISSION_CLOSED;
            settle(s, i);
            OBS_CALL(s, on_task_skipped, o);
        } else {
            emit_errored(s, i, HAZ_TERR_INTERNAL, 0,
                         "the scheduler could not decide this task");
        }
    }
}

/* The workspace root without trailing slashes ("/" stays). */
static char *root_copy(haz_ctx *ctx, const char *r)
{
    size_t n = strlen(r);

    while (n > 1 && r[n - 1] == '/')
        n--;
    return haz__strndup(ctx, r, n);
}

int haz_run(haz_ctx *ctx, const haz_run_config *cfg, haz_run_result **out)
{
    sched s;
    size_t n;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (ctx == NULL)
        return HAZ_EINVAL;
    if (cfg == NULL || out == NULL || cfg->graph == NULL ||
        cfg->spawner == NULL || cfg->spawner->methods == NULL ||
        cfg->clock == NULL || cfg->clock->methods == NULL)
        return haz__error(ctx, HAZ_EINVAL,
                          "haz_run: the graph, spawner and clock are needed");
    if (haz__graph_tasks(cfg->graph, &n) == NULL)
        return haz__error(ctx, HAZ_EINVAL,
                          "haz_run: the graph has not been validated");
    memset(&s, 0, sizeof(s));
    s.ctx = ctx;
    s.cfg = cfg;
    s.g = cfg->graph;
    if (cfg->options != NULL)
        s.opt = *cfg->options;
    else
        haz_run_options_init(&s.opt);
    if (s.opt.version < 1)
        return haz__error(ctx, HAZ_EINVAL,
                          "haz_run: the run options were not initialised "
                          "(haz_run_options_init)");
    if (s.opt.workspace_root == NULL || s.opt.workspace_root[0] != '/')
        return haz__error(ctx, HAZ_EINVAL,
                          "haz_run: the workspace root must be an absolute "
                          "path");
    s.hash = cfg->hash != NULL ? cfg->hash : &haz_hash_sha256;
    if (s.hash->version < 1 || s.hash->digest_len == 0 ||
        s.hash->context_size == 0 ||
        s.hash->digest_len > HAZ_HASH_MAX_DIGEST || s.hash->init == NULL ||
        s.hash->update == NULL || s.hash->out == NULL)
        return haz__error(ctx, HAZ_EINVAL, "haz_run: unusable hash methods");
    if (cfg->observer != NULL)
        s.obs = *cfg->observer;
    haz__strmap_init(&s.claims, ctx);
    haz__strmap_init(&s.lit_in, ctx);
    s.root = root_copy(ctx, s.opt.workspace_root);
    rc = s.root != NULL ? setup(&s) : HAZ_ENOMEM;
    if (rc == 0)
        rc = loop(&s);
    if (rc == 0) {
        finish_undecided(&s);
        if (s.fatal != 0)
            rc = s.fatal;
    }
    if (rc != 0) {
        kill_all(&s);
        if (rc == HAZ_ENOMEM)
            (void)haz__error(ctx, rc, "haz_run: out of memory");
        haz_run_result_free(s.res);
        teardown(&s);
        return rc;
    }
    s.res->cancel_signal = s.caller_cancel ? haz_cancel_signal(cfg->cancel)
                                           : 0;
    /* Keep what was learnt about input files for the next run; failing to
     * save only costs that run some reading. */
    if (s.fsrec != NULL)
        (void)haz__filestat_save(s.fsrec);
    teardown(&s);
    *out = s.res;
    return HAZ_OK;
}
