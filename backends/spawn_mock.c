/*
 * backends/spawn_mock.c: the scriptable mock spawner (design section 4),
 * exported as the methods table haz_spawner_mock, plus
 * haz_mock_spawner_trace.  No process is ever started: each spawn is
 * matched to an entry of a haz_mock_script (backends/mock.h) and becomes a
 * fake child whose output and end happen at virtual times on a mock clock.
 * wait() moves that clock straight to the next event or the deadline, so a
 * run takes the same virtual time, and leaves the same trace, every time.
 * docs/mock-script.md defines the behaviour and the trace to the byte.
 *
 * In order: the state; fake children (times, ending, files); the entry
 * index; the methods (open, close, spawn, signal, wait, max_children); the
 * table; the trace accessors.  The trace lines are written by
 * backends/mock_trace.c.
 *
 * Matching a spawn to its entry costs O(1): entries with the same match
 * kind and text serve the same spawns, so they form a group, used in
 * script order.  At open every group gets a chain of its entries and a
 * cursor on the next unused one, and a hash table finds the group of a
 * plan's task id, argv or shell text; the FIFO entries are one more group.
 */
#include "internal.h"
#include "mock.h"
#include "exit_status.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#define NEVER HAZ_MOCK_NEVER

/* A fake child.  Chunks next_out .. n_out-1 of proc->out are still to be
 * delivered; signals lower n_out to drop what the child will not write. */
typedef struct mock_child {
    haz_child id;
    char *task;                 /* the plan's task id, in a buffer of */
    size_t task_cap;            /* task_cap bytes owned by the slot */
    const haz_mock_proc *proc;  /* NULL: unscripted */
    uint64_t start_ns;          /* the spawn instant */
    size_t next_out, n_out;
    uint64_t end_ns;            /* absolute; NEVER: hangs */
    haz_exit_status end;
    size_t n_files;             /* of proc->files; 0 once killed */
    int terminating;            /* a SIGTERM delay is running */
    unsigned dead;              /* per stream (1 stdout, 2 stderr): a
                                   scripted read error was delivered, its
                                   later chunks are lost */
} mock_child;

/* A group of entries with the same match kind and text (see the top). */
typedef struct mock_group {
    mock_match_kind kind;
    const char *key;            /* the match text after its prefix */
    uint64_t hash;              /* of kind and key */
    size_t next;                /* the next unused entry, SIZE_MAX: none */
} mock_group;

typedef struct mock_spawner {
    haz_spawner base;
    haz_clock *clock;
    const haz_mock_script *script;
    size_t n_entries;           /* script entries seen at open */
    mock_group *groups;         /* groups[0] holds the FIFO entries */
    size_t n_groups;
    size_t *chain;              /* per entry: the next of its group */
    size_t *group_of;           /* per entry: its group */
    size_t *table;              /* hash table of group numbers; 0: empty */
    char *keys;                 /* the groups' texts, one after the other
                                   in script order (groups[g].key points
                                   here): a spawn compares its task id
                                   with one of them, and next to each
                                   other they stay in the caches */
    size_t table_mask;          /* its size less one (a power of two) */
    char *root;                 /* workspace root without trailing '/' */
    size_t max_children;
    mock_child *live;           /* sorted by id (= spawn order); the
                                   slots past n_live keep their task
                                   buffers for the next spawns */
    size_t n_live, cap_live;
    size_t after;               /* the entry after the last one used */
    haz_child next_id;
    mock_trace trace;
} mock_spawner;

/* ------------------------------------------------------------------------
 * Fake children.
 * ---------------------------------------------------------------------- */

/* base + rel, where anything at or past UINT64_MAX is never. */
static uint64_t at(uint64_t base, uint64_t rel)
{
    return rel >= NEVER - base ? NEVER : base + rel;
}

static uint64_t chunk_time(const mock_child *c, size_t k)
{
    return at(c->start_ns, c->proc->out[k].at_ns);
}

