/*
 * lib/internal.h: the private header every library and backend source
 * includes first.  It pulls in the configure results, the public API and the
 * helpers shared across files (allocation through the context's hooks,
 * error recording, small string and buffer utilities).
 *
 * Internal cross-file names use the haz__ prefix (two underscores); they are
 * never exported from the shared library.
 */
#ifndef HAZ_INTERNAL_H
#define HAZ_INTERNAL_H

#ifndef HAZ_BUILDING
#error "lib/internal.h is private to the hazexec build"
#endif

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hazexec.h"

/* The context (lib/ctx.c). */
struct haz_ctx {
    haz_mem mem;            /* copy of the caller's hooks */
    int errcode;            /* last HAZ_E* code, 0 if none */
    int os_errno;           /* last OS errno, 0 if none */
    char errmsg[1024];      /* last message, "" if none */
};

/* Allocation through a context's hooks.  All return NULL on failure (and
 * haz__*alloc record HAZ_ENOMEM in the context). */
void *haz__malloc(haz_ctx *ctx, size_t n);
void *haz__calloc(haz_ctx *ctx, size_t nmemb, size_t size);
void *haz__realloc(haz_ctx *ctx, void *p, size_t n);
void *haz__reallocarray(haz_ctx *ctx, void *p, size_t nmemb, size_t size);
void haz__free(haz_ctx *ctx, void *p);
char *haz__strdup(haz_ctx *ctx, const char *s);
char *haz__strndup(haz_ctx *ctx, const char *s, size_t n);

/* Error recording: store code, errno and a printf-formatted message in the
 * context and return `code`, so callers can write
 *     return haz__error(ctx, HAZ_EINVAL, "bad name '%s'", name);
 * haz__error_os also records `os_errno` and appends ": strerror(errno)". */
int haz__error(haz_ctx *ctx, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int haz__error_os(haz_ctx *ctx, int code, int os_errno, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
void haz__error_clear(haz_ctx *ctx);

/* Diagnostics (lib/diag.c).  Add one entry; every string is copied.
 * file/project/task may be NULL; line 0 means no line.  The `text` field is
 * built as "file:line: message", "project:task: message" or "message".
 * Returns 0 or HAZ_ENOMEM. */
int haz__diag_add(haz_diags *d, haz_diag_kind kind, const char *file,
                  unsigned long line, const char *project, const char *task,
                  const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;
haz_ctx *haz__diags_ctx(const haz_diags *d);

/* A growable byte buffer allocated through a context. */
typedef struct haz_buf {
    haz_ctx *ctx;
    char *data;     /* NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
} haz_buf;

void haz__buf_init(haz_buf *b, haz_ctx *ctx);
void haz__buf_free(haz_buf *b);
int haz__buf_append(haz_buf *b, const void *data, size_t n);   /* 0 or HAZ_ENOMEM */
int haz__buf_puts(haz_buf *b, const char *s);
int haz__buf_printf(haz_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int haz__buf_vprintf(haz_buf *b, const char *fmt, va_list ap);

/* Write all of `n` bytes to fd, retrying EINTR and short writes.
 * Returns 0 or -1 with errno set (EIO when a write makes no progress).
 * haz__write_all_with does it with `wr` in place of write(2). */
int haz__write_all(int fd, const void *data, size_t n);
int haz__write_all_with(ssize_t (*wr)(int, const void *, size_t), int fd,
                        const void *data, size_t n);

/* Ask for the cache line at p ahead of its use, for reading or (_W) for
 * writing: a hint with no effect on behaviour (configure's
 * HAVE_BUILTIN_PREFETCH; elsewhere p is not even evaluated).  Used where
 * the next task's data is known one step before it is touched, which at
 * 100,000 tasks is no longer in the caches. */
#ifdef HAVE_BUILTIN_PREFETCH
#define HAZ_PREFETCH(p) __builtin_prefetch((p))
#define HAZ_PREFETCH_W(p) __builtin_prefetch((p), 1)
#else
#define HAZ_PREFETCH(p) ((void)sizeof(p))
#define HAZ_PREFETCH_W(p) ((void)sizeof(p))
#endif

#define HAZ_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HAZ_UNUSED(x) ((void)(x))

#endif /* HAZ_INTERNAL_H */
