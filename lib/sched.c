/*
 * lib/sched.c: the scheduler, haz_run().
 *
 * One single-threaded event loop owns all state (design section 1).  Each
 * pass of the loop:
 *   1. notices cancellation (the caller's token or the internal one after a
 *      runtime cycle) and, once cancelling, signals running children and
 *      drains every waiting task (EXEC-012..015, design 2.9);
 *   2. otherwise runs an admission round: ready tasks in canonical order,
 *      every one that fits the global and tag caps is admitted (EXEC-004/5,
 *      design 2.4 and 2.12), looked up in the cache first (EXEC-007), then
 *      given its mutexes all at once or parked (MUTEX-001..007, design
 *      2.2/2.3), then spawned;
 *   3. blocks in the spawner's wait() until output, an exit, a timer
 *      (timeout, design 2.10; SIGKILL after the grace period, EXEC-014) or
 *      the cancel token;
 *   4. handles what came back: output goes to the observer and the stream
 *      hashes, an exit completes its task (EXEC-009), releases mutexes and
 *      slots, promotes successors or cascades the failure to the hard
 *      descendants with the root named (EXEC-010/011).
 * The loop ends when nothing runs and nothing more can be admitted; every
 * task of the run then has exactly one outcome.
 *
 * The file is divided into: state and helpers; the ready heap; caps and
 * mutexes; outcomes and cascades; spawning; completion; cancellation and
 * timers; the loop and haz_run().
 */
#include "internal.h"
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

/* ------------------------------------------------------------------------
 * State.
 * ---------------------------------------------------------------------- */

enum tstate {
    T_OUT = 0,       /* not part of the run */
    T_WAITING,       /* predecessors pending */
    T_READY,         /* in the ready heap */
    T_PARKED,        /* rejected by the mutex check, waiting for a release */
    T_RUNNING,       /* its process is running */
    T_DONE           /* has its outcome */
};

typedef struct stask {
    const haz__gtask *gt;    /* the frozen task */
    haz_task_info info;      /* gt->info */
    size_t pos;              /* index in the result */
    enum tstate state;
    size_t pend_hard;        /* unfinished hard predecessors in the run */
    size_t pend_soft;        /* soft predecessors in the run not terminal */
    uint64_t timeout_ns;
    unsigned started : 1;    /* on_task_started fired */
    unsigned waiting_excl : 1; /* counted in locks' excl_waiting */
    unsigned term_sent : 1;
    unsigned kill_sent : 1;
    unsigned timed_out : 1;
    unsigned cancel_sent : 1;
    unsigned looked_up : 1;  /* lookup done (kept across parking) */
    haz_child child;
    uint64_t start_ns;
    uint64_t timeout_at;     /* 0: none */
    uint64_t kill_at;        /* valid when term_sent */
    void *hs_out;            /* stream hash states while running */
    void *hs_err;
    size_t *redges;          /* producer edges found at run time (EXEC-019) */
    size_t n_redges;
    size_t cap_redges;
} stask;

typedef struct slock {
    unsigned shared;         /* shared holders */
    unsigned excl;           /* exclusive holders (0 or 1) */
    unsigned excl_waiting;   /* exclusive requests parked or re-queued */
} slock;

typedef struct sched {
    haz_ctx *ctx;
    const haz_run_config *cfg;
    haz_run_options opt;
    const haz_graph *g;
    const haz_hash_methods *hash;
    haz_observer obs;
    haz_run_result *res;
    size_t n;                /* tasks in the graph */
    stask *t;                /* n entries */
    size_t n_run;            /* tasks in the run */
    size_t n_done;
    /* ready heap of graph indices (canonical order = index order) */
    size_t *heap;
    size_t n_heap;
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
    size_t n_tag_caps;
    size_t max_children;     /* spawner limit, 0: none */
    /* locks */
    slock *lk;
    size_t n_lk;
    /* flags */
    int cancelling;          /* grace-then-kill flow and drain are active */
    int gate_closed;         /* admission closed by an invariant violation */
    int fatal;               /* a fatal error code, 0 if none */
    /* runtime invariants */
    haz_strmap claims;       /* output path -> first claimant (EXEC-020) */
    int any_inputs;          /* some task of the run declares inputs */
    size_t *prev;            /* n entries: path search (EXEC-019) */
    /* scratch */
    size_t *scratch;         /* n entries for cascades */
    unsigned char *mark;     /* n entries */
    haz_spawn_event *ev;
    size_t ev_cap;
    char *msgbuf;            /* message formatting */
} sched;

#define SCHED_EVENTS 64

static uint64_t now_ns(sched *s)
{
    return haz_clock_now_ns(s->cfg->clock);
}

/* ------------------------------------------------------------------------
 * The ready heap: a binary min-heap of graph indices.
 * ---------------------------------------------------------------------- */

