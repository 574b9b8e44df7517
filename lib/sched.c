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
 * The file is divided into: state and helpers; the ready heap; the wait
 * queues of mutexes and tags; caps and mutexes; outcomes and cascades;
 * spawning and admission; completion and the runtime invariants;
 * cancellation and timers; setup; the loop and haz_run().
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

/* The per-task state the loop touches for every task, kept small (48
 * bytes on LP64) so that the table stays dense in the caches at 100,000
 * tasks; the pending-predecessor counts are in sched.pend, and what only
 * timers, mutexes, tags, the cache and the runtime invariants need is in
 * scold, a parallel array. */
typedef struct stask {
    const haz__gtask *gt;    /* the frozen task */
    const haz_task_info *info; /* &gt->info */
    size_t pos;              /* index in the result */
    haz_child child;
    void *hs_out;            /* stream hash states while running (stderr's
                                follows stdout's), from the running slots'
                                pool */
    enum tstate state;
    unsigned started : 1;    /* on_task_started fired */
    unsigned term_sent : 1;  /* SIGTERM sent (cancellation or timeout) */
    unsigned kill_sent : 1;
    unsigned timed_out : 1;
    unsigned cancel_sent : 1; /* signalled because of cancellation */
    unsigned out_fed : 1;    /* bytes went into hs_out (else the digest */
    unsigned err_fed : 1;    /* of the empty stream is copied) */
    unsigned looked_up : 1;  /* the cache lookup was done (a parked task
                                keeps its result, design 2.3) */
    unsigned woke_lk : 1;    /* taken from its lock's wait queue */
    unsigned woke_tag : 1;   /* taken from the wait queue of its wtag */
    unsigned read_failed : 1; /* a stream could not be read (see
                                 scold.read_errno) */
} stask;

/* sched.pend[i] of a task that is no longer waiting (see sched.pend). */
#define PEND_GONE UINT32_MAX

/* The rest of a task's state (see stask). */
typedef struct scold {
    unsigned char *reg;      /* per mutex: registered exclusive waiter */
    uint64_t timeout_at;     /* 0: none */
    uint64_t kill_at;        /* valid when term_sent */
    size_t wtag;             /* the full tag it waits on (see tag_wq) */
    size_t parked_at;        /* sched.requeues when it was last parked */
    size_t *redges;          /* producer edges found at run time (EXEC-019):
                                to the consumers of what it materialised */
    size_t n_redges;
    size_t *rin;             /* the same edges seen from the consumer */
    size_t n_rin;
    size_t cap_rin;
    haz__input_set inputs;   /* what the key was derived from (with a
                                cache only) */
    haz_buf out;             /* captured streams, for the cache store */
    haz_buf err;
    int read_errno;          /* with stask.read_failed: the first failed */
    haz_stream read_stream;  /* read, of this stream */
} scold;

typedef struct slock {
    size_t shared;           /* shared holders */
    size_t excl;             /* exclusive holders (0 or 1) */
    size_t excl_waiting;     /* registered exclusive waiters */
} slock;

/* A wait queue: a binary min-heap of task indices (canonical order) in a
 * slice of sched.wq_pool sized for every task that can ever wait in it.
 * Entries of tasks decided meanwhile are dropped when they come out. */
typedef struct swq {
    size_t *v;
    size_t n;
} swq;

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
    scold *c;                /* n entries */
    /* per task while it waits (T_WAITING): its hard predecessors not yet
     * succeeded plus its soft predecessors in the run not yet terminal;
     * PEND_GONE once it left T_WAITING (or is not in the run).  Kept apart
     * from `t`, 4 bytes a task, because a completion updates the entries
     * of its successors, at indices spread over the whole graph: this
     * array stays in the caches at 100,000 tasks, the task table not. */
    uint32_t *pend;
    size_t n_run;            /* tasks in the run */
    /* the ready set of graph indices (canonical order = index order): a
     * bitmap, a summary bit per word of it, and a lower bound on the
     * summary words that have a bit set */
    uint64_t *ready;
    uint64_t *ready_sum;
    size_t ready_lo;
    size_t n_heap;           /* bits set in `ready` */
    size_t peeked;           /* the first ready task after the last round
                                (or one made ready since that comes before
                                it), whose memory was asked for; a hint */
    /* parked tasks with several mutexes (those with one wait in lk_wq) */
    size_t *parked;
    size_t n_parked;
    size_t n_lkwait;         /* parked tasks in lk_wq */
    size_t requeues;         /* requeue_parked calls so far */
    size_t *aside;           /* lk_wake: entries not due, n of them */
    /* wait queues (see "Wait queues" below): two per lock key (shared
     * requests at 2k, exclusive ones at 2k+1) and one per capped tag */
    swq *lk_wq;
    swq *tag_wq;
    size_t *wq_pool;
    int wq_used;             /* something was queued since the last drain */
    /* the admission round in progress */
    int in_round;
    int round_popped;        /* a task was taken in this round */
    size_t round_hi;         /* the largest index taken in this round */
    size_t n_blocked;        /* entries of `blocked` */
    /* running tasks */
    size_t *running;
    size_t n_running;
    /* caps */
    unsigned global_cap;
    size_t n_caps;           /* capped tags */
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
    /* spawn_task's buffers, kept from one spawn to the next */
    haz_buf sp_env;          /* the environment strings */
    haz_buf sp_cwd;          /* the working directory */
    size_t *sp_offs;         /* offsets of the strings in sp_env */
    const char **sp_envp;    /* the environment given to the spawner */
    size_t sp_cap;           /* entries of sp_offs and sp_envp */
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

