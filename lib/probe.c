/*
 * lib/probe.c: haz_run_probe, the dry run behind `hazrun -n`: for every
 * selected task, would a run restore it from the cache?  Tasks are visited
 * in an order where hard predecessors come first (Kahn's algorithm over
 * hard edges, canonical order among the ready ones); a task's key is
 * derived exactly as the scheduler derives it (lib/cachekey.c), with its
 * hard predecessors' stream hashes taken from their entries' manifests.
 * Nothing is restored, stored or run, and no input-hash record is written:
 * the record of the cache directory is only read, so that an input a run
 * hashed before is not read again (lib/filestat.h).
 * haz_run_explain, which lists the components of one task's key, uses the
 * same probe to find its predecessors' stream hashes in the cache.
 */
#include "internal.h"
#include "cachekey.h"
#include "filestat.h"
#include "graph_private.h"

#include <stdlib.h>
#include <string.h>

const char *haz_probe_name(haz_probe p)
{
    switch (p) {
    case HAZ_PROBE_NONE: return "none";
    case HAZ_PROBE_HIT: return "hit";
    case HAZ_PROBE_MISS: return "miss";
    case HAZ_PROBE_UNKNOWN: return "unknown";
    case HAZ_PROBE_ERROR: return "error";
    case HAZ_PROBE_NO_CACHE: return "no-cache";
    }
    return "unknown";
}

/* Stream hashes of a task found to be a hit. */
typedef struct probe_hashes {
    unsigned char out[HAZ_HASH_MAX_DIGEST];
    unsigned char err[HAZ_HASH_MAX_DIGEST];
} probe_hashes;

typedef struct probe {
    haz_ctx *ctx;
    const haz_run_config *cfg;
    const haz__gtask *t;
    size_t n;
    const haz_hash_methods *hash;
    const char *root;
    const char *const *host_env;
    haz_probe *out;
    haz__filestat *fsrec;    /* the input-hash record, read-only, or NULL */
    probe_hashes *hh;        /* n entries */
    haz__pred_hashes *preds; /* scratch, n entries at most */
} probe;

/* The status of task i, whose hard predecessors all have theirs. */
static int probe_task(probe *p, size_t i)
{
    const haz__gtask *t = &p->t[i];
    const haz_cache_store_methods *m = p->cfg->cache->methods;
    haz_cache_entry *e = NULL;
    unsigned char key[HAZ_HASH_MAX_DIGEST];
    size_t k;
    int rc;

    for (k = 0; k < t->info.n_deps; k++) {
        size_t d = t->info.deps[k];

        if (p->out[d] != HAZ_PROBE_HIT) {
            p->out[i] = HAZ_PROBE_UNKNOWN;
            return HAZ_OK;
        }
        p->preds[k].id = p->t[d].info.id;
        memcpy(p->preds[k].stdout_hash, p->hh[d].out, p->hash->digest_len);
        memcpy(p->preds[k].stderr_hash, p->hh[d].err, p->hash->digest_len);
    }
    rc = haz__task_cache_key(p->ctx, p->hash, p->root, t, p->host_env,
                             p->preds, t->info.n_deps, p->fsrec, NULL, key);
    if (rc == HAZ_ENOMEM)
        return rc;
    if (rc != 0) {
        p->out[i] = HAZ_PROBE_ERROR;
        return HAZ_OK;
    }
    rc = m->lookup(p->cfg->cache, key, p->hash->digest_len, &e);
    if (rc == HAZ_ENOMEM)
        return rc;
    if (rc != 0 || e == NULL) {
        p->out[i] = HAZ_PROBE_MISS;
        return HAZ_OK;
    }
    memcpy(p->hh[i].out, e->stdout_hash, p->hash->digest_len);
    memcpy(p->hh[i].err, e->stderr_hash, p->hash->digest_len);
    m->entry_free(p->cfg->cache, e);
    p->out[i] = HAZ_PROBE_HIT;
    return HAZ_OK;
}

