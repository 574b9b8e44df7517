/*
 * lib/graph.c: building a task graph (haz_graph_new ... haz_task_*).
 *
 * Building records what it is given, with the current source location, and
 * checks only what the header promises (NULL arguments, duplicates, frozen
 * graph); everything else is left to validation (lib/validate.c).  Every
 * mutating call first allocates all it needs (copies, new objects, room in
 * arrays and hash tables) and only then commits, so a HAZ_ENOMEM leaves the
 * graph exactly as it was.
 *
 * The file is divided into: small helpers (arrays, hash tables, quoting);
 * the graph object; projects and workspace settings; tasks and their
 * setters.  Validation, freezing and the queries are in lib/validate.c.
 */
#include "internal.h"

#include <string.h>

#include "graph_private.h"
#include "pattern.h"

/* ------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------- */

void *haz__reserve(haz_ctx *ctx, void *arr, size_t *cap, size_t need,
                   size_t size)
{
    size_t ncap;
    void *p;

    if (need <= *cap)
        return arr;
    ncap = *cap < 4 ? 4 : *cap;
    while (ncap < need) {
        if (ncap > ((size_t)-1) / 2)
            return NULL;
        ncap *= 2;
    }
    p = haz__reallocarray(ctx, arr, ncap, size);
    if (p == NULL)
        return NULL;
    *cap = ncap;
    return p;
}

size_t haz__key_hash(const char *a, size_t alen, const char *b)
{
    const uint64_t prime = UINT64_C(1099511628211);
    uint64_t h = UINT64_C(14695981039346656037);
    const unsigned char *s;
    size_t i;

    for (i = 0; i < alen; i++)
        h = (h ^ (unsigned char)a[i]) * prime;
    h = (h ^ 0xff) * prime;         /* never a byte of a C string's body */
    if (b != NULL)
        for (s = (const unsigned char *)b; *s != '\0'; s++)
            h = (h ^ *s) * prime;
    return (size_t)(h ^ (h >> 32));
}

static int key_eq(const haz__key *k, size_t hash, const char *a,
                  size_t alen, const char *b)
{
    if (k->hash != hash || strncmp(k->a, a, alen) != 0 || k->a[alen] != '\0')
        return 0;
    if (k->b == NULL || b == NULL)
        return k->b == b;
    return strcmp(k->b, b) == 0;
}

haz__key *haz__htab_find(const haz__htab *t, size_t hash, const char *a,
                         size_t alen, const char *b)
{
    size_t i;

    if (t->cap == 0)
        return NULL;
    for (i = hash & (t->cap - 1); t->slot[i] != NULL;
         i = (i + 1) & (t->cap - 1))
        if (key_eq(t->slot[i], hash, a, alen, b))
            return t->slot[i];
    return NULL;
}

static void htab_put(haz__key **slot, size_t cap, haz__key *k)
{
    size_t i;

    for (i = k->hash & (cap - 1); slot[i] != NULL; i = (i + 1) & (cap - 1))
        ;
    slot[i] = k;
}

/* Make room for `n` entries in all. */
static int htab_reserve(haz_ctx *ctx, haz__htab *t, size_t n)
{
    size_t cap = t->cap ? t->cap : 16, i;
    haz__key **slot;

    while (cap / 2 < n) {
        if (cap > ((size_t)-1) / 4)
            return HAZ_ENOMEM;
        cap *= 2;
    }
    if (cap == t->cap)
        return 0;
    slot = haz__calloc(ctx, cap, sizeof *slot);
    if (slot == NULL)
        return HAZ_ENOMEM;
    for (i = 0; i < t->cap; i++)
        if (t->slot[i] != NULL)
            htab_put(slot, cap, t->slot[i]);
    haz__free(ctx, t->slot);
    t->slot = slot;
    t->cap = cap;
    return 0;
}

/* Insert a key known to be absent, after htab_reserve(t->n + 1). */
static void htab_insert(haz__htab *t, haz__key *k)
{
    htab_put(t->slot, t->cap, k);
    t->n++;
}

