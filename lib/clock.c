/*
 * lib/clock.c: opening, closing and calling clock backends (clock.h).
 *
 * The core allocates the backend's state (methods->state_size bytes,
 * zeroed, beginning with a struct haz_clock) through the context's
 * allocator and calls the backend's open, the way SQLite's sqlite3OsOpen
 * fills an sqlite3_file.  A backend whose open fails keeps nothing.
 *
 * struct haz_clock has no room for the context, which haz_clock_close needs
 * to free the state, so the core puts a small hidden header in front of the
 * state: one allocation holds [clock_hdr][backend state], and the caller
 * sees a pointer to the backend state.  The header is padded to the
 * strictest alignment of the basic types, so the state stays as aligned as
 * the allocator's block.
 */
#include "internal.h"

typedef union clock_hdr {
    haz_ctx *ctx;
    /* Alignment padding only. */
    long double ld;
    uint64_t u64;
    void *p;
    void (*fn)(void);
} clock_hdr;

static clock_hdr *hdr_of(haz_clock *clk)
{
    return (clock_hdr *)(void *)((unsigned char *)clk - sizeof(clock_hdr));
}

int haz_clock_open(haz_ctx *ctx, const haz_clock_methods *methods,
                   const void *config, haz_clock **out)
{
    clock_hdr *hdr;
    haz_clock *clk;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (ctx == NULL)
        return HAZ_EINVAL;
    if (out == NULL || methods == NULL)
        return haz__error(ctx, HAZ_EINVAL, "haz_clock_open: NULL argument");
    if (methods->version < 1 || methods->state_size < sizeof(haz_clock) ||
        methods->state_size > SIZE_MAX - sizeof(clock_hdr) ||
        methods->open == NULL || methods->now_ns == NULL ||
        methods->wall_seconds == NULL)
        return haz__error(ctx, HAZ_EINVAL, "clock backend '%s': bad methods table",
                          methods->name ? methods->name : "?");

    hdr = haz__calloc(ctx, 1, sizeof(clock_hdr) + methods->state_size);
    if (hdr == NULL)
        return HAZ_ENOMEM;
    hdr->ctx = ctx;
    clk = (haz_clock *)(void *)((unsigned char *)hdr + sizeof(clock_hdr));
    rc = methods->open(clk, config);
    if (rc != HAZ_OK) {
        /* open must leave methods NULL on failure; if it did not, let it
         * release what it took, as SQLite does for a failed xOpen. */
        if (clk->methods != NULL && clk->methods->close != NULL)
            clk->methods->close(clk);
        haz__free(ctx, hdr);
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
    clock_hdr *hdr;

    if (clk == NULL)
        return;
    hdr = hdr_of(clk);
    if (clk->methods != NULL && clk->methods->close != NULL)
        clk->methods->close(clk);
    haz__free(hdr->ctx, hdr);
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