/* The input-hash record of the run's cache directory (as the scheduler
 * finds it), opened read-only; NULL when there is none.  Only running out
 * of memory is an error. */
static int record_open(haz_ctx *ctx, const haz_run_options *opt,
                       const haz_hash_methods *h, haz__filestat **out)
{
    haz_buf dir;
    int rc;

    *out = NULL;
    haz__buf_init(&dir, ctx);
    if (opt->cache_dir != NULL)
        rc = haz__buf_puts(&dir, opt->cache_dir);
    else
        rc = haz__buf_printf(&dir, "%s/.haz/cache",
                             strcmp(opt->workspace_root, "/") == 0
                                 ? "" : opt->workspace_root);
    if (rc == HAZ_OK && dir.data[0] == '/')
        rc = haz__filestat_open_readonly(ctx, dir.data, h, out);
    haz__buf_free(&dir);
    if (rc != HAZ_ENOMEM)
        haz__error_clear(ctx);
    return rc == HAZ_ENOMEM ? rc : HAZ_OK;
}

/*
 * Fill out[] (and, for hits, hh[]: both haz_graph_task_count() entries)
 * for the run `cfg` describes.  With hh NULL the hashes are kept in
 * scratch memory only.
 */
static int probe_run(haz_ctx *ctx, const haz_run_config *cfg, haz_probe *out,
                     probe_hashes *hh)
{
    haz_run_options def;
    const haz_run_options *opt;
    size_t *pend = NULL, *queue = NULL, head = 0, tail = 0, i, k;
    probe p;
    int rc = HAZ_OK;

    if (ctx == NULL)
        return HAZ_EINVAL;
    if (cfg == NULL || out == NULL || cfg->graph == NULL)
        return haz__error(ctx, HAZ_EINVAL, "haz_run_probe: NULL argument");
    memset(&p, 0, sizeof(p));
    p.t = haz__graph_tasks(cfg->graph, &p.n);
    if (p.t == NULL)
        return haz__error(ctx, HAZ_EINVAL,
                          "haz_run_probe: the graph has not been validated");
    haz_run_options_init(&def);
    opt = cfg->options != NULL ? cfg->options : &def;
    for (i = 0; i < p.n; i++)
        out[i] = (cfg->selected == NULL || cfg->selected[i])
                     ? HAZ_PROBE_NO_CACHE
                     : HAZ_PROBE_NONE;
    if (cfg->cache == NULL || cfg->cache->methods == NULL || opt->no_cache ||
        p.n == 0)
        return HAZ_OK;
    if (opt->workspace_root == NULL || opt->workspace_root[0] != '/')
        return haz__error(ctx, HAZ_EINVAL,
                          "haz_run_probe: the workspace root must be an "
                          "absolute path");
    p.ctx = ctx;
    p.cfg = cfg;
    p.hash = cfg->hash != NULL ? cfg->hash : &haz_hash_sha256;
    p.root = opt->workspace_root;
    p.host_env = opt->host_env;
    p.out = out;
    if (record_open(ctx, opt, p.hash, &p.fsrec) != HAZ_OK)
        return haz__error(ctx, HAZ_ENOMEM, "haz_run_probe: out of memory");
    p.hh = hh != NULL ? hh : haz__calloc(ctx, p.n, sizeof(*p.hh));
    p.preds = haz__calloc(ctx, p.n, sizeof(*p.preds));
    pend = haz__calloc(ctx, p.n, sizeof(*pend));
    queue = haz__calloc(ctx, p.n, sizeof(*queue));
    if (p.hh == NULL || p.preds == NULL || pend == NULL || queue == NULL) {
        rc = HAZ_ENOMEM;
        goto done;
    }
    /* Kahn over hard edges; the graph is acyclic (validated). */
    for (i = 0; i < p.n; i++) {
        pend[i] = p.t[i].info.n_deps;
        if (pend[i] == 0)
            queue[tail++] = i;
    }
    while (head < tail && rc == HAZ_OK) {
        size_t u = queue[head++];
        const haz_task_info *ti = &p.t[u].info;

        if (out[u] != HAZ_PROBE_NONE)
            rc = probe_task(&p, u);
        for (k = 0; k < ti->n_dependents; k++)
            if (--pend[ti->dependents[k]] == 0)
                queue[tail++] = ti->dependents[k];
    }
done:
    haz__filestat_close(p.fsrec);
    if (hh == NULL)
        haz__free(ctx, p.hh);
    haz__free(ctx, p.preds);
    haz__free(ctx, pend);
    haz__free(ctx, queue);
    if (rc == HAZ_ENOMEM)
        return haz__error(ctx, rc, "haz_run_probe: out of memory");
    return rc;
}

