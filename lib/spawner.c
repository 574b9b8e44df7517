/*
 * lib/spawner.c: opening and closing spawner backends (spawner.h).
 *
 * The core allocates the backend's state (methods->state_size bytes, zeroed,
 * beginning with a struct haz_spawner) through the context's allocator,
 * sets its context and calls the backend's open, the way SQLite's
 * sqlite3OsOpen fills an sqlite3_file.  A backend whose open fails keeps
 * nothing: its state is freed (after close, should open have set methods
 * despite failing), and the error open recorded stays in the context.
 */
#include "internal.h"

int haz_spawner_open(haz_ctx *ctx, const haz_spawner_methods *methods,
                     const haz_spawner_config *cfg, haz_spawner **out)
{
    haz_spawner *sp;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (ctx == NULL)
        return HAZ_EINVAL;
    if (out == NULL || methods == NULL || cfg == NULL)
        return haz__error(ctx, HAZ_EINVAL, "haz_spawner_open: NULL argument");
    if (methods->version < 1 ||
        methods->state_size < sizeof(haz_spawner) || methods->open == NULL ||
        methods->close == NULL || methods->spawn == NULL ||
        methods->signal == NULL || methods->wait == NULL ||
        methods->max_children == NULL)
        return haz__error(ctx, HAZ_EINVAL,
                          "spawner backend '%s': bad methods table",
                          methods->name ? methods->name : "?");
    if (cfg->version < 1)
        return haz__error(ctx, HAZ_EINVAL,
                          "spawner config version %d not supported",
                          cfg->version);

    sp = haz__calloc(ctx, 1, methods->state_size);
    if (sp == NULL)
        return HAZ_ENOMEM;
    sp->ctx = ctx;
    rc = methods->open(sp, cfg);
    if (rc != HAZ_OK) {
        /* open must leave methods NULL on failure; if it did not, let it
         * release what it took, as SQLite does for a failed xOpen. */
        if (sp->methods != NULL)
            sp->methods->close(sp);
        haz__free(ctx, sp);
        if (rc > 0)
            return haz__error(ctx, HAZ_EINTERNAL,
                              "spawner backend '%s': open returned %d",
                              methods->name ? methods->name : "?", rc);
        return rc;
    }
    if (sp->methods == NULL)
        sp->methods = methods;
    *out = sp;
    return HAZ_OK;
}

void haz_spawner_close(haz_spawner *sp)
{
    if (sp == NULL)
        return;
    if (sp->methods != NULL)
        sp->methods->close(sp);
    haz__free(sp->ctx, sp);
}
