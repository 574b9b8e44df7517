/*
 * lib/validate.c: graph validation, freezing, and the queries on a frozen
 * graph (haz_graph_task_info, haz_graph_find_task, haz_graph_select ...).
 *
 * haz_graph_validate works in passes over a scratch state (struct vstate)
 * and never changes what the builder recorded, so a failed or interrupted
 * validation leaves the graph as it was:
 *   1. sort the tasks canonically (project, then name, with strcmp);
 *   2. check the workspace settings, then each project in name order;
 *   3. check each task in canonical order (name, action, deps, weak_deps,
 *      deps/weak_deps overlap, tags, mutexes, env_from_host, env, inputs,
 *      outputs), resolving references into sorted, de-duplicated index
 *      lists;
 *   4. find cycles over hard and soft edges with an iterative Tarjan, and
 *      report for each strongly connected component of two or more tasks a
 *      shortest cycle through its smallest task (breadth-first search);
 *   5. find literal outputs declared by several tasks;
 *   6. if nothing was wrong, build the frozen view (haz__frozen): every
 *      array the queries and the scheduler read lives in a handful of pools.
 *
 * Every problem is counted even when no diagnostics list was given, and
 * every message escapes the user text it quotes (haz__quote).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_private.h"
#include "pattern.h"

#define NONE ((size_t)-1)

/* ------------------------------------------------------------------------
 * Scratch state and reporting.
 * ---------------------------------------------------------------------- */

typedef struct vstate {
    haz_graph *g;
    haz_ctx *ctx;
    haz_diags *d;
    size_t errors;          /* problems found */
    int rc;                 /* sticky HAZ_ENOMEM from message building */
    haz_buf msg;            /* the message being built */
    haz_buf qfile, qproj, qtask;
    haz_task **order;       /* canonical order */
    size_t n;
    /* Per task i: its deps items resolve to rix[base[i] ..+deps.n) and its
     * weak_deps items to the weak_deps.n entries after those (NONE when an
     * item does not resolve).  res holds the same ranges sorted and
     * de-duplicated: hard deps res[base[i] ..+hn[i]), soft deps
     * res[base[i] + deps.n ..+wn[i]). */
    size_t *base, *hn, *wn;
    size_t *rix, *res;
} vstate;

static void msg_start(vstate *v)
{
    v->msg.len = 0;
    if (v->msg.data != NULL)
        v->msg.data[0] = '\0';
}

static void put(vstate *v, const char *s)
{
    if (v->d != NULL && v->rc == 0)
        v->rc = haz__buf_puts(&v->msg, s);
}

static void quote(vstate *v, const char *s)
{
    if (v->d != NULL && v->rc == 0)
        v->rc = haz__quote(&v->msg, s);
}

/* Quote put(), "'" s "'". */
static void qput(vstate *v, const char *s)
{
    put(v, "'");
    quote(v, s);
    put(v, "'");
}

/* Escape s into b (no length cap) and return the text, or NULL for NULL. */
static const char *esc(vstate *v, haz_buf *b, const char *s)
{
    if (s == NULL || v->rc != 0)
        return NULL;
    b->len = 0;
    v->rc = haz__quote_n(b, s, NONE);
    return v->rc == 0 ? b->data : NULL;
}

/* Count the problem and add the message built so far as a diagnostic.
 * `t` names the task concerned (NULL for others). */