/* The end, never before the last chunk still to come. */
static uint64_t end_time(const mock_child *c)
{
    uint64_t t = c->end_ns;

    if (c->n_out > c->next_out && chunk_time(c, c->n_out - 1) > t)
        t = chunk_time(c, c->n_out - 1);
    return t;
}

static uint64_t next_time(const mock_child *c)
{
    return c->next_out < c->n_out ? chunk_time(c, c->next_out)
                                  : end_time(c);
}

/* The child stops following its script at `now` and ends at `t`. */
static void stop(mock_child *c, uint64_t now, uint64_t t,
                 haz_exit_kind kind, int value)
{
    while (c->n_out > c->next_out && chunk_time(c, c->n_out - 1) > now)
        c->n_out--;
    c->end_ns = t;
    c->end = haz__exit_status(kind, value);
    if (kind == HAZ_EXIT_SIGNAL)
        c->n_files = 0;
}

static size_t find_child(const mock_spawner *m, haz_child id)
{
    size_t lo = 0, hi = m->n_live;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (m->live[mid].id == id)
            return mid;
        if (m->live[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

/* Child i is gone; its slot's task buffer moves to the first free slot,
 * so spawns reuse buffers instead of allocating one each. */
static void retire(mock_spawner *m, size_t i)
{
    char *task = m->live[i].task;
    size_t cap = m->live[i].task_cap;

    memmove(&m->live[i], &m->live[i + 1],
            (m->n_live - i - 1) * sizeof m->live[0]);
    m->n_live--;
    m->live[m->n_live].task = task;
    m->live[m->n_live].task_cap = cap;
}

/* Create the child's files; each gets a trace line. */
static int create_files(mock_spawner *m, const mock_child *c, uint64_t now)
{
    char path[4096];
    size_t k;

    for (k = 0; k < c->n_files; k++) {
        const mock_file *f = &c->proc->files[k];
        int e = haz__mock_file_write(m->root, f, path, sizeof path);

        if (e != 0)
            return haz__error_os(m->base.ctx, HAZ_EIO, e,
                                 "mock spawner: %s: cannot create '%s'",
                                 c->task, path);
        haz__mock_trace_file(&m->trace, now, c->task, f->path, f->len);
    }
    return HAZ_OK;
}

/* ------------------------------------------------------------------------
 * The entry index (see the top of the file).
 * ---------------------------------------------------------------------- */

/* strcmp(argv joined with single spaces, key), without joining. */
static int argv_cmp(const char *const *argv, size_t argc, const char *key)
{
    const unsigned char *k = (const unsigned char *)key;
    size_t i;

    for (i = 0; i < argc; i++) {
        const unsigned char *w = (const unsigned char *)argv[i];

        if (i > 0) {
            if (*k != ' ')
                return ' ' < *k ? -1 : 1;
            k++;
        }
        for (; *w != '\0'; w++, k++)
            if (*w != *k)
                return *w < *k ? -1 : 1;
    }
    return *k == '\0' ? 0 : -1;
}

/* strcmp(what the plan offers to an entry of this kind, key). */
static int plan_cmp(const haz_spawn_plan *p, mock_match_kind kind,
                    const char *key)
{
    switch (kind) {
    case MOCK_MATCH_TASK:
        return strcmp(p->task_id, key);
    case MOCK_MATCH_ARGV:
        return argv_cmp(p->argv, p->argc, key);
    default:
        return strcmp(p->script, key);
    }
}

/* FNV-1a, 64 bits, over bytes; the hash of a group starts from its
 * kind. */
#define FNV_PRIME UINT64_C(0x100000001b3)

static uint64_t hash_start(mock_match_kind kind)
{
    return (UINT64_C(0xcbf29ce484222325) ^ (uint64_t)kind) * FNV_PRIME;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * FNV_PRIME;
    return h;
}

/* The hash a group of this kind would have for the plan's text. */
static uint64_t plan_hash(const haz_spawn_plan *p, mock_match_kind kind)
{
    uint64_t h = hash_start(kind);
    size_t i;

    if (kind == MOCK_MATCH_TASK)
        return hash_str(h, p->task_id);
    if (kind == MOCK_MATCH_SH)
        return hash_str(h, p->script);
    for (i = 0; i < p->argc; i++) {
        if (i > 0)
            h = (h ^ (unsigned char)' ') * FNV_PRIME;
        h = hash_str(h, p->argv[i]);
    }
    return h;
}

static void index_free(mock_spawner *m)
{
    haz__free(m->base.ctx, m->groups);
    haz__free(m->base.ctx, m->chain);
    haz__free(m->base.ctx, m->group_of);
    haz__free(m->base.ctx, m->table);
    haz__free(m->base.ctx, m->keys);
    m->keys = NULL;
    m->groups = NULL;
    m->chain = m->group_of = m->table = NULL;
}

/* Group the entries, chain each group's entries in script order and fill
 * the hash table.  Returns 0 or HAZ_ENOMEM. */
static int index_build(mock_spawner *m)
{
    haz_ctx *ctx = m->base.ctx;
    size_t i, n = m->n_entries, size = 4, *last, nk = 0;
    char *kp;

    if (n == 0)
        return HAZ_OK;
    while (size < 2 * n)
        size *= 2;
    for (i = 0; i < n; i++)
        if (m->script->procs[i]->kind != MOCK_MATCH_FIFO)
            nk += strlen(m->script->procs[i]->key) + 1;
    m->groups = haz__reallocarray(ctx, NULL, n + 1, sizeof *m->groups);
    m->chain = haz__reallocarray(ctx, NULL, n + 1, sizeof *m->chain);
    m->group_of = haz__reallocarray(ctx, NULL, n + 1, sizeof *m->group_of);
    m->table = haz__calloc(ctx, size, sizeof *m->table);
    last = haz__reallocarray(ctx, NULL, n + 1, sizeof *last);
    m->keys = kp = haz__malloc(ctx, nk + 1);
    if (m->groups == NULL || m->chain == NULL || m->group_of == NULL ||
        m->table == NULL || last == NULL || m->keys == NULL) {
        haz__free(ctx, last);
        index_free(m);
        return HAZ_ENOMEM;
    }
    m->table_mask = size - 1;
    m->groups[0].kind = MOCK_MATCH_FIFO;
    m->groups[0].key = NULL;
    m->groups[0].hash = 0;
    m->groups[0].next = SIZE_MAX;
    m->n_groups = 1;
    for (i = 0; i < n; i++) {
        const haz_mock_proc *e = m->script->procs[i];
        size_t g = 0;

        if (e->kind != MOCK_MATCH_FIFO) {
            uint64_t h = hash_str(hash_start(e->kind), e->key);
            size_t slot = (size_t)h & m->table_mask;

            for (; m->table[slot] != 0; slot = (slot + 1) & m->table_mask) {
                const mock_group *x = &m->groups[m->table[slot]];

                if (x->hash == h && x->kind == e->kind &&
                    strcmp(x->key, e->key) == 0)
                    break;
            }
            g = m->table[slot];
            if (g == 0) {
                size_t len = strlen(e->key) + 1;

                memcpy(kp, e->key, len);
                g = m->n_groups++;
                m->groups[g].kind = e->kind;
                m->groups[g].key = kp;
                kp += len;
                m->groups[g].hash = h;
                m->groups[g].next = SIZE_MAX;
                m->table[slot] = g;
            }
        }
        m->group_of[i] = g;
        m->chain[i] = SIZE_MAX;
        if (m->groups[g].next == SIZE_MAX)
            m->groups[g].next = i;
        else
            m->chain[last[g]] = i;
        last[g] = i;
    }
    haz__free(ctx, last);
    return HAZ_OK;
}

/* Is entry e (any index) of a group of this kind whose text the plan
 * offers?  Then that is the group find_group() finds (a group is the only
 * one of its kind and text): returns it, else 0. */
static size_t guess_group(const mock_spawner *m, const haz_spawn_plan *p,
                          mock_match_kind kind, size_t e)
{
    size_t g;

    if (e >= m->n_entries)
        return 0;
    g = m->group_of[e];
    if (g == 0 || m->groups[g].kind != kind ||
        plan_cmp(p, kind, m->groups[g].key) != 0)
        return 0;
    return g;
}

/* The group of this kind whose text the plan offers, or 0 (none).  Two
 * guesses come before the hash table, since scripts usually list their
 * entries in canonical or in spawn order: the entry at the plan's task
 * index, and the entry after the one used last.  A right guess spares
 * the hash and the probe at a random place of the table, which at
 * 100,000 entries misses the caches. */
static size_t find_group(const mock_spawner *m, const haz_spawn_plan *p,
                         mock_match_kind kind)
{
    uint64_t h;
    size_t slot, g;

    if ((g = guess_group(m, p, kind, p->task_index)) != 0 ||
        (g = guess_group(m, p, kind, m->after)) != 0)
        return g;
    h = plan_hash(p, kind);
    slot = (size_t)h & m->table_mask;

    for (; m->table[slot] != 0; slot = (slot + 1) & m->table_mask) {
        const mock_group *x = &m->groups[m->table[slot]];

        if (x->hash == h && x->kind == kind && plan_cmp(p, kind, x->key) == 0)
            return m->table[slot];
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * The methods.
 * ---------------------------------------------------------------------- */

static int mock_open(haz_spawner *sp, const haz_spawner_config *cfg)
{
    mock_spawner *m = (mock_spawner *)sp;
    const haz_mock_config *mc = cfg->backend;
    const char *root = mc != NULL ? mc->workspace_root : NULL;
    size_t i, files = 0, n;

    if (cfg->clock == NULL || cfg->clock->methods != &haz_clock_mock)
        return haz__error(sp->ctx, HAZ_EINVAL,
                          "the mock spawner needs a mock clock");
    m->clock = cfg->clock;
    m->script = mc != NULL ? mc->script : NULL;
    m->max_children = mc != NULL ? mc->max_children : 0;
    m->n_entries = m->script != NULL ? m->script->n : 0;
    for (i = 0; i < m->n_entries; i++)
        files += m->script->procs[i]->n_files;
    if (root != NULL && root[0] != '/')
        return haz__error(sp->ctx, HAZ_EINVAL,
                          "mock spawner: workspace root '%s' is not absolute",
                          root);
    if (root == NULL && files > 0)
        return haz__error(sp->ctx, HAZ_EINVAL,
                          "mock spawner: the script creates files but no "
                          "workspace root is set");
    if (root != NULL) {
        for (n = strlen(root); n > 0 && root[n - 1] == '/'; n--)
            ;
        m->root = haz__strndup(sp->ctx, root, n);
        if (m->root == NULL)
            return HAZ_ENOMEM;
    }
    if (index_build(m) != HAZ_OK) {
        haz__free(sp->ctx, m->root);
        return HAZ_ENOMEM;
    }
    m->next_id = 1;
    haz__mock_trace_init(&m->trace, sp->ctx);
    sp->methods = &haz_spawner_mock;
    return HAZ_OK;
}

static void mock_close(haz_spawner *sp)
{
    mock_spawner *m = (mock_spawner *)sp;
    size_t i;

    for (i = 0; i < m->cap_live; i++)
        haz__free(sp->ctx, m->live[i].task);
    haz__free(sp->ctx, m->live);
    index_free(m);
    haz__free(sp->ctx, m->root);
    haz__mock_trace_free(&m->trace);
    sp->methods = NULL;
}

/* The unused entry serving this plan (task id, argv, sh, FIFO), or
 * SIZE_MAX. */
static size_t match_entry(const mock_spawner *m, const haz_spawn_plan *p)
{
    static const mock_match_kind order[] = {
        MOCK_MATCH_TASK, MOCK_MATCH_ARGV, MOCK_MATCH_SH
    };
    size_t pass, g;

    if (m->n_entries == 0)
        return SIZE_MAX;
    for (pass = 0; pass < HAZ_ARRAY_LEN(order); pass++) {
        mock_match_kind kind = order[pass];

        if ((kind == MOCK_MATCH_ARGV && p->action != HAZ_ACTION_ARGV) ||
            (kind == MOCK_MATCH_SH && p->action != HAZ_ACTION_SHELL))
            continue;
        g = find_group(m, p, kind);
        if (g != 0 && m->groups[g].next != SIZE_MAX)
            return m->groups[g].next;
    }
    return m->groups[0].next;
}

/* Entry i serves a spawn: its group's cursor moves to the next one. */
static void consume(mock_spawner *m, size_t i)
{
    m->groups[m->group_of[i]].next = m->chain[i];
    m->after = i + 1;
}

static int plan_ok(const haz_spawn_plan *p)
{
    size_t i;

    if (p->task_id == NULL || p->cwd == NULL)
        return 0;
    if (p->action == HAZ_ACTION_SHELL)
        return p->script != NULL;
    if (p->action != HAZ_ACTION_ARGV || p->argv == NULL || p->argc == 0)
        return 0;
    for (i = 0; i < p->argc; i++)
        if (p->argv[i] == NULL)
            return 0;
    return 1;
}

static int mock_spawn(haz_spawner *sp, const haz_spawn_plan *plan,
                      haz_child *child)
{
    mock_spawner *m = (mock_spawner *)sp;
    const haz_mock_proc *e = NULL;
    mock_child *c;
    uint64_t now;
    size_t i;

    if (plan == NULL || child == NULL || !plan_ok(plan))
        return haz__error(sp->ctx, HAZ_EINVAL, "mock spawner: bad plan");
    if (m->max_children > 0 && m->n_live >= m->max_children)
        return haz__error(sp->ctx, HAZ_ELIMIT,
                          "mock spawner: %s: %zu children already running",
                          plan->task_id, m->n_live);
    now = haz_clock_now_ns(m->clock);
    i = match_entry(m, plan);
    if (i != SIZE_MAX)
        e = m->script->procs[i];
    if (e != NULL && e->spawn_errno != 0) {
        consume(m, i);
        haz__mock_trace_spawn_error(&m->trace, now, plan->task_id,
                                    e->spawn_errno, e->number);
        return haz__error_os(sp->ctx, HAZ_ESPAWN, e->spawn_errno,
                             "%s: cannot run '%s'", plan->task_id,
                             plan->action == HAZ_ACTION_ARGV ? plan->argv[0]
                                                             : "/bin/sh");
    }

    if (m->n_live == m->cap_live) {
        size_t cap = m->cap_live ? m->cap_live * 2 : 8;

        c = haz__reallocarray(sp->ctx, m->live, cap, sizeof *c);
        if (c == NULL)
            return HAZ_ENOMEM;
        memset(c + m->cap_live, 0, (cap - m->cap_live) * sizeof *c);
        m->live = c;
        m->cap_live = cap;
    }
    c = &m->live[m->n_live];
    {
        size_t len = strlen(plan->task_id) + 1;
        char *task = c->task;
        size_t task_cap = c->task_cap;

        if (len > task_cap) {
            task_cap = len < 64 ? 64 : len;
            task = haz__realloc(sp->ctx, c->task, task_cap);
            if (task == NULL)
                return HAZ_ENOMEM;
        }
        memcpy(task, plan->task_id, len);
        memset(c, 0, sizeof *c);
        c->task = task;
        c->task_cap = task_cap;
    }
    c->id = m->next_id++;
    c->proc = e;
    c->start_ns = now;
    c->end_ns = now;
    c->end.kind = HAZ_EXIT_CODE;
    if (e != NULL) {
        consume(m, i);
        c->n_out = e->n_out;
        c->n_files = e->n_files;
        if (e->has_end) {
            c->end_ns = at(now, e->end_ns);
            c->end = e->end;
        }
    }
    m->n_live++;
    /* Ask for the entries the next two spawns will most likely take (the
     * guess of find_group when a script lists its entries in spawn
     * order): the entry and its group two spawns ahead; its match text
     * and output one spawn ahead, once the entry itself has arrived.  A
     * hint only (HAZ_PREFETCH): at 100,000 entries they are no longer in
     * the caches.  Written out here: gcc drops the call of a function
     * that only reads and prefetches. */
    if (m->after + 1 < m->n_entries) {
        const char *nx = (const char *)m->script->procs[m->after + 1];

        HAZ_PREFETCH(nx);
        HAZ_PREFETCH(nx + 64);
        HAZ_PREFETCH(&m->groups[m->group_of[m->after + 1]]);
    }
    if (m->after < m->n_entries) {
        HAZ_PREFETCH(m->groups[m->group_of[m->after]].key);
        HAZ_PREFETCH(m->script->procs[m->after]->out);
    }
    haz__mock_trace_spawn(&m->trace, now, plan, c->id,
                          e != NULL ? e->number : 0);
    *child = c->id;
    return HAZ_OK;
}

static int mock_signal(haz_spawner *sp, haz_child child, int signo)
{
    mock_spawner *m = (mock_spawner *)sp;
    mock_child *c;
    uint64_t now;
    size_t i = find_child(m, child);

    if (i == SIZE_MAX)
        return haz__error(sp->ctx, HAZ_ENOENT,
                          "mock spawner: no child %" PRIu64, child);
    if (signo < 0 || signo > 127)
        return haz__error_os(sp->ctx, HAZ_EIO, EINVAL,
                             "mock spawner: signal %d", signo);
    c = &m->live[i];
    now = haz_clock_now_ns(m->clock);
    haz__mock_trace_signal(&m->trace, now, c->task, signo);

    if (signo == 0 || end_time(c) <= now)
        return HAZ_OK;          /* a probe, or it has already ended */
    if (signo != SIGTERM) {
        stop(c, now, now, HAZ_EXIT_SIGNAL, signo);
    } else if (c->terminating) {
        ;                       /* busy exiting after an earlier SIGTERM */
    } else if (c->proc == NULL || !c->proc->has_term) {
        stop(c, now, now, HAZ_EXIT_SIGNAL, SIGTERM);
    } else if (c->proc->term == HAZ_MOCK_TERM_EXIT) {
        stop(c, now, now, HAZ_EXIT_CODE, c->proc->term_code);
    } else if (c->proc->term == HAZ_MOCK_TERM_DELAY) {
        stop(c, now, at(now, c->proc->term_delay_ns), HAZ_EXIT_CODE,
             c->proc->term_code);
        c->terminating = 1;
    }
    return HAZ_OK;
}

/* Deliver the events due at `now` into ev[*n .. cap-1], in the order
 * (time, spawn, script). */
static int deliver_due(mock_spawner *m, uint64_t now, haz_spawn_event *ev,
                       size_t cap, size_t *n)
{
    while (*n < cap) {
        size_t i, best = SIZE_MAX;
        uint64_t bt = NEVER;
        haz_spawn_event *e = &ev[*n];
        mock_child *c;
        int rc;

        for (i = 0; i < m->n_live; i++) {
            uint64_t t = next_time(&m->live[i]);

            if (t <= now && t != NEVER && (best == SIZE_MAX || t < bt)) {
                best = i;
                bt = t;
            }
        }
        if (best == SIZE_MAX)
            break;
        c = &m->live[best];
        memset(e, 0, sizeof *e);
        e->child = c->id;
        if (c->next_out < c->n_out) {
            const mock_chunk *k = &c->proc->out[c->next_out++];
            unsigned bit = k->stream == HAZ_STREAM_STDERR ? 2u : 1u;

            if (c->dead & bit)
                continue;       /* no longer read: lost */
            e->stream = k->stream;
            if (k->err != 0) {
                c->dead |= bit;
                e->type = HAZ_EV_STREAM_ERROR;
                e->os_errno = k->err;
                haz__mock_trace_read_error(&m->trace, now, c->task,
                                           k->stream, k->err);
            } else {
                e->type = HAZ_EV_OUTPUT;
                e->data = k->data;
                e->len = k->len;
                haz__mock_trace_output(&m->trace, now, c->task, k->stream,
                                       k->data, k->len);
            }
        } else {
            if (c->end.kind == HAZ_EXIT_CODE && c->n_files > 0) {
                rc = create_files(m, c, now);
                if (rc != HAZ_OK)
                    return rc;
            }
            e->type = HAZ_EV_EXIT;
            e->status = c->end;
            haz__mock_trace_exit(&m->trace, now, c->task, &c->end);
            retire(m, best);
        }
        (*n)++;
    }
    return HAZ_OK;
}

static int mock_wait(haz_spawner *sp, uint64_t deadline_ns,
                     const haz_cancel *cancel, haz_spawn_event *ev,
                     size_t cap, size_t *n, unsigned *flags)
{
    mock_spawner *m = (mock_spawner *)sp;
    uint64_t now, next = NEVER;
    size_t i;
    int rc;

    if (n == NULL || flags == NULL || ev == NULL || cap == 0)
        return haz__error(sp->ctx, HAZ_EINTERNAL,
                          "mock spawner: wait without room for events");
    *n = 0;
    *flags = 0;
    now = haz_clock_now_ns(m->clock);
    rc = deliver_due(m, now, ev, cap, n);
    if (rc != HAZ_OK)
        return rc;
    if (*n == 0 && !haz_cancel_pending(cancel)) {
        for (i = 0; i < m->n_live; i++)
            if (next_time(&m->live[i]) < next)
                next = next_time(&m->live[i]);
        if (next == NEVER && deadline_ns == NEVER)
            return haz__error(sp->ctx, HAZ_EINTERNAL,
                              "mock spawner: wait with nothing to wait for "
                              "(%zu children that never end, no deadline)",
                              m->n_live);
        if (deadline_ns < next)
            next = deadline_ns;
        if (next > now) {
            if (haz_clock_mock_set(m->clock, next) != HAZ_OK)
                return haz__error(sp->ctx, HAZ_EINTERNAL,
                                  "mock spawner: cannot set the mock clock");
            now = next;
        }
        rc = deliver_due(m, now, ev, cap, n);
        if (rc != HAZ_OK)
            return rc;
    }
    if (now >= deadline_ns) {
        *flags |= HAZ_WAIT_DEADLINE;
        haz__mock_trace_mark(&m->trace, now, "deadline");
    }
    if (haz_cancel_pending(cancel)) {
        *flags |= HAZ_WAIT_CANCEL;
        haz__mock_trace_mark(&m->trace, now, "cancel");
    }
    return HAZ_OK;
}

static size_t mock_max_children(haz_spawner *sp)
{
    return ((mock_spawner *)sp)->max_children;
}

const char *haz_mock_spawner_trace(const haz_spawner *sp, size_t *len)
{
    const mock_spawner *m = (const mock_spawner *)sp;

    if (len != NULL)
        *len = 0;
    if (sp == NULL || sp->methods != &haz_spawner_mock)
        return NULL;
    return haz__mock_trace_text(&m->trace, len);
}

int haz_mock_spawner_set_trace(haz_spawner *sp, int on)
{
    if (sp == NULL || sp->methods != &haz_spawner_mock)
        return HAZ_EINVAL;
    haz__mock_trace_set(&((mock_spawner *)sp)->trace, on);
    return HAZ_OK;
}

const haz_spawner_methods haz_spawner_mock = {
    HAZ_SPAWNER_METHODS_VERSION,    /* version */
    "mock",                         /* name */
    0,                              /* caps: no real processes */
    sizeof(mock_spawner),           /* state_size */
    mock_open,                      /* open */
    mock_close,                     /* close */
    mock_spawn,                     /* spawn */
    mock_signal,                    /* signal */
    mock_wait,                      /* wait */
    mock_max_children               /* max_children */
};