/* The stderr hash state of a running task. */
#define HS_ERR(s, t) ((void *)((char *)(t)->hs_out + (s)->hs_stride))

/* The cold half of task t's state. */
static scold *cold(const sched *s, const stask *t)
{
    return &s->c[t - s->t];
}

/* The task's timeout: its own or the run's default; 0: none. */
static uint64_t timeout_of(const sched *s, const stask *t)
{
    return t->info->timeout_ns != 0 ? t->info->timeout_ns
                                    : s->opt.default_timeout_ns;
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
    s->pend[i] = PEND_GONE;
}

/* A task becomes ready: the next admission round must look at it. */
static void heap_push(sched *s, size_t i)
{
    heap_insert(s, i);
    s->dirty = 1;
}

/* Ask for the memory that admitting task i touches: its frozen task, its
 * outcome, its id.  A hint only (HAZ_PREFETCH): at 100,000 tasks none of
 * it is in the caches any more, and asked for ahead of the admission the
 * misses overlap with the work in between instead of coming one after
 * the other (bench/README.md, sched_bench).  A macro: gcc takes a
 * function that only reads and prefetches for a pure one, and drops the
 * call. */
#define PREFETCH_TASK(s, i)                                                 \
    do {                                                                    \
        const stask *pt_ = &(s)->t[(i)];                                    \
        const char *g_ = (const char *)pt_->gt;                             \
        const char *o_ = (const char *)&(s)->res->outcomes[pt_->pos];       \
                                                                            \
        HAZ_PREFETCH(g_);                                                   \
        HAZ_PREFETCH(g_ + 64);                                              \
        HAZ_PREFETCH(g_ + 128);                                             \
        HAZ_PREFETCH(g_ + 192);                                             \
        HAZ_PREFETCH_W(o_);                                                 \
        HAZ_PREFETCH_W(o_ + 64);                                            \
        HAZ_PREFETCH_W(o_ + 128);                                           \
        HAZ_PREFETCH_W(o_ + 256);                                           \
        HAZ_PREFETCH(pt_->info->id);                                        \
    } while (0)

/* The smallest index in the set (which is not empty), left in it; *wp
 * receives its word.  The lower bound moves up to its summary word. */
static size_t heap_first(sched *s, size_t *wp)
{
    size_t sw = s->ready_lo, w;

    while (s->ready_sum[sw] == 0)
        sw++;
    s->ready_lo = sw;
    w = sw * 64 + lowest_bit(s->ready_sum[sw]);
    *wp = w;
    return w * 64 + lowest_bit(s->ready[w]);
}

/* The smallest index in the set (which is not empty), taken out. */
static size_t heap_pop(sched *s)
{
    size_t w, i = heap_first(s, &w);

    s->n_heap--;
    s->ready[w] &= s->ready[w] - 1;
    if (s->ready[w] == 0)
        s->ready_sum[w / 64] &= ~((uint64_t)1 << (w % 64));
    return i;
}

/* Waiting task i has one pending predecessor less; with none left it
 * becomes ready. */
static void pend_done(sched *s, size_t i)
{
    if (--s->pend[i] == 0) {
        heap_push(s, i);
        /* Before the first ready task: likely the next one admitted. */
        if (i < s->peeked) {
            s->peeked = i;
            PREFETCH_TASK(s, i);
        }
    }
}

/* ------------------------------------------------------------------------
 * Wait queues.  A task that cannot go on because of a mutex or a full tag
 * waits in a queue of that key or tag instead of being looked at again on
 * every release or every admission round, which made both quadratic.  The
 * rule that keeps the admission order exactly what it was when every
 * waiting task was re-examined: a waiting task is taken out only when
 * looking at it could change something, and then at its canonical place
 * (through the ready set).  Looking at the others would be a no-op:
 *   - a task with one mutex, parked: an exclusive request is refused while
 *     the key has holders (and it then stays registered), a shared one
 *     while the key has an exclusive holder or registered waiter.  Such a
 *     key becomes free for a mode only through a release or a withdrawal,
 *     both of which requeue (design 2.3), so that is where its queue is
 *     woken.  Tasks with several mutexes keep the general rule: they are
 *     all re-examined on every requeue (`parked`);
 *   - a ready task set aside because a tag was full at the end of a round:
 *     it cannot fit before that tag frees a slot.
 * A queue that can act gives its first task back to the ready set; once
 * that task has been looked at, the next one follows while the key or tag
 * still allows it (a chain), so a release wakes what it can serve, not
 * the whole queue.
 * ---------------------------------------------------------------------- */

static void wq_add(swq *q, size_t i)
{
    size_t k = q->n++;

    while (k > 0 && q->v[(k - 1) / 2] > i) {
        q->v[k] = q->v[(k - 1) / 2];
        k = (k - 1) / 2;
    }
    q->v[k] = i;
}

