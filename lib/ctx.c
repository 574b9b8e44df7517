/*
 * lib/ctx.c: the library context and everything hanging off it.
 *
 * In order: the default allocator hooks (libc, with size 0 treated as 1 so
 * that no caller ever sees malloc(0)'s implementation-defined result); the
 * text of every error code; creating and freeing a context and reading its
 * last error; the internal allocation wrappers (haz__malloc and friends),
 * which go through the context's hooks, check multiplications for overflow
 * and record HAZ_ENOMEM; and error recording (haz__error, haz__error_os).
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Default allocator hooks.
 * ---------------------------------------------------------------------- */

static void *default_malloc(size_t size, void *ud)
{
    HAZ_UNUSED(ud);
    return malloc(size ? size : 1);
}

static void default_free(void *ptr, void *ud)
{
    HAZ_UNUSED(ud);
    free(ptr);
}

static void *default_calloc(size_t nmemb, size_t size, void *ud)
{
    HAZ_UNUSED(ud);
    if (nmemb == 0 || size == 0)
        nmemb = size = 1;
    return calloc(nmemb, size);
}

static void *default_realloc(void *ptr, size_t size, void *ud)
{
    HAZ_UNUSED(ud);
    return realloc(ptr, size ? size : 1);
}

static const haz_mem default_mem = {
    NULL,             /* ud */
    default_malloc,   /* malloc_fn */
    default_free,     /* free_fn */
    default_calloc,   /* calloc_fn */
    default_realloc   /* realloc_fn */
};

const haz_mem *haz_mem_default(void)
{
    return &default_mem;
}

/* ------------------------------------------------------------------------
 * Error texts.
 * ---------------------------------------------------------------------- */

const char *haz_strerror(int code)
{
    switch (code) {
    case HAZ_OK:        return "success";
    case HAZ_ENOMEM:    return "out of memory";
    case HAZ_EINVAL:    return "invalid argument";
    case HAZ_EEXIST:    return "already exists";
    case HAZ_ENOENT:    return "no such item";
    case HAZ_ESTATE:    return "operation not allowed in this state";
    case HAZ_EGRAPH:    return "invalid task graph";
    case HAZ_EPARSE:    return "malformed input";
    case HAZ_EIO:       return "input/output error";
    case HAZ_ERANGE:    return "number out of range";
    case HAZ_ENOTSUP:   return "not supported";
    case HAZ_ESPAWN:    return "cannot start child process";
    case HAZ_ECANCELED: return "operation cancelled";
    case HAZ_ELIMIT:    return "backend limit reached";
    case HAZ_ECORRUPT:  return "stored data failed verification";
    case HAZ_EFATAL:    return "fatal error";
    case HAZ_EINTERNAL: return "internal error";
    default:            return "unknown error";
    }
}

/* ------------------------------------------------------------------------
 * The context.
 * ---------------------------------------------------------------------- */

int haz_ctx_new(haz_ctx **out, const haz_mem *mem)
{
    haz_ctx *ctx;

    if (out == NULL)
        return HAZ_EINVAL;
    *out = NULL;
    if (mem == NULL)
        mem = &default_mem;
    if (mem->malloc_fn == NULL || mem->free_fn == NULL ||
        mem->calloc_fn == NULL || mem->realloc_fn == NULL)
        return HAZ_EINVAL;

    ctx = mem->malloc_fn(sizeof *ctx, mem->ud);
    if (ctx == NULL)
        return HAZ_ENOMEM;
    memset(ctx, 0, sizeof *ctx);
    ctx->mem = *mem;
    *out = ctx;
    return HAZ_OK;
}

void haz_ctx_free(haz_ctx *ctx)
{
    haz_mem mem;

    if (ctx == NULL)
        return;
    mem = ctx->mem;     /* the hooks live inside the block being freed */
    mem.free_fn(ctx, mem.ud);
}

const haz_mem *haz_ctx_mem(const haz_ctx *ctx)
{
    return ctx ? &ctx->mem : NULL;
}

const char *haz_ctx_errmsg(const haz_ctx *ctx)
{
    return ctx ? ctx->errmsg : "";
}

