/*
 * tests/test_common.c: unit tests for the common layer: the context and its
 * error recording, error texts, allocator hooks (through the counting and
 * failing test allocator), diagnostics lists, the byte buffer,
 * haz__write_all, and the generated version header.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every code declared in common.h. */
static const int all_codes[] = {
    HAZ_OK, HAZ_ENOMEM, HAZ_EINVAL, HAZ_EEXIST, HAZ_ENOENT, HAZ_ESTATE,
    HAZ_EGRAPH, HAZ_EPARSE, HAZ_EIO, HAZ_ERANGE, HAZ_ENOTSUP, HAZ_ESPAWN,
    HAZ_ECANCELED, HAZ_ELIMIT, HAZ_ECORRUPT, HAZ_EFATAL, HAZ_EINTERNAL
};

/* A context on the counting allocator. */
static haz_ctx *new_ctx(haz_test_mem *tm)
{
    haz_ctx *ctx = NULL;

    haz_test_mem_init(tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm->mem), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    return ctx;
}

/* ------------------------------------------------------------------------
 * ctx
 * ---------------------------------------------------------------------- */

static void test_ctx_new_default(void)
{
    haz_ctx *ctx = NULL;
    const haz_mem *m, *def = haz_mem_default();

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx), "");
    CU_ASSERT_EQUAL(haz_ctx_errno(ctx), 0);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), 0);

    m = haz_ctx_mem(ctx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_PTR_NOT_EQUAL(m, def);          /* a copy, not the table */
    CU_ASSERT(m->malloc_fn == def->malloc_fn);
    CU_ASSERT(m->free_fn == def->free_fn);
    CU_ASSERT(m->calloc_fn == def->calloc_fn);
    CU_ASSERT(m->realloc_fn == def->realloc_fn);
    CU_ASSERT_PTR_EQUAL(m->ud, def->ud);
    haz_ctx_free(ctx);
}

static void test_ctx_new_custom(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    const haz_mem *m = haz_ctx_mem(ctx);

    CU_ASSERT_EQUAL(tm.live, 1);              /* the context itself */
    CU_ASSERT_EQUAL(tm.calls, 1);
    CU_ASSERT_PTR_NOT_EQUAL(m, &tm.mem);      /* the table was copied */
    CU_ASSERT_PTR_EQUAL(m->ud, &tm);
    CU_ASSERT(m->malloc_fn == tm.mem.malloc_fn);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_ctx_new_invalid(void)
{
    haz_mem bad;
    haz_ctx *ctx;
    int i;

    CU_ASSERT_EQUAL(haz_ctx_new(NULL, NULL), HAZ_EINVAL);
    for (i = 0; i < 4; i++) {
        bad = *haz_mem_default();
        if (i == 0) bad.malloc_fn = NULL;
        if (i == 1) bad.free_fn = NULL;
        if (i == 2) bad.calloc_fn = NULL;
        if (i == 3) bad.realloc_fn = NULL;
        ctx = (haz_ctx *)&bad;                /* any non-NULL value */
        CU_ASSERT_EQUAL(haz_ctx_new(&ctx, &bad), HAZ_EINVAL);
        CU_ASSERT_PTR_NULL(ctx);
    }
}

static void test_ctx_new_nomem(void)
{
    haz_test_mem tm;
    haz_ctx *ctx;

    haz_test_mem_init(&tm);
    haz_test_mem_fail_at(&tm, 1, 0);
    ctx = (haz_ctx *)&tm;
    CU_ASSERT_EQUAL(haz_ctx_new(&ctx, &tm.mem), HAZ_ENOMEM);
    CU_ASSERT_PTR_NULL(ctx);
    CU_ASSERT_EQUAL(tm.failures, 1);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_ctx_null(void)
{
    haz_ctx_free(NULL);
    CU_ASSERT_PTR_NULL(haz_ctx_mem(NULL));
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(NULL), "");
    CU_ASSERT_EQUAL(haz_ctx_errno(NULL), 0);
    CU_ASSERT_EQUAL(haz_ctx_errcode(NULL), 0);
    CU_ASSERT_EQUAL(haz__error(NULL, HAZ_EINVAL, "x"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz__error_os(NULL, HAZ_EIO, EBADF, "x"), HAZ_EIO);
    haz__error_clear(NULL);
}

static void test_error_record(void)
{
    haz_ctx *ctx = NULL;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    errno = EBADF;
    CU_ASSERT_EQUAL(haz__error(ctx, HAZ_EINVAL, "bad name '%s' (%d)", "a b",
                               7), HAZ_EINVAL);
    CU_ASSERT_EQUAL(errno, EBADF);            /* errno is preserved */
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_ctx_errno(ctx), 0);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx), "bad name 'a b' (7)");

    /* a later error replaces the earlier one, OS errno included */
    CU_ASSERT_EQUAL(haz__error_os(ctx, HAZ_EIO, EACCES, "cannot open %s",
                                  "x.txt"), HAZ_EIO);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_EIO);
    CU_ASSERT_EQUAL(haz_ctx_errno(ctx), EACCES);
    CU_ASSERT_EQUAL(errno, EBADF);
    {
        char want[256];
        snprintf(want, sizeof want, "cannot open x.txt: %s", strerror(EACCES));
        CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx), want);
    }

    CU_ASSERT_EQUAL(haz__error(ctx, HAZ_ENOENT, "gone"), HAZ_ENOENT);
    CU_ASSERT_EQUAL(haz_ctx_errno(ctx), 0);

    /* an OS error of 0 adds no suffix */
    CU_ASSERT_EQUAL(haz__error_os(ctx, HAZ_ESPAWN, 0, "spawn"), HAZ_ESPAWN);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx), "spawn");
    CU_ASSERT_EQUAL(haz_ctx_errno(ctx), 0);

    haz__error_clear(ctx);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), 0);
    CU_ASSERT_EQUAL(haz_ctx_errno(ctx), 0);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx), "");
    haz_ctx_free(ctx);
}