/* Escape one character of s[0..n-1] into out (at least 16 bytes); returns
 * the bytes consumed and sets *olen. */
static size_t quote_char(const char *s, size_t n, char *out, size_t *olen)
{
    static const char hex[] = "0123456789abcdef";
    uint32_t cp;
    size_t len = haz__utf8_decode(s, n, &cp), i, k = 0;
    unsigned char c = (unsigned char)s[0];

    if (len == 1 && c >= 0x20 && c < 0x7f) {
        out[k++] = (char)c;
    } else if (len == 1) {
        /* C0 control, DEL or a byte that is not valid UTF-8. */
        out[k++] = '\\';
        out[k++] = 'x';
        out[k++] = hex[c >> 4];
        out[k++] = hex[c & 15];
    } else if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e)
               || (cp >= 0x2066 && cp <= 0x2069)) {
        /* C1 controls and bidirectional overrides. */
        out[k++] = '\\';
        out[k++] = 'u';
        for (i = 0; i < 4; i++)
            out[k++] = hex[(cp >> (12 - 4 * i)) & 15];
    } else {
        memcpy(out, s, len);
        k = len;
    }
    *olen = k;
    return len;
}

#define QUOTE_MAX 256

int haz__quote_n(haz_buf *b, const char *s, size_t max)
{
    size_t n = strlen(s), i = 0;

    while (i < n) {
        char tmp[16];
        size_t olen;
        int r;
        if (i >= max)
            return haz__buf_puts(b, "...");
        i += quote_char(s + i, n - i, tmp, &olen);
        if ((r = haz__buf_append(b, tmp, olen)) != 0)
            return r;
    }
    return haz__buf_append(b, "", 0);
}

int haz__quote(haz_buf *b, const char *s)
{
    return haz__quote_n(b, s, QUOTE_MAX);
}

void haz__quote_fixed(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s), i = 0, k = 0;

    if (cap == 0)
        return;
    while (i < n) {
        char tmp[16];
        size_t olen, used = quote_char(s + i, n - i, tmp, &olen);
        if (i >= QUOTE_MAX || k + olen + 4 > cap) {
            if (k + 4 <= cap) {
                memcpy(dst + k, "...", 3);
                k += 3;
            }
            break;
        }
        memcpy(dst + k, tmp, olen);
        k += olen;
        i += used;
    }
    dst[k] = '\0';
}

/* Quote into a local buffer for an error message. */
#define QUOTED(var, s) char var[96]; haz__quote_fixed(var, sizeof var, (s))

static haz__src cur_src(const haz_graph *g)
{
    haz__src s;

    s.file = g->cur_file;
    s.line = g->cur_file != NULL ? g->cur_line : 0;
    return s;
}

static int frozen_error(haz_graph *g)
{
    return haz__error(g->ctx, HAZ_ESTATE,
                      "the graph is validated and can no longer change");
}

static int null_error(haz_ctx *ctx, const char *what)
{
    return haz__error(ctx, HAZ_EINVAL, "%s is NULL", what);
}

static void items_free(haz_ctx *ctx, haz__items *it)
{
    size_t i;

    for (i = 0; i < it->n; i++)
        haz__free(ctx, it->v[i].text);
    haz__free(ctx, it->v);
    it->v = NULL;
    it->n = it->cap = 0;
}

static int items_add(haz_graph *g, haz__items *it, const char *text)
{
    haz__item *v;
    char *copy;

    v = haz__reserve(g->ctx, it->v, &it->cap, it->n + 1, sizeof *v);
    if (v == NULL)
        return HAZ_ENOMEM;
    it->v = v;
    if ((copy = haz__strdup(g->ctx, text)) == NULL)
        return HAZ_ENOMEM;
    it->v[it->n].text = copy;
    it->v[it->n].src = cur_src(g);
    it->n++;
    return 0;
}

/* ------------------------------------------------------------------------
 * The graph.
 * ---------------------------------------------------------------------- */