int haz_run_probe(haz_ctx *ctx, const haz_run_config *cfg, haz_probe *out)
{
    return probe_run(ctx, cfg, out, NULL);
}

/* ------------------------------------------------------------------------
 * haz_run_explain: the components of one task's key.
 * ---------------------------------------------------------------------- */

struct haz_key_explain {
    haz_ctx *ctx;
    haz_key_info info;
    char **strs;             /* every string the object owns */
    size_t n_strs;
    size_t cap_strs;
};

/* A copy of `s` owned by the object, or NULL. */
static const char *own(haz_key_explain *e, const char *s)
{
    char *d;

    if (e->n_strs == e->cap_strs) {
        size_t cap = e->cap_strs ? 2 * e->cap_strs : 16;
        char **v = haz__reallocarray(e->ctx, e->strs, cap, sizeof(*v));

        if (v == NULL)
            return NULL;
        e->strs = v;
        e->cap_strs = cap;
    }
    d = haz__strdup(e->ctx, s);
    if (d != NULL)
        e->strs[e->n_strs++] = d;
    return d;
}

void haz_key_explain_free(haz_key_explain *e)
{
    size_t i;

    if (e == NULL)
        return;
    for (i = 0; i < e->n_strs; i++)
        haz__free(e->ctx, e->strs[i]);
    haz__free(e->ctx, e->strs);
    haz__free(e->ctx, (void *)e->info.argv);
    haz__free(e->ctx, (void *)e->info.env);
    haz__free(e->ctx, (void *)e->info.inputs);
    haz__free(e->ctx, (void *)e->info.preds);
    haz__free(e->ctx, e);
}

const haz_key_info *haz_key_explain_info(const haz_key_explain *e)
{
    return e != NULL ? &e->info : NULL;
}