static void heap_push(sched *s, size_t i)
{
    size_t k = s->n_heap++;

    while (k > 0) {
        size_t p = (k - 1) / 2;

        if (s->heap[p] <= i)
            break;
        s->heap[k] = s->heap[p];
        k = p;
    }
    s->heap[k] = i;
    s->t[i].state = T_READY;
}

static size_t heap_pop(sched *s)
{
    size_t top = s->heap[0];
    size_t last = s->heap[--s->n_heap];
    size_t k = 0;

    for (;;) {
        size_t c = 2 * k + 1;

        if (c >= s->n_heap)
            break;
        if (c + 1 < s->n_heap && s->heap[c + 1] < s->heap[c])
            c++;
        if (last <= s->heap[c])
            break;
        s->heap[k] = s->heap[c];
        k = c;
    }
    if (s->n_heap > 0)
        s->heap[k] = last;
    return top;
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
    if (s->n_running >= s->global_cap)
        return 1;
    return s->max_children != 0 && s->n_running >= s->max_children;
}

static int tags_fit(const sched *s, const stask *t)
{
    size_t k;

    for (k = 0; k < t->gt->n_caps; k++)
        if (s->tag_used[t->gt->caps[k]] >= s->tag_cap[t->gt->caps[k]])
            return 0;
    return 1;
}

static void slot_take(sched *s, stask *t)
{
    size_t k;

    for (k = 0; k < t->gt->n_caps; k++)
        s->tag_used[t->gt->caps[k]]++;
}

static void slot_release(sched *s, stask *t)
{
    size_t k;

    for (k = 0; k < t->gt->n_caps; k++)
        s->tag_used[t->gt->caps[k]]--;
}

/* MUTEX-003/005, design 2.2: an exclusive request conflicts with any
 * holder; a shared one with an exclusive holder or a waiting exclusive
 * request (writer preference). */
static int locks_free(const sched *s, const stask *t)
{
    size_t k;

    for (k = 0; k < t->info.n_mutexes; k++) {
        const slock *l = &s->lk[t->gt->locks[k]];

        if ((t->info.mutexes[k].mode == HAZ_MUTEX_EXCLUSIVE)) {
            if (l->shared > 0 || l->excl > 0)
                return 0;
        } else if (l->excl > 0 || l->excl_waiting > 0) {
            return 0;
        }
    }
    return 1;
}

static void locks_stop_waiting(sched *s, stask *t)
{
    size_t k;

    if (!t->waiting_excl)
        return;
    for (k = 0; k < t->info.n_mutexes; k++)
        if ((t->info.mutexes[k].mode == HAZ_MUTEX_EXCLUSIVE))
            s->lk[t->gt->locks[k]].excl_waiting--;
    t->waiting_excl = 0;
}

static void locks_start_waiting(sched *s, stask *t)
{
    size_t k;

    if (t->waiting_excl)
        return;
    for (k = 0; k < t->info.n_mutexes; k++)
        if ((t->info.mutexes[k].mode == HAZ_MUTEX_EXCLUSIVE)) {
            s->lk[t->gt->locks[k]].excl_waiting++;
            t->waiting_excl = 1;
        }
}

static void locks_acquire(sched *s, stask *t)
{
    size_t k;

    locks_stop_waiting(s, t);
    for (k = 0; k < t->info.n_mutexes; k++) {
        if ((t->info.mutexes[k].mode == HAZ_MUTEX_EXCLUSIVE))
            s->lk[t->gt->locks[k]].excl++;
        else
            s->lk[t->gt->locks[k]].shared++;
    }
}

/* Release the task's locks (MUTEX-006) and give every parked task another
 * chance in canonical order (design 2.3). */