int haz_graph_new(haz_ctx *ctx, haz_graph **out)
{
    haz_graph *g;

    if (ctx == NULL || out == NULL)
        return HAZ_EINVAL;
    g = haz__calloc(ctx, 1, sizeof *g);
    if (g == NULL)
        return HAZ_ENOMEM;
    g->ctx = ctx;
    if (items_add(g, &g->env_default, "PATH") != 0) {   /* design 2.14 */
        items_free(ctx, &g->env_default);
        haz__free(ctx, g);
        return HAZ_ENOMEM;
    }
    *out = g;
    return 0;
}

static void project_free(haz_ctx *ctx, haz__project *p)
{
    if (p == NULL)
        return;
    haz__free(ctx, p->name);
    haz__free(ctx, p->root);
    items_free(ctx, &p->tags);
    haz__free(ctx, p);
}

static void task_free(haz_ctx *ctx, haz_task *t)
{
    size_t i;

    if (t == NULL)
        return;
    haz__free(ctx, t->id);
    haz__free(ctx, t->script);
    if (t->argv != NULL) {
        for (i = 0; i < t->argc; i++)
            haz__free(ctx, t->argv[i]);
        haz__free(ctx, t->argv);
    }
    items_free(ctx, &t->deps);
    items_free(ctx, &t->weak_deps);
    items_free(ctx, &t->tags);
    items_free(ctx, &t->env_host);
    items_free(ctx, &t->inputs);
    items_free(ctx, &t->outputs);
    for (i = 0; i < t->n_mutexes; i++)
        haz__free(ctx, t->mutexes[i].name);
    haz__free(ctx, t->mutexes);
    for (i = 0; i < t->n_env; i++) {
        haz__free(ctx, t->env[i].name);
        haz__free(ctx, t->env[i].value);
    }
    haz__free(ctx, t->env);
    haz__free(ctx, t);
}

void haz_graph_free(haz_graph *g)
{
    haz_ctx *ctx;
    size_t i;

    if (g == NULL)
        return;
    ctx = g->ctx;
    haz__frozen_free(ctx, g->fz);
    for (i = 0; i < g->n_tasks; i++)
        task_free(ctx, g->tasks[i]);
    haz__free(ctx, g->tasks);
    haz__free(ctx, g->task_tab.slot);
    for (i = 0; i < g->n_projects; i++)
        project_free(ctx, g->projects[i]);
    haz__free(ctx, g->projects);
    haz__free(ctx, g->project_tab.slot);
    for (i = 0; i < g->n_caps; i++) {
        haz__free(ctx, g->caps[i]->tag);
        haz__free(ctx, g->caps[i]);
    }
    haz__free(ctx, g->caps);
    haz__free(ctx, g->cap_tab.slot);
    items_free(ctx, &g->env_default);
    for (i = 0; i < g->n_files; i++)
        haz__free(ctx, g->files[i]);
    haz__free(ctx, g->files);
    haz__free(ctx, g);
}

haz_ctx *haz__graph_ctx(const haz_graph *g)
{
    return g->ctx;
}

int haz_graph_set_source(haz_graph *g, const char *file, unsigned long line)
{
    size_t i;
    char **v, *copy;

    if (g == NULL)
        return HAZ_EINVAL;
    if (g->fz != NULL)
        return frozen_error(g);
    if (file == NULL) {
        g->cur_file = NULL;
        g->cur_line = line;
        return 0;
    }
    if (g->cur_file != NULL && strcmp(g->cur_file, file) == 0) {
        g->cur_line = line;
        return 0;
    }
    for (i = g->n_files; i-- > 0;) {
        if (strcmp(g->files[i], file) == 0) {
            g->cur_file = g->files[i];
            g->cur_line = line;
            return 0;
        }
    }
    v = haz__reserve(g->ctx, g->files, &g->cap_files, g->n_files + 1,
                     sizeof *v);
    if (v == NULL)
        return HAZ_ENOMEM;
    g->files = v;
    if ((copy = haz__strdup(g->ctx, file)) == NULL)
        return HAZ_ENOMEM;
    g->files[g->n_files++] = copy;
    g->cur_file = copy;
    g->cur_line = line;
    return 0;
}