/* The smallest entry, taken out (the queue is not empty). */
static size_t wq_take(swq *q)
{
    size_t top = q->v[0], last = q->v[--q->n], k = 0;

    for (;;) {
        size_t c = 2 * k + 1;

        if (c >= q->n)
            break;
        if (c + 1 < q->n && q->v[c + 1] < q->v[c])
            c++;
        if (q->v[c] >= last)
            break;
        q->v[k] = q->v[c];
        k = c;
    }
    if (q->n > 0)
        q->v[k] = last;
    return top;
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

    if (s->n_caps == 0)
        return 1;       /* no capped tag in the graph: t->gt is not read */
    for (k = 0; k < t->gt->n_caps; k++)
        if (s->tag_used[t->gt->caps[k]] >= s->tag_cap[t->gt->caps[k]])
            return 0;
    return 1;
}

static void slot_take(sched *s, const stask *t)
{
    size_t k;

    if (s->n_caps == 0)
        return;
    for (k = 0; k < t->gt->n_caps; k++)
        s->tag_used[t->gt->caps[k]]++;
}

/* The first waiting task of tag c goes back to the ready set if the tag
 * has room. */
static void tag_wake(sched *s, size_t c)
{
    swq *q = &s->tag_wq[c];

    while (q->n > 0 && s->tag_used[c] < s->tag_cap[c]) {
        size_t i = wq_take(q);

        if (s->t[i].state != T_READY)
            continue;           /* decided while waiting */
        s->t[i].woke_tag = 1;
        heap_insert(s, i);
        return;
    }
}

/* Tag c freed a slot during an admission round (a spawn that failed).
 * Were every waiting task in the ready set, those after the round's
 * position would still come in this round and the others would already
 * have been set aside: the queue is split that way. */
static void tag_free_in_round(sched *s, size_t c)
{
    swq *q = &s->tag_wq[c];
    size_t k;

    for (k = 0; k < q->n; k++) {
        size_t i = q->v[k];

        if (s->t[i].state != T_READY)
            continue;
        if (s->round_popped && i < s->round_hi)
            s->blocked[s->n_blocked++] = i;
        else
            heap_insert(s, i);
    }
    q->n = 0;
}

static void slot_release(sched *s, const stask *t)
{
    size_t k;

    if (s->n_caps == 0)
        return;
    for (k = 0; k < t->gt->n_caps; k++)
        s->tag_used[t->gt->caps[k]]--;
    if (t->gt->n_caps > 0)
        s->dirty = 1;
    for (k = 0; k < t->gt->n_caps; k++) {
        if (s->in_round)
            tag_free_in_round(s, t->gt->caps[k]);
        else
            tag_wake(s, t->gt->caps[k]);
    }
}

/* The first full tag of a task, or SIZE_MAX. */
static size_t full_tag(const sched *s, const stask *t)
{
    size_t k;

    for (k = 0; k < t->gt->n_caps; k++)
        if (s->tag_used[t->gt->caps[k]] >= s->tag_cap[t->gt->caps[k]])
            return t->gt->caps[k];
    return SIZE_MAX;
}

static int is_excl(const stask *t, size_t k)
{
    return t->info->mutexes[k].mode == HAZ_MUTEX_EXCLUSIVE;
}

/* 1 when the first mutex of t is requested exclusively. */
static int is_excl_req(const stask *t)
{
    return is_excl(t, 0) ? 1 : 0;
}

/* Could a parked task with this one mutex key, in this mode, go on? */
static int lk_open(const slock *l, int excl)
{
    if (excl)
        return l->shared == 0 && l->excl == 0;
    return l->excl == 0 && l->excl_waiting == 0;
}

/* The first parked task of each mode of the key that could go on goes
 * back to the ready set. */
static void lk_wake(sched *s, size_t key)
{
    int m;

    for (m = 0; m < 2; m++) {
        swq *q = &s->lk_wq[2 * key + (size_t)m];
        size_t na = 0;

        if (!lk_open(&s->lk[key], m))
            continue;
        while (q->n > 0) {
            size_t i = wq_take(q);

            if (s->t[i].state != T_PARKED)
                continue;       /* decided while parked */
            if (s->c[i].parked_at == s->requeues) {
                /* Looked at since the last requeue: it competes again
                 * only after the next one.  (A key opens without a
                 * requeue only when a runtime cycle withdraws a
                 * registration.) */
                s->aside[na++] = i;
                continue;
            }
            s->n_lkwait--;
            s->t[i].woke_lk = 1;
            heap_insert(s, i);
            break;
        }
        while (na > 0)
            wq_add(q, s->aside[--na]);
    }
}

/* Every parked task competes again, in canonical order (design 2.3): the
 * mutexes of task t were released or its registrations withdrawn, so the
 * queues of those keys are woken; the parked tasks with several mutexes
 * go back to the ready set. */
static void requeue_parked(sched *s, const stask *t)
{
    size_t k;

    s->requeues++;
    if (s->n_parked + s->n_lkwait > 0)
        s->dirty = 1;
    for (k = 0; k < s->n_parked; k++)
        heap_insert(s, s->parked[k]);
    s->n_parked = 0;
    for (k = 0; k < t->info->n_mutexes; k++)
        lk_wake(s, t->gt->locks[k]);
}

