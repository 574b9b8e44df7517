/*
 * lib/clock.c: opening, closing and calling clock backends (clock.h).
 *
 * The core allocates the backend's state (methods->state_size bytes,
 * zeroed, beginning with a struct haz_clock) through the context's
 * allocator, sets its context and calls the backend's open, the way
 * SQLite's sqlite3OsOpen fills an sqlite3_file.  A backend whose open fails
 * keeps nothing.
 */
#include "internal.h"

int haz_clock_open(haz_ctx *ctx, const haz_clock_methods *methods,
                   const void *config, haz_clock **out)
{
    haz_clock *clk;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (ctx == NULL)
        return HAZ_EINVAL;
    if (out == NULL || methods == NULL)
        return haz__error(ctx, HAZ_EINVAL, "haz_clock_open: NULL argument");
    if (methods->version < 1 || methods->state_size < sizeof(haz_clock) ||
        methods->open == NULL || methods->now_ns == NULL ||
        methods->wall_seconds == NULL)
        return haz__error(ctx, HAZ_EINVAL,
                          "clock backend '%s': bad methods table",
                          methods->name ? methods->name : "?");

    clk = haz__calloc(ctx, 1, methods->state_size);
    if (clk == NULL)
        return HAZ_ENOMEM;
    clk->ctx = ctx;
    rc = methods->open(clk, config);
    if (rc != HAZ_OK) {
        /* open must leave methods NULL on failure; if it did not, let it
         * release what it took, as SQLite does for a failed xOpen. */
        if (clk->methods != NULL && clk->methods->close != NULL)
            clk->methods->close(clk);
        haz__free(ctx, clk);
        if (rc > 0)
            rc = HAZ_EINTERNAL;
        return haz__error(ctx, rc, "clock backend '%s': open failed: %s",
                          methods->name ? methods->name : "?",
                          haz_strerror(rc));
    }
    if (clk->methods == NULL)
        clk->methods = methods;
    *out = clk;
    return HAZ_OK;
}

void haz_clock_close(haz_clock *clk)
{
    if (clk == NULL)
        return;
    if (clk->methods != NULL && clk->methods->close != NULL)
        clk->methods->close(clk);
    haz__free(clk->ctx, clk);
}

uint64_t haz_clock_now_ns(haz_clock *clk)
{
    if (clk == NULL || clk->methods == NULL)
        return 0;
    return clk->methods->now_ns(clk);
}

int64_t haz_clock_wall_seconds(haz_clock *clk)
{
    if (clk == NULL || clk->methods == NULL)
        return 0;
    return clk->methods->wall_seconds(clk);
}