/* ------------------------------------------------------------------------
 * Projects and workspace settings.
 * ---------------------------------------------------------------------- */

static haz__project *project_find(const haz_graph *g, const char *name)
{
    size_t n = strlen(name);

    return (haz__project *)haz__htab_find(&g->project_tab,
                                          haz__key_hash(name, n, NULL), name,
                                          n, NULL);
}

/* A new project object, not yet in the graph. */
static haz__project *project_alloc(haz_graph *g, const char *name)
{
    haz__project *p = haz__calloc(g->ctx, 1, sizeof *p);

    if (p == NULL)
        return NULL;
    if ((p->name = haz__strdup(g->ctx, name)) == NULL) {
        haz__free(g->ctx, p);
        return NULL;
    }
    p->key.hash = haz__key_hash(name, strlen(name), NULL);
    p->key.a = p->name;
    p->key.b = NULL;
    p->src = cur_src(g);
    return p;
}

/* Make room to insert one more project. */
static int project_reserve(haz_graph *g)
{
    haz__project **v;

    v = haz__reserve(g->ctx, g->projects, &g->cap_projects,
                     g->n_projects + 1, sizeof *v);
    if (v == NULL)
        return HAZ_ENOMEM;
    g->projects = v;
    return htab_reserve(g->ctx, &g->project_tab, g->n_projects + 1);
}

static void project_insert(haz_graph *g, haz__project *p)
{
    g->projects[g->n_projects++] = p;
    htab_insert(&g->project_tab, &p->key);
}

int haz_graph_add_project(haz_graph *g, const char *name, const char *root)
{
    haz__project *p, *np = NULL;
    char *rcopy = NULL;

    if (g == NULL)
        return HAZ_EINVAL;
    if (name == NULL)
        return null_error(g->ctx, "project name");
    if (g->fz != NULL)
        return frozen_error(g);
    p = project_find(g, name);
    if (p != NULL && p->declared) {
        QUOTED(q, name);
        return haz__error(g->ctx, HAZ_EEXIST,
                          "project '%s' is already declared", q);
    }
    if (root != NULL && (rcopy = haz__strdup(g->ctx, root)) == NULL)
        return HAZ_ENOMEM;
    if (p == NULL) {
        if ((np = project_alloc(g, name)) == NULL
            || project_reserve(g) != 0) {
            project_free(g->ctx, np);
            haz__free(g->ctx, rcopy);
            return HAZ_ENOMEM;
        }
        project_insert(g, np);
        p = np;
    }
    haz__free(g->ctx, p->root);
    p->root = rcopy;
    p->declared = 1;
    p->src = cur_src(g);
    return 0;
}

int haz_graph_add_project_tag(haz_graph *g, const char *project,
                              const char *tag)
{
    haz__project *p, *np = NULL;
    size_t i;
    int r;

    if (g == NULL)
        return HAZ_EINVAL;
    if (project == NULL || tag == NULL)
        return null_error(g->ctx, project == NULL ? "project name" : "tag");
    if (g->fz != NULL)
        return frozen_error(g);
    p = project_find(g, project);
    if (p != NULL) {
        for (i = 0; i < p->tags.n; i++)
            if (strcmp(p->tags.v[i].text, tag) == 0)
                return 0;
        return items_add(g, &p->tags, tag);
    }
    if ((np = project_alloc(g, project)) == NULL)
        return HAZ_ENOMEM;
    if ((r = items_add(g, &np->tags, tag)) != 0
        || (r = project_reserve(g)) != 0) {
        project_free(g->ctx, np);
        return r;
    }
    project_insert(g, np);
    return 0;
}