/* Park task i (rejected by the mutex check). */
static void park(sched *s, size_t i)
{
    stask *t = &s->t[i];

    t->state = T_PARKED;
    if (t->info->n_mutexes == 1) {
        s->c[i].parked_at = s->requeues;
        wq_add(&s->lk_wq[2 * t->gt->locks[0] + (size_t)is_excl_req(t)], i);
        s->n_lkwait++;
        s->wq_used = 1;
    } else {
        s->parked[s->n_parked++] = i;
    }
}

/* After task i, taken from the ready set, was looked at: the wait queue it
 * came from passes its turn on (see "Wait queues"). */
static void chain_next(sched *s, size_t i)
{
    stask *t = &s->t[i];

    if (t->woke_lk) {
        t->woke_lk = 0;
        lk_wake(s, t->gt->locks[0]);
    }
    if (t->woke_tag) {
        t->woke_tag = 0;
        tag_wake(s, cold(s, t)->wtag);
    }
}

/* Withdraw the task's waiter registrations; 1 if it had any. */
static int locks_withdraw(sched *s, stask *t)
{
    size_t k;
    int any = 0;

    for (k = 0; k < t->info->n_mutexes; k++) {
        if (cold(s, t)->reg[k]) {
            cold(s, t)->reg[k] = 0;
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

    if (s->n_lk == 0)
        return 1;       /* no mutex in the graph */
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
        if (cold(s, t)->reg[k] && !held) {
            cold(s, t)->reg[k] = 0;
            l->excl_waiting--;
            withdrew = 1;
        } else if (!cold(s, t)->reg[k] && held) {
            cold(s, t)->reg[k] = 1;
            l->excl_waiting++;
        }
    }
    if (withdrew)
        requeue_parked(s, t);
    return 0;
}

/* Give the mutexes back.  `requeue`: other tasks may have seen them held,
 * so the parked tasks compete again (MUTEX-006, design 2.3). */
static void locks_release(sched *s, const stask *t, int requeue)
{
    size_t k;

    if (s->n_lk == 0 || t->info->n_mutexes == 0)
        return;
    for (k = 0; k < t->info->n_mutexes; k++) {
        if (is_excl(t, k))
            s->lk[t->gt->locks[k]].excl--;
        else
            s->lk[t->gt->locks[k]].shared--;
    }
    if (requeue)
        requeue_parked(s, t);
}

/* Task i, parked, leaves the parked tasks to be decided. */
static void unpark(sched *s, size_t i)
{
    size_t k, w;

    if (s->t[i].info->n_mutexes == 1) {
        s->n_lkwait--;          /* its queue entry is dropped when met */
        return;
    }
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

/* The task has its outcome.  Its identity is copied into the outcome
 * here rather than at setup: no one reads an outcome before it is settled
 * (observers get it afterwards, the cache reads those of predecessors
 * that succeeded), and the outcome's lines are then in the caches
 * anyway, where a pass at setup would touch all of them once more. */
static void settle(sched *s, size_t i)
{
    haz_task_outcome *o = outcome_of(s, i);

    s->t[i].state = T_DONE;
    s->pend[i] = PEND_GONE;
    s->n_done++;
    o->task = s->res->ids[s->t[i].pos];
    o->end_ns = now_ns(s);
}

/* Release the soft successors of a decided task (design 2.1: any terminal
 * outcome releases them). */
static void release_soft(sched *s, size_t i)
{
    const stask *t = &s->t[i];
    size_t k;

    for (k = 0; k < t->info->n_weak_dependents; k++) {
        size_t d = t->info->weak_dependents[k];

        if (s->pend[d] != PEND_GONE)    /* T_WAITING */
            pend_done(s, d);
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

            if (s->mark[d] || s->pend[d] == PEND_GONE) /* !T_WAITING */
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
 * The strings live in `b` (emptied first); *envp receives a
 * NULL-terminated array (s->sp_envp) and *path the PATH value, or NULL.
 * Returns 0 or HAZ_ENOMEM.
 */
static int build_env(sched *s, const stask *t, haz_buf *b, const char ***envp,
                     const char **path)
{
    const haz_task_info *ti = t->info;
    size_t nh = ti->n_env_from_host, no = ti->n_env, a = 0, o = 0, n = 0;
    size_t *offs;
    const char **env;

    b->len = 0;
    if (nh + no + 1 > s->sp_cap) {
        size_t cap = nh + no + 1;

        offs = haz__reallocarray(s->ctx, s->sp_offs, cap, sizeof(*offs));
        if (offs == NULL)
            return HAZ_ENOMEM;
        s->sp_offs = offs;
        env = haz__reallocarray(s->ctx, (void *)s->sp_envp, cap,
                                sizeof(*env));
        if (env == NULL)
            return HAZ_ENOMEM;
        s->sp_envp = env;
        s->sp_cap = cap;
    }
    offs = s->sp_offs;
    env = s->sp_envp;
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
            haz__buf_append(b, "", 1) != 0)
            return HAZ_ENOMEM;
    }
    *path = NULL;
    for (a = 0; a < n; a++) {
        env[a] = b->data + offs[a];
        if (strncmp(env[a], "PATH=", 5) == 0)
            *path = env[a] + 5;
    }
    env[n] = NULL;
    *envp = env;
    return HAZ_OK;
}

/* The working directory: the project's root under the workspace root,
 * into `b` (emptied first). */
static int build_cwd(sched *s, const stask *t, haz_buf *b)
{
    const char *pr = t->info->project_root;

    b->len = 0;
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
static void spawn_task(sched *s, size_t i)
{
    stask *t = &s->t[i];
    haz_spawn_plan plan;
    const char **envp = NULL;
    int rc;

    memset(&plan, 0, sizeof(plan));
    plan.task_index = i;
    plan.task_id = t->info->id;
    plan.action = t->info->action;
    plan.script = t->info->script;
    plan.argv = t->info->argv;
    plan.argc = t->info->argc;
    rc = build_cwd(s, t, &s->sp_cwd);
    if (rc == 0)
        rc = build_env(s, t, &s->sp_env, &envp, &plan.path);
    if (rc == 0) {
        plan.cwd = s->sp_cwd.data;
        plan.envp = envp;
        haz__error_clear(s->ctx);
        rc = s->cfg->spawner->methods->spawn(s->cfg->spawner, &plan,
                                             &t->child);
    } else {
        rc = HAZ_ENOMEM;
    }
    if (rc == HAZ_OK) {
        t->state = T_RUNNING;
        s->running[s->n_running++] = i;
        /* What its completion reads: the successor list and the first
         * successor's entry (a hint, see PREFETCH_TASK). */
        if (t->info->n_dependents > 0) {
            HAZ_PREFETCH(t->info->dependents);
            HAZ_PREFETCH_W(&s->t[t->info->dependents[0]]);
        }
        if (s->timed) {
            uint64_t now = now_ns(s), to = timeout_of(s, t);

            if (to != 0)
                cold(s, t)->timeout_at = now + to < now ? UINT64_MAX
                                                        : now + to;
        }
        {
            size_t pair = s->hs_free[--s->n_hs_free];

            t->hs_out = (char *)s->hs + 2 * pair * s->hs_stride;
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
        s->blocked[s->n_blocked++] = i;
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
                             s->opt.host_env, preds, n, s->fsrec,
                             &cold(s, t)->inputs, o->key);
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
    scold *tc = cold(s, t);
    haz_cache_output *outs = NULL;
    size_t k, rl = strcmp(s->root, "/") == 0 ? 0 : strlen(s->root);
    int rc = 0;

    if (s->store == NULL || !o->has_key)
        return 0;
    rc = haz__input_set_changed(s->root, &cold(s, t)->inputs, NULL);
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
                                      outs, o->n_outputs, tc->out.data,
                                      tc->out.len, tc->err.data, tc->err.len,
                                      s->created_at);
    }
    for (k = 0; outs != NULL && k < o->n_outputs; k++)
        haz__free(s->ctx, (void *)outs[k].host_path);
    haz__free(s->ctx, outs);
    haz__buf_free(&tc->out);
    haz__buf_free(&tc->err);
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
static void admit(sched *s, size_t i)
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
        park(s, i);
        return;
    }
    slot_take(s, t);
    t->state = T_RUNNING;   /* spawn_task settles it */
    spawn_task(s, i);
}

/*
 * Admission rounds (design 2.4): every ready task that fits is admitted in
 * canonical order; those whose tags are full are set aside and wait for
 * the next round (in the wait queue of a full tag: see "Wait queues").
 * Rounds run only when something changed (s->dirty), and again when a
 * round itself freed something.  A request on the cancel token (from a
 * signal handler or an observer) stops the round at once.
 */
static void admission(sched *s)
{
    while (s->dirty && s->fatal == 0 && !s->gate_closed) {
        size_t k;

        s->dirty = 0;
        s->n_blocked = 0;
        s->in_round = 1;
        s->round_popped = 0;
        while (s->n_heap > 0 && !global_full(s) && s->fatal == 0 &&
               haz_cancel_count(s->cfg->cancel) <= s->seen_requests) {
            size_t i = heap_pop(s);

            if (!s->round_popped || i > s->round_hi)
                s->round_hi = i;
            s->round_popped = 1;
            if (s->t[i].state != T_READY) {
                chain_next(s, i);   /* stale: decided while queued */
                continue;
            }
            if (!tags_fit(s, &s->t[i]))
                s->blocked[s->n_blocked++] = i;
            else
                admit(s, i);
            chain_next(s, i);
        }
        s->in_round = 0;
        for (k = 0; k < s->n_blocked; k++) {
            size_t i = s->blocked[k];
            size_t c = full_tag(s, &s->t[i]);

            if (c == SIZE_MAX) {
                heap_insert(s, i);
            } else {
                s->t[i].state = T_READY;
                s->c[i].wtag = c;
                wq_add(&s->tag_wq[c], i);
                s->wq_used = 1;
            }
        }
        s->n_blocked = 0;
        /* The first ready task is most likely the next one admitted,
         * after the next exit (unless that exit makes a smaller one
         * ready, see pend_done). */
        s->peeked = SIZE_MAX;
        if (s->n_heap > 0) {
            size_t w;

            s->peeked = heap_first(s, &w);
            PREFETCH_TASK(s, s->peeked);
        }
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
            s->hash->init(HS_ERR(s, t));
        t->err_fed = 1;
        s->hash->update(HS_ERR(s, t), ev->data, ev->len);
    } else {
        if (!t->out_fed)
            s->hash->init(t->hs_out);
        t->out_fed = 1;
        s->hash->update(t->hs_out, ev->data, ev->len);
    }
    /* EXEC-016: the streams are captured in full for the cache store. */
    if (s->store != NULL &&
        haz__buf_append(ev->stream == HAZ_STREAM_STDERR ? &cold(s, t)->err
                                                        : &cold(s, t)->out,
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
                                       : cold(s, t)->redges;
            size_t nv = l == 0 ? t->info->n_dependents
                        : l == 1 ? t->info->n_weak_dependents
                                 : cold(s, t)->n_redges;

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
        int withdrew;

        if (ut->state != T_WAITING && ut->state != T_READY &&
            ut->state != T_PARKED)
            continue;
        if (ut->state == T_PARKED)
            unpark(s, u);
        withdrew = locks_withdraw(s, ut);
        o->kind = HAZ_OUTCOME_SKIPPED;
        o->skip_cause = HAZ_SKIP_RUNTIME_CYCLE;
        settle(s, u);
        s->mark2[u] = 1;        /* skipped here: cascaded below */
        OBS_CALL(s, on_task_skipped, o);
        if (withdrew && s->in_round) {
            /* Found by a cache hit in an admission round, which goes on:
             * shared requests may now fit where u was registered, and
             * those not looked at since the last requeue are due in this
             * round (see "Wait queues"). */
            size_t k;

            for (k = 0; k < ut->info->n_mutexes; k++)
                lk_wake(s, ut->gt->locks[k]);
        }
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
                              : l == 1 ? t->info->weak_deps : cold(s, t)->rin;
            size_t nv = l == 0 ? t->info->n_deps
                        : l == 1 ? t->info->n_weak_deps : cold(s, t)->n_rin;

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
    scold *tc = &s->c[i];
    size_t nc, k, n, c = SIZE_MAX, len;

    if (outcome_of(s, i)->n_outputs == 0 || !s->any_inputs)
        return;
    nc = consumers(s, i);
    if (nc == 0)
        return;
    tc->redges = haz__reallocarray(s->ctx, NULL, nc, sizeof(*tc->redges));
    if (tc->redges == NULL) {
        alloc_fail(s);
        return;
    }
    memcpy(tc->redges, s->cons, nc * sizeof(*tc->redges));
    tc->n_redges = nc;
    for (k = 0; k < nc; k++) {
        scold *ct = &s->c[s->cons[k]];

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

        if (s->pend[d] != PEND_GONE)    /* T_WAITING */
            pend_done(s, d);
    }
    release_soft(s, i);
}

/* A stream of a running child could not be read: the task will end
 * ERRORED when its child exits (reference-exec.md 3.4 step 3, see
 * on_exit_event); the first failure is kept. */
static void on_stream_error(sched *s, const haz_spawn_event *ev)
{
    size_t k = find_running(s, ev->child);
    stask *t;

    if (k == SIZE_MAX)
        return;
    t = &s->t[s->running[k]];
    if (!t->read_failed) {
        t->read_failed = 1;
        cold(s, t)->read_errno = ev->os_errno;
        cold(s, t)->read_stream = ev->stream;
    }
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
        s->hash->out(HS_ERR(s, t), o->stderr_hash);
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
    if (t->read_failed || ev->status.kind == HAZ_EXIT_NONE) {
        /* Reference-exec.md 3.4 step 3: a stream that could not be read
         * (CapturedStreamReadFailed; the first failure is named), or a
         * status that could not be collected (WaitFailed), is an error of
         * the task, whatever the child did. */
        const scold *tc = cold(s, t);
        char buf[256];

        if (t->read_failed)
            (void)snprintf(buf, sizeof(buf), "%s: reading the child's %s: "
                           "%s", t->info->id,
                           tc->read_stream == HAZ_STREAM_STDERR ? "stderr"
                                                                : "stdout",
                           strerror(tc->read_errno));
        else
            (void)snprintf(buf, sizeof(buf), "%s: lost the exit status: %s",
                           t->info->id, strerror(ev->os_errno));
        memset(o->stdout_hash, 0, sizeof(o->stdout_hash));
        memset(o->stderr_hash, 0, sizeof(o->stderr_hash));
        o->hash_len = 0;
        if (t->read_failed)
            emit_errored(s, i, HAZ_TERR_STREAM_READ, tc->read_errno, buf);
        else
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
    cold(s, t)->kill_at = now + g < now ? UINT64_MAX : now + g;
    send_signal(s, t, SIGTERM);
}

/* Drain every waiting task as RunCancelled, in canonical order (EXEC-013
 * step 1); draining releases soft successors, which are drained too. */
static void drain(sched *s)
{
    size_t k, q;

    for (k = 0; k < s->n_parked; k++)
        heap_insert(s, s->parked[k]);
    s->n_parked = 0;
    if (s->wq_used) {
        for (q = 0; q < 2 * s->n_lk; q++) {
            for (k = 0; k < s->lk_wq[q].n; k++)
                if (s->t[s->lk_wq[q].v[k]].state == T_PARKED)
                    heap_insert(s, s->lk_wq[q].v[k]);
            s->lk_wq[q].n = 0;
        }
        for (q = 0; q < s->n_caps; q++) {
            for (k = 0; k < s->tag_wq[q].n; k++)
                if (s->t[s->tag_wq[q].v[k]].state == T_READY)
                    heap_insert(s, s->tag_wq[q].v[k]);
            s->tag_wq[q].n = 0;
        }
        s->n_lkwait = 0;
        s->wq_used = 0;
    }
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

        const scold *tc = cold(s, t);

        if (!t->term_sent && tc->timeout_at != 0 && tc->timeout_at < d)
            d = tc->timeout_at;
        if (t->term_sent && !t->kill_sent && tc->kill_at < d)
            d = tc->kill_at;
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

        if (t->term_sent && !t->kill_sent && now >= cold(s, t)->kill_at) {
            t->kill_sent = 1;
            send_signal(s, t, SIGKILL);
        }
    }
    for (k = 0; k < n; k++) {
        stask *t = &s->t[s->scratch[k]];

        if (!t->term_sent && cold(s, t)->timeout_at != 0 &&
            now >= cold(s, t)->timeout_at) {
            t->timed_out = 1;
            terminate(s, t, now);
        }
    }
}

/* ------------------------------------------------------------------------
 * Setup.
 * ---------------------------------------------------------------------- */

/* The wait queues, each sized for every task of the run that can wait in
 * it: a task with one mutex in the queue of its key and mode, a task with
 * capped tags in the queue of any of them. */
static int setup_wait_queues(sched *s)
{
    size_t nq = 2 * s->n_lk + s->n_caps, i, k, total = 0;
    swq *q;

    if (nq == 0)
        return HAZ_OK;
    q = haz__calloc(s->ctx, nq, sizeof(*q));
    if (q == NULL)
        return HAZ_ENOMEM;
    s->lk_wq = q;
    s->tag_wq = q + 2 * s->n_lk;
    if (s->n_lk > 0) {
        s->aside = haz__reallocarray(s->ctx, NULL, s->n, sizeof(*s->aside));
        if (s->aside == NULL)
            return HAZ_ENOMEM;
    }
    /* Count into .n, then turn the counts into slices of the pool. */
    for (i = 0; i < s->n; i++) {
        const stask *t = &s->t[i];

        if (t->state == T_OUT)
            continue;
        if (t->info->n_mutexes == 1)
            s->lk_wq[2 * t->gt->locks[0] + (size_t)is_excl_req(t)].n++;
        for (k = 0; k < t->gt->n_caps; k++)
            s->tag_wq[t->gt->caps[k]].n++;
    }
    for (k = 0; k < nq; k++)
        total += q[k].n;
    if (total == 0)
        return HAZ_OK;
    s->wq_pool = haz__reallocarray(s->ctx, NULL, total, sizeof(*s->wq_pool));
    if (s->wq_pool == NULL)
        return HAZ_ENOMEM;
    for (k = 0, total = 0; k < nq; k++) {
        q[k].v = s->wq_pool + total;
        total += q[k].n;
        q[k].n = 0;
    }
    return HAZ_OK;
}

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
            s->c[i].reg = s->regpool + n_reg;
            n_reg += s->t[i].info->n_mutexes;
        }
    }
    s->n_caps = n_caps;
    if (n_caps > 0) {
        s->tag_cap = haz__calloc(s->ctx, n_caps, sizeof(*s->tag_cap));
        s->tag_used = haz__calloc(s->ctx, n_caps, sizeof(*s->tag_used));
        if (s->tag_cap == NULL || s->tag_used == NULL)
            return HAZ_ENOMEM;
        for (k = 0; k < n_caps; k++)
            s->tag_cap[k] = caps[k].cap;
    }
    return setup_wait_queues(s);
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
    size_t i, k, stride;
    int rc, any_inputs = 0;
    const haz__gtask *gts = haz__graph_tasks(s->g, &s->n);

    if (s->n >= PEND_GONE || s->n > SIZE_MAX / 6)
        return HAZ_ENOMEM;      /* sched.pend counts in 32 bits */
    if (s->n > 0) {
        size_t words = (s->n + 63) / 64;

        /* The task table is initialised entry by entry below, and the six
         * index arrays (one allocation) are written before being read:
         * neither is cleared first, which at 100,000 tasks would be one
         * more pass over 11 MiB.  The cold array is zeroed by calloc,
         * which gets fresh zero pages for a large block and leaves what
         * the run never touches untouched. */
        s->t = haz__reallocarray(s->ctx, NULL, s->n, sizeof(*s->t));
        s->pend = haz__reallocarray(s->ctx, NULL, s->n, sizeof(*s->pend));
        s->c = haz__calloc(s->ctx, s->n, sizeof(*s->c));
        s->ready = haz__calloc(s->ctx, words, sizeof(*s->ready));
        s->ready_sum = haz__calloc(s->ctx, (words + 63) / 64,
                                   sizeof(*s->ready_sum));
        s->parked = haz__reallocarray(s->ctx, NULL, 6 * s->n,
                                      sizeof(*s->parked));
        s->mark = haz__calloc(s->ctx, s->n, 2);
        if (s->t == NULL || s->pend == NULL || s->c == NULL ||
            s->ready == NULL || s->ready_sum == NULL || s->parked == NULL ||
            s->mark == NULL)
            return HAZ_ENOMEM;
        s->running = s->parked + s->n;
        s->scratch = s->running + s->n;
        s->prev = s->scratch + s->n;
        s->blocked = s->prev + s->n;
        s->cons = s->blocked + s->n;
        s->mark2 = s->mark + s->n;
    }
    /* One pass over the tasks when every task is in the run, two with a
     * selection (the second needs to know which tasks are in it). */
    if (cfg->selected == NULL)
        s->n_run = s->n;
    for (i = 0; cfg->selected != NULL && i < s->n; i++) {
        stask *t = &s->t[i];

        memset(t, 0, sizeof(*t));
        t->gt = &gts[i];
        t->info = &gts[i].info;
        t->state = cfg->selected[i] ? T_WAITING : T_OUT;
        s->pend[i] = t->state == T_OUT ? PEND_GONE : 0;
        if (t->state != T_OUT)
            t->pos = s->n_run++;
    }
    s->res = haz__run_result_new(s->ctx, s->n_run);
    if (s->res == NULL)
        return HAZ_ENOMEM;
    /* A run must contain the hard predecessors of its tasks (their stream
     * hashes feed the cache key, CACHE-007); soft predecessors outside the
     * run are ignored. */
    for (i = 0; i < s->n; i++) {
        stask *t = &s->t[i];
        haz_task_id *id;

        if (cfg->selected == NULL) {
            /* Every task is in the run: no predecessor to look up. */
            memset(t, 0, sizeof(*t));
            t->gt = &gts[i];
            t->info = &gts[i].info;
            t->state = T_WAITING;
            t->pos = i;
            s->pend[i] = (uint32_t)(t->info->n_deps + t->info->n_weak_deps);
        } else {
            if (t->state == T_OUT)
                continue;
            for (k = 0; k < t->info->n_deps; k++) {
                if (s->t[t->info->deps[k]].state == T_OUT)
                    return haz__error(s->ctx, HAZ_EINVAL,
                                      "haz_run: %s: its dependency %s is "
                                      "not selected for the run",
                                      t->info->id,
                                      s->t[t->info->deps[k]].info->id);
                s->pend[i]++;
            }
            for (k = 0; k < t->info->n_weak_deps; k++)
                if (s->t[t->info->weak_deps[k]].state != T_OUT)
                    s->pend[i]++;
        }
        s->timed |= timeout_of(s, t) != 0;
        any_inputs |= t->info->n_inputs != 0;
        id = &s->res->ids[t->pos];
        id->index = i;
        id->project = t->info->project;
        id->task = t->info->name;
        id->id = t->info->id;
        if (s->pend[i] == 0)
            heap_push(s, i);
    }
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
    if ((rc = setup_caps_and_locks(s)) != 0)
        return rc;
    if (any_inputs && (rc = setup_inputs(s)) != 0)
        return rc;
    if (cfg->spawner->methods->max_children != NULL)
        s->max_children = cfg->spawner->methods->max_children(cfg->spawner);
    s->ev_cap = SCHED_EVENTS;
    s->ev = haz__calloc(s->ctx, s->ev_cap, sizeof(*s->ev));
    if (s->ev == NULL)
        return HAZ_ENOMEM;
    if ((rc = setup_cache(s)) != 0)
        return rc;
    /* The captured streams and the input sets serve the cache only (a
     * zeroed one is freed as empty). */
    for (i = 0; s->store != NULL && i < s->n; i++) {
        scold *c = &s->c[i];

        haz__buf_init(&c->out, s->ctx);
        haz__buf_init(&c->err, s->ctx);
        haz__input_set_init(&c->inputs, s->ctx);
    }
    s->dirty = 1;
    return HAZ_OK;
}

