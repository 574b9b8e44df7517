/*
 * examples/hazrun_tap.c: following each task through its phases.
 *
 * The observer interface tells hazrun when a task starts and ends, but
 * not when its cache lookup ends, when its process is spawned or when its
 * result is stored.  The spawner and the cache store are seams with public
 * methods tables (spawner.h, cache.h), so hazrun wraps the posix spawner
 * and the filesystem store in thin "taps" that pass every call on and note
 * the time.  The spawner tap also prints -v command lines and draws the
 * status line just before the run blocks in wait().
 *
 * Slots (the trace's threads): a task takes the lowest free slot when it
 * starts, and keeps it through its lookup and restore (a hit) or until its
 * process ends (a miss spawned at once).  A miss the scheduler parks (a
 * mutex is held) or sends back (the spawner is full) gives its slot back
 * at the next event that is not its own, and takes a new one when it is
 * spawned.  The run is single-threaded and observer.h fixes the order of
 * events (on_task_started comes right before the task's lookup, a store
 * right before the task's terminal event), which is what lets a lookup,
 * restore or store call be attributed to its task.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <stdlib.h>
#include <string.h>

#include "hazrun_run.h"

/* ------------------------------------------------------------------------
 * Slots and phases.
 * ---------------------------------------------------------------------- */

static unsigned slot_take(hr_run *r)
{
    size_t s;

    for (s = 1; s <= r->n; s++) {
        if (!r->slot_used[s]) {
            r->slot_used[s] = 1;
            if (s > r->max_slot)
                r->max_slot = (unsigned)s;
            return (unsigned)s;
        }
    }
    return 0;
}

static void slot_give(hr_run *r, hr_task *t)
{
    if (t->slot != 0)
        r->slot_used[t->slot] = 0;
    t->slot = 0;
}

/* The task between start and spawn, unless it is `keep`, was parked or
 * sent back: it gives its slot back. */
static void settle(hr_run *r, size_t keep)
{
    size_t p = r->pending;

    if (p == HR_NONE || p == keep)
        return;
    slot_give(r, &r->t[p]);
    r->pending = HR_NONE;
}

void track_started(hr_run *r, size_t i)
{
    hr_task *t = &r->t[i];

    settle(r, i);
    t->phase = HR_ACTIVE;
    t->t_start = hr_now(r);
    if (t->slot == 0)
        t->slot = slot_take(r);
    t->lookup_slot = t->slot;
    r->pending = i;
    r->current = i;
}

void track_output(hr_run *r, size_t i)
{
    settle(r, i);
}

void track_terminal(hr_run *r, size_t i)
{
    hr_task *t = &r->t[i];
    size_t k;

    settle(r, i);
    t->t_end = hr_now(r);
    if (r->have_store) {
        t->stored = 1;
        t->t_store0 = r->store0;
        t->t_store1 = r->store1;
        r->have_store = 0;
    }
    slot_give(r, t);
    if (r->pending == i)
        r->pending = HR_NONE;
    if (r->current == i)
        r->current = HR_NONE;
    if (t->phase == HR_RUNNING) {
        for (k = 0; k < r->n_running; k++) {
            if (r->running[k] == i) {
                memmove(r->running + k, r->running + k + 1,
                        (r->n_running - k - 1) * sizeof *r->running);
                r->n_running--;
                break;
            }
        }
    }
    t->phase = HR_DONE;
}

/* ------------------------------------------------------------------------
 * The spawner tap.
 * ---------------------------------------------------------------------- */

typedef struct tap_spawner {
    haz_spawner base;
    haz_spawner *inner;
    hr_run *run;
} tap_spawner;

static int tsp_open(haz_spawner *sp, const haz_spawner_config *cfg)
{
    tap_spawner *ts = (tap_spawner *)sp;
    haz_spawner_config ic;

    ts->run = (hr_run *)cfg->backend;
    memset(&ic, 0, sizeof ic);
    ic.version = 1;
    ic.clock = cfg->clock;
    return haz_spawner_open(sp->ctx, &haz_spawner_posix, &ic, &ts->inner);
}

static void tsp_close(haz_spawner *sp)
{
    haz_spawner_close(((tap_spawner *)sp)->inner);
}

static int tsp_spawn(haz_spawner *sp, const haz_spawn_plan *plan,
                     haz_child *child)
{
    tap_spawner *ts = (tap_spawner *)sp;
    hr_run *r = ts->run;
    size_t i = plan->task_index;
    hr_task *t;
    int rc;

    if (i >= r->n)
        return ts->inner->methods->spawn(ts->inner, plan, child);
    settle(r, i);
    rc = ts->inner->methods->spawn(ts->inner, plan, child);
    if (rc != HAZ_ELIMIT)
        view_command(r, i);
    if (rc != 0)
        return rc;
    t = &r->t[i];
    t->phase = HR_RUNNING;
    t->spawned = 1;
    t->t_spawn = hr_now(r);
    t->child = *child;
    if (t->slot == 0)
        t->slot = slot_take(r);
    t->run_slot = t->slot;
    if (r->pending == i)
        r->pending = HR_NONE;
    t->seq = ++r->seq;
    r->running[r->n_running++] = i;
    return 0;
}

static int tsp_signal(haz_spawner *sp, haz_child child, int signo)
{
    tap_spawner *ts = (tap_spawner *)sp;

    return ts->inner->methods->signal(ts->inner, child, signo);
}