int haz_graph_set_tag_cap(haz_graph *g, const char *tag, unsigned cap)
{
    haz__cap_item *c, **v;
    size_t hash;

    if (g == NULL)
        return HAZ_EINVAL;
    if (tag == NULL)
        return null_error(g->ctx, "tag");
    if (cap == 0) {
        QUOTED(q, tag);
        return haz__error(g->ctx, HAZ_EINVAL,
                          "the cap of tag '%s' must be at least 1", q);
    }
    if (g->fz != NULL)
        return frozen_error(g);
    hash = haz__key_hash(tag, strlen(tag), NULL);
    c = (haz__cap_item *)haz__htab_find(&g->cap_tab, hash, tag, strlen(tag),
                                        NULL);
    if (c != NULL) {
        c->cap = cap;
        c->src = cur_src(g);
        return 0;
    }
    if ((c = haz__calloc(g->ctx, 1, sizeof *c)) == NULL)
        return HAZ_ENOMEM;
    if ((c->tag = haz__strdup(g->ctx, tag)) == NULL)
        goto nomem;
    v = haz__reserve(g->ctx, g->caps, &g->cap_caps, g->n_caps + 1,
                     sizeof *v);
    if (v == NULL)
        goto nomem;
    g->caps = v;
    if (htab_reserve(g->ctx, &g->cap_tab, g->n_caps + 1) != 0)
        goto nomem;
    c->key.hash = hash;
    c->key.a = c->tag;
    c->cap = cap;
    c->src = cur_src(g);
    g->caps[g->n_caps++] = c;
    htab_insert(&g->cap_tab, &c->key);
    return 0;
nomem:
    haz__free(g->ctx, c->tag);
    haz__free(g->ctx, c);
    return HAZ_ENOMEM;
}

int haz_graph_set_env_from_host(haz_graph *g, const char *const *names,
                                size_t n)
{
    haz__items fresh = { NULL, 0, 0 };
    size_t i;

    if (g == NULL)
        return HAZ_EINVAL;
    if (names == NULL && n > 0)
        return null_error(g->ctx, "names");
    for (i = 0; i < n; i++)
        if (names[i] == NULL)
            return null_error(g->ctx, "an environment variable name");
    if (g->fz != NULL)
        return frozen_error(g);
    for (i = 0; i < n; i++) {
        if (items_add(g, &fresh, names[i]) != 0) {
            items_free(g->ctx, &fresh);
            return HAZ_ENOMEM;
        }
    }
    items_free(g->ctx, &g->env_default);
    g->env_default = fresh;
    return 0;
}

/* ------------------------------------------------------------------------
 * Tasks.
 * ---------------------------------------------------------------------- */

haz_task *haz__graph_find(const haz_graph *g, const char *project,
                          size_t plen, const char *name)
{
    return (haz_task *)haz__htab_find(&g->task_tab,
                                      haz__key_hash(project, plen, name),
                                      project, plen, name);
}

int haz_graph_add_task(haz_graph *g, const char *project, const char *name,
                       haz_task **out)
{
    haz__project *p, *np = NULL;
    haz_task *t, **v;
    size_t plen, nlen;

    if (g == NULL)
        return HAZ_EINVAL;
    if (project == NULL || name == NULL)
        return null_error(g->ctx, project == NULL ? "project name"
                                                  : "task name");
    if (g->fz != NULL)
        return frozen_error(g);
    p = project_find(g, project);
    if (p != NULL && haz__graph_find(g, project, strlen(project), name)
        != NULL) {
        QUOTED(qp, project);
        QUOTED(qn, name);
        return haz__error(g->ctx, HAZ_EEXIST, "task '%s:%s' already exists",
                          qp, qn);
    }
    if (p == NULL && (np = project_alloc(g, project)) == NULL)
        return HAZ_ENOMEM;
    if ((t = haz__calloc(g->ctx, 1, sizeof *t)) == NULL)
        goto nomem;
    plen = strlen(project);
    nlen = strlen(name);
    if ((t->id = haz__malloc(g->ctx, plen + nlen + 2)) == NULL)
        goto nomem;
    memcpy(t->id, project, plen);
    t->id[plen] = ':';
    memcpy(t->id + plen + 1, name, nlen + 1);
    t->name = t->id + plen + 1;
    if (np != NULL && project_reserve(g) != 0)
        goto nomem;
    v = haz__reserve(g->ctx, g->tasks, &g->cap_tasks, g->n_tasks + 1,
                     sizeof *v);
    if (v == NULL)
        goto nomem;
    g->tasks = v;
    if (htab_reserve(g->ctx, &g->task_tab, g->n_tasks + 1) != 0)
        goto nomem;
    /* Commit. */
    if (np != NULL) {
        project_insert(g, np);
        p = np;
    }
    t->g = g;
    t->proj = p;
    t->key.hash = haz__key_hash(p->name, strlen(p->name), t->name);
    t->key.a = p->name;
    t->key.b = t->name;
    t->src = cur_src(g);
    g->tasks[g->n_tasks++] = t;
    htab_insert(&g->task_tab, &t->key);
    if (out != NULL)
        *out = t;
    return 0;
nomem:
    task_free(g->ctx, t);
    project_free(g->ctx, np);
    return HAZ_ENOMEM;
}

