/*
 * lib/cachestore.c: opening and closing cache stores (cache.h), the
 * backend-neutral half of the cache-store seam.
 *
 * As for clocks, the core allocates methods->state_size zeroed bytes
 * (beginning with a struct haz_cache_store) through the context's
 * allocator and calls the backend's open; struct haz_cache_store carries
 * the context, so no hidden header is needed.  A backend whose open fails
 * keeps nothing.
 */
#include "internal.h"

int haz_cache_store_open(haz_ctx *ctx, const haz_cache_store_methods *methods,
                         const haz_cache_store_config *cfg,
                         haz_cache_store **out)
{
    haz_cache_store *cs;
    const char *name;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (ctx == NULL)
        return HAZ_EINVAL;
    if (out == NULL || methods == NULL || cfg == NULL)
        return haz__error(ctx, HAZ_EINVAL,
                          "haz_cache_store_open: NULL argument");
    name = methods->name ? methods->name : "?";
    if (methods->version < 1 || methods->state_size < sizeof(*cs) ||
        methods->open == NULL || methods->lookup == NULL ||
        methods->restore == NULL || methods->store == NULL ||
        methods->entry_free == NULL)
        return haz__error(ctx, HAZ_EINVAL,
                          "cache store '%s': bad methods table", name);
    if (cfg->version < 1 || cfg->workspace_root == NULL ||
        cfg->workspace_root[0] != '/' ||
        (cfg->cache_dir != NULL && cfg->cache_dir[0] != '/') ||
        cfg->hash == NULL || cfg->hash->digest_len == 0 ||
        cfg->hash->digest_len > HAZ_HASH_MAX_DIGEST)
        return haz__error(ctx, HAZ_EINVAL,
                          "cache store '%s': bad configuration (absolute "
                          "workspace root and a hash are required)", name);
    cs = haz__calloc(ctx, 1, methods->state_size);
    if (cs == NULL)
        return HAZ_ENOMEM;
    cs->ctx = ctx;
    rc = methods->open(cs, cfg);
    if (rc != HAZ_OK) {
        if (cs->methods != NULL && cs->methods->close != NULL)
            cs->methods->close(cs);
        haz__free(ctx, cs);
        if (rc > 0)
            rc = HAZ_EINTERNAL;
        if (haz_ctx_errcode(ctx) != rc)
            haz__error(ctx, rc, "cache store '%s': open failed: %s", name,
                       haz_strerror(rc));
        return rc;
    }
    if (cs->methods == NULL)
        cs->methods = methods;
    *out = cs;
    return HAZ_OK;
}

void haz_cache_store_close(haz_cache_store *cs)
{
    if (cs == NULL)
        return;
    if (cs->methods != NULL && cs->methods->close != NULL)
        cs->methods->close(cs);
    haz__free(cs->ctx, cs);
}