static void teardown(sched *s)
{
    size_t i;

    /* Only the cache and the runtime invariants allocate per task. */
    for (i = 0; i < s->n && s->c != NULL && (s->store != NULL ||
                                             s->any_inputs); i++) {
        haz__free(s->ctx, s->c[i].redges);
        haz__free(s->ctx, s->c[i].rin);
        haz__buf_free(&s->c[i].out);
        haz__buf_free(&s->c[i].err);
        haz__input_set_free(&s->c[i].inputs);
    }
    haz__filestat_close(s->fsrec);
    haz__strmap_free(&s->claims);
    haz__strmap_free(&s->lit_in);
    haz__free(s->ctx, s->inputs);
    haz__free(s->ctx, s->glob_in);
    haz__free(s->ctx, s->t);
    haz__free(s->ctx, s->pend);
    haz__buf_free(&s->sp_env);
    haz__buf_free(&s->sp_cwd);
    haz__free(s->ctx, s->sp_offs);
    haz__free(s->ctx, (void *)s->sp_envp);
    haz__free(s->ctx, s->c);
    haz__free(s->ctx, s->ready);
    haz__free(s->ctx, s->ready_sum);
    haz__free(s->ctx, s->parked);   /* and running .. cons */
    haz__free(s->ctx, s->mark);     /* and mark2 */
    haz__free(s->ctx, s->hs);
    haz__free(s->ctx, s->hs_free);
    haz__free(s->ctx, s->tag_cap);
    haz__free(s->ctx, s->tag_used);
    haz__free(s->ctx, s->lk);
    haz__free(s->ctx, s->regpool);
    haz__free(s->ctx, s->lk_wq);
    haz__free(s->ctx, s->wq_pool);
    haz__free(s->ctx, s->aside);
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
            else if (s->ev[e].type == HAZ_EV_STREAM_ERROR)
                on_stream_error(s, &s->ev[e]);
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
    haz__buf_init(&s.sp_env, ctx);
    haz__buf_init(&s.sp_cwd, ctx);
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