static void locks_release(sched *s, stask *t)
{
    size_t k;

    if (t->info.n_mutexes == 0)
        return;
    for (k = 0; k < t->info.n_mutexes; k++) {
        if ((t->info.mutexes[k].mode == HAZ_MUTEX_EXCLUSIVE))
            s->lk[t->gt->locks[k]].excl--;
        else
            s->lk[t->gt->locks[k]].shared--;
    }
    for (k = 0; k < s->n_parked; k++) {
        size_t i = s->parked[k];

        s->t[i].state = T_WAITING;
        heap_push(s, i);
    }
    s->n_parked = 0;
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

/* A task reached its outcome: count it and release soft successors
 * (design 2.1: any terminal outcome releases them). */
static void task_done(sched *s, size_t i)
{
    stask *t = &s->t[i];
    size_t k;

    t->state = T_DONE;
    s->n_done++;
    outcome_of(s, i)->end_ns = now_ns(s);
    for (k = 0; k < t->info.n_weak_dependents; k++) {
        size_t d = t->info.weak_dependents[k];

        if (s->t[d].state == T_WAITING) {
            s->t[d].pend_soft--;
            make_ready_if_free(s, d);
        }
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * Give every undecided hard descendant of `root` the outcome `kind`
 * (SKIPPED or CANCELLED) with `root` named as upstream (EXEC-011: the root,
 * never an intermediate task), firing the observer for each in canonical
 * order (design 2.7).
 */
static void cascade(sched *s, size_t root, haz_outcome_kind kind, int cause)
{
    size_t head = 0, tail = 0, k;

    s->scratch[tail++] = root;
    s->mark[root] = 1;
    while (head < tail) {
        const stask *t = &s->t[s->scratch[head++]];

        for (k = 0; k < t->info.n_dependents; k++) {
            size_t d = t->info.dependents[k];

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
    /* The root stays first; sort the rest canonically. */
    qsort(s->scratch + 1, tail - 1, sizeof(size_t), cmp_size);
    for (k = 1; k < tail; k++) {
        size_t d = s->scratch[k];
        haz_task_outcome *o = outcome_of(s, d);

        o->kind = kind;
        o->upstream = id_of(s, root);
        s->t[d].state = T_DONE;   /* before notifying, so nothing re-queues */
        if (kind == HAZ_OUTCOME_SKIPPED) {
            o->skip_cause = (haz_skip_cause)cause;
            o->end_ns = now_ns(s);
            if (s->obs.methods && s->obs.methods->on_task_skipped)
                s->obs.methods->on_task_skipped(s->obs.ud, o);
        } else {
            o->cancel_kind = (haz_cancel_kind)cause;
            o->end_ns = now_ns(s);
            if (s->obs.methods && s->obs.methods->on_task_cancelled)
                s->obs.methods->on_task_cancelled(s->obs.ud, o);
        }
    }
    /* Soft successors of the newly decided tasks are released after every
     * event of the cascade was emitted. */
    for (k = 1; k < tail; k++) {
        size_t d = s->scratch[k];

        s->t[d].state = T_WAITING;
        task_done(s, d);
    }
}

static void emit_errored(sched *s, size_t i, haz_task_error kind, int os_errno,
                         const char *msg)
{
    haz_task_outcome *o = outcome_of(s, i);
    char *m = haz__run_result_strdup(s->res, msg);

    o->kind = HAZ_OUTCOME_ERRORED;
    o->error = kind;
    o->os_errno = os_errno;
    o->message = m != NULL ? m : "out of memory while recording the error";
    o->end_ns = now_ns(s);
    if (s->obs.methods && s->obs.methods->on_task_errored)
        s->obs.methods->on_task_errored(s->obs.ud, o);
    task_done(s, i);
    cascade(s, i, HAZ_OUTCOME_SKIPPED, HAZ_SKIP_UPSTREAM_ERRORED);
}

static void emit_run_cancelled(sched *s, size_t i)
{
    haz_task_outcome *o = outcome_of(s, i);

    o->kind = HAZ_OUTCOME_CANCELLED;
    o->cancel_kind = HAZ_CANCEL_RUN_CANCELLED;
    o->end_ns = now_ns(s);
    if (s->obs.methods && s->obs.methods->on_task_cancelled)
        s->obs.methods->on_task_cancelled(s->obs.ud, o);
    task_done(s, i);
    cascade(s, i, HAZ_OUTCOME_CANCELLED, HAZ_CANCEL_UPSTREAM_CANCELLED);
}

/* Skip a task that is waiting, ready or parked (a runtime cycle member,
 * EXEC-019).  A ready task's heap entry goes stale and is dropped when
 * popped. */
static void skip_waiting(sched *s, size_t i, haz_skip_cause cause)
{
    haz_task_outcome *o = outcome_of(s, i);
    size_t k, w;

    if (s->t[i].state == T_PARKED) {
        for (k = 0, w = 0; k < s->n_parked; k++)
            if (s->parked[k] != i)
                s->parked[w++] = s->parked[k];
        s->n_parked = w;
    }
    locks_stop_waiting(s, &s->t[i]);
    o->kind = HAZ_OUTCOME_SKIPPED;
    o->skip_cause = cause;
    o->end_ns = now_ns(s);
    s->t[i].state = T_WAITING;
    if (s->obs.methods && s->obs.methods->on_task_skipped)
        s->obs.methods->on_task_skipped(s->obs.ud, o);
    task_done(s, i);
}

/* ------------------------------------------------------------------------
 * Spawning.
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
 * The strings live in `b`; *envp receives a NULL-terminated array.
 */
static int build_env(sched *s, const stask *t, haz_buf *b, const char ***envp,
                     const char **path)
{
    const haz_task_info *ti = &t->info;
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
                continue;
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

static void begin_cancel(sched *s);

static void alloc_fail(sched *s)
{
    if (s->fatal == 0)
        s->fatal = HAZ_ENOMEM;
}

/* Spawn an admitted task whose locks are held.  On failure the task ends
 * ERRORED (design 2.7). */
static void spawn_task(sched *s, size_t i)
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
    plan.task_id = t->info.id;
    plan.action = t->info.action;
    plan.script = t->info.script;
    plan.argv = t->info.argv;
    plan.argc = t->info.argc;
    if (strcmp(t->info.project_root, ".") == 0)
        rc = haz__buf_puts(&cwd, s->opt.workspace_root);
    else
        rc = haz__buf_printf(&cwd, "%s%s%s", s->opt.workspace_root,
                             s->opt.workspace_root[strlen(
                                 s->opt.workspace_root) - 1] == '/' ? "" : "/",
                             t->info.project_root);
    if (rc == 0)
        rc = build_env(s, t, &envbuf, &envp, &plan.path);
    if (rc != 0) {
        haz__buf_free(&envbuf);
        haz__buf_free(&cwd);
        alloc_fail(s);
        return;
    }
    plan.cwd = cwd.data;
    plan.envp = envp;
    haz__error_clear(s->ctx);
    rc = s->cfg->spawner->methods->spawn(s->cfg->spawner, &plan, &t->child);
    haz__free(s->ctx, (void *)envp);
    haz__buf_free(&envbuf);
    haz__buf_free(&cwd);
    if (rc == HAZ_ENOMEM) {
        alloc_fail(s);
        return;
    }
    if (rc != 0) {
        const char *m = haz_ctx_errmsg(s->ctx);
        char buf[1200];

        locks_release(s, t);
        slot_release(s, t);
        if (m[0] == '\0') {
            (void)snprintf(buf, sizeof(buf), "%s: cannot start: %s",
                           t->info.id, haz_strerror(rc));
            m = buf;
        }
        emit_errored(s, i, HAZ_TERR_SPAWN, haz_ctx_errno(s->ctx), m);
        return;
    }
    t->state = T_RUNNING;
    s->running[s->n_running++] = i;
    if (t->timeout_ns != 0) {
        uint64_t now = now_ns(s);

        t->timeout_at = now + t->timeout_ns < now ? UINT64_MAX
                                                  : now + t->timeout_ns;
    }
    s->hash->init(t->hs_out);
    s->hash->init(t->hs_err);
}

/* Admit one ready task that fits the caps (reference-exec.md 3.3, step 2):
 * take its slot, announce it once, look it up, then the mutex check. */
static void admit(sched *s, size_t i)
{
    stask *t = &s->t[i];

    slot_take(s, t);
    if (!t->started) {
        t->started = 1;
        t->start_ns = now_ns(s);
        outcome_of(s, i)->start_ns = t->start_ns;
        if (s->obs.methods && s->obs.methods->on_task_started)
            s->obs.methods->on_task_started(s->obs.ud, id_of(s, i));
    }
    /* EXEC-007 step 1: the cache is consulted before any mutex.  Without a
     * cache store every lookup is a miss (the cache seam plugs in here). */
    t->looked_up = 1;
    /* Step 3: MUTEX-005 and design 2.3. */
    if (!locks_free(s, t)) {
        slot_release(s, t);
        locks_start_waiting(s, t);
        t->state = T_PARKED;
        s->parked[s->n_parked++] = i;
        return;
    }
    locks_acquire(s, t);
    t->state = T_RUNNING;   /* provisional, spawn_task settles it */
    spawn_task(s, i);
}

/* One admission round (design 2.4): every ready task that fits is admitted
 * in canonical order; those whose tags are full wait for the next round. */
static void admission_round(sched *s)
{
    size_t n_skip = 0, k;

    if (s->cancelling || s->gate_closed)
        return;
    while (s->n_heap > 0 && !global_full(s) && s->fatal == 0) {
        size_t i = heap_pop(s);

        if (s->t[i].state != T_READY)
            continue;           /* stale: decided while queued */
        if (!tags_fit(s, &s->t[i])) {
            s->scratch[n_skip++] = i;
            continue;
        }
        admit(s, i);
    }
    for (k = 0; k < n_skip; k++)
        heap_push(s, s->scratch[k]);
}

/* ------------------------------------------------------------------------
 * Completion.
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

    if (k == SIZE_MAX)
        return;
    t = &s->t[s->running[k]];
    if (ev->len == 0)
        return;
    s->hash->update(ev->stream == HAZ_STREAM_STDERR ? t->hs_err : t->hs_out,
                    ev->data, ev->len);
    if (s->obs.methods && s->obs.methods->on_output)
        s->obs.methods->on_output(s->obs.ud, id_of(s, s->running[k]),
                                  ev->stream, ev->data, ev->len);
}

/* Resolve the output patterns of fresh task i after success into the
 * outcome's materialised list.  On failure the task ends ERRORED and 1 is
 * returned. */
static int resolve_outputs(sched *s, size_t i)
{
    stask *t = &s->t[i];
    haz_task_outcome *o = outcome_of(s, i);
    haz_pathlist pl;
    const char **v;
    size_t k;
    int rc;

    if (t->info.n_outputs == 0)
        return 0;
    haz__pathlist_init(&pl, s->ctx);
    haz__error_clear(s->ctx);
    rc = haz__resolve_patterns(s->ctx, s->opt.workspace_root,
                               t->gt->outputs, t->info.n_outputs, 1, &pl);
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

        (void)snprintf(buf, sizeof(buf), "%s: output %s", t->info.id,
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

static void add_violation(sched *s, const haz_violation *v)
{
    if (haz__run_result_add_violation(s->res, v) != 0) {
        alloc_fail(s);
        return;
    }
    s->gate_closed = 1;     /* design 2.8: admission stops */
    if (s->obs.methods && s->obs.methods->on_violation)
        s->obs.methods->on_violation(s->obs.ud,
                                     &s->res->violations[s->res->n_violations
                                                         - 1]);
}

/* EXEC-020: the first task to materialise a path claims it; every later
 * claimant is reported against the first. */
static void check_overlap(sched *s, size_t i)
{
    const haz_task_outcome *o = outcome_of(s, i);
    size_t k, first;

    for (k = 0; k < o->n_outputs; k++) {
        if (haz__strmap_get(&s->claims, o->outputs[k], &first)) {
            haz_violation v;

            if (first == i)
                continue;
            memset(&v, 0, sizeof(v));
            v.kind = HAZ_VIOLATION_OUTPUT_OVERLAP;
            v.first = id_of(s, first);
            v.second = id_of(s, i);
            v.path = o->outputs[k];
            add_violation(s, &v);
        } else if (haz__strmap_put(&s->claims, o->outputs[k], i) != 0) {
            alloc_fail(s);
        }
    }
}

/* Does task c read path p (one of its input patterns names it)? */
static int reads_path(const stask *c, const char *p)
{
    size_t k;

    for (k = 0; k < c->info.n_inputs; k++) {
        const haz__gpattern *in = &c->gt->inputs[k];

        if (in->is_glob ? haz__pattern_match(in->abs, p)
                        : strcmp(in->abs, p) == 0)
            return 1;
    }
    return 0;
}

static int has_runtime_edge(const stask *t, size_t to)
{
    size_t k;

    for (k = 0; k < t->n_redges; k++)
        if (t->redges[k] == to)
            return 1;
    return 0;
}

/*
 * Search a path from `from` to `to` over every edge kind (hard, soft and
 * the producer edges found so far).  On success the path's nodes are in
 * s->scratch[0..*len-1], from first, and 1 is returned.
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
        size_t lists = 3, l;

        for (l = 0; l < lists && !found; l++) {
            const size_t *v = l == 0 ? t->info.dependents
                              : l == 1 ? t->info.weak_dependents : t->redges;
            size_t nv = l == 0 ? t->info.n_dependents
                        : l == 1 ? t->info.n_weak_dependents : t->n_redges;

            for (k = 0; k < nv; k++) {
                size_t w = v[k];

                if (s->mark[w])
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

/*
 * EXEC-019 / design 2.8: every task whose inputs match a path that task i
 * materialised gains an edge i -> consumer; an edge that closes a cycle of
 * length >= 2 is reported once, waiting cycle members are skipped, and an
 * internal cancellation stops everything else.
 */
static void check_cycles(sched *s, size_t i)
{
    const haz_task_outcome *o = outcome_of(s, i);
    size_t k, c;

    if (o->n_outputs == 0 || !s->any_inputs)
        return;
    for (c = 0; c < s->n; c++) {
        stask *ct = &s->t[c];
        size_t len, m;

        if (c == i || ct->state == T_OUT || ct->info.n_inputs == 0 ||
            has_runtime_edge(&s->t[i], c))
            continue;
        for (k = 0; k < o->n_outputs; k++)
            if (reads_path(ct, o->outputs[k]))
                break;
        if (k == o->n_outputs)
            continue;
        if (s->t[i].n_redges == s->t[i].cap_redges) {
            size_t cap = s->t[i].cap_redges ? 2 * s->t[i].cap_redges : 4;
            size_t *ne = haz__reallocarray(s->ctx, s->t[i].redges, cap,
                                           sizeof(*ne));

            if (ne == NULL) {
                alloc_fail(s);
                return;
            }
            s->t[i].redges = ne;
            s->t[i].cap_redges = cap;
        }
        s->t[i].redges[s->t[i].n_redges++] = c;
        if (find_path(s, c, i, &len) && len >= 2) {
            haz_violation v;
            const haz_task_id **mem;

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
            add_violation(s, &v);
            for (m = 0; m < len; m++) {
                size_t u = s->scratch[m];
                stask *ut = &s->t[u];

                if (ut->state != T_WAITING && ut->state != T_READY &&
                    ut->state != T_PARKED)
                    continue;
                skip_waiting(s, u, HAZ_SKIP_RUNTIME_CYCLE);
            }
            if (!s->cancelling)
                begin_cancel(s);
            return;
        }
    }
}

/* A task reached Succeeded or Failed (fresh or hit): announce, record,
 * then promote or cascade (reference-exec.md 3.3 step 5). */
static void complete(sched *s, size_t i)
{
    stask *t = &s->t[i];
    haz_task_outcome *o = outcome_of(s, i);
    size_t k;

    o->kind = HAZ_OUTCOME_COMPLETED;
    o->end_ns = now_ns(s);
    if (s->obs.methods && s->obs.methods->on_task_finished)
        s->obs.methods->on_task_finished(s->obs.ud, o);
    task_done(s, i);
    if (o->state != HAZ_STATE_SUCCEEDED) {
        cascade(s, i, HAZ_OUTCOME_SKIPPED, HAZ_SKIP_UPSTREAM_FAILED);
        return;
    }
    check_overlap(s, i);
    check_cycles(s, i);
    for (k = 0; k < t->info.n_dependents; k++) {
        size_t d = t->info.dependents[k];

        if (s->t[d].state == T_WAITING) {
            s->t[d].pend_hard--;
            make_ready_if_free(s, d);
        }
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
    locks_release(s, t);
    slot_release(s, t);
    o = outcome_of(s, i);
    o->status = ev->status;
    o->hash_len = s->hash->digest_len;
    s->hash->out(t->hs_out, o->stdout_hash);
    s->hash->out(t->hs_err, o->stderr_hash);
    o->source = HAZ_SOURCE_FRESH;
    if (t->cancel_sent) {
        /* EXEC-013 step 2: signalled by the executor; never stored
         * (EXEC-015) whatever the exit status. */
        o->kind = HAZ_OUTCOME_CANCELLED;
        o->cancel_kind = HAZ_CANCEL_SIGNALED_IN_FLIGHT;
        o->state = HAZ_STATE_CANCELLED;
        o->end_ns = now_ns(s);
        if (s->obs.methods && s->obs.methods->on_task_cancelled)
            s->obs.methods->on_task_cancelled(s->obs.ud, o);
        task_done(s, i);
        cascade(s, i, HAZ_OUTCOME_CANCELLED, HAZ_CANCEL_UPSTREAM_CANCELLED);
        return;
    }
    if (ev->status.kind == HAZ_EXIT_NONE) {
        char buf[256];

        (void)snprintf(buf, sizeof(buf), "%s: lost the exit status: %s",
                       t->info.id, strerror(ev->os_errno));
        memset(o->stdout_hash, 0, sizeof(o->stdout_hash));
        memset(o->stderr_hash, 0, sizeof(o->stderr_hash));
        o->hash_len = 0;
        emit_errored(s, i, HAZ_TERR_WAIT, ev->os_errno, buf);
        return;
    }
    o->timed_out = t->timed_out;
    if (!t->timed_out && ev->status.kind == HAZ_EXIT_CODE &&
        ev->status.code == 0) {
        /* Succeeded: enumerate what it materialised (design 2.17); a
         * problem there is an executor error even though the child
         * succeeded (reference-exec.md 3.4 step 6). */
        if (resolve_outputs(s, i) != 0)
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

static void send_signal(sched *s, stask *t, int signo)
{
    /* Best effort: a child that exited meanwhile is not an error. */
    (void)s->cfg->spawner->methods->signal(s->cfg->spawner, t->child, signo);
}

/* SIGTERM now, SIGKILL after the grace period (EXEC-014). */
static void terminate(sched *s, stask *t, uint64_t now)
{
    uint64_t g = s->opt.cancel_grace_ns;

    if (t->term_sent)
        return;
    t->term_sent = 1;
    t->kill_at = now + g < now ? UINT64_MAX : now + g;
    send_signal(s, t, SIGTERM);
}

/* Drain every waiting task as RunCancelled, in canonical order (EXEC-013
 * step 1).  Draining may release soft successors, so repeat until empty. */
static void drain(sched *s)
{
    size_t k;

    for (k = 0; k < s->n_parked; k++) {
        s->t[s->parked[k]].state = T_WAITING;
        heap_push(s, s->parked[k]);
    }
    s->n_parked = 0;
    while (s->n_heap > 0) {
        size_t i = heap_pop(s);

        if (s->t[i].state != T_READY)
            continue;
        locks_stop_waiting(s, &s->t[i]);
        emit_run_cancelled(s, i);
    }
}

static void begin_cancel(sched *s)
{
    uint64_t now = now_ns(s);
    size_t k;

    s->cancelling = 1;
    for (k = 0; k < s->n_running; k++) {
        stask *t = &s->t[s->running[k]];

        t->cancel_sent = 1;
        terminate(s, t, now);
    }
}

static void check_timers(sched *s)
{
    uint64_t now = now_ns(s);
    size_t k;

    for (k = 0; k < s->n_running; k++) {
        stask *t = &s->t[s->running[k]];

        if (!t->term_sent && t->timeout_at != 0 && now >= t->timeout_at) {
            t->timed_out = 1;   /* design 2.10 */
            terminate(s, t, now);
        }
        if (t->term_sent && !t->kill_sent && now >= t->kill_at) {
            t->kill_sent = 1;
            send_signal(s, t, SIGKILL);
        }
    }
}

static uint64_t next_deadline(const sched *s)
{
    uint64_t d = UINT64_MAX;
    size_t k;

    for (k = 0; k < s->n_running; k++) {
        const stask *t = &s->t[s->running[k]];

        if (!t->term_sent && t->timeout_at != 0 && t->timeout_at < d)
            d = t->timeout_at;
        if (t->term_sent && !t->kill_sent && t->kill_at < d)
            d = t->kill_at;
    }
    return d;
}

/* ------------------------------------------------------------------------
 * Setup.
 * ---------------------------------------------------------------------- */

/* The hold set has one entry per distinct lock key of the graph and the
 * tag caps one per capped tag; the frozen graph indexes both. */
static int setup_caps_and_locks(sched *s)
{
    size_t n_caps, k;
    const haz_tag_cap *caps = haz_graph_tag_caps(s->g, &n_caps);

    (void)haz__graph_locks(s->g, &s->n_lk);
    if (s->n_lk > 0) {
        s->lk = haz__calloc(s->ctx, s->n_lk, sizeof(*s->lk));
        if (s->lk == NULL)
            return HAZ_ENOMEM;
    }
    s->n_tag_caps = n_caps;
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

static int setup(sched *s)
{
    const haz_run_config *cfg = s->cfg;
    size_t i, k, pos = 0;
    int rc;

    const haz__gtask *gts = haz__graph_tasks(s->g, &s->n);

    if (s->n > 0) {
        s->t = haz__calloc(s->ctx, s->n, sizeof(*s->t));
        s->heap = haz__calloc(s->ctx, s->n, sizeof(*s->heap));
        s->parked = haz__calloc(s->ctx, s->n, sizeof(*s->parked));
        s->running = haz__calloc(s->ctx, s->n, sizeof(*s->running));
        s->scratch = haz__calloc(s->ctx, s->n, sizeof(*s->scratch));
        s->mark = haz__calloc(s->ctx, s->n, 1);
        s->prev = haz__calloc(s->ctx, s->n, sizeof(*s->prev));
        if (s->t == NULL || s->heap == NULL || s->parked == NULL ||
            s->running == NULL || s->scratch == NULL || s->mark == NULL ||
            s->prev == NULL)
            return HAZ_ENOMEM;
    }
    for (i = 0; i < s->n; i++) {
        stask *t = &s->t[i];

        t->gt = &gts[i];
        t->info = gts[i].info;
        t->state = (cfg->selected == NULL || cfg->selected[i]) ? T_WAITING
                                                                : T_OUT;
        if (t->state != T_OUT)
            t->pos = s->n_run++;
    }
    /* A run must contain the hard predecessors of its tasks (their stream
     * hashes feed the cache key, CACHE-007). */
    for (i = 0; i < s->n; i++) {
        stask *t = &s->t[i];

        if (t->state == T_OUT)
            continue;
        for (k = 0; k < t->info.n_deps; k++) {
            if (s->t[t->info.deps[k]].state == T_OUT)
                return haz__error(s->ctx, HAZ_EINVAL,
                                  "%s: its dependency %s is not selected "
                                  "for the run",
                                  t->info.id, s->t[t->info.deps[k]].info.id);
            t->pend_hard++;
        }
        for (k = 0; k < t->info.n_weak_deps; k++)
            if (s->t[t->info.weak_deps[k]].state != T_OUT)
                t->pend_soft++;
        t->timeout_ns = t->info.timeout_ns != 0 ? t->info.timeout_ns
                                                : s->opt.default_timeout_ns;
        if (t->info.n_inputs > 0)
            s->any_inputs = 1;
    }
    s->res = haz__run_result_new(s->ctx, s->n_run);
    if (s->res == NULL)
        return HAZ_ENOMEM;
    for (i = 0; i < s->n; i++) {
        stask *t = &s->t[i];
        haz_task_id *id;

        if (t->state == T_OUT)
            continue;
        id = &s->res->ids[pos];
        id->index = i;
        id->project = t->info.project;
        id->task = t->info.name;
        id->id = t->info.id;
        s->res->outcomes[pos].task = *id;
        pos++;
        t->hs_out = haz__malloc(s->ctx, s->hash->context_size);
        t->hs_err = haz__malloc(s->ctx, s->hash->context_size);
        if (t->hs_out == NULL || t->hs_err == NULL)
            return HAZ_ENOMEM;
    }
    if ((rc = setup_caps_and_locks(s)) != 0)
        return rc;
    s->global_cap = s->opt.concurrency != 0 ? s->opt.concurrency
                                            : haz_online_cpus();
    if (cfg->spawner->methods->max_children != NULL)
        s->max_children = cfg->spawner->methods->max_children(cfg->spawner);
    s->ev_cap = SCHED_EVENTS;
    s->ev = haz__calloc(s->ctx, s->ev_cap, sizeof(*s->ev));
    if (s->ev == NULL)
        return HAZ_ENOMEM;
    for (i = 0; i < s->n; i++)
        make_ready_if_free(s, i);
    return HAZ_OK;
}

static void teardown(sched *s)
{
    size_t i;

    for (i = 0; i < s->n && s->t != NULL; i++) {
        haz__free(s->ctx, s->t[i].hs_out);
        haz__free(s->ctx, s->t[i].hs_err);
        haz__free(s->ctx, s->t[i].redges);
    }
    haz__strmap_free(&s->claims);
    haz__free(s->ctx, s->prev);
    haz__free(s->ctx, s->t);
    haz__free(s->ctx, s->heap);
    haz__free(s->ctx, s->parked);
    haz__free(s->ctx, s->running);
    haz__free(s->ctx, s->scratch);
    haz__free(s->ctx, s->mark);
    haz__free(s->ctx, s->tag_cap);
    haz__free(s->ctx, s->tag_used);
    haz__free(s->ctx, s->lk);
    haz__free(s->ctx, s->ev);
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

        if (!s->cancelling && haz_cancel_requested(s->cfg->cancel))
            begin_cancel(s);
        if (s->cancelling)
            drain(s);
        else
            admission_round(s);
        if (s->fatal != 0)
            return s->fatal;
        if (s->n_running == 0)
            break;
        check_timers(s);
        rc = sp->methods->wait(sp, next_deadline(s),
                               s->cancelling ? NULL : s->cfg->cancel, s->ev,
                               s->ev_cap, &n, &flags);
        if (rc != 0)
            return rc;
        for (e = 0; e < n; e++) {
            if (s->ev[e].type == HAZ_EV_OUTPUT)
                on_output(s, &s->ev[e]);
            else if (s->ev[e].type == HAZ_EV_EXIT)
                on_exit_event(s, &s->ev[e]);
        }
        check_timers(s);
    }
    return HAZ_OK;
}

/* Tasks that never got an outcome: admission closed (design 2.8). */
static void finish_undecided(sched *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        stask *t = &s->t[i];
        haz_task_outcome *o;

        if (t->state == T_OUT || t->state == T_DONE)
            continue;
        o = outcome_of(s, i);
        if (s->gate_closed) {
            o->kind = HAZ_OUTCOME_SKIPPED;
            o->skip_cause = HAZ_SKIP_ADMISSION_CLOSED;
            o->end_ns = now_ns(s);
            if (s->obs.methods && s->obs.methods->on_task_skipped)
                s->obs.methods->on_task_skipped(s->obs.ud, o);
            t->state = T_DONE;
            s->n_done++;
        } else {
            emit_errored(s, i, HAZ_TERR_INTERNAL, 0,
                         "the scheduler could not decide this task");
        }
    }
}

int haz_run(haz_ctx *ctx, const haz_run_config *cfg, haz_run_result **out)
{
    sched s;
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
    {
        size_t n;

        if (haz__graph_tasks(cfg->graph, &n) == NULL && n == 0 &&
            haz_graph_validate((haz_graph *)cfg->graph, NULL) != 0)
            return haz__error(ctx, HAZ_EINVAL,
                              "haz_run: the graph has not been validated");
    }
    memset(&s, 0, sizeof(s));
    s.ctx = ctx;
    haz__strmap_init(&s.claims, ctx);
    s.cfg = cfg;
    s.g = cfg->graph;
    if (cfg->options != NULL)
        s.opt = *cfg->options;
    else
        haz_run_options_init(&s.opt);
    if (s.opt.workspace_root == NULL || s.opt.workspace_root[0] != '/')
        return haz__error(ctx, HAZ_EINVAL,
                          "haz_run: the workspace root must be an absolute "
                          "path");
    s.hash = cfg->hash != NULL ? cfg->hash : &haz_hash_sha256;
    if (cfg->observer != NULL)
        s.obs = *cfg->observer;
    rc = setup(&s);
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
            (void)haz__error(ctx, rc, "out of memory");
        haz_run_result_free(s.res);
        teardown(&s);
        return rc;
    }
    s.res->cancel_signal = haz_cancel_signal(cfg->cancel);
    teardown(&s);
    *out = s.res;
    return HAZ_OK;
}
