/*
 * lib/probe.c: haz_run_probe, the dry run behind `hazrun -n`: for every
 * selected task, would a run restore it from the cache?  Tasks are visited
 * in an order where hard predecessors come first (Kahn's algorithm over
 * hard edges, canonical order among the ready ones); a task's key is
 * derived exactly as the scheduler derives it (lib/cachekey.c), with its
 * hard predecessors' stream hashes taken from their entries' manifests.
 * Nothing is restored, stored or run, and no input-hash record is written.
 */
#include "internal.h"
#include "cachekey.h"
#include "graph_private.h"

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
                             p->preds, t->info.n_deps, NULL, NULL, key);
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

int haz_run_probe(haz_ctx *ctx, const haz_run_config *cfg, haz_probe *out)
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
    p.hh = haz__calloc(ctx, p.n, sizeof(*p.hh));
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
    haz__free(ctx, p.hh);
    haz__free(ctx, p.preds);
    haz__free(ctx, pend);
    haz__free(ctx, queue);
    if (rc == HAZ_ENOMEM)
        return haz__error(ctx, rc, "haz_run_probe: out of memory");
    return rc;
}