static void test_error_truncation(void)
{
    haz_ctx *ctx = NULL;
    char big[3000];
    const char *msg;
    size_t i;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CU_ASSERT_EQUAL(haz__error(ctx, HAZ_EPARSE, "%s", big), HAZ_EPARSE);
    msg = haz_ctx_errmsg(ctx);
    CU_ASSERT_EQUAL(strlen(msg), sizeof ctx->errmsg - 1);
    for (i = 0; msg[i] != '\0'; i++)
        if (msg[i] != 'a')
            break;
    CU_ASSERT_EQUAL(msg[i], '\0');

    /* the strerror suffix is cut too, never overflowing */
    CU_ASSERT_EQUAL(haz__error_os(ctx, HAZ_EIO, ENOENT, "%s", big), HAZ_EIO);
    CU_ASSERT_EQUAL(strlen(haz_ctx_errmsg(ctx)), sizeof ctx->errmsg - 1);
    haz_ctx_free(ctx);
}

static void test_error_self_reference(void)
{
    haz_ctx *ctx = NULL;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    haz__error(ctx, HAZ_ENOENT, "no such task 'a:b'");
    haz__error(ctx, HAZ_EGRAPH, "while loading x: %s", haz_ctx_errmsg(ctx));
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx),
                           "while loading x: no such task 'a:b'");
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_EGRAPH);
    haz_ctx_free(ctx);
}

/* ------------------------------------------------------------------------
 * strerror
 * ---------------------------------------------------------------------- */

static void test_strerror_known(void)
{
    size_t i, j;

    for (i = 0; i < HAZ_ARRAY_LEN(all_codes); i++) {
        const char *s = haz_strerror(all_codes[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT(s[0] != '\0');
        CU_ASSERT_STRING_NOT_EQUAL(s, "unknown error");
        for (j = 0; j < i; j++)
            CU_ASSERT_STRING_NOT_EQUAL(s, haz_strerror(all_codes[j]));
    }
    CU_ASSERT_STRING_EQUAL(haz_strerror(HAZ_OK), "success");
    CU_ASSERT_STRING_EQUAL(haz_strerror(HAZ_ENOMEM), "out of memory");
}

static void test_strerror_unknown(void)
{
    static const int unknown[] = { 1, 77, -15, -99, -102, INT_MIN, INT_MAX };
    size_t i;

    for (i = 0; i < HAZ_ARRAY_LEN(unknown); i++)
        CU_ASSERT_STRING_EQUAL(haz_strerror(unknown[i]), "unknown error");
}

/* ------------------------------------------------------------------------
 * mem
 * ---------------------------------------------------------------------- */

static void test_mem_default_hooks(void)
{
    const haz_mem *m = haz_mem_default();
    unsigned char *p;
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_PTR_EQUAL(m, haz_mem_default());
    CU_ASSERT_PTR_NOT_NULL_FATAL(m->malloc_fn);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m->free_fn);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m->calloc_fn);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m->realloc_fn);

    /* size 0 is treated as 1: never NULL for lack of a size */
    p = m->malloc_fn(0, m->ud);
    CU_ASSERT_PTR_NOT_NULL(p);
    m->free_fn(p, m->ud);
    p = m->calloc_fn(0, 0, m->ud);
    CU_ASSERT_PTR_NOT_NULL(p);
    m->free_fn(p, m->ud);
    p = m->realloc_fn(NULL, 0, m->ud);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    p = m->realloc_fn(p, 0, m->ud);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    m->free_fn(p, m->ud);

    p = m->calloc_fn(10, 10, m->ud);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    for (i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(p[i], 0);
    m->free_fn(p, m->ud);
    m->free_fn(NULL, m->ud);
}