/* The outcome of graph task `index` in `r`, or NULL when not in the run. */
static const haz_task_outcome *outcome_in(const haz_run_result *r,
                                          size_t index)
{
    size_t lo = 0, hi = haz_run_result_count(r);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const haz_task_outcome *o = haz_run_result_get(r, mid);

        if (o->task.index == index)
            return o;
        if (o->task.index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int cmp_pred(const void *a, const void *b)
{
    return strcmp(((const haz_key_pred *)a)->id,
                  ((const haz_key_pred *)b)->id);
}

/* Fill e->info.preds from `result`, or from the cache through a probe. */
static int explain_preds(haz_key_explain *e, const haz_run_config *cfg,
                         const haz_run_result *result, const haz__gtask *t,
                         const haz__gtask *all, size_t n_all,
                         const haz_hash_methods *h)
{
    size_t k, nd = t->info.n_deps;
    haz_key_pred *kp;
    probe_hashes *hh = NULL;
    haz_probe *st = NULL;
    int rc = HAZ_OK;

    if (nd == 0)
        return HAZ_OK;
    kp = haz__calloc(e->ctx, nd, sizeof(*kp));
    if (kp == NULL)
        return HAZ_ENOMEM;
    e->info.preds = kp;
    e->info.n_preds = nd;
    if (result == NULL) {
        /* From the cache: the hashes recorded in the predecessors'
         * entries, found the way haz_run_probe finds them. */
        st = haz__calloc(e->ctx, n_all, sizeof(*st));
        hh = haz__calloc(e->ctx, n_all, sizeof(*hh));
        if (st == NULL || hh == NULL)
            rc = HAZ_ENOMEM;
        else
            rc = probe_run(e->ctx, cfg, st, hh);
    }
    for (k = 0; rc == HAZ_OK && k < nd; k++) {
        size_t d = t->info.deps[k];
        const char *id = all[d].info.id;

        if ((kp[k].id = own(e, id)) == NULL) {
            rc = HAZ_ENOMEM;
        } else if (result != NULL) {
            const haz_task_outcome *o = outcome_in(result, d);

            if (o == NULL || o->kind != HAZ_OUTCOME_COMPLETED ||
                o->state != HAZ_STATE_SUCCEEDED || o->hash_len == 0)
                rc = haz__error(e->ctx, HAZ_ENOENT, "%s: its dependency %s "
                                "did not succeed, so its output is unknown",
                                t->info.id, id);
            else {
                memcpy(kp[k].stdout_hash, o->stdout_hash, h->digest_len);
                memcpy(kp[k].stderr_hash, o->stderr_hash, h->digest_len);
            }
        } else if (st[d] != HAZ_PROBE_HIT) {
            rc = haz__error(e->ctx, HAZ_ENOENT, "%s: its dependency %s is "
                            "not in the cache (%s), so its output is unknown",
                            t->info.id, id, haz_probe_name(st[d]));
        } else {
            memcpy(kp[k].stdout_hash, hh[d].out, h->digest_len);
            memcpy(kp[k].stderr_hash, hh[d].err, h->digest_len);
        }
    }
    haz__free(e->ctx, st);
    haz__free(e->ctx, hh);
    if (rc == HAZ_OK)
        qsort(kp, nd, sizeof(*kp), cmp_pred);
    return rc;
}

int haz_run_explain(haz_ctx *ctx, const haz_run_config *cfg,
                    const haz_run_result *result, size_t index,
                    haz_key_explain **out)
{
    haz_run_options def;
    const haz_run_options *opt;
    const haz_hash_methods *h;
    const haz__gtask *all, *t;
    haz_key_explain *e;
    haz__input_set set;
    haz__key_envitem *items = NULL;
    haz__key_input *ki = NULL;
    haz__pred_hashes *ph = NULL;
    haz__filestat *rec = NULL;
    haz__key_action act;
    haz__key_env env;
    size_t n_all, i, n_items = 0;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (ctx == NULL)
        return HAZ_EINVAL;
    if (cfg == NULL || out == NULL || cfg->graph == NULL)
        return haz__error(ctx, HAZ_EINVAL, "haz_run_explain: NULL argument");
    all = haz__graph_tasks(cfg->graph, &n_all);
    if (all == NULL || index >= n_all)
        return haz__error(ctx, HAZ_EINVAL, "haz_run_explain: %s",
                          all == NULL ? "the graph has not been validated"
                                      : "no such task");
    haz_run_options_init(&def);
    opt = cfg->options != NULL ? cfg->options : &def;
    if (opt->workspace_root == NULL || opt->workspace_root[0] != '/')
        return haz__error(ctx, HAZ_EINVAL, "haz_run_explain: the workspace "
                          "root must be an absolute path");
    h = cfg->hash != NULL ? cfg->hash : &haz_hash_sha256;
    t = &all[index];
    e = haz__calloc(ctx, 1, sizeof(*e));
    if (e == NULL)
        return HAZ_ENOMEM;
    e->ctx = ctx;
    e->info.hash_len = h->digest_len;
    e->info.action = t->info.action;
    e->info.argc = t->info.argc;
    haz__input_set_init(&set, ctx);
    rc = (e->info.task = own(e, t->info.id)) != NULL ? HAZ_OK : HAZ_ENOMEM;
    if (rc == HAZ_OK && t->info.script != NULL &&
        (e->info.script = own(e, t->info.script)) == NULL)
        rc = HAZ_ENOMEM;
    if (rc == HAZ_OK && t->info.argc > 0) {
        const char **v = haz__calloc(ctx, t->info.argc + 1, sizeof(*v));

        e->info.argv = v;
        for (i = 0; v != NULL && i < t->info.argc; i++)
            if ((v[i] = own(e, t->info.argv[i])) == NULL)
                v = NULL;
        if (v == NULL)
            rc = HAZ_ENOMEM;
    }
    if (rc == HAZ_OK)
        rc = explain_preds(e, cfg, result, t, all, n_all, h);
    if (rc == HAZ_OK)
        rc = record_open(ctx, opt, h, &rec);
    if (rc == HAZ_OK)
        rc = haz__task_inputs(ctx, h, opt->workspace_root, t, rec, &set);
    haz__filestat_close(rec);
    env.allow = t->info.env_from_host;
    env.n_allow = t->info.n_env_from_host;
    env.host = opt->host_env;
    env.overrides = t->info.env;
    env.n_overrides = t->info.n_env;
    if (rc == HAZ_OK)
        rc = haz__key_env_resolve(ctx, &env, &items, &n_items);
    if (rc == HAZ_OK && n_items > 0) {
        haz_key_env *ke = haz__calloc(ctx, n_items, sizeof(*ke));

        e->info.env = ke;
        e->info.n_env = n_items;
        for (i = 0; ke != NULL && i < n_items; i++)
            if ((ke[i].name = own(e, items[i].name)) == NULL ||
                (items[i].value != NULL &&
                 (ke[i].value = own(e, items[i].value)) == NULL))
                ke = NULL;
        if (ke == NULL)
            rc = HAZ_ENOMEM;
    }
    if (rc == HAZ_OK && set.n > 0) {
        haz_key_file *kf = haz__calloc(ctx, set.n, sizeof(*kf));

        ki = haz__calloc(ctx, set.n, sizeof(*ki));
        e->info.inputs = kf;
        e->info.n_inputs = set.n;
        for (i = 0; kf != NULL && ki != NULL && i < set.n; i++) {
            if ((kf[i].path = own(e, set.v[i].path)) == NULL) {
                kf = NULL;
                break;
            }
            memcpy(kf[i].hash, set.v[i].hash, h->digest_len);
            ki[i].path = kf[i].path;
            memcpy(ki[i].hash, set.v[i].hash, h->digest_len);
        }
        if (kf == NULL || ki == NULL)
            rc = HAZ_ENOMEM;
    }
    if (rc == HAZ_OK && e->info.n_preds > 0) {
        ph = haz__calloc(ctx, e->info.n_preds, sizeof(*ph));
        for (i = 0; ph != NULL && i < e->info.n_preds; i++) {
            ph[i].id = e->info.preds[i].id;
            memcpy(ph[i].stdout_hash, e->info.preds[i].stdout_hash,
                   h->digest_len);
            memcpy(ph[i].stderr_hash, e->info.preds[i].stderr_hash,
                   h->digest_len);
        }
        if (ph == NULL)
            rc = HAZ_ENOMEM;
    }
    if (rc == HAZ_OK) {
        act.kind = t->info.action;
        act.argv = t->info.argv;
        act.argc = t->info.argc;
        act.script = t->info.script;
        rc = haz__cachekey_build(ctx, h, &act, &env, ki, set.n, ph,
                                 e->info.n_preds, NULL, e->info.key);
    }
    haz__free(ctx, items);
    haz__free(ctx, ki);
    haz__free(ctx, ph);
    haz__input_set_free(&set);
    if (rc != HAZ_OK) {
        haz_key_explain_free(e);
        return rc == HAZ_ENOMEM ? haz__error(ctx, rc, "out of memory") : rc;
    }
    *out = e;
    return HAZ_OK;
}