/* Common checks of the haz_task_* setters. */
static int task_check(haz_task *t, const void *arg, const char *what)
{
    if (t == NULL)
        return HAZ_EINVAL;
    if (arg == NULL)
        return null_error(t->g->ctx, what);
    if (t->g->fz != NULL)
        return frozen_error(t->g);
    return 0;
}

static int action_check(haz_task *t)
{
    if (t->action != HAZ_ACTION_NONE) {
        QUOTED(q, t->id);
        return haz__error(t->g->ctx, HAZ_EEXIST,
                          "task '%s' already has an action", q);
    }
    return 0;
}

int haz_task_set_shell(haz_task *t, const char *script)
{
    char *copy;
    int r;

    if ((r = task_check(t, script, "script")) != 0
        || (r = action_check(t)) != 0)
        return r;
    if ((copy = haz__strdup(t->g->ctx, script)) == NULL)
        return HAZ_ENOMEM;
    t->script = copy;
    t->action = HAZ_ACTION_SHELL;
    t->action_src = cur_src(t->g);
    return 0;
}

int haz_task_set_argv(haz_task *t, size_t argc, const char *const *argv)
{
    haz_ctx *ctx;
    char **v;
    size_t i;
    int r;

    if (t == NULL)
        return HAZ_EINVAL;
    if (argv == NULL && argc > 0)
        return null_error(t->g->ctx, "argv");
    for (i = 0; i < argc; i++)
        if (argv[i] == NULL)
            return null_error(t->g->ctx, "an argv entry");
    if ((r = task_check(t, "", "")) != 0 || (r = action_check(t)) != 0)
        return r;
    ctx = t->g->ctx;
    if (argc >= ((size_t)-1) / sizeof *v)
        return haz__error(ctx, HAZ_ENOMEM, "argv is too long");
    if ((v = haz__calloc(ctx, argc + 1, sizeof *v)) == NULL)
        return HAZ_ENOMEM;
    for (i = 0; i < argc; i++) {
        if ((v[i] = haz__strdup(ctx, argv[i])) == NULL) {
            while (i-- > 0)
                haz__free(ctx, v[i]);
            haz__free(ctx, v);
            return HAZ_ENOMEM;
        }
    }
    t->argv = v;
    t->argc = argc;
    t->action = HAZ_ACTION_ARGV;
    t->action_src = cur_src(t->g);
    return 0;
}

int haz_task_add_dep(haz_task *t, const char *ref)
{
    int r = task_check(t, ref, "reference");

    return r != 0 ? r : items_add(t->g, &t->deps, ref);
}

int haz_task_add_weak_dep(haz_task *t, const char *ref)
{
    int r = task_check(t, ref, "reference");

    return r != 0 ? r : items_add(t->g, &t->weak_deps, ref);
}

int haz_task_add_tag(haz_task *t, const char *tag)
{
    int r = task_check(t, tag, "tag");

    return r != 0 ? r : items_add(t->g, &t->tags, tag);
}