static void test_mem_hooks_used(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    unsigned char *a, *b, *c;
    char *s, *t;
    size_t i;

    tm.calls = 0;
    a = haz__malloc(ctx, 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(tm.calls, 1);
    CU_ASSERT_EQUAL(tm.live, 2);

    b = haz__calloc(ctx, 4, 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    for (i = 0; i < 32; i++)
        CU_ASSERT_EQUAL(b[i], 0);
    CU_ASSERT_EQUAL(tm.calls, 2);
    CU_ASSERT_EQUAL(tm.live, 3);

    memcpy(a, "0123456789abcdef", 16);
    a = haz__realloc(ctx, a, 4096);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(memcmp(a, "0123456789abcdef", 16), 0);
    CU_ASSERT_EQUAL(tm.calls, 3);
    CU_ASSERT_EQUAL(tm.live, 3);

    c = haz__reallocarray(ctx, NULL, 10, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(tm.live, 4);

    s = haz__strdup(ctx, "hello");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "hello");
    t = haz__strndup(ctx, "hello", 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(t, "hel");
    haz__free(ctx, t);
    t = haz__strndup(ctx, "hi", 100);         /* n beyond the string */
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(t, "hi");
    haz__free(ctx, t);
    t = haz__strndup(ctx, "abc", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(t, "");
    haz__free(ctx, t);
    CU_ASSERT_EQUAL(tm.live, 5);

    haz__free(ctx, NULL);
    haz__free(ctx, a);
    haz__free(ctx, b);
    haz__free(ctx, c);
    haz__free(ctx, s);
    CU_ASSERT_EQUAL(tm.live, 1);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), 0);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_mem_zero_size(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    void *p, *q;

    p = haz__malloc(ctx, 0);
    CU_ASSERT_PTR_NOT_NULL(p);
    q = haz__calloc(ctx, 0, 8);
    CU_ASSERT_PTR_NOT_NULL(q);
    p = haz__realloc(ctx, p, 0);
    CU_ASSERT_PTR_NOT_NULL(p);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), 0);
    haz__free(ctx, p);
    haz__free(ctx, q);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_mem_failure(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    char *a, *p;

    a = haz__strdup(ctx, "keep me");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);

    haz_test_mem_fail_at(&tm, 1, 0);
    CU_ASSERT_PTR_NULL(haz__malloc(ctx, 10));
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);
    CU_ASSERT_EQUAL(haz_ctx_errno(ctx), 0);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx), "out of memory (10 bytes)");
    CU_ASSERT_EQUAL(tm.failures, 1);

    haz__error_clear(ctx);
    haz_test_mem_fail_at(&tm, 1, 0);
    CU_ASSERT_PTR_NULL(haz__calloc(ctx, 3, 5));
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx),
                           "out of memory (3 x 5 bytes)");

    /* a failed realloc leaves the block as it was */
    haz__error_clear(ctx);
    haz_test_mem_fail_at(&tm, 1, 0);
    p = haz__realloc(ctx, a, 1000);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);
    CU_ASSERT_STRING_EQUAL(a, "keep me");

    haz__error_clear(ctx);
    haz_test_mem_fail_at(&tm, 1, 0);
    CU_ASSERT_PTR_NULL(haz__strdup(ctx, "x"));
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);
    haz__error_clear(ctx);
    haz_test_mem_fail_at(&tm, 1, 0);
    CU_ASSERT_PTR_NULL(haz__strndup(ctx, "xyz", 2));
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);

    /* only the chosen call fails, unless persistent */
    haz_test_mem_fail_at(&tm, 2, 0);
    p = haz__malloc(ctx, 1);
    CU_ASSERT_PTR_NOT_NULL(p);
    haz__free(ctx, p);
    CU_ASSERT_PTR_NULL(haz__malloc(ctx, 1));
    p = haz__malloc(ctx, 1);
    CU_ASSERT_PTR_NOT_NULL(p);
    haz__free(ctx, p);
    CU_ASSERT_EQUAL(tm.failures, 1);
    haz_test_mem_fail_at(&tm, 2, 1);
    p = haz__malloc(ctx, 1);
    CU_ASSERT_PTR_NOT_NULL(p);
    haz__free(ctx, p);
    CU_ASSERT_PTR_NULL(haz__malloc(ctx, 1));
    CU_ASSERT_PTR_NULL(haz__malloc(ctx, 1));
    CU_ASSERT_EQUAL(tm.failures, 2);
    CU_ASSERT_EQUAL(tm.calls, 3);
    haz_test_mem_fail_at(&tm, 0, 0);

    haz__free(ctx, a);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_mem_overflow(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    char *a;

    a = haz__strdup(ctx, "intact");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    tm.calls = 0;

    CU_ASSERT_PTR_NULL(haz__calloc(ctx, SIZE_MAX / 2, 3));
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);
    haz__error_clear(ctx);
    CU_ASSERT_PTR_NULL(haz__reallocarray(ctx, a, SIZE_MAX / 8 + 1, 8));
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);
    CU_ASSERT_EQUAL(tm.calls, 0);             /* refused before the hook */
    CU_ASSERT_STRING_EQUAL(a, "intact");

    haz__free(ctx, a);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* ------------------------------------------------------------------------
 * diags
 * ---------------------------------------------------------------------- */