static void report(vstate *v, haz_diag_kind kind, const haz__src *src,
                   const haz_task *t)
{
    const char *file, *proj, *task;

    v->errors++;
    if (v->d == NULL || v->rc != 0)
        return;
    put(v, "");
    file = esc(v, &v->qfile, src != NULL ? src->file : NULL);
    proj = esc(v, &v->qproj, t != NULL ? t->proj->name : NULL);
    task = esc(v, &v->qtask, t != NULL ? t->name : NULL);
    if (v->rc != 0)
        return;
    v->rc = haz__diag_add(v->d, kind, file, file != NULL ? src->line : 0,
                          proj, task, "%s", v->msg.data);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_task(const void *a, const void *b)
{
    const haz_task *x = *(const haz_task *const *)a;
    const haz_task *y = *(const haz_task *const *)b;
    int r = strcmp(x->proj->name, y->proj->name);

    return r != 0 ? r : strcmp(x->name, y->name);
}

static int cmp_project(const void *a, const void *b)
{
    return strcmp((*(const haz__project *const *)a)->name,
                  (*(const haz__project *const *)b)->name);
}

static int cmp_cap(const void *a, const void *b)
{
    return strcmp((*(const haz__cap_item *const *)a)->tag,
                  (*(const haz__cap_item *const *)b)->tag);
}

/* Sort and de-duplicate a[0..n-1]; returns the new length. */
static size_t sort_unique(size_t *a, size_t n)
{
    size_t i, k = 0;

    if (n == 0)
        return 0;
    qsort(a, n, sizeof *a, cmp_size);
    for (i = 1; i < n; i++)
        if (a[i] != a[k])
            a[++k] = a[i];
    return k + 1;
}

static size_t sort_unique_str(const char **a, size_t n)
{
    size_t i, k = 0;

    if (n == 0)
        return 0;
    qsort(a, n, sizeof *a, cmp_str);
    for (i = 1; i < n; i++)
        if (strcmp(a[i], a[k]) != 0)
            a[++k] = a[i];
    return k + 1;
}

/* ------------------------------------------------------------------------
 * Workspace settings and projects.
 * ---------------------------------------------------------------------- */

static int check_settings(vstate *v)
{
    haz_graph *g = v->g;
    haz__cap_item **caps = NULL;
    const char *why;
    size_t i;

    for (i = 0; i < g->env_default.n; i++) {
        const haz__item *it = &g->env_default.v[i];
        if ((why = haz__env_name_why(it->text)) == NULL)
            continue;
        msg_start(v);
        put(v, "environment variable name ");
        qput(v, it->text);
        put(v, " in the default env_from_host is invalid: ");
        put(v, why);
        report(v, HAZ_DIAG_BAD_ENV, &it->src, NULL);
    }
    if (g->n_caps == 0)
        return 0;
    caps = haz__reallocarray(v->ctx, NULL, g->n_caps, sizeof *caps);
    if (caps == NULL)
        return HAZ_ENOMEM;
    memcpy(caps, g->caps, g->n_caps * sizeof *caps);
    qsort(caps, g->n_caps, sizeof *caps, cmp_cap);
    for (i = 0; i < g->n_caps; i++) {
        if ((why = haz__name_why(caps[i]->tag)) == NULL)
            continue;
        msg_start(v);
        put(v, "tag cap name ");
        qput(v, caps[i]->tag);
        put(v, " is invalid: ");
        put(v, why);
        report(v, HAZ_DIAG_BAD_NAME, &caps[i]->src, NULL);
    }
    haz__free(v->ctx, caps);
    return 0;
}

static int check_projects(vstate *v)
{
    haz_graph *g = v->g;
    haz__project **ps;
    const char *why;
    size_t i, j;

    if (g->n_projects == 0)
        return 0;
    ps = haz__reallocarray(v->ctx, NULL, g->n_projects, sizeof *ps);
    if (ps == NULL)
        return HAZ_ENOMEM;
    memcpy(ps, g->projects, g->n_projects * sizeof *ps);
    qsort(ps, g->n_projects, sizeof *ps, cmp_project);
    for (i = 0; i < g->n_projects; i++) {
        haz__project *p = ps[i];
        if ((why = haz__name_why(p->name)) != NULL) {
            msg_start(v);
            put(v, "project name ");
            qput(v, p->name);
            put(v, " is invalid: ");
            put(v, why);
            report(v, HAZ_DIAG_BAD_NAME, &p->src, NULL);
        }
        p->root_ok = (why = haz__root_why(p->root)) == NULL;
        if (!p->root_ok) {
            msg_start(v);
            put(v, "project ");
            qput(v, p->name);
            put(v, ": root ");
            qput(v, p->root);
            put(v, " is invalid: ");
            put(v, why);
            report(v, HAZ_DIAG_BAD_PATH, &p->src, NULL);
        }
        for (j = 0; j < p->tags.n; j++) {
            const haz__item *it = &p->tags.v[j];
            if ((why = haz__name_why(it->text)) == NULL)
                continue;
            msg_start(v);
            put(v, "project ");
            qput(v, p->name);
            put(v, ": tag ");
            qput(v, it->text);
            put(v, " is invalid: ");
            put(v, why);
            report(v, HAZ_DIAG_BAD_NAME, &it->src, NULL);
        }
    }
    haz__free(v->ctx, ps);
    return 0;
}

/* ------------------------------------------------------------------------
 * Tasks.
 * ---------------------------------------------------------------------- */

/* Parse and resolve reference `ref` borne by task t.  Returns the
 * canonical index, or NONE with *kind and *why set to the problem
 * (*why is NULL for an unknown task). */
static size_t resolve(const vstate *v, const haz_task *t, const char *ref,
                      haz_diag_kind *kind, const char **why,
                      const char **detail)
{
    const char *colon = strchr(ref, ':'), *project, *name;
    size_t plen;
    haz_task *u;

    *kind = HAZ_DIAG_BAD_REF;
    if (ref[0] == '^' || ref[0] == '[') {
        *why = "unsupported reference form";     /* REF-004/005/008 */
        return NONE;
    }
    if (colon == NULL) {
        *why = "expected 'project:task' or '~:task'";
        return NONE;
    }
    name = colon + 1;
    if (colon - ref == 1 && ref[0] == '~') {                 /* REF-002 */
        project = t->proj->name;
        plen = strlen(project);
    } else {                                                  /* REF-003 */
        project = ref;
        plen = (size_t)(colon - ref);
        if ((*detail = haz__name_why_n(project, plen)) != NULL) {
            *why = "bad project name";
            return NONE;
        }
    }
    if ((*detail = haz__name_why(name)) != NULL) {
        *why = "bad task name";
        return NONE;
    }
    u = haz__graph_find(v->g, project, plen, name);
    if (u == NULL) {
        *kind = HAZ_DIAG_UNKNOWN_REF;
        *why = NULL;
        return NONE;
    }
    return u->vidx;
}

/* Resolve the items of one reference list of task i into rix[at ...]. */
static void check_refs(vstate *v, size_t i, const haz__items *items,
                       const char *field, size_t at)
{
    haz_task *t = v->order[i];
    size_t j;

    for (j = 0; j < items->n; j++) {
        const haz__item *it = &items->v[j];
        haz_diag_kind kind;
        const char *why = NULL, *detail = NULL;
        size_t idx = resolve(v, t, it->text, &kind, &why, &detail);

        v->rix[at + j] = NONE;
        if (idx == i) {                                       /* DAG-012 */
            msg_start(v);
            put(v, "reference ");
            qput(v, it->text);
            put(v, " in ");
            put(v, field);
            put(v, " names the task itself");
            report(v, HAZ_DIAG_SELF_REF, &it->src, t);
            continue;
        }
        if (idx != NONE) {
            v->rix[at + j] = idx;
            continue;
        }
        msg_start(v);
        if (kind == HAZ_DIAG_UNKNOWN_REF) {
            const char *colon = strchr(it->text, ':');
            put(v, "unknown task '");
            if (colon - it->text == 1 && it->text[0] == '~') {
                quote(v, t->proj->name);
                quote(v, colon);
            } else {
                quote(v, it->text);
            }
            put(v, "' in ");
            put(v, field);
        } else {
            put(v, "reference ");
            qput(v, it->text);
            put(v, " in ");
            put(v, field);
            put(v, " is invalid: ");
            put(v, why);
            if (detail != NULL) {
                put(v, " (");
                put(v, detail);
                put(v, ")");
            }
        }
        report(v, kind, &it->src, t);
    }
}

/* Copy the resolved entries rix[at ..+n) into res and sort them; returns
 * the number of distinct tasks. */
static size_t compact(vstate *v, size_t at, size_t n)
{
    size_t j, k = 0;

    for (j = 0; j < n; j++)
        if (v->rix[at + j] != NONE)
            v->res[at + k++] = v->rix[at + j];
    return sort_unique(v->res + at, k);
}

static int is_blank(const char *s)
{
    for (; *s != '\0'; s++)
        if (strchr(" \t\n\r\v\f", *s) == NULL)
            return 0;
    return 1;
}

static void check_action(vstate *v, haz_task *t)
{
    const char *problem = NULL;

    switch (t->action) {
    case HAZ_ACTION_SHELL:
        if (t->script[0] == '\0')
            problem = "shell script is empty";
        else if (is_blank(t->script))
            problem = "shell script is blank";
        break;
    case HAZ_ACTION_ARGV:
        if (t->argc == 0)
            problem = "argv is empty";
        else if (t->argv[0][0] == '\0')
            problem = "argv[0] is empty";
        break;
    default:
        msg_start(v);
        put(v, "no action: set a shell script or an argv");
        report(v, HAZ_DIAG_NO_ACTION, &t->src, t);
        return;
    }
    if (problem != NULL) {
        msg_start(v);
        put(v, problem);
        report(v, HAZ_DIAG_NO_ACTION, &t->action_src, t);
    }
}

static void check_names(vstate *v, haz_task *t, const haz__items *items,
                        const char *what)
{
    const char *why;
    size_t j;

    for (j = 0; j < items->n; j++) {
        const haz__item *it = &items->v[j];
        if ((why = haz__name_why(it->text)) == NULL)
            continue;
        msg_start(v);
        put(v, what);
        put(v, " ");
        qput(v, it->text);
        put(v, " is invalid: ");
        put(v, why);
        report(v, HAZ_DIAG_BAD_NAME, &it->src, t);
    }
}

static void check_patterns(vstate *v, haz_task *t, const haz__items *items,
                           const char *what)
{
    const char *why;
    size_t j;

    for (j = 0; j < items->n; j++) {
        const haz__item *it = &items->v[j];
        if (haz_pattern_check(it->text, &why) == 0)
            continue;
        msg_start(v);
        put(v, what);
        put(v, " pattern ");
        qput(v, it->text);
        put(v, " is invalid: ");
        put(v, why);
        report(v, HAZ_DIAG_BAD_PATTERN, &it->src, t);
    }
}

static void bad_env(vstate *v, haz_task *t, const char *name,
                    const char *why, const char *field, const haz__src *src)
{
    msg_start(v);
    put(v, "environment variable name ");
    qput(v, name);
    put(v, " in ");
    put(v, field);
    put(v, " is invalid: ");
    put(v, why);
    report(v, HAZ_DIAG_BAD_ENV, src, t);
}

/* The first item of task i's weak_deps that resolved to task `to`. */
static const haz__src *weak_src(const vstate *v, size_t i, size_t to)
{
    const haz_task *t = v->order[i];
    size_t j, at = v->base[i] + t->deps.n;

    for (j = 0; j < t->weak_deps.n; j++)
        if (v->rix[at + j] == to)
            return &t->weak_deps.v[j].src;
    return &t->src;
}

static void check_task(vstate *v, size_t i)
{
    haz_task *t = v->order[i];
    size_t j, at = v->base[i], a, b;
    const char *why;

    if ((why = haz__name_why(t->name)) != NULL) {
        msg_start(v);
        put(v, "task name ");
        qput(v, t->name);
        put(v, " is invalid: ");
        put(v, why);
        report(v, HAZ_DIAG_BAD_NAME, &t->src, t);
    }
    check_action(v, t);

    check_refs(v, i, &t->deps, "deps", at);
    check_refs(v, i, &t->weak_deps, "weak_deps", at + t->deps.n);
    v->hn[i] = compact(v, at, t->deps.n);
    v->wn[i] = compact(v, at + t->deps.n, t->weak_deps.n);

    /* DAG-010: both lists are sorted; walk them together. */
    a = b = 0;
    while (a < v->hn[i] && b < v->wn[i]) {
        size_t x = v->res[at + a], y = v->res[at + t->deps.n + b];
        if (x < y) {
            a++;
        } else if (y < x) {
            b++;
        } else {
            msg_start(v);
            put(v, "task ");
            qput(v, v->order[x]->id);
            put(v, " is in both deps and weak_deps");
            report(v, HAZ_DIAG_DEPS_OVERLAP, weak_src(v, i, x), t);
            a++;
            b++;
        }
    }

    check_names(v, t, &t->tags, "tag");
    for (j = 0; j < t->n_mutexes; j++) {
        const haz__mutex_item *m = &t->mutexes[j];
        if ((why = haz__name_why(m->name)) == NULL)
            continue;
        msg_start(v);
        put(v, "mutex name ");
        qput(v, m->name);
        put(v, " is invalid: ");
        put(v, why);
        report(v, HAZ_DIAG_BAD_NAME, &m->src, t);
    }
    for (j = 0; j < t->env_host.n; j++)
        if ((why = haz__env_name_why(t->env_host.v[j].text)) != NULL)
            bad_env(v, t, t->env_host.v[j].text, why, "env_from_host",
                    &t->env_host.v[j].src);
    for (j = 0; j < t->n_env; j++)
        if ((why = haz__env_name_why(t->env[j].name)) != NULL)
            bad_env(v, t, t->env[j].name, why, "env", &t->env[j].src);
    check_patterns(v, t, &t->inputs, "input");
    check_patterns(v, t, &t->outputs, "output");
}

/* ------------------------------------------------------------------------
 * Cycles (DAG-014).
 * ---------------------------------------------------------------------- */

static size_t degree(const vstate *v, size_t u)
{
    return v->hn[u] + v->wn[u];
}

/* The k-th neighbour of u over hard then soft edges (u depends on it). */
static size_t neighbour(const vstate *v, size_t u, size_t k)
{
    if (k < v->hn[u])
        return v->res[v->base[u] + k];
    return v->res[v->base[u] + v->order[u]->deps.n + k - v->hn[u]];
}

/* Report a shortest cycle through s inside component c: BFS over the edges
 * of the component, neighbours in ascending index order. */
static void report_cycle(vstate *v, size_t s, const size_t *comp,
                         size_t *parent, size_t *queue, unsigned char *seen)
{
    size_t head = 0, tail = 0, last = NONE, len, u, k;
    const haz_task *t = v->order[s];
    const haz__src *src = &t->src;

    queue[tail++] = s;
    seen[s] = 1;
    parent[s] = NONE;
    while (head < tail && last == NONE) {
        size_t a = 0, b = 0, hn, wn;
        const size_t *h, *w;
        u = queue[head++];
        hn = v->hn[u];
        wn = v->wn[u];
        h = v->res + v->base[u];
        w = v->res + v->base[u] + v->order[u]->deps.n;
        while (a < hn || b < wn) {
            size_t x;
            if (b >= wn || (a < hn && h[a] <= w[b]))
                x = h[a++];
            else
                x = w[b++];
            if (comp[x] != comp[s])
                continue;
            if (x == s) {
                last = u;
                break;
            }
            if (!seen[x]) {
                seen[x] = 1;
                parent[x] = u;
                queue[tail++] = x;
            }
        }
    }
    /* The path s -> ... -> last, then back to s; rebuilt into queue. */
    len = 0;
    for (u = last; u != NONE; u = parent[u])
        queue[len++] = u;
    msg_start(v);
    put(v, "dependency cycle: ");
    for (k = len; k-- > 0;) {
        quote(v, v->order[queue[k]]->id);
        put(v, " -> ");
    }
    quote(v, t->id);
    /* Locate the diagnostic at the reference of s that starts the path
     * (len >= 2: a component of two or more tasks has no self-loop). */
    if (len >= 2) {
        size_t to = queue[len - 2], j, at = v->base[s];
        for (j = 0; j < t->deps.n + t->weak_deps.n; j++) {
            if (v->rix[at + j] == to) {
                src = j < t->deps.n ? &t->deps.v[j].src
                                    : &t->weak_deps.v[j - t->deps.n].src;
                break;
            }
        }
    }
    report(v, HAZ_DIAG_CYCLE, src, NULL);
}

static int check_cycles(vstate *v)
{
    size_t n = v->n, counter = 0, ncomp = 0, nbig = 0, r, i;
    size_t *mem, *idx, *low, *it, *stk, *cs, *comp, *mins;
    size_t sp = 0, csp = 0;
    unsigned char *flag;

    if (n == 0)
        return 0;
    if (n > NONE / 8 - 1)
        return HAZ_ENOMEM;
    mem = haz__reallocarray(v->ctx, NULL, 7 * n, sizeof *mem);
    flag = haz__calloc(v->ctx, n, 1);
    if (mem == NULL || flag == NULL) {
        haz__free(v->ctx, mem);
        haz__free(v->ctx, flag);
        return HAZ_ENOMEM;
    }
    idx = mem;
    low = mem + n;
    it = mem + 2 * n;
    stk = mem + 3 * n;
    cs = mem + 4 * n;
    comp = mem + 5 * n;
    mins = mem + 6 * n;
    for (i = 0; i < n; i++)
        idx[i] = NONE;

    /* Iterative Tarjan: cs is the call stack, it[] each frame's next edge,
     * flag[] marks the members of stk. */
    for (r = 0; r < n; r++) {
        if (idx[r] != NONE)
            continue;
        idx[r] = low[r] = counter++;
        stk[sp++] = r;
        flag[r] = 1;
        it[r] = 0;
        cs[csp++] = r;
        while (csp > 0) {
            size_t u = cs[csp - 1];
            if (it[u] < degree(v, u)) {
                size_t w = neighbour(v, u, it[u]++);
                if (idx[w] == NONE) {
                    idx[w] = low[w] = counter++;
                    stk[sp++] = w;
                    flag[w] = 1;
                    it[w] = 0;
                    cs[csp++] = w;
                } else if (flag[w] && idx[w] < low[u]) {
                    low[u] = idx[w];
                }
                continue;
            }
            csp--;
            if (low[u] == idx[u]) {
                size_t w, size = 0, min = u;
                do {
                    w = stk[--sp];
                    flag[w] = 0;
                    comp[w] = ncomp;
                    if (w < min)
                        min = w;
                    size++;
                } while (w != u);
                if (size >= 2)
                    mins[nbig++] = min;
                ncomp++;
            }
            if (csp > 0 && low[u] < low[cs[csp - 1]])
                low[cs[csp - 1]] = low[u];
        }
    }

    /* Components in order of their smallest task; the BFS reuses idx as
     * parent links, low as its queue and flag (all zero again) as marks. */
    qsort(mins, nbig, sizeof *mins, cmp_size);
    for (i = 0; i < nbig; i++)
        report_cycle(v, mins[i], comp, idx, low, flag);
    haz__free(v->ctx, mem);
    haz__free(v->ctx, flag);
    return 0;
}

/* ------------------------------------------------------------------------
 * Literal output collisions (DAG-016).
 * ---------------------------------------------------------------------- */

typedef struct out_entry {
    const char *abs;
    size_t task;
    const haz__src *src;
} out_entry;

static int cmp_out(const void *a, const void *b)
{
    const out_entry *x = a, *y = b;
    int r = strcmp(x->abs, y->abs);

    if (r != 0)
        return r;
    return x->task < y->task ? -1 : x->task > y->task;
}

static int literal_output(const haz_task *t, const char *text)
{
    return t->proj->root_ok && !haz_pattern_is_glob(text)
        && haz_path_check(text, NULL) == 0;
}

static int check_outputs(vstate *v)
{
    size_t i, j, k, n = 0, chars = 0;
    out_entry *e;
    char *pool, *at;

    for (i = 0; i < v->n; i++) {
        const haz_task *t = v->order[i];
        for (j = 0; j < t->outputs.n; j++) {
            const char *text = t->outputs.v[j].text;
            if (!literal_output(t, text))
                continue;
            n++;
            chars += haz__canonical_join(NULL, t->proj->root, text, 0) + 1;
        }
    }
    if (n < 2)
        return 0;
    e = haz__reallocarray(v->ctx, NULL, n, sizeof *e);
    pool = haz__malloc(v->ctx, chars);
    if (e == NULL || pool == NULL) {
        haz__free(v->ctx, e);
        haz__free(v->ctx, pool);
        return HAZ_ENOMEM;
    }
    at = pool;
    k = 0;
    for (i = 0; i < v->n; i++) {
        const haz_task *t = v->order[i];
        for (j = 0; j < t->outputs.n; j++) {
            const char *text = t->outputs.v[j].text;
            if (!literal_output(t, text))
                continue;
            e[k].abs = at;
            e[k].task = i;
            e[k].src = &t->outputs.v[j].src;
            at += haz__canonical_join(at, t->proj->root, text, 0) + 1;
            k++;
        }
    }
    qsort(e, n, sizeof *e, cmp_out);
    for (i = 0; i < n; i = j) {
        size_t tasks = 1;
        for (j = i + 1; j < n && strcmp(e[j].abs, e[i].abs) == 0; j++)
            if (e[j].task != e[j - 1].task)
                tasks++;
        if (tasks < 2)
            continue;
        msg_start(v);
        put(v, "output ");
        qput(v, e[i].abs);
        put(v, " is declared by ");
        {
            char num[32];
            sprintf(num, "%lu", (unsigned long)tasks);
            put(v, num);
        }
        put(v, " tasks: ");
        for (k = i; k < j; k++) {
            if (k > i && e[k].task == e[k - 1].task)
                continue;
            if (k > i)
                put(v, ", ");
            quote(v, v->order[e[k].task]->id);
        }
        report(v, HAZ_DIAG_OUTPUT_COLLISION, e[i].src, NULL);
    }
    haz__free(v->ctx, e);
    haz__free(v->ctx, pool);
    return 0;
}

/* ------------------------------------------------------------------------
 * Freezing.
 * ---------------------------------------------------------------------- */

void haz__frozen_free(haz_ctx *ctx, haz__frozen *fz)
{
    if (fz == NULL)
        return;
    haz__free(ctx, fz->tasks);
    haz__free(ctx, fz->caps);
    haz__free(ctx, fz->locks);
    haz__free(ctx, (void *)fz->by_name);
    haz__free(ctx, fz->ipool);
    haz__free(ctx, (void *)fz->spool);
    haz__free(ctx, fz->epool);
    haz__free(ctx, fz->mpool);
    haz__free(ctx, fz->ppool);
    haz__free(ctx, fz->cpool);
    haz__free(ctx, fz->idpool);
    haz__free(ctx, fz);
}

static int cmp_env(const void *a, const void *b)
{
    return strcmp(((const haz_env_pair *)a)->name,
                  ((const haz_env_pair *)b)->name);
}

static int cmp_lock(const void *a, const void *b)
{
    const haz__glock *x = a, *y = b;
    int r;

    if (x->scope != y->scope)
        return x->scope < y->scope ? -1 : 1;
    if (x->project != NULL && y->project != NULL) {
        if ((r = strcmp(x->project, y->project)) != 0)
            return r;
    } else if (x->project != y->project) {
        return x->project == NULL ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

static int cmp_by_name(const void *a, const void *b)
{
    const haz__gtask *x = *(const haz__gtask *const *)a;
    const haz__gtask *y = *(const haz__gtask *const *)b;
    int r = strcmp(x->info.name, y->info.name);

    if (r != 0)
        return r;
    return x->info.index < y->info.index ? -1 : 1;
}

/* Allocate n elements of size bytes (at least one, so that no pointer into
 * a pool is ever NULL: arithmetic on NULL is undefined even by 0). */
static int pool(haz_ctx *ctx, void *out, size_t n, size_t size)
{
    void *p = haz__reallocarray(ctx, NULL, n > 0 ? n : 1, size);

    if (p == NULL)
        return HAZ_ENOMEM;
    memcpy(out, &p, sizeof p);
    return 0;
}

/* Fill the patterns of one list: text pointers into *sp, patterns into
 * *pp, workspace-absolute forms into *cp. */
static void fill_patterns(const haz_task *t, const haz__items *items,
                          const char ***sp, haz__gpattern **pp, char **cp,
                          const char *const **texts, const haz__gpattern **out)
{
    size_t j;

    *texts = *sp;
    *out = *pp;
    for (j = 0; j < items->n; j++) {
        const char *text = items->v[j].text;
        haz__gpattern *gp = (*pp)++;
        int glob = haz_pattern_is_glob(text);
        *(*sp)++ = text;
        gp->text = text;
        gp->is_glob = glob;
        gp->abs = *cp;
        *cp += haz__canonical_join(*cp, t->proj->root, text, glob) + 1;
    }
}

static int freeze(vstate *v)
{
    haz_graph *g = v->g;
    haz_ctx *ctx = v->ctx;
    size_t n = v->n, ni = 0, ns = 0, ne = 0, nm = 0, np = 0, nc = 0;
    size_t nid = 0;
    size_t i, j, k;
    haz__frozen *fz;
    size_t *ip;
    const char **sp;
    haz_env_pair *ep;
    haz_mutex_decl *mp;
    haz__gpattern *pp;
    char *cp, *idp;
    haz__cap_item **sorted_caps = NULL;

    for (i = 0; i < n; i++) {
        const haz_task *t = v->order[i];
        size_t ntags = t->proj->tags.n + t->tags.n;
        ni += 2 * (v->hn[i] + v->wn[i]) + ntags + t->n_mutexes;
        ns += ntags + g->env_default.n + t->env_host.n + t->inputs.n
            + t->outputs.n;
        ne += t->n_env;
        nm += t->n_mutexes;
        np += t->inputs.n + t->outputs.n;
        nid += strlen(t->id) + 1;
        for (j = 0; j < t->inputs.n; j++)
            nc += haz__canonical_join(NULL, t->proj->root,
                                      t->inputs.v[j].text, 1) + 1;
        for (j = 0; j < t->outputs.n; j++)
            nc += haz__canonical_join(NULL, t->proj->root,
                                      t->outputs.v[j].text, 1) + 1;
    }
    if ((fz = haz__calloc(ctx, 1, sizeof *fz)) == NULL)
        return HAZ_ENOMEM;
    if (pool(ctx, &fz->tasks, n, sizeof *fz->tasks)
        || pool(ctx, &fz->by_name, n, sizeof *fz->by_name)
        || pool(ctx, &fz->caps, g->n_caps, sizeof *fz->caps)
        || pool(ctx, &sorted_caps, g->n_caps, sizeof *sorted_caps)
        || pool(ctx, &fz->locks, nm, sizeof *fz->locks)
        || pool(ctx, &fz->ipool, ni, sizeof *fz->ipool)
        || pool(ctx, &fz->spool, ns, sizeof *fz->spool)
        || pool(ctx, &fz->epool, ne, sizeof *fz->epool)
        || pool(ctx, &fz->mpool, nm, sizeof *fz->mpool)
        || pool(ctx, &fz->ppool, np, sizeof *fz->ppool)
        || pool(ctx, &fz->cpool, nc, 1)
        || pool(ctx, &fz->idpool, nid, 1)) {
        haz__free(ctx, sorted_caps);
        haz__frozen_free(ctx, fz);
        return HAZ_ENOMEM;
    }
    if (n > 0)
        memset(fz->tasks, 0, n * sizeof *fz->tasks);
    fz->n = n;

    /* Tag caps, sorted by tag. */
    if (g->n_caps > 0) {
        memcpy(sorted_caps, g->caps, g->n_caps * sizeof *sorted_caps);
        qsort(sorted_caps, g->n_caps, sizeof *sorted_caps, cmp_cap);
        for (i = 0; i < g->n_caps; i++) {
            fz->caps[i].tag = sorted_caps[i]->tag;
            fz->caps[i].cap = sorted_caps[i]->cap;
        }
    }
    fz->n_caps = g->n_caps;
    haz__free(ctx, sorted_caps);

    /* Lock keys, sorted and unique. */
    for (i = 0; i < n; i++) {
        const haz_task *t = v->order[i];
        for (j = 0; j < t->n_mutexes; j++) {
            haz__glock *l = &fz->locks[fz->n_locks++];
            l->scope = t->mutexes[j].decl.scope;
            l->project = l->scope == HAZ_MUTEX_PROJECT ? t->proj->name : NULL;
            l->name = t->mutexes[j].name;
        }
    }
    if (fz->n_locks > 0) {
        qsort(fz->locks, fz->n_locks, sizeof *fz->locks, cmp_lock);
        for (i = 1, k = 0; i < fz->n_locks; i++)
            if (cmp_lock(&fz->locks[i], &fz->locks[k]) != 0)
                fz->locks[++k] = fz->locks[i];
        fz->n_locks = k + 1;
    }

    ip = fz->ipool;
    sp = fz->spool;
    ep = fz->epool;
    mp = fz->mpool;
    pp = fz->ppool;
    cp = fz->cpool;
    idp = fz->idpool;

    /* Dependents: count, then hand out slices, then fill in index order
     * (which leaves every list sorted). */
    for (i = 0; i < n; i++) {
        for (j = 0; j < v->hn[i]; j++)
            fz->tasks[v->res[v->base[i] + j]].info.n_dependents++;
        for (j = 0; j < v->wn[i]; j++)
            fz->tasks[v->res[v->base[i] + v->order[i]->deps.n + j]]
                .info.n_weak_dependents++;
    }
    for (i = 0; i < n; i++) {
        haz_task_info *in = &fz->tasks[i].info;
        in->dependents = ip;
        ip += in->n_dependents;
        in->weak_dependents = ip;
        ip += in->n_weak_dependents;
        in->n_dependents = in->n_weak_dependents = 0;
    }
    for (i = 0; i < n; i++) {
        for (j = 0; j < v->hn[i]; j++) {
            haz_task_info *in = &fz->tasks[v->res[v->base[i] + j]].info;
            ((size_t *)in->dependents)[in->n_dependents++] = i;
        }
        for (j = 0; j < v->wn[i]; j++) {
            haz_task_info *in =
                &fz->tasks[v->res[v->base[i] + v->order[i]->deps.n + j]].info;
            ((size_t *)in->weak_dependents)[in->n_weak_dependents++] = i;
        }
    }

    for (i = 0; i < n; i++) {
        const haz_task *t = v->order[i];
        haz__gtask *gt = &fz->tasks[i];
        haz_task_info *in = &gt->info;
        const char **list;
        size_t *caps, a, b;

        in->index = i;
        in->project = t->proj->name;
        {
            size_t len = strlen(t->id) + 1;

            memcpy(idp, t->id, len);
            in->id = idp;
            in->name = idp + (t->name - t->id);
            idp += len;
        }
        in->project_root = t->proj->root != NULL ? t->proj->root : ".";
        in->action = t->action;
        in->script = t->action == HAZ_ACTION_SHELL ? t->script : NULL;
        in->argv = t->action == HAZ_ACTION_ARGV
                       ? (const char *const *)t->argv : NULL;
        in->argc = t->action == HAZ_ACTION_ARGV ? t->argc : 0;
        in->timeout_ns = t->timeout_ns;

        memcpy(ip, v->res + v->base[i], v->hn[i] * sizeof *ip);
        in->deps = ip;
        in->n_deps = v->hn[i];
        ip += v->hn[i];
        memcpy(ip, v->res + v->base[i] + t->deps.n, v->wn[i] * sizeof *ip);
        in->weak_deps = ip;
        in->n_weak_deps = v->wn[i];
        ip += v->wn[i];

        /* Tags: the project's and the task's own. */
        list = sp;
        for (j = 0; j < t->proj->tags.n; j++)
            *sp++ = t->proj->tags.v[j].text;
        for (j = 0; j < t->tags.n; j++)
            *sp++ = t->tags.v[j].text;
        in->tags = list;
        in->n_tags = sort_unique_str(list, (size_t)(sp - list));

        /* The capped ones among them (both lists sorted). */
        caps = ip;
        for (a = b = 0; a < in->n_tags && b < fz->n_caps;) {
            int c = strcmp(in->tags[a], fz->caps[b].tag);
            if (c < 0) {
                a++;
            } else if (c > 0) {
                b++;
            } else {
                *ip++ = b;
                a++;
                b++;
            }
        }
        gt->caps = caps;
        gt->n_caps = (size_t)(ip - caps);

        /* Host environment: the default list and the task's own. */
        list = sp;
        for (j = 0; j < g->env_default.n; j++)
            *sp++ = g->env_default.v[j].text;
        for (j = 0; j < t->env_host.n; j++)
            *sp++ = t->env_host.v[j].text;
        in->env_from_host = list;
        in->n_env_from_host = sort_unique_str(list, (size_t)(sp - list));

        in->env = ep;
        for (j = 0; j < t->n_env; j++, ep++) {
            ep->name = t->env[j].name;
            ep->value = t->env[j].value;
        }
        in->n_env = t->n_env;
        if (t->n_env > 1)
            qsort((void *)in->env, t->n_env, sizeof *ep, cmp_env);

        in->mutexes = mp;
        gt->locks = ip;
        for (j = 0; j < t->n_mutexes; j++) {
            haz__glock key;
            const haz__glock *hit;
            *mp++ = t->mutexes[j].decl;
            key.scope = t->mutexes[j].decl.scope;
            key.project = key.scope == HAZ_MUTEX_PROJECT ? t->proj->name
                                                         : NULL;
            key.name = t->mutexes[j].name;
            hit = bsearch(&key, fz->locks, fz->n_locks, sizeof key,
                          cmp_lock);
            *ip++ = (size_t)(hit - fz->locks);
        }
        in->n_mutexes = t->n_mutexes;

        fill_patterns(t, &t->inputs, &sp, &pp, &cp, &in->inputs,
                      &gt->inputs);
        in->n_inputs = t->inputs.n;
        fill_patterns(t, &t->outputs, &sp, &pp, &cp, &in->outputs,
                      &gt->outputs);
        in->n_outputs = t->outputs.n;

        fz->by_name[i] = gt;
    }
    if (n > 1)
        qsort((void *)fz->by_name, n, sizeof *fz->by_name, cmp_by_name);
    g->fz = fz;
    return 0;
}

/* ------------------------------------------------------------------------
 * haz_graph_validate.
 * ---------------------------------------------------------------------- */

int haz_graph_validate(haz_graph *g, haz_diags *diags)
{
    vstate v;
    size_t i, total = 0;
    int r = 0;

    if (g == NULL)
        return HAZ_EINVAL;
    if (g->fz != NULL)
        return 0;
    memset(&v, 0, sizeof v);
    v.g = g;
    v.ctx = g->ctx;
    v.d = diags;
    v.n = g->n_tasks;
    haz__buf_init(&v.msg, v.ctx);
    haz__buf_init(&v.qfile, v.ctx);
    haz__buf_init(&v.qproj, v.ctx);
    haz__buf_init(&v.qtask, v.ctx);

    for (i = 0; i < v.n; i++)
        total += g->tasks[i]->deps.n + g->tasks[i]->weak_deps.n;
    /* At least one element each, so that no pointer is NULL. */
    v.order = haz__reallocarray(v.ctx, NULL, v.n + 1, sizeof *v.order);
    v.base = haz__reallocarray(v.ctx, NULL, 3 * v.n + 3, sizeof *v.base);
    if (v.order == NULL || v.base == NULL)
        goto nomem;
    v.hn = v.base + v.n + 1;
    v.wn = v.base + 2 * v.n + 2;
    if (v.n > 0) {
        memcpy(v.order, g->tasks, v.n * sizeof *v.order);
        qsort(v.order, v.n, sizeof *v.order, cmp_task);
    }
    v.rix = haz__reallocarray(v.ctx, NULL, total + 1, sizeof *v.rix);
    v.res = haz__reallocarray(v.ctx, NULL, total + 1, sizeof *v.res);
    if (v.rix == NULL || v.res == NULL)
        goto nomem;
    total = 0;
    for (i = 0; i < v.n; i++) {
        v.order[i]->vidx = i;
        v.base[i] = total;
        total += v.order[i]->deps.n + v.order[i]->weak_deps.n;
    }

    if ((r = check_settings(&v)) != 0 || v.rc != 0)
        goto done;
    if ((r = check_projects(&v)) != 0 || v.rc != 0)
        goto done;
    for (i = 0; i < v.n && v.rc == 0; i++)
        check_task(&v, i);
    if (v.rc != 0)
        goto done;
    if ((r = check_cycles(&v)) != 0 || v.rc != 0)
        goto done;
    if ((r = check_outputs(&v)) != 0 || v.rc != 0)
        goto done;
    if (v.errors > 0) {
        r = haz__error(v.ctx, HAZ_EGRAPH,
                       "the graph is invalid: %lu problem%s found",
                       (unsigned long)v.errors, v.errors == 1 ? "" : "s");
        goto done;
    }
    r = freeze(&v);
    goto done;
nomem:
    r = HAZ_ENOMEM;
done:
    if (r == 0 && v.rc != 0)
        r = v.rc;
    if (r == HAZ_ENOMEM)
        haz__error(v.ctx, HAZ_ENOMEM, "out of memory validating the graph");
    haz__free(v.ctx, v.order);
    haz__free(v.ctx, v.base);
    haz__free(v.ctx, v.rix);
    haz__free(v.ctx, v.res);
    haz__buf_free(&v.msg);
    haz__buf_free(&v.qfile);
    haz__buf_free(&v.qproj);
    haz__buf_free(&v.qtask);
    return r;
}

/* ------------------------------------------------------------------------
 * Queries.
 * ---------------------------------------------------------------------- */

const haz__gtask *haz__graph_tasks(const haz_graph *g, size_t *n)
{
    if (g == NULL || g->fz == NULL) {
        if (n != NULL)
            *n = 0;
        return NULL;
    }
    if (n != NULL)
        *n = g->fz->n;
    return g->fz->tasks;
}

const haz__glock *haz__graph_locks(const haz_graph *g, size_t *n)
{
    if (g == NULL || g->fz == NULL || g->fz->n_locks == 0) {
        if (n != NULL)
            *n = 0;
        return NULL;
    }
    if (n != NULL)
        *n = g->fz->n_locks;
    return g->fz->locks;
}

size_t haz_graph_task_count(const haz_graph *g)
{
    return g != NULL && g->fz != NULL ? g->fz->n : 0;
}

int haz_graph_task_info(const haz_graph *g, size_t index, haz_task_info *out)
{
    if (g == NULL || out == NULL)
        return HAZ_EINVAL;
    if (g->fz == NULL)
        return haz__error(g->ctx, HAZ_ESTATE, "the graph is not validated");
    if (index >= g->fz->n)
        return haz__error(g->ctx, HAZ_EINVAL,
                          "task index %lu is out of range (%lu tasks)",
                          (unsigned long)index, (unsigned long)g->fz->n);
    *out = g->fz->tasks[index].info;
    return 0;
}

const haz_tag_cap *haz_graph_tag_caps(const haz_graph *g, size_t *n)
{
    if (g == NULL || g->fz == NULL || g->fz->n_caps == 0) {
        if (n != NULL)
            *n = 0;
        return NULL;
    }
    if (n != NULL)
        *n = g->fz->n_caps;
    return g->fz->caps;
}

int haz_graph_find_task(const haz_graph *g, const char *ref,
                        const char *bearing_project, size_t *index)
{
    const char *colon, *project, *name;
    size_t plen;
    haz_task *t;
    char q[96];

    if (g == NULL)
        return HAZ_EINVAL;
    if (ref == NULL || index == NULL)
        return haz__error(g->ctx, HAZ_EINVAL, "%s is NULL",
                          ref == NULL ? "the reference" : "index");
    if (g->fz == NULL)
        return haz__error(g->ctx, HAZ_ESTATE, "the graph is not validated");
    haz__quote_fixed(q, sizeof q, ref);
    colon = strchr(ref, ':');
    if (colon == NULL)
        return haz__error(g->ctx, HAZ_EINVAL, "reference '%s' is invalid: "
                          "expected 'project:task' or '~:task'", q);
    name = colon + 1;
    if (colon - ref == 1 && ref[0] == '~') {
        if (bearing_project == NULL)
            return haz__error(g->ctx, HAZ_EINVAL, "reference '%s' needs a "
                              "bearing project", q);
        project = bearing_project;
        plen = strlen(project);
    } else {
        project = ref;
        plen = (size_t)(colon - ref);
    }
    if (haz__name_why_n(project, plen) != NULL || haz__name_why(name) != NULL)
        return haz__error(g->ctx, HAZ_EINVAL, "reference '%s' is invalid",
                          q);
    t = haz__graph_find(g, project, plen, name);
    if (t == NULL)
        return haz__error(g->ctx, HAZ_ENOENT, "no task '%s'", q);
    *index = t->vidx;
    return 0;
}

/* Mark and push every task that target `s` names; returns how many. */
static size_t select_target(const haz_graph *g, const char *s,
                            unsigned char *selected, size_t *stack,
                            size_t *sp)
{
    const haz__frozen *fz = g->fz;
    const char *colon = strchr(s, ':');
    size_t lo = 0, hi = fz->n, count = 0;

    if (colon != NULL) {
        haz_task *t = haz__graph_find(g, s, (size_t)(colon - s), colon + 1);
        if (t == NULL)
            return 0;
        if (!selected[t->vidx]) {
            selected[t->vidx] = 1;
            stack[(*sp)++] = t->vidx;
        }
        return 1;
    }
    while (lo < hi) {               /* first task named s */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(fz->by_name[mid]->info.name, s) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < fz->n && strcmp(fz->by_name[lo]->info.name, s) == 0; lo++) {
        size_t i = fz->by_name[lo]->info.index;
        if (!selected[i]) {
            selected[i] = 1;
            stack[(*sp)++] = i;
        }
        count++;
    }
    return count;
}

int haz_graph_select(const haz_graph *g, const char *const *targets,
                     size_t n_targets, unsigned char *selected,
                     haz_diags *diags)
{
    size_t n, i, j, sp = 0, unknown = 0, first_unknown = 0;
    size_t *stack = NULL;
    int r = 0;

    if (g == NULL)
        return HAZ_EINVAL;
    if (g->fz == NULL)
        return haz__error(g->ctx, HAZ_ESTATE, "the graph is not validated");
    n = g->fz->n;
    if ((selected == NULL && n > 0) || (targets == NULL && n_targets > 0))
        return haz__error(g->ctx, HAZ_EINVAL, "%s is NULL",
                          selected == NULL ? "selected" : "targets");
    for (i = 0; i < n_targets; i++)
        if (targets[i] == NULL)
            return haz__error(g->ctx, HAZ_EINVAL, "a target is NULL");
    if (n == 0 && n_targets == 0)
        return 0;
    if (n_targets == 0) {
        memset(selected, 1, n);
        return 0;
    }
    if (n > 0) {
        memset(selected, 0, n);
        stack = haz__reallocarray(g->ctx, NULL, n, sizeof *stack);
        if (stack == NULL)
            return HAZ_ENOMEM;
    }
    for (i = 0; i < n_targets; i++) {
        if (n > 0 && select_target(g, targets[i], selected, stack, &sp) > 0)
            continue;
        if (unknown++ == 0)
            first_unknown = i;
        if (diags != NULL && r == 0) {
            haz_buf b;
            haz__buf_init(&b, g->ctx);
            r = haz__quote(&b, targets[i]);
            if (r == 0)
                r = haz__diag_add(diags, HAZ_DIAG_UNKNOWN_TARGET, NULL, 0,
                                  NULL, NULL, "unknown target '%s'", b.data);
            haz__buf_free(&b);
        }
    }
    if (r != 0 || unknown > 0) {
        if (n > 0)
            memset(selected, 0, n);
        haz__free(g->ctx, stack);
        if (r != 0)
            return r;
        {
            char q[96];
            haz__quote_fixed(q, sizeof q, targets[first_unknown]);
            return haz__error(g->ctx, HAZ_ENOENT, "unknown target '%s'%s",
                              q, unknown > 1 ? " (and others)" : "");
        }
    }
    /* The closure over hard and soft edges (design 2.13). */
    while (sp > 0) {
        const haz_task_info *in = &g->fz->tasks[stack[--sp]].info;
        for (j = 0; j < in->n_deps; j++) {
            if (!selected[in->deps[j]]) {
                selected[in->deps[j]] = 1;
                stack[sp++] = in->deps[j];
            }
        }
        for (j = 0; j < in->n_weak_deps; j++) {
            if (!selected[in->weak_deps[j]]) {
                selected[in->weak_deps[j]] = 1;
                stack[sp++] = in->weak_deps[j];
            }
        }
    }
    haz__free(g->ctx, stack);
    return 0;
}