int haz_ctx_errno(const haz_ctx *ctx)
{
    return ctx ? ctx->os_errno : 0;
}

int haz_ctx_errcode(const haz_ctx *ctx)
{
    return ctx ? ctx->errcode : 0;
}

/* ------------------------------------------------------------------------
 * Allocation through the context's hooks.
 * ---------------------------------------------------------------------- */

static void *nomem(haz_ctx *ctx, size_t nmemb, size_t size)
{
    if (nmemb == 1)
        haz__error(ctx, HAZ_ENOMEM, "out of memory (%lu bytes)",
                   (unsigned long)size);
    else
        haz__error(ctx, HAZ_ENOMEM, "out of memory (%lu x %lu bytes)",
                   (unsigned long)nmemb, (unsigned long)size);
    return NULL;
}

void *haz__malloc(haz_ctx *ctx, size_t n)
{
    void *p = ctx->mem.malloc_fn(n ? n : 1, ctx->mem.ud);
    return p ? p : nomem(ctx, 1, n);
}

void *haz__calloc(haz_ctx *ctx, size_t nmemb, size_t size)
{
    void *p;

    if (size != 0 && nmemb > SIZE_MAX / size)
        return nomem(ctx, nmemb, size);
    if (nmemb == 0 || size == 0)
        p = ctx->mem.calloc_fn(1, 1, ctx->mem.ud);
    else
        p = ctx->mem.calloc_fn(nmemb, size, ctx->mem.ud);
    return p ? p : nomem(ctx, nmemb, size);
}

void *haz__realloc(haz_ctx *ctx, void *p, size_t n)
{
    void *q = ctx->mem.realloc_fn(p, n ? n : 1, ctx->mem.ud);
    return q ? q : nomem(ctx, 1, n);
}

void *haz__reallocarray(haz_ctx *ctx, void *p, size_t nmemb, size_t size)
{
    if (size != 0 && nmemb > SIZE_MAX / size)
        return nomem(ctx, nmemb, size);
    return haz__realloc(ctx, p, nmemb * size);
}

void haz__free(haz_ctx *ctx, void *p)
{
    if (p != NULL)
        ctx->mem.free_fn(p, ctx->mem.ud);
}

char *haz__strndup(haz_ctx *ctx, const char *s, size_t n)
{
    size_t len = 0;
    char *d;

    while (len < n && s[len] != '\0')
        len++;
    d = haz__malloc(ctx, len + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *haz__strdup(haz_ctx *ctx, const char *s)
{
    return haz__strndup(ctx, s, strlen(s));
}

/* ------------------------------------------------------------------------
 * Error recording.  The message is formatted into a local buffer first, so
 * an argument may be the context's own previous message.  errno is left as
 * the caller had it.
 * ---------------------------------------------------------------------- */

static void set_error(haz_ctx *ctx, int code, int os_errno, const char *fmt,
                      va_list ap)
{
    char msg[sizeof ctx->errmsg];
    int n = vsnprintf(msg, sizeof msg, fmt, ap);

    if (n < 0)
        msg[0] = '\0';
    if (os_errno != 0) {
        size_t len = strlen(msg);
        snprintf(msg + len, sizeof msg - len, "%s%s", len ? ": " : "",
                 strerror(os_errno));
    }
    memcpy(ctx->errmsg, msg, sizeof msg);
    ctx->errcode = code;
    ctx->os_errno = os_errno;
}

int haz__error(haz_ctx *ctx, int code, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    if (ctx != NULL) {
        va_start(ap, fmt);
        set_error(ctx, code, 0, fmt, ap);
        va_end(ap);
    }
    errno = saved;
    return code;
}

int haz__error_os(haz_ctx *ctx, int code, int os_errno, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    if (ctx != NULL) {
        va_start(ap, fmt);
        set_error(ctx, code, os_errno, fmt, ap);
        va_end(ap);
    }
    errno = saved;
    return code;
}

void haz__error_clear(haz_ctx *ctx)
{
    if (ctx == NULL)
        return;
    ctx->errcode = 0;
    ctx->os_errno = 0;
    ctx->errmsg[0] = '\0';
}