static void test_diags_new_free(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_diags *d = NULL;

    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(haz_diags_count(d), 0);
    CU_ASSERT_PTR_NULL(haz_diags_get(d, 0));
    CU_ASSERT_PTR_EQUAL(haz__diags_ctx(d), ctx);
    haz_diags_free(d);

    CU_ASSERT_EQUAL(haz_diags_new(ctx, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_EINVAL);
    d = (haz_diags *)&tm;
    CU_ASSERT_EQUAL(haz_diags_new(NULL, &d), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(d);

    haz_test_mem_fail_at(&tm, 1, 0);
    d = (haz_diags *)&tm;
    CU_ASSERT_EQUAL(haz_diags_new(ctx, &d), HAZ_ENOMEM);
    CU_ASSERT_PTR_NULL(d);

    haz_diags_free(NULL);
    haz_diags_clear(NULL);
    CU_ASSERT_EQUAL(haz_diags_count(NULL), 0);
    CU_ASSERT_PTR_NULL(haz_diags_get(NULL, 0));
    CU_ASSERT_PTR_NULL(haz__diags_ctx(NULL));
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_diags_shapes(void)
{
    haz_ctx *ctx = NULL;
    haz_diags *d = NULL;
    const haz_diag *e;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);

    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_SYNTAX, "ws/hazfile", 12,
                                  NULL, NULL, "expected '%c'", '='), HAZ_OK);
    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_CYCLE, NULL, 0, "core", "build",
                                  "cycle through %s", "core:gen"), HAZ_OK);
    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_UNKNOWN_TARGET, NULL, 0, NULL,
                                  NULL, "no task named '%s'", "x:y"), HAZ_OK);
    /* the less common shapes */
    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_BAD_VALUE, "f", 0, "p", "t",
                                  "file wins"), HAZ_OK);
    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_BAD_NAME, NULL, 0, "p", NULL,
                                  "project only"), HAZ_OK);
    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_BAD_NAME, NULL, 0, NULL, "t",
                                  "task only"), HAZ_OK);
    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_BAD_REF, NULL, 7, NULL, NULL,
                                  "%s", ""), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_diags_count(d), 7);

    e = haz_diags_get(d, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->kind, HAZ_DIAG_SYNTAX);
    CU_ASSERT_STRING_EQUAL(e->file, "ws/hazfile");
    CU_ASSERT_EQUAL(e->line, 12);
    CU_ASSERT_PTR_NULL(e->project);
    CU_ASSERT_PTR_NULL(e->task);
    CU_ASSERT_STRING_EQUAL(e->message, "expected '='");
    CU_ASSERT_STRING_EQUAL(e->text, "ws/hazfile:12: expected '='");

    e = haz_diags_get(d, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->kind, HAZ_DIAG_CYCLE);
    CU_ASSERT_PTR_NULL(e->file);
    CU_ASSERT_EQUAL(e->line, 0);
    CU_ASSERT_STRING_EQUAL(e->project, "core");
    CU_ASSERT_STRING_EQUAL(e->task, "build");
    CU_ASSERT_STRING_EQUAL(e->message, "cycle through core:gen");
    CU_ASSERT_STRING_EQUAL(e->text, "core:build: cycle through core:gen");

    e = haz_diags_get(d, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->kind, HAZ_DIAG_UNKNOWN_TARGET);
    CU_ASSERT_PTR_NULL(e->file);
    CU_ASSERT_PTR_NULL(e->project);
    CU_ASSERT_PTR_NULL(e->task);
    CU_ASSERT_STRING_EQUAL(e->message, "no task named 'x:y'");
    CU_ASSERT_STRING_EQUAL(e->text, "no task named 'x:y'");

    e = haz_diags_get(d, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(e->text, "f: file wins");
    CU_ASSERT_STRING_EQUAL(e->project, "p");
    CU_ASSERT_STRING_EQUAL(e->task, "t");
    e = haz_diags_get(d, 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(e->text, "p: project only");
    e = haz_diags_get(d, 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(e->text, "t: task only");
    e = haz_diags_get(d, 6);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->line, 7);
    CU_ASSERT_STRING_EQUAL(e->message, "");
    CU_ASSERT_STRING_EQUAL(e->text, "");

    CU_ASSERT_PTR_NULL(haz_diags_get(d, 7));
    CU_ASSERT_PTR_NULL(haz_diags_get(d, (size_t)-1));

    haz_diags_clear(d);
    CU_ASSERT_EQUAL(haz_diags_count(d), 0);
    CU_ASSERT_PTR_NULL(haz_diags_get(d, 0));
    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_SYNTAX, NULL, 0, NULL, NULL,
                                  "again"), HAZ_OK);
    CU_ASSERT_EQUAL(haz_diags_count(d), 1);
    CU_ASSERT_STRING_EQUAL(haz_diags_get(d, 0)->text, "again");

    CU_ASSERT_EQUAL(haz__diag_add(NULL, HAZ_DIAG_SYNTAX, NULL, 0, NULL, NULL,
                                  "x"), HAZ_EINVAL);
    haz_diags_free(d);
    haz_ctx_free(ctx);
}

