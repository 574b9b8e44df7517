/*
 * fuzz/fuzz_util.c: the helpers of fuzz/fuzz.h shared by the fuzz targets:
 * the counting allocator, the failure report, and checks on diagnostics
 * lists.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *haz_fuzz_input_name = NULL;

void haz_fuzz_fail(const char *file, int line, const char *cond)
{
    if (haz_fuzz_input_name != NULL)
        fprintf(stderr, "%s:%d: fuzz invariant broken: %s (input %s)\n",
                file, line, cond, haz_fuzz_input_name);
    else
        fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line,
                cond);
    fflush(stderr);
    abort();
}

static void *fm_malloc(size_t size, void *ud)
{
    haz_fuzz_mem *fm = ud;
    void *p = malloc(size ? size : 1);

    if (p != NULL)
        fm->live++;
    return p;
}

static void fm_free(void *ptr, void *ud)
{
    haz_fuzz_mem *fm = ud;

    if (ptr == NULL)
        return;
    fm->live--;
    free(ptr);
}

static void *fm_calloc(size_t nmemb, size_t size, void *ud)
{
    haz_fuzz_mem *fm = ud;
    void *p = (nmemb == 0 || size == 0) ? calloc(1, 1) : calloc(nmemb, size);

    if (p != NULL)
        fm->live++;
    return p;
}

static void *fm_realloc(void *ptr, size_t size, void *ud)
{
    haz_fuzz_mem *fm = ud;
    void *p = realloc(ptr, size ? size : 1);

    if (p != NULL && ptr == NULL)
        fm->live++;
    return p;
}

void haz_fuzz_mem_init(haz_fuzz_mem *fm)
{
    memset(fm, 0, sizeof(*fm));
    fm->mem.ud = fm;
    fm->mem.malloc_fn = fm_malloc;
    fm->mem.free_fn = fm_free;
    fm->mem.calloc_fn = fm_calloc;
    fm->mem.realloc_fn = fm_realloc;
}

haz_ctx *haz_fuzz_ctx(haz_fuzz_mem *fm)
{
    haz_ctx *ctx = NULL;

    haz_fuzz_mem_init(fm);
    HAZ_FUZZ_CHECK(haz_ctx_new(&ctx, &fm->mem) == HAZ_OK);
    return ctx;
}

void haz_fuzz_ctx_done(haz_ctx *ctx, haz_fuzz_mem *fm)
{
    haz_ctx_free(ctx);
    HAZ_FUZZ_CHECK(fm->live == 0);
}

void haz_fuzz_diags_ok(const haz_diags *d, const char *file, int ordered)
{
    size_t i, n = haz_diags_count(d), flen = file ? strlen(file) : 0;
    unsigned long last = 0;

    for (i = 0; i < n; i++) {
        const haz_diag *e = haz_diags_get(d, i);
        size_t tl, ml;

        HAZ_FUZZ_CHECK(e != NULL);
        HAZ_FUZZ_CHECK(e->message != NULL && e->message[0] != '\0');
        HAZ_FUZZ_CHECK(e->text != NULL);
        tl = strlen(e->text);
        ml = strlen(e->message);
        HAZ_FUZZ_CHECK(tl >= ml &&
                       strcmp(e->text + tl - ml, e->message) == 0);
        if (file != NULL && e->line > 0) {
            HAZ_FUZZ_CHECK(e->file != NULL && strcmp(e->file, file) == 0);
            HAZ_FUZZ_CHECK(strncmp(e->text, file, flen) == 0 &&
                           e->text[flen] == ':');
            HAZ_FUZZ_CHECK(!ordered || e->line >= last);
            last = e->line;
        }
    }
    HAZ_FUZZ_CHECK(haz_diags_get(d, n) == NULL);
}

int haz_fuzz_diags_equal(const haz_diags *a, const haz_diags *b)
{
    size_t i, n = haz_diags_count(a);

    if (haz_diags_count(b) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (strcmp(haz_diags_get(a, i)->text, haz_diags_get(b, i)->text) != 0)
            return 0;
    return 1;
}