int haz_task_add_env_from_host(haz_task *t, const char *name)
{
    int r = task_check(t, name, "environment variable name");

    return r != 0 ? r : items_add(t->g, &t->env_host, name);
}

int haz_task_add_input(haz_task *t, const char *pattern)
{
    int r = task_check(t, pattern, "pattern");

    return r != 0 ? r : items_add(t->g, &t->inputs, pattern);
}

int haz_task_add_output(haz_task *t, const char *pattern)
{
    int r = task_check(t, pattern, "pattern");

    return r != 0 ? r : items_add(t->g, &t->outputs, pattern);
}

int haz_task_add_mutex(haz_task *t, haz_mutex_scope scope,
                       haz_mutex_mode mode, const char *name)
{
    haz__mutex_item *v;
    char *copy;
    size_t i;
    int r;

    if ((r = task_check(t, name, "mutex name")) != 0)
        return r;
    if ((scope != HAZ_MUTEX_WORKSPACE && scope != HAZ_MUTEX_PROJECT)
        || (mode != HAZ_MUTEX_EXCLUSIVE && mode != HAZ_MUTEX_SHARED))
        return haz__error(t->g->ctx, HAZ_EINVAL,
                          "unknown mutex scope or mode");
    for (i = 0; i < t->n_mutexes; i++) {
        if (t->mutexes[i].decl.scope == scope
            && strcmp(t->mutexes[i].name, name) == 0) {
            QUOTED(q, name);
            QUOTED(qt, t->id);
            return haz__error(t->g->ctx, HAZ_EEXIST,
                              "task '%s' already declares mutex '%s%s'", qt,
                              scope == HAZ_MUTEX_PROJECT ? "~:" : "", q);
        }
    }
    v = haz__reserve(t->g->ctx, t->mutexes, &t->cap_mutexes,
                     t->n_mutexes + 1, sizeof *v);
    if (v == NULL)
        return HAZ_ENOMEM;
    t->mutexes = v;
    if ((copy = haz__strdup(t->g->ctx, name)) == NULL)
        return HAZ_ENOMEM;
    v[t->n_mutexes].name = copy;
    v[t->n_mutexes].decl.scope = scope;
    v[t->n_mutexes].decl.mode = mode;
    v[t->n_mutexes].decl.name = copy;
    v[t->n_mutexes].src = cur_src(t->g);
    t->n_mutexes++;
    return 0;
}

int haz_task_set_env(haz_task *t, const char *name, const char *value)
{
    haz__env_item *v;
    char *n, *val;
    size_t i;
    int r;

    if ((r = task_check(t, name, "environment variable name")) != 0)
        return r;
    if (value == NULL)
        return null_error(t->g->ctx, "value");
    for (i = 0; i < t->n_env; i++) {
        if (strcmp(t->env[i].name, name) == 0) {
            QUOTED(q, name);
            QUOTED(qt, t->id);
            return haz__error(t->g->ctx, HAZ_EEXIST,
                              "task '%s' already sets '%s'", qt, q);
        }
    }
    v = haz__reserve(t->g->ctx, t->env, &t->cap_env, t->n_env + 1,
                     sizeof *v);
    if (v == NULL)
        return HAZ_ENOMEM;
    t->env = v;
    if ((n = haz__strdup(t->g->ctx, name)) == NULL)
        return HAZ_ENOMEM;
    if ((val = haz__strdup(t->g->ctx, value)) == NULL) {
        haz__free(t->g->ctx, n);
        return HAZ_ENOMEM;
    }
    v[t->n_env].name = n;
    v[t->n_env].value = val;
    v[t->n_env].src = cur_src(t->g);
    t->n_env++;
    return 0;
}

int haz_task_set_timeout_ns(haz_task *t, uint64_t timeout_ns)
{
    int r = task_check(t, "", "");

    if (r != 0)
        return r;
    t->timeout_ns = timeout_ns;
    return 0;
}