static void test_diags_strings_copied(void)
{
    haz_ctx *ctx = NULL;
    haz_diags *d = NULL;
    char file[16] = "a.haz", proj[16] = "pp", task[16] = "tt";
    const haz_diag *e;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_DUPLICATE, file, 1, proj, task,
                                  "m"), HAZ_OK);
    strcpy(file, "XXXX");
    strcpy(proj, "YY");
    strcpy(task, "ZZ");
    e = haz_diags_get(d, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(e->file, "a.haz");
    CU_ASSERT_STRING_EQUAL(e->project, "pp");
    CU_ASSERT_STRING_EQUAL(e->task, "tt");
    CU_ASSERT_STRING_EQUAL(e->text, "a.haz:1: m");
    haz_diags_free(d);
    haz_ctx_free(ctx);
}

static void test_diags_stable_pointers(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_diags *d = NULL;
    const haz_diag *first;
    char want[32];
    int i;

    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz__diag_add(d, HAZ_DIAG_SYNTAX, NULL, 0, NULL,
                                        NULL, "entry %d", 0), HAZ_OK);
    first = haz_diags_get(d, 0);
    for (i = 1; i < 300; i++)
        CU_ASSERT_EQUAL_FATAL(haz__diag_add(d, HAZ_DIAG_SYNTAX, NULL, 0,
                                            NULL, NULL, "entry %d", i),
                              HAZ_OK);
    CU_ASSERT_EQUAL(haz_diags_count(d), 300);
    CU_ASSERT_PTR_EQUAL(haz_diags_get(d, 0), first);
    CU_ASSERT_STRING_EQUAL(first->text, "entry 0");
    for (i = 0; i < 300; i++) {
        snprintf(want, sizeof want, "entry %d", i);
        CU_ASSERT_STRING_EQUAL(haz_diags_get(d, (size_t)i)->text, want);
    }
    haz_diags_free(d);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_diags_write(void)
{
    haz_ctx *ctx = NULL;
    haz_diags *d = NULL;
    static const char want[] =
        "hazfile:3: unknown key 'rnu'\n"
        "core:build: depends on itself\n"
        "plain\n";
    char got[4096];
    int fds[2];
    long n;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_UNKNOWN_KEY, "hazfile", 3, NULL,
                                  NULL, "unknown key '%s'", "rnu"), HAZ_OK);
    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_SELF_REF, NULL, 0, "core",
                                  "build", "depends on itself"), HAZ_OK);
    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_BAD_ENV, NULL, 0, NULL, NULL,
                                  "plain"), HAZ_OK);

    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    CU_ASSERT_EQUAL(haz_diags_write(d, fds[1]), HAZ_OK);
    close(fds[1]);
    n = haz_test_read_fd(fds[0], got, sizeof got);
    close(fds[0]);
    CU_ASSERT_EQUAL_FATAL(n, (long)(sizeof want - 1));
    CU_ASSERT_EQUAL(memcmp(got, want, sizeof want - 1), 0);

    haz_diags_free(d);
    haz_ctx_free(ctx);
}