static int tsp_wait(haz_spawner *sp, uint64_t deadline_ns,
                    const haz_cancel *cancel, haz_spawn_event *ev,
                    size_t cap, size_t *n, unsigned *flags)
{
    tap_spawner *ts = (tap_spawner *)sp;
    hr_run *r = ts->run;
    size_t k, j;
    int rc;

    settle(r, HR_NONE);
    view_idle(r);
    rc = ts->inner->methods->wait(ts->inner, deadline_ns, cancel, ev, cap,
                                  n, flags);
    if (rc != 0)
        return rc;
    for (k = 0; k < *n; k++) {
        if (ev[k].type != HAZ_EV_EXIT)
            continue;
        for (j = 0; j < r->n_running; j++) {
            hr_task *t = &r->t[r->running[j]];

            if (t->child == ev[k].child && t->t_exit == 0) {
                t->t_exit = hr_now(r);
                break;
            }
        }
    }
    return 0;
}

static size_t tsp_max_children(haz_spawner *sp)
{
    tap_spawner *ts = (tap_spawner *)sp;

    return ts->inner->methods->max_children(ts->inner);
}

static const haz_spawner_methods tap_spawner_methods = {
    HAZ_SPAWNER_METHODS_VERSION,    /* version */
    "hazrun-tap",                   /* name */
    HAZ_SPAWNER_REAL_PROCESSES,     /* caps: those of the posix spawner */
    sizeof(tap_spawner),            /* state_size */
    tsp_open,                       /* open */
    tsp_close,                      /* close */
    tsp_spawn,                      /* spawn */
    tsp_signal,                     /* signal */
    tsp_wait,                       /* wait */
    tsp_max_children                /* max_children */
};

int tap_spawner_open(hr_run *r, haz_spawner **spawner)
{
    haz_spawner_config sc;

    memset(&sc, 0, sizeof sc);
    sc.version = 1;
    sc.clock = r->clock;
    sc.backend = r;
    return haz_spawner_open(r->ctx, &tap_spawner_methods, &sc, spawner);
}

/* ------------------------------------------------------------------------
 * The cache-store tap.
 * ---------------------------------------------------------------------- */

typedef struct tap_store {
    haz_cache_store base;
    haz_cache_store *inner;
    hr_run *run;
} tap_store;

static int tst_open(haz_cache_store *cs, const haz_cache_store_config *cfg)
{
    tap_store *ts = (tap_store *)cs;
    haz_cache_store_config ic = *cfg;

    ts->run = (hr_run *)cfg->backend;
    ic.backend = NULL;
    return haz_cache_store_open(cs->ctx, &haz_cache_store_fs, &ic,
                                &ts->inner);
}

static void tst_close(haz_cache_store *cs)
{
    haz_cache_store_close(((tap_store *)cs)->inner);
}

static int tst_lookup(haz_cache_store *cs, const unsigned char *key,
                      size_t key_len, haz_cache_entry **entry)
{
    tap_store *ts = (tap_store *)cs;
    hr_run *r = ts->run;
    int rc = ts->inner->methods->lookup(ts->inner, key, key_len, entry);

    if (r->current != HR_NONE) {
        hr_task *t = &r->t[r->current];

        t->looked_up = 1;
        t->t_lookup_end = hr_now(r);
    }
    return rc;
}

static int tst_restore(haz_cache_store *cs, haz_cache_entry *entry)
{
    tap_store *ts = (tap_store *)cs;
    hr_run *r = ts->run;
    uint64_t t0 = hr_now(r);
    int rc = ts->inner->methods->restore(ts->inner, entry);

    if (r->current != HR_NONE) {
        hr_task *t = &r->t[r->current];

        if (rc == 0) {
            t->restored = 1;
            t->t_restore = t0;
        } else {
            /* A failed restore belongs to the lookup: the task runs. */
            t->t_lookup_end = hr_now(r);
        }
    }
    return rc;
}

static int tst_store(haz_cache_store *cs, const unsigned char *key,
                     size_t key_len, const haz_cache_output *outputs,
                     size_t n_outputs, const void *o, size_t o_len,
                     const void *e, size_t e_len, int64_t created_at)
{
    tap_store *ts = (tap_store *)cs;
    hr_run *r = ts->run;
    uint64_t t0 = hr_now(r);
    int rc = ts->inner->methods->store(ts->inner, key, key_len, outputs,
                                       n_outputs, o, o_len, e, e_len,
                                       created_at);

    r->have_store = 1;
    r->store0 = t0;
    r->store1 = hr_now(r);
    return rc;
}

static void tst_entry_free(haz_cache_store *cs, haz_cache_entry *entry)
{
    tap_store *ts = (tap_store *)cs;

    ts->inner->methods->entry_free(ts->inner, entry);
}

static const haz_cache_store_methods tap_store_methods = {
    HAZ_CACHE_STORE_METHODS_VERSION,    /* version */
    "hazrun-tap",                       /* name */
    sizeof(tap_store),                  /* state_size */
    tst_open,                           /* open */
    tst_close,                          /* close */
    tst_lookup,                         /* lookup */
    tst_restore,                        /* restore */
    tst_store,                          /* store */
    tst_entry_free                      /* entry_free */
};

int tap_store_open(hr_run *r, const haz_cache_store_config *cc,
                   haz_cache_store **store)
{
    haz_cache_store_config c = *cc;

    c.backend = r;
    return haz_cache_store_open(r->ctx, &tap_store_methods, &c, store);
}