static void test_diags_write_long_and_empty(void)
{
    haz_ctx *ctx = NULL;
    haz_diags *d = NULL;
    char big[2000], got[4096];
    int fds[2];
    long n;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);

    /* an empty list and a NULL list write nothing */
    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    CU_ASSERT_EQUAL(haz_diags_write(d, fds[1]), HAZ_OK);
    CU_ASSERT_EQUAL(haz_diags_write(NULL, fds[1]), HAZ_OK);

    /* a line longer than the internal line buffer */
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_BAD_PATH, "f", 1, NULL, NULL,
                                  "%s", big), HAZ_OK);
    CU_ASSERT_EQUAL(haz_diags_write(d, fds[1]), HAZ_OK);
    close(fds[1]);
    n = haz_test_read_fd(fds[0], got, sizeof got);
    close(fds[0]);
    CU_ASSERT_EQUAL_FATAL(n, (long)(5 + (sizeof big - 1) + 1));
    CU_ASSERT_EQUAL(memcmp(got, "f:1: ", 5), 0);
    CU_ASSERT_EQUAL(memcmp(got + 5, big, sizeof big - 1), 0);
    CU_ASSERT_EQUAL(got[n - 1], '\n');

    haz_diags_free(d);
    haz_ctx_free(ctx);
}

static void test_diags_write_error(void)
{
    haz_ctx *ctx = NULL;
    haz_diags *d = NULL;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    CU_ASSERT_EQUAL(haz__diag_add(d, HAZ_DIAG_SYNTAX, NULL, 0, NULL, NULL,
                                  "x"), HAZ_OK);
    CU_ASSERT_EQUAL(haz_diags_write(d, -1), HAZ_EIO);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_EIO);
    CU_ASSERT_EQUAL(haz_ctx_errno(ctx), EBADF);
    CU_ASSERT_PTR_NOT_NULL(strstr(haz_ctx_errmsg(ctx), strerror(EBADF)));
    haz_diags_free(d);
    haz_ctx_free(ctx);
}

/* One scenario for the allocation-failure sweep: returns the first error. */
static int diags_scenario(haz_ctx *ctx)
{
    haz_diags *d = NULL;
    int i, rc;

    rc = haz_diags_new(ctx, &d);
    if (rc != HAZ_OK)
        return rc;
    for (i = 0; i < 20 && rc == HAZ_OK; i++)
        rc = haz__diag_add(d, HAZ_DIAG_SYNTAX, "hazfile", (unsigned long)i,
                           i % 2 ? "p" : NULL, "t", "problem %d", i);
    if (rc == HAZ_OK && haz_diags_count(d) != 20)
        rc = HAZ_EINTERNAL;
    if (rc != HAZ_OK && haz_diags_count(d) != (size_t)(i - 1))
        rc = HAZ_EINTERNAL;          /* a failed add must add nothing */
    haz_diags_free(d);
    return rc;
}

static void test_diags_nomem_sweep(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    unsigned long total, i;

    haz_test_mem_fail_at(&tm, 0, 0);
    CU_ASSERT_EQUAL_FATAL(diags_scenario(ctx), HAZ_OK);
    total = tm.calls;
    CU_ASSERT(total >= 21);          /* the list, its array and 20 entries */
    CU_ASSERT_EQUAL(tm.live, 1);

    for (i = 1; i <= total; i++) {
        int rc;
        haz__error_clear(ctx);
        haz_test_mem_fail_at(&tm, i, 1);
        rc = diags_scenario(ctx);
        CU_ASSERT_EQUAL(rc, HAZ_ENOMEM);
        CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);
        CU_ASSERT(tm.failures >= 1);
        CU_ASSERT_EQUAL(tm.live, 1);  /* only the context is left */
    }
    haz_test_mem_fail_at(&tm, 0, 0);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* ------------------------------------------------------------------------
 * buf
 * ---------------------------------------------------------------------- */

static void test_buf_basic(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_buf b;

    haz__buf_init(&b, ctx);
    CU_ASSERT_PTR_EQUAL(b.ctx, ctx);
    CU_ASSERT_PTR_NULL(b.data);
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_EQUAL(b.cap, 0);

    CU_ASSERT_EQUAL(haz__buf_append(&b, NULL, 0), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.data);
    CU_ASSERT_STRING_EQUAL(b.data, "");
    CU_ASSERT_EQUAL(b.len, 0);

    CU_ASSERT_EQUAL(haz__buf_append(&b, "ab\0cd", 5), HAZ_OK);
    CU_ASSERT_EQUAL(b.len, 5);
    CU_ASSERT_EQUAL(memcmp(b.data, "ab\0cd", 6), 0);   /* NUL after */
    CU_ASSERT_EQUAL(haz__buf_puts(&b, "ef"), HAZ_OK);
    CU_ASSERT_EQUAL(haz__buf_printf(&b, "[%d|%s|%04x]", -42, "x", 0xabu),
                    HAZ_OK);
    CU_ASSERT_EQUAL(b.len, 7 + 12);
    CU_ASSERT_EQUAL(memcmp(b.data, "ab\0cdef[-42|x|00ab]", 7 + 12 + 1), 0);
    CU_ASSERT(b.cap > b.len);
    CU_ASSERT_EQUAL(b.data[b.len], '\0');

    haz__buf_free(&b);
    CU_ASSERT_PTR_NULL(b.data);
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_EQUAL(b.cap, 0);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_buf_growth(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_buf b;
    char *big;
    size_t i;

    haz__buf_init(&b, ctx);
    for (i = 0; i < 10000; i++) {
        char c = (char)('a' + i % 26);
        CU_ASSERT_EQUAL_FATAL(haz__buf_append(&b, &c, 1), HAZ_OK);
    }
    CU_ASSERT_EQUAL(b.len, 10000);
    CU_ASSERT_EQUAL(strlen(b.data), 10000);
    for (i = 0; i < 10000; i++)
        if (b.data[i] != (char)('a' + i % 26))
            break;
    CU_ASSERT_EQUAL(i, 10000);
    CU_ASSERT(tm.calls < 20);        /* geometric growth, not one per byte */

    big = malloc(70000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 'Z', 69999);
    big[69999] = '\0';
    CU_ASSERT_EQUAL(haz__buf_printf(&b, "<%s>", big), HAZ_OK);
    CU_ASSERT_EQUAL(b.len, 10000 + 70001);
    CU_ASSERT_EQUAL(b.data[10000], '<');
    CU_ASSERT_EQUAL(b.data[10000 + 70000], '>');
    CU_ASSERT_EQUAL(b.data[b.len], '\0');
    free(big);

    haz__buf_free(&b);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_buf_nomem(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_buf b;
    char *old;
    size_t cap;

    haz__buf_init(&b, ctx);
    haz_test_mem_fail_at(&tm, 1, 0);
    CU_ASSERT_EQUAL(haz__buf_puts(&b, "x"), HAZ_ENOMEM);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);
    CU_ASSERT_PTR_NULL(b.data);
    CU_ASSERT_EQUAL(b.len, 0);

    CU_ASSERT_EQUAL(haz__buf_puts(&b, "hello"), HAZ_OK);
    old = b.data;
    cap = b.cap;
    haz__error_clear(ctx);
    haz_test_mem_fail_at(&tm, 1, 0);
    CU_ASSERT_EQUAL(haz__buf_printf(&b, "%0*d", (int)cap * 2, 1), HAZ_ENOMEM);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);
    CU_ASSERT_PTR_EQUAL(b.data, old);
    CU_ASSERT_EQUAL(b.cap, cap);
    CU_ASSERT_EQUAL(b.len, 5);
    CU_ASSERT_STRING_EQUAL(b.data, "hello");

    /* a size that cannot be represented is refused without allocating */
    haz_test_mem_fail_at(&tm, 0, 0);
    CU_ASSERT_EQUAL(haz__buf_append(&b, "", SIZE_MAX - 2), HAZ_ENOMEM);
    CU_ASSERT_EQUAL(tm.calls, 0);
    CU_ASSERT_STRING_EQUAL(b.data, "hello");

    haz__buf_free(&b);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* ------------------------------------------------------------------------
 * write_all
 * ---------------------------------------------------------------------- */

static void test_write_all(void)
{
    char data[8192], got[8193];
    int fds[2];
    size_t i;
    long n;

    for (i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7);
    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    CU_ASSERT_EQUAL(haz__write_all(fds[1], data, sizeof data), 0);
    CU_ASSERT_EQUAL(haz__write_all(fds[1], data, 0), 0);
    close(fds[1]);
    n = haz_test_read_fd(fds[0], got, sizeof got);
    close(fds[0]);
    CU_ASSERT_EQUAL_FATAL(n, (long)sizeof data);
    CU_ASSERT_EQUAL(memcmp(got, data, sizeof data), 0);

    errno = 0;
    CU_ASSERT_EQUAL(haz__write_all(-1, "x", 1), -1);
    CU_ASSERT_EQUAL(errno, EBADF);
}

/* ------------------------------------------------------------------------
 * version
 * ---------------------------------------------------------------------- */

static void test_version(void)
{
    unsigned maj = 1000, min = 1000, pat = 1000;
    char again[64];

    CU_ASSERT_EQUAL_FATAL(sscanf(HAZEXEC_VERSION, "%u.%u.%u", &maj, &min,
                                 &pat), 3);
    snprintf(again, sizeof again, "%u.%u.%u", maj, min, pat);
    CU_ASSERT_STRING_EQUAL(again, HAZEXEC_VERSION);
    CU_ASSERT_EQUAL(maj, (unsigned)HAZEXEC_VERSION_MAJOR);
    CU_ASSERT_EQUAL(min, (unsigned)HAZEXEC_VERSION_MINOR);
    CU_ASSERT_EQUAL(pat, (unsigned)HAZEXEC_VERSION_PATCH);
    CU_ASSERT_EQUAL((unsigned long)HAZEXEC_VERSION_NUM,
                    ((unsigned long)maj << 16) | (min << 8) | pat);
#ifdef PACKAGE_VERSION
    CU_ASSERT_STRING_EQUAL(HAZEXEC_VERSION, PACKAGE_VERSION);
#endif
}

/* ------------------------------------------------------------------------ */

static CU_TestInfo ctx_tests[] = {
    {"new with default hooks", test_ctx_new_default},
    {"new with custom hooks", test_ctx_new_custom},
    {"new rejects bad arguments", test_ctx_new_invalid},
    {"new out of memory", test_ctx_new_nomem},
    {"NULL context", test_ctx_null},
    {"error recording", test_error_record},
    {"error message truncation", test_error_truncation},
    {"error message quoting itself", test_error_self_reference},
    CU_TEST_INFO_NULL
};

static CU_TestInfo strerror_tests[] = {
    {"every code has a text", test_strerror_known},
    {"unknown codes", test_strerror_unknown},
    CU_TEST_INFO_NULL
};

static CU_TestInfo mem_tests[] = {
    {"default hooks", test_mem_default_hooks},
    {"custom hooks are used", test_mem_hooks_used},
    {"size zero", test_mem_zero_size},
    {"failure gives HAZ_ENOMEM", test_mem_failure},
    {"size overflow", test_mem_overflow},
    CU_TEST_INFO_NULL
};

static CU_TestInfo diags_tests[] = {
    {"new and free", test_diags_new_free},
    {"entry fields and text shapes", test_diags_shapes},
    {"strings are copied", test_diags_strings_copied},
    {"pointers survive growth", test_diags_stable_pointers},
    {"write exact bytes", test_diags_write},
    {"write long and empty", test_diags_write_long_and_empty},
    {"write error", test_diags_write_error},
    {"allocation failure sweep", test_diags_nomem_sweep},
    CU_TEST_INFO_NULL
};

static CU_TestInfo buf_tests[] = {
    {"append, puts, printf", test_buf_basic},
    {"growth", test_buf_growth},
    {"allocation failure", test_buf_nomem},
    {"write_all", test_write_all},
    CU_TEST_INFO_NULL
};

static CU_TestInfo version_tests[] = {
    {"version macros agree", test_version},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("ctx", ctx_tests),
    HAZ_TEST_SUITE("strerror", strerror_tests),
    HAZ_TEST_SUITE("mem", mem_tests),
    HAZ_TEST_SUITE("diags", diags_tests),
    HAZ_TEST_SUITE("buf", buf_tests),
    HAZ_TEST_SUITE("version", version_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
